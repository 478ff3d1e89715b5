package pgpacing

import (
	"time"

	"github.com/leadcalls/leadcalls/callyzer/pacing"
)

// SetPollHook makes p, a pacer of New, call f after every poll that did
// not get the slot. Set it before the first Acquire.
func SetPollHook(p pacing.Pacer, f func(pacing.Priority)) { p.(*pacer).polled = f }

// SetClaimHook makes p, a pacer of New, call f whenever Acquire got the
// slot, with the database time of the claim and the time Acquire measured
// its round trip against (the start the pacer guarantees callers). Set it
// before the first Acquire.
func SetClaimHook(p pacing.Pacer, f func(dbStart, granted time.Time)) { p.(*pacer).claimed = f }

// MigrateLockKey is the advisory-lock key of Migrate.
var MigrateLockKey = migrateLockKey
