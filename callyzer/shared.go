package callyzer

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"math"
	"slices"
	"sync"
	"time"
)

// LocalPacer is the in-process Pacer: one request in flight, request starts
// at least an interval apart (counted from the later of the grant and the
// moment the request was written, see SentPacer), and waiting Interactive
// callers before Background ones. It is also a SequencePacer, and orders its waiters so
// that a user's refresh waits for as little as the budget allows:
//
//   - Interactive waiters are served in the order their sequences began
//     (then in the order the requests came); a plain Acquire counts as a
//     sequence that begins when it is called. So of many refreshes at once,
//     the first to start finishes first instead of all finishing last.
//   - While an Interactive sequence is open and between two of its requests
//     (the page just read is being decoded), the slot is kept for it: no
//     Background waiter, and no Interactive waiter of a later sequence, gets
//     it. The reservation ends when the sequence acquires again, when it
//     ends, or after a grace period of min(interval, 1s) from its release,
//     so an abandoned sequence holds nobody back for longer than that.
//   - Background waiters are served first come, first served, whenever no
//     Interactive waiter or reservation stands before them.
//
// It starts no goroutine of its own; a waiting caller blocks in Acquire and
// a timer wakes the queue when the interval or a reservation has passed.
// Safe for concurrent use.
type LocalPacer struct {
	mu          sync.Mutex
	interval    time.Duration    // raised only by raiseInterval
	grace       time.Duration    // how long a release reserves the slot for its open Interactive sequence
	busy        bool             // a slot is held
	next        time.Time        // the earliest next start
	held        time.Time        // set by Hold: no start before it (a 429's Retry-After)
	interactive []*waiter        // by (rank, n)
	background  []*waiter        // by arrival
	between     []*localSequence // open Interactive sequences reserving the slot
	count       uint64           // numbers sequence starts and requests, in order
	timer       *time.Timer      // wakes the queue; nil until first needed
}

// noRank ranks a Background waiter after every Interactive one.
const noRank = math.MaxUint64

type waiter struct {
	ready   chan struct{}  // closed when the slot is granted
	granted bool           // guarded by LocalPacer.mu
	rank    uint64         // Interactive: when its sequence began; noRank for Background
	n       uint64         // when it came
	seq     *localSequence // nil for a plain Acquire
}

// localSequence is LocalPacer's Sequence. Its fields after prio and rank
// are guarded by LocalPacer.mu.
type localSequence struct {
	p     *LocalPacer
	prio  Priority
	rank  uint64
	ended bool
	using int       // its requests waiting for or holding the slot
	until time.Time // while in p.between: the end of its reservation
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

// SequencePacer is a Pacer that also knows which requests belong together:
// the pages of one HistoryPages iteration, or of one Employees call. The
// Client opens a Sequence with Begin before the first request, acquires
// every request's slot through it, and ends it when the iteration ends
// (completed, broken off, failed or cancelled). A Pacer without it is used
// through Acquire alone. LocalPacer implements it.
type SequencePacer interface {
	Pacer
	// Begin opens a sequence of requests of priority prio. The caller must
	// call End once it sends no more requests in it.
	Begin(prio Priority) Sequence
}

// Sequence is an open sequence of requests of a SequencePacer. Its
// requests are sent one after another, not at once.
type Sequence interface {
	// Acquire is Pacer.Acquire for the sequence's next request, at the
	// sequence's priority.
	Acquire(ctx context.Context) (release func(), err error)
	// End closes the sequence. Later calls of End do nothing; a request
	// acquired after End is served like a plain Acquire of the sequence's
	// priority.
	End()
}

// SentPacer is a Pacer that counts its interval from the moment a request
// actually went out, not from the moment its slot was granted. Between the
// two the transport may dial a new connection (and, in production,
// negotiate TLS): counted from the grant, the next request, on a reused
// connection, could reach the server less than the interval after this
// one, and get 429.
//
// The Client calls Sent with the time the transport finished writing the
// request (net/http/httptrace's WroteRequest; the last time when the
// transport wrote it twice), once per request that was written, while it
// still holds the slot, before calling release: so Sent always concerns the
// request holding the slot, whether it was acquired through Acquire or a
// Sequence. A request that was never written (the dial failed, or a
// transport without httptrace support, such as httpmock's) gets no call,
// and the grant time alone counts. LocalPacer implements it.
type SentPacer interface {
	Pacer
	// Sent reports that the request holding the slot was written at at:
	// the next start must be at least the interval after at (as well as
	// after the grant).
	Sent(at time.Time)
}

var (
	_ HoldPacer     = (*LocalPacer)(nil)
	_ SequencePacer = (*LocalPacer)(nil)
	_ SentPacer     = (*LocalPacer)(nil)
)

// maxGrace caps how long a release keeps the slot for its sequence's next
// request: decoding a page takes milliseconds, not seconds.
const maxGrace = time.Second

// NewPacer returns a LocalPacer whose request starts are at least interval
// apart. An interval <= 0 only keeps one request in flight (and keeps no
// slot for an open sequence).
func NewPacer(interval time.Duration) *LocalPacer {
	interval = max(interval, 0)
	return &LocalPacer{interval: interval, grace: min(interval, maxGrace)}
}

// Acquire blocks until the caller holds the slot, or ctx is done. On
// success the caller must call release exactly once, after reading the
// response; later calls of release do nothing. When ctx ends first, Acquire
// returns ctx.Err() and the caller holds nothing.
func (p *LocalPacer) Acquire(ctx context.Context, prio Priority) (release func(), err error) {
	return p.acquire(ctx, prio, nil)
}

// Begin opens a sequence of requests of priority prio. See LocalPacer for
// how its requests are ordered; End it when it sends no more.
func (p *LocalPacer) Begin(prio Priority) Sequence {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.count++
	return &localSequence{p: p, prio: prio, rank: p.count}
}

func (s *localSequence) Acquire(ctx context.Context) (release func(), err error) {
	return s.p.acquire(ctx, s.prio, s)
}

func (s *localSequence) End() {
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

func (p *LocalPacer) acquire(ctx context.Context, prio Priority, s *localSequence) (release func(), err error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p.mu.Lock()
	if d, ok := ctx.Deadline(); ok && p.held.After(d) {
		// Waiting out a 429 hold would only end in a timeout: say at once
		// that the key is rate limited.
		held := p.held
		p.mu.Unlock()
		return nil, &HeldError{Until: held}
	}
	p.count++
	w := &waiter{ready: make(chan struct{}), rank: noRank, n: p.count, seq: s}
	if s != nil {
		s.using++
		p.unreserveLocked(s)
	}
	if prio == Interactive {
		w.rank = w.n
		if s != nil && !s.ended {
			w.rank = s.rank
		}
		i, _ := slices.BinarySearchFunc(p.interactive, w, func(x, w *waiter) int {
			return cmp.Or(cmp.Compare(x.rank, w.rank), cmp.Compare(x.n, w.n))
		})
		p.interactive = slices.Insert(p.interactive, i, w)
	} else {
		p.background = append(p.background, w)
	}
	p.dispatchLocked()
	if w.granted {
		p.mu.Unlock()
		return p.releaser(w), nil
	}
	p.mu.Unlock()

	select {
	case <-w.ready:
		return p.releaser(w), nil
	case <-ctx.Done():
	}
	p.mu.Lock()
	if s != nil {
		s.using--
	}
	if w.granted {
		// Granted while ctx ended: hand the slot straight on. Its start
		// still counts against the interval.
		p.busy = false
	} else {
		p.removeLocked(w)
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

// Sent makes the next start no earlier than the interval after at, the
// time the request holding the slot was written. The gap between two
// requests is thus the interval from the later of grant and send, never
// the interval plus the request's duration.
func (p *LocalPacer) Sent(at time.Time) {
	p.mu.Lock()
	if next := at.Add(p.interval); next.After(p.next) {
		p.next = next
	}
	p.dispatchLocked() // nothing to do while the slot is held; re-arms the timer otherwise
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

func (p *LocalPacer) releaser(w *waiter) func() {
	var once sync.Once
	return func() {
		once.Do(func() {
			p.mu.Lock()
			p.busy = false
			if s := w.seq; s != nil {
				s.using--
				if s.prio == Interactive && !s.ended && s.using == 0 && p.grace > 0 {
					// Its next page is being decoded: keep the slot for it.
					s.until = time.Now().Add(p.grace)
					p.between = append(p.between, s)
				}
			}
			p.dispatchLocked()
			p.mu.Unlock()
		})
	}
}

// dispatchLocked grants the slot to the first waiter (the lowest ranked
// Interactive one, else the first Background one) when the slot is free,
// the interval has passed and no open Interactive sequence of a lower rank
// reserves it; otherwise it arms the timer for when that may change.
func (p *LocalPacer) dispatchLocked() {
	if p.busy {
		return // release dispatches
	}
	now := time.Now()
	p.between = slices.DeleteFunc(p.between, func(s *localSequence) bool { return !s.until.After(now) })
	var w *waiter
	switch {
	case len(p.interactive) > 0:
		w = p.interactive[0]
	case len(p.background) > 0:
		w = p.background[0]
	default:
		if p.timer != nil {
			p.timer.Stop()
		}
		return
	}
	at := p.next
	for _, s := range p.between {
		if s.rank < w.rank && s.until.After(at) {
			at = s.until
		}
	}
	if wait := at.Sub(now); wait > 0 {
		if p.timer == nil {
			p.timer = time.AfterFunc(wait, p.wake)
		} else {
			p.timer.Reset(wait)
		}
		return
	}
	p.removeLocked(w)
	p.busy = true
	p.next = now.Add(p.interval)
	w.granted = true
	close(w.ready)
}

func (p *LocalPacer) wake() {
	p.mu.Lock()
	p.dispatchLocked()
	p.mu.Unlock()
}

// removeLocked takes w out of its queue.
func (p *LocalPacer) removeLocked(w *waiter) {
	if w.rank == noRank {
		p.background = slices.DeleteFunc(p.background, func(x *waiter) bool { return x == w })
	} else {
		p.interactive = slices.DeleteFunc(p.interactive, func(x *waiter) bool { return x == w })
	}
}

// unreserveLocked ends s's reservation, if it has one.
func (p *LocalPacer) unreserveLocked(s *localSequence) {
	p.between = slices.DeleteFunc(p.between, func(x *localSequence) bool { return x == s })
}

// The process-wide pacers: Clients of one API key and host share one
// LocalPacer unless WithPacer says otherwise, whatever their intervals:
// the budget is the key's, not the Client's. When their intervals differ,
// the pacer keeps the largest asked for (see raiseInterval). The key is
// stored only as a salted hash. Entries live as long as the process (one
// per key and host).
var shared struct {
	once   sync.Once
	salt   [16]byte
	mu     sync.Mutex
	pacers map[pacerKey]*LocalPacer
}

type pacerKey struct {
	keyHash [32]byte
	host    string
}

func sharedPacer(key secret, host string, interval time.Duration) *LocalPacer {
	shared.once.Do(func() {
		_, _ = rand.Read(shared.salt[:])
		shared.pacers = make(map[pacerKey]*LocalPacer)
	})
	h := sha256.New()
	h.Write(shared.salt[:])
	h.Write([]byte(key.reveal()))
	k := pacerKey{host: host}
	h.Sum(k.keyHash[:0])

	shared.mu.Lock()
	defer shared.mu.Unlock()
	p, ok := shared.pacers[k]
	if !ok {
		p = NewPacer(interval)
		shared.pacers[k] = p
	} else {
		p.raiseInterval(interval)
	}
	return p
}

// raiseInterval makes p's interval (and grace) that of d when d is larger:
// of two Clients of one key that ask for different intervals, the stricter
// one holds for both. Starts already scheduled keep their time.
func (p *LocalPacer) raiseInterval(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if d > p.interval {
		p.interval = d
		p.grace = min(d, maxGrace)
	}
}
