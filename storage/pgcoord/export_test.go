package pgcoord

import "github.com/leadcalls/leadcalls/callyzer"

// SetPollHook makes p call f after every poll that did not get the slot.
// Set it before the first Acquire.
func SetPollHook(p *Pacer, f func(callyzer.Priority)) { p.polled = f }
