package pacing

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/leadcalls/leadcalls/callyzer/internal/pacinghook"
	"github.com/leadcalls/leadcalls/callyzer/pacing/internal/rule"
)

// local is the Pacer of the callers of one process (New). Its Background
// waiters are served in the order they came. It starts no goroutine: a
// caller waits in Acquire, and a timer wakes the queue when the interval
// or a reservation has passed.
type local struct {
	mu       sync.Mutex
	slot     rule.Slot
	queue    []*waiter    // by rule.Compare
	reserved []rule.Claim // of open Interactive sequences between two requests
	count    uint64       // numbers sequence begins and requests, in order
	timer    *time.Timer  // wakes the queue; nil until first needed
}

var _ Pacer = (*local)(nil)

func init() {
	pacinghook.RaiseInterval = func(p any, d time.Duration) { p.(*local).raiseInterval(d) }
}

type waiter struct {
	claim   rule.Claim
	asked   uint64 // the slot's starts when it asked
	seq     *sequence
	ready   chan struct{} // closed once granted or refused
	granted bool          // written before ready is closed
	held    time.Time     // refused: the hold's end; written before ready is closed
}

// sequence is local's Sequence. Its fields after rank are guarded by
// local.mu.
type sequence struct {
	p     *local
	prio  Priority
	rank  rule.Rank
	ended bool
	using int // its requests waiting for or holding the slot
}

// New returns the Pacer of the callers of one process, whose request
// starts are at least interval apart. An interval <= 0 only keeps one
// request in flight (and gives no grace). Its Background requests are
// served in the order they asked.
func New(interval time.Duration) Pacer {
	return &local{slot: rule.Slot{Interval: max(interval, 0)}}
}

// Begin opens a sequence of requests of priority prio.
func (p *local) Begin(prio Priority) Sequence {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.count++
	return &sequence{p: p, prio: prio, rank: rule.Rank{N: p.count}}
}

// Hold keeps every start back until until; a waiter whose deadline comes
// first is refused at once.
func (p *local) Hold(until time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.slot.Hold(until)
	p.queue = slices.DeleteFunc(p.queue, func(w *waiter) bool {
		if !rule.Refuse(p.slot, w.claim.Deadline) {
			return false
		}
		w.held = p.slot.Held
		close(w.ready)
		return true
	})
	p.dispatchLocked()
}

func (s *sequence) Acquire(ctx context.Context) (release func(sent time.Time), err error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p := s.p
	p.mu.Lock()
	p.count++
	w := &waiter{seq: s, asked: p.slot.Starts, ready: make(chan struct{}), claim: rule.Claim{
		Interactive: s.prio == Interactive,
		Rank:        rule.Rank{N: p.count},
	}}
	if !s.ended {
		w.claim.Rank = s.rank
	}
	w.claim.Deadline, _ = ctx.Deadline()
	if rule.Refuse(p.slot, w.claim.Deadline) {
		held := p.slot.Held
		p.mu.Unlock()
		return nil, &rule.HeldError{Until: held}
	}
	s.using++
	p.unreserveLocked(s)
	i, _ := slices.BinarySearchFunc(p.queue, w, func(x, w *waiter) int {
		if rule.Compare(x.claim, w.claim) > 0 {
			return 1
		}
		return -1 // after equal claims: they keep the order they came in
	})
	p.queue = slices.Insert(p.queue, i, w)
	p.dispatchLocked()
	p.mu.Unlock()

	select {
	case <-w.ready:
		if !w.granted {
			p.mu.Lock()
			s.using--
			p.mu.Unlock()
			return nil, &rule.HeldError{Until: w.held}
		}
		return p.releaser(w), nil
	case <-ctx.Done():
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	s.using--
	select {
	case <-w.ready:
		if w.granted {
			// Granted while ctx ended: hand the slot straight on. Its
			// start still counts against the interval.
			p.slot.Release(time.Time{})
		}
	default:
		p.queue = slices.DeleteFunc(p.queue, func(x *waiter) bool { return x == w })
	}
	p.dispatchLocked()
	return nil, ctx.Err()
}

func (s *sequence) End() {
	p := s.p
	p.mu.Lock()
	defer p.mu.Unlock()
	if s.ended {
		return
	}
	s.ended = true
	p.unreserveLocked(s)
	p.dispatchLocked()
}

func (p *local) releaser(w *waiter) func(time.Time) {
	var once sync.Once
	return func(sent time.Time) {
		once.Do(func() {
			p.mu.Lock()
			defer p.mu.Unlock()
			p.slot.Release(sent)
			s := w.seq
			s.using--
			if !s.ended && s.using == 0 && s.prio == Interactive { // not a promoted Background one
				if r, ok := p.slot.Reservation(w.claim, time.Now()); ok {
					p.reserved = append(p.reserved, r)
				}
			}
			p.dispatchLocked()
		})
	}
}

// promoteLocked serves the Background waiters that have let
// rule.AgeLimit starts go to others as Interactive requests asking now.
func (p *local) promoteLocked() {
	promoted := false
	for _, w := range p.queue {
		if !w.claim.Interactive && p.slot.Aged(w.asked) {
			// An Interactive request asking now: the sequences already
			// open finish first.
			p.count++
			w.claim.Interactive, w.claim.Rank, promoted = true, rule.Rank{N: p.count}, true
		}
	}
	if promoted {
		slices.SortStableFunc(p.queue, func(a, b *waiter) int { return rule.Compare(a.claim, b.claim) })
	}
}

// dispatchLocked grants the slot to the first waiter when the rules allow
// it, or arms the timer for when they may.
func (p *local) dispatchLocked() {
	now := time.Now()
	p.reserved = slices.DeleteFunc(p.reserved, func(r rule.Claim) bool { return !r.Until.After(now) })
	p.promoteLocked()
	for len(p.queue) > 0 {
		w := p.queue[0]
		d := rule.Decide(p.slot, w.claim, p.reserved, now)
		switch {
		case d.Refused: // Hold refuses waiters as it comes; this is for safety
			p.queue = p.queue[1:]
			w.held = p.slot.Held
			close(w.ready)
			continue
		case d.Start:
			p.queue = p.queue[1:]
			p.slot.Start(now)
			w.granted = true
			close(w.ready)
		case !d.At.IsZero():
			if p.timer == nil {
				p.timer = time.AfterFunc(d.At.Sub(now), p.wake)
			} else {
				p.timer.Reset(d.At.Sub(now))
			}
		}
		return // otherwise the holder's release dispatches again
	}
	if p.timer != nil {
		p.timer.Stop()
	}
}

func (p *local) wake() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.dispatchLocked()
}

// unreserveLocked ends s's reservation, if it has one.
func (p *local) unreserveLocked(s *sequence) {
	p.reserved = slices.DeleteFunc(p.reserved, func(r rule.Claim) bool { return r.Rank.N == s.rank.N })
}

// raiseInterval makes p's interval d when d is larger: of two Clients of
// one key that ask for different intervals, the stricter one holds for
// both. Starts already scheduled keep their time.
func (p *local) raiseInterval(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.slot.Interval = max(p.slot.Interval, d)
}
