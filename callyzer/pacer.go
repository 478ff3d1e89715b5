package callyzer

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"sync"
	"time"
)

// LocalPacer is the in-process Pacer: one request in flight, request starts
// at least an interval apart, waiting Interactive callers before Background
// ones (first come, first served within a priority). It starts no goroutine
// of its own; a waiting caller blocks in Acquire and a timer wakes the queue
// when the interval has passed. Safe for concurrent use.
type LocalPacer struct {
	interval time.Duration

	mu      sync.Mutex
	busy    bool         // a slot is held
	next    time.Time    // the earliest next start
	held    time.Time    // set by Hold: no start before it (a 429's Retry-After)
	waiting [2][]*waiter // by priority: [Background], [Interactive]
	timer   *time.Timer  // wakes the queue at next; nil until first needed
}

type waiter struct {
	ready   chan struct{} // closed when the slot is granted
	granted bool          // guarded by LocalPacer.mu
}

// HoldPacer is a Pacer that can also keep every caller back until a time.
// After a 429 the Client calls Hold with the time its Retry-After names
// (capped by WithMaxRetryAfter), so one key's callers back off together.
// LocalPacer implements it.
type HoldPacer interface {
	Pacer
	// Hold makes no slot start before until.
	Hold(until time.Time)
}

var _ HoldPacer = (*LocalPacer)(nil)

// NewPacer returns a LocalPacer whose request starts are at least interval
// apart. An interval <= 0 only keeps one request in flight.
func NewPacer(interval time.Duration) *LocalPacer {
	return &LocalPacer{interval: max(interval, 0)}
}

// Acquire blocks until the caller holds the slot, or ctx is done. On
// success the caller must call release exactly once, after reading the
// response; later calls of release do nothing. When ctx ends first, Acquire
// returns ctx.Err() and the caller holds nothing.
func (p *LocalPacer) Acquire(ctx context.Context, prio Priority) (release func(), err error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	q := queueOf(prio)
	p.mu.Lock()
	if d, ok := ctx.Deadline(); ok && p.held.After(d) {
		// Waiting out a 429 hold would only end in a timeout: say at once
		// that the key is rate limited.
		held := p.held
		p.mu.Unlock()
		return nil, &HeldError{Until: held}
	}
	if !p.busy && p.queued() == 0 && !time.Now().Before(p.next) {
		p.grantLocked()
		p.mu.Unlock()
		return p.releaser(), nil
	}
	w := &waiter{ready: make(chan struct{})}
	p.waiting[q] = append(p.waiting[q], w)
	p.dispatchLocked()
	p.mu.Unlock()

	select {
	case <-w.ready:
		return p.releaser(), nil
	case <-ctx.Done():
	}
	p.mu.Lock()
	if w.granted {
		// Granted while ctx ended: hand the slot straight on. Its start
		// still counts against the interval.
		p.busy = false
	} else {
		p.removeLocked(q, w)
	}
	p.dispatchLocked()
	p.mu.Unlock()
	return nil, ctx.Err()
}

// Hold makes no slot start before until. Earlier times than one already set
// change nothing.
func (p *LocalPacer) Hold(until time.Time) {
	p.mu.Lock()
	if until.After(p.next) {
		p.next = until
	}
	if until.After(p.held) {
		p.held = until
	}
	p.dispatchLocked()
	p.mu.Unlock()
}

// HeldError is returned by LocalPacer.Acquire when an earlier 429 holds the
// key back past the caller's deadline: waiting could only end in a timeout.
// It matches ErrRateLimited.
type HeldError struct {
	Until time.Time // no request starts before this time
}

func (e *HeldError) Error() string {
	return "callyzer: rate limited: requests are held back until " + e.Until.Format(time.RFC3339) + ", past the deadline"
}

// Is makes errors.Is(err, ErrRateLimited) hold.
func (e *HeldError) Is(target error) bool { return target == ErrRateLimited }

func queueOf(prio Priority) int {
	if prio == Interactive {
		return 1
	}
	return 0
}

func (p *LocalPacer) queued() int { return len(p.waiting[0]) + len(p.waiting[1]) }

func (p *LocalPacer) grantLocked() {
	p.busy = true
	p.next = time.Now().Add(p.interval)
}

func (p *LocalPacer) releaser() func() {
	var once sync.Once
	return func() {
		once.Do(func() {
			p.mu.Lock()
			p.busy = false
			p.dispatchLocked()
			p.mu.Unlock()
		})
	}
}

// dispatchLocked grants the slot to the first Interactive waiter, else the
// first Background one, when the slot is free and the interval has passed;
// otherwise it arms the timer for when it will have.
func (p *LocalPacer) dispatchLocked() {
	if p.queued() == 0 {
		if p.timer != nil {
			p.timer.Stop()
		}
		return
	}
	if p.busy {
		return // release dispatches
	}
	if wait := time.Until(p.next); wait > 0 {
		if p.timer == nil {
			p.timer = time.AfterFunc(wait, p.wake)
		} else {
			p.timer.Reset(wait)
		}
		return
	}
	q := 1
	if len(p.waiting[1]) == 0 {
		q = 0
	}
	w := p.waiting[q][0]
	p.waiting[q][0] = nil
	p.waiting[q] = p.waiting[q][1:]
	p.grantLocked()
	w.granted = true
	close(w.ready)
}

func (p *LocalPacer) wake() {
	p.mu.Lock()
	p.dispatchLocked()
	p.mu.Unlock()
}

func (p *LocalPacer) removeLocked(q int, w *waiter) {
	for i, x := range p.waiting[q] {
		if x == w {
			p.waiting[q] = append(p.waiting[q][:i], p.waiting[q][i+1:]...)
			return
		}
	}
}

// The process-wide pacers: Clients of one API key, host and interval share
// one LocalPacer unless WithPacer says otherwise. The key is stored only as
// a salted hash. Entries live as long as the process (one per key and host).
var shared struct {
	once   sync.Once
	salt   [16]byte
	mu     sync.Mutex
	pacers map[pacerKey]*LocalPacer
}

type pacerKey struct {
	keyHash  [32]byte
	host     string
	interval time.Duration
}

func sharedPacer(key secret, host string, interval time.Duration) *LocalPacer {
	shared.once.Do(func() {
		_, _ = rand.Read(shared.salt[:])
		shared.pacers = make(map[pacerKey]*LocalPacer)
	})
	h := sha256.New()
	h.Write(shared.salt[:])
	h.Write([]byte(key.reveal()))
	k := pacerKey{host: host, interval: interval}
	h.Sum(k.keyHash[:0])

	shared.mu.Lock()
	defer shared.mu.Unlock()
	p, ok := shared.pacers[k]
	if !ok {
		p = NewPacer(interval)
		shared.pacers[k] = p
	}
	return p
}
