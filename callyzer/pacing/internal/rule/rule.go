// Package rule states the pacing rules of package pacing once, as pure
// functions over a snapshot of one budget's state, for both of its
// implementations: pacing.New's in one process, pgpacing's across the
// processes sharing a PostgreSQL database; and the error both return when a
// Hold refuses a caller. It reads no clock and does no I/O: the caller
// brings the time (pgpacing the database's) and keeps the state.
package rule

import (
	"cmp"
	"time"
)

// MaxGrace caps how long a release keeps the slot for the next request of
// its open Interactive sequence: decoding a page takes milliseconds, not
// seconds.
const MaxGrace = time.Second

// Grace is how long a release keeps the slot for the next request of its
// open Interactive sequence: min(interval, MaxGrace).
func Grace(interval time.Duration) time.Duration {
	return max(0, min(interval, MaxGrace))
}

// Slot is the request slot of one budget.
type Slot struct {
	Interval time.Duration // the least time between two starts
	Busy     bool          // a request holds the slot
	Next     time.Time     // no request starts before this
	Held     time.Time     // the end of the latest Hold (zero: none)
	Starts   uint64        // the requests started so far (see Aged)
}

// Start records that a request took the slot at now: the next one starts
// the interval later at the earliest.
func (s *Slot) Start(now time.Time) {
	s.Busy = true
	s.Starts++
	s.Next = later(s.Next, now.Add(s.Interval))
}

// Release frees the slot. last is the later of the grant and the moment
// the request was written, as its caller saw them (zero: only the grant
// counts, as Start recorded it): the next request starts the interval
// after it at the earliest, so that the gap the server sees is the
// interval even when the request went out late (it first dialled).
func (s *Slot) Release(last time.Time) {
	s.Busy = false
	if !last.IsZero() {
		s.Next = later(s.Next, last.Add(s.Interval))
	}
}

// Hold keeps every start back until until (a 429's Retry-After). It never
// shortens an earlier hold.
func (s *Slot) Hold(until time.Time) {
	s.Next = later(s.Next, until)
	s.Held = later(s.Held, until)
}

// AgeLimit is how many starts a Background request lets go to others
// while it waits before it is served as an Interactive request asking
// then (the Interactive sequences already open finish first; it goes
// before every later one): under strict priority, a steady stream of refreshes (one every
// slot) would keep the periodic sync and the background mirrors out for
// good. Counting starts, not time, a slot held long by one request ages
// nobody.
const AgeLimit = 4

// Aged reports whether a Background request that asked when the slot had
// made asked starts has let AgeLimit starts go to others since.
func (s Slot) Aged(asked uint64) bool {
	return s.Starts-asked >= AgeLimit
}

// Reservation is the claim by which the open sequence whose request c has
// just released the slot at now keeps it for its next request: an
// Interactive sequence keeps it for the grace; ok is false for a
// Background one, or when there is no grace (no interval).
func (s Slot) Reservation(c Claim, now time.Time) (r Claim, ok bool) {
	g := Grace(s.Interval)
	if !c.Interactive || g <= 0 {
		return Claim{}, false
	}
	return Claim{Interactive: true, Rank: c.Rank, Until: now.Add(g)}, true
}

// Rank orders claims of one priority, lowest first: by when their sequence
// began, then by N, then by Key. pacing.New's pacer ranks by N alone (a
// counter of sequence begins and requests); pgpacing's by Began, on the
// database clock, then by Key, the random key of the waiter's row.
type Rank struct {
	Began time.Time
	N     uint64
	Key   string
}

// Compare returns -1, 0 or +1 as r goes before, with or after o.
func (r Rank) Compare(o Rank) int {
	return cmp.Or(r.Began.Compare(o.Began), cmp.Compare(r.N, o.N), cmp.Compare(r.Key, o.Key))
}

// Claim is a request that waits for the slot, or an open Interactive
// sequence keeping it between two requests (a reservation).
type Claim struct {
	Interactive bool
	// Rank: an Interactive request of an open sequence has its sequence's
	// rank; any other request ranks as a sequence begun when it asked.
	Rank     Rank
	Until    time.Time // the claim lapses then (zero: never); a reservation always lapses
	Deadline time.Time // when the request's caller gives up (zero: never)
}

// Compare orders claims: Interactive ones before Background ones, then by
// rank. It returns a negative number when a goes before b.
func Compare(a, b Claim) int {
	if a.Interactive != b.Interactive {
		if a.Interactive {
			return -1
		}
		return 1
	}
	return a.Rank.Compare(b.Rank)
}

// Decision is what a claim does now: start, give up (Refused), or wait.
type Decision struct {
	Start   bool // take the slot now
	Refused bool // give up: a Hold keeps the slot back past the claim's deadline
	// At is, for a claim that waits, when it may start if nothing else
	// changes: the next start allowed, or the end of a reservation ahead
	// of it. Zero: not before the holder releases or a claim ahead of it
	// (which never lapses) is served.
	At time.Time
}

// Decide applies the rules of package pacing to claim c at now, given the
// slot and the other claims (lapsed ones, and c's own, count for nothing):
// c is refused if Refuse says so; it starts if the slot is free, the next
// start has come and no claim that Compare puts before it stands;
// otherwise it waits.
func Decide(s Slot, c Claim, others []Claim, now time.Time) Decision {
	if Refuse(s, c.Deadline) {
		return Decision{Refused: true}
	}
	at, blocked := s.Next, s.Busy
	for _, o := range others {
		if Compare(o, c) >= 0 || (!o.Until.IsZero() && !o.Until.After(now)) {
			continue // not ahead of c, or lapsed
		}
		if o.Until.IsZero() {
			blocked = true
		} else {
			at = later(at, o.Until)
		}
	}
	switch {
	case blocked:
		return Decision{}
	case at.After(now):
		return Decision{At: at}
	}
	return Decision{Start: true}
}

// Refuse reports whether a Hold keeps the slot back past deadline (zero:
// none), so that a caller with that deadline should give up at once.
func Refuse(s Slot, deadline time.Time) bool {
	return !deadline.IsZero() && s.Held.After(deadline)
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// HeldError is the error of an Acquire that a Hold keeps back past its
// context's deadline: waiting could only end in a timeout. Callers outside
// package pacing see it through its HeldUntil method.
type HeldError struct {
	Until time.Time // no request starts before this
}

func (e *HeldError) Error() string {
	return "pacing: requests are held back until " + e.Until.Format(time.RFC3339) + ", past the deadline"
}

// HeldUntil returns the end of the hold.
func (e *HeldError) HeldUntil() time.Time { return e.Until }
