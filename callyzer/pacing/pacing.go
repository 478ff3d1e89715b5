package pacing

import (
	"context"
	"time"
)

// Priority orders requests that wait for a budget's slot: at every free
// slot, a waiting Interactive request goes before any Background one.
type Priority int

const (
	// Background is for work nobody is waiting on, such as a periodic sync.
	Background Priority = iota
	// Interactive is for a user waiting on a refresh.
	Interactive
)

// Pacer hands out the request slot of one budget (an API key) by the
// rules of the package documentation. Implementations are safe for
// concurrent use.
type Pacer interface {
	// Begin opens a sequence of requests of priority prio: the pages of
	// one iteration, or a single request. The caller must End it once it
	// sends no more requests in it.
	Begin(prio Priority) Sequence
	// Hold keeps every caller back until until (a 429's Retry-After). An
	// earlier time than one already held changes nothing.
	Hold(until time.Time)
}

// Sequence is an open sequence of requests, sent one after another.
type Sequence interface {
	// Acquire blocks until the caller holds the slot for the sequence's
	// next request, or ctx is done (it then returns ctx.Err()). It fails
	// at once when a Hold lasts past ctx's deadline, with an error whose
	// method HeldUntil() time.Time returns the hold's end.
	// The caller must call release once the response has been read, with
	// the time the request was written (zero if it never was); later
	// calls do nothing.
	Acquire(ctx context.Context) (release func(sent time.Time), err error)
	// End closes the sequence; later calls do nothing. A request acquired
	// after End is served as a sequence of its own.
	End()
}
