package pgpacing

import (
	"time"

	"github.com/leadcalls/leadcalls/callyzer/pacing"
)

// SetPollHook makes p call f after every poll that did not get the slot.
// Set it before the first Acquire.
func SetPollHook(p *Pacer, f func(pacing.Priority)) { p.polled = f }

// SetClaimHook makes p call f whenever Acquire got the slot, with the
// database time of the claim and the time Acquire measured its round trip
// against (the start the pacer guarantees callers). Set it before the
// first Acquire.
func SetClaimHook(p *Pacer, f func(dbStart, granted time.Time)) { p.claimed = f }

// MigrateLockKey is the advisory-lock key of Migrate.
var MigrateLockKey = migrateLockKey
