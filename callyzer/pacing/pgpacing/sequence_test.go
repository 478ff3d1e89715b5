package pgpacing_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadcalls/leadcalls/callyzer/pacing"
	"github.com/leadcalls/leadcalls/callyzer/pacing/pgpacing"
)

// The figures of the sequence tests. A request holds the slot longer than
// the interval (as Callyzer's 2.7s answers against its 2s interval), so a
// release finds the next start already allowed and only the sequence rule
// keeps others out; the consumer decodes a page in a few milliseconds. The
// grace is min(interval, 1s) = interval: a handover slower than that (a
// goroutine stalled for ~70ms on a loaded machine) would let another
// caller in, so the interval is not smaller.
const (
	seqInterval = 80 * time.Millisecond
	seqLatency  = 90 * time.Millisecond
	seqDecode   = 3 * time.Millisecond
	seqGrace    = seqInterval
)

// grantLog records who got the slot, in order, with the database time of
// each claim. Only one caller holds the slot at a time, so appending while
// holding it records the true order.
type grantLog struct {
	mu       sync.Mutex
	who      []string
	inFlight atomic.Int32
	overlap  atomic.Bool
}

// hold records who, "sends a request" for d, and releases.
func (l *grantLog) hold(who string, d time.Duration, release func(time.Time)) {
	if l.inFlight.Add(1) > 1 {
		l.overlap.Store(true)
	}
	l.mark(who)
	time.Sleep(d)
	l.inFlight.Add(-1)
	release(time.Time{})
}

func (l *grantLog) mark(who string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.who = append(l.who, who)
}

func (l *grantLog) entries() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.who...)
}

// claimTimes collects the database claim times of a pacer's grants.
type claimTimes struct {
	mu    sync.Mutex
	db    []time.Time
	local []time.Time
}

func (c *claimTimes) hook(dbStart, granted time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.db = append(c.db, dbStart)
	c.local = append(c.local, granted)
}

func (c *claimTimes) last() (dbStart, granted time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.db[len(c.db)-1], c.local[len(c.local)-1]
}

// TestSequenceKeepsTheSlotAcrossReplicas is pacing's
// TestSequenceWaitsOnlyForTheRequestInFlight across two pools: replica B
// sends background requests without pause from two goroutines, replica A
// runs 5-page interactive sequences one after another. No background
// request may come between two pages of a sequence, and a sequence waits
// for at most the one background request in flight when it began.
func TestSequenceKeepsTheSlotAcrossReplicas(t *testing.T) {
	t.Parallel()
	const (
		sequences = 3
		pages     = 5
	)
	d := newTestDB(t)
	dbs := d.migrated(t, 2)
	a := newPacer(t, dbs[0], pgpacing.Config{Name: d.name, Interval: seqInterval, PollInterval: 5 * time.Millisecond})
	var log grantLog

	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	bctx, stopB := context.WithCancel(ctx)
	defer stopB()
	var wg sync.WaitGroup
	var bErr atomic.Value
	for range 2 {
		b := newPacer(t, dbs[1], pgpacing.Config{Name: d.name, Interval: seqInterval, PollInterval: 5 * time.Millisecond})
		wg.Go(func() {
			for {
				release, err := single(bctx, b, pacing.Background)
				if err != nil {
					if !errors.Is(err, context.Canceled) {
						bErr.Store(err)
					}
					return
				}
				log.hold("b", seqLatency, release)
			}
		})
	}

	for s := range sequences {
		// Let the background have the slot for a while first.
		time.Sleep(seqLatency + seqLatency/2)
		log.mark(fmt.Sprintf("[%d", s))
		seq := a.Begin(pacing.Interactive)
		for range pages {
			release, err := seq.Acquire(ctx)
			require.NoError(t, err)
			log.hold("i", seqLatency, release)
			time.Sleep(seqDecode)
		}
		// Marked before End: once the row is gone, replica B may take the
		// slot before this goroutine could mark the end.
		log.mark("]")
		seq.End()
	}
	stopB()
	wg.Wait()
	require.Nil(t, bErr.Load(), "replica B's Acquire failed")
	require.False(t, log.overlap.Load(), "two requests in flight at once")

	entries := log.entries()
	order := strings.Join(entries, "")
	t.Logf("grants (b: replica B background, i: replica A interactive, [n ... ]: sequence n began ... ended): %s", order)
	for s := range sequences {
		begin := strings.Index(order, fmt.Sprintf("[%d", s))
		require.GreaterOrEqual(t, begin, 0)
		end := begin + strings.Index(order[begin:], "]")
		inside := order[begin+len(fmt.Sprintf("[%d", s)) : end]
		// At most the background request in flight (or just granted) when
		// the sequence began, then all its pages together.
		require.Regexp(t, fmt.Sprintf("^b?i{%d}$", pages), inside,
			"sequence %d: a background request came between its pages, or more than one before its first", s)
	}
	require.GreaterOrEqual(t, strings.Count(order, "b"), sequences, "replica B was not competing for the slot")
}

// TestLaterSequenceWaitsForTheOpenOne: an interactive sequence begun later
// on another replica waits while the open one decodes between its pages,
// and gets the slot as soon as the open one ends, still before a waiting
// background caller.
func TestLaterSequenceWaitsForTheOpenOne(t *testing.T) {
	t.Parallel()
	d := newTestDB(t)
	dbs := d.migrated(t, 3)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	var log grantLog

	first := newPacer(t, dbs[0], pgpacing.Config{Name: d.name, Interval: seqInterval, PollInterval: 5 * time.Millisecond})
	s1 := first.Begin(pacing.Interactive)
	release, err := s1.Acquire(ctx)
	require.NoError(t, err)
	log.mark("s1")

	// While s1 holds its first page: a background caller, then a later
	// interactive sequence, each on a replica of its own, start waiting.
	later := make(chan error, 2)
	var waiting sync.WaitGroup
	for _, w := range []struct {
		db   int
		prio pacing.Priority
		who  string
	}{{1, pacing.Background, "bg"}, {2, pacing.Interactive, "s2"}} {
		p := newPacer(t, dbs[w.db], pgpacing.Config{Name: d.name, Interval: seqInterval, PollInterval: 5 * time.Millisecond})
		polled := make(chan struct{})
		var once sync.Once
		pgpacing.SetPollHook(p, func(pacing.Priority) { once.Do(func() { close(polled) }) })
		waiting.Go(func() {
			seq := p.Begin(w.prio)
			defer seq.End()
			release, err := seq.Acquire(ctx)
			if err == nil {
				log.hold(w.who, time.Millisecond, release)
			}
			later <- err
		})
		waitFor(t, polled, w.who+" to wait")
	}

	time.Sleep(seqLatency)
	release(time.Time{})
	// A slow decode, still within the grace: the waiters poll every 5ms,
	// so without the reservation one of them would get the slot.
	time.Sleep(seqGrace / 4)
	release, err = s1.Acquire(ctx)
	require.NoError(t, err)
	log.mark("s1")
	time.Sleep(seqLatency)
	release(time.Time{})
	s1.End()
	waiting.Wait()
	require.NoError(t, <-later)
	require.NoError(t, <-later)
	require.Equal(t, []string{"s1", "s1", "s2", "bg"}, log.entries(),
		"the open sequence keeps the slot between its pages; then the later sequence, then background")
}

// TestAbandonedSequenceHoldsOthersBackByTheGraceAtMost: a sequence that
// releases its page and neither asks again nor ends keeps a waiting
// background caller out for the grace, and no longer.
func TestAbandonedSequenceHoldsOthersBackByTheGraceAtMost(t *testing.T) {
	t.Parallel()
	const hold = seqInterval + 50*time.Millisecond // past the interval, so only the grace keeps the slot
	d := newTestDB(t)
	dbs := d.migrated(t, 2)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()

	a := newPacer(t, dbs[0], pgpacing.Config{Name: d.name, Interval: seqInterval})
	var aTimes claimTimes
	pgpacing.SetClaimHook(a, aTimes.hook)
	seq := a.Begin(pacing.Interactive)
	defer seq.End()
	release, err := seq.Acquire(ctx)
	require.NoError(t, err)
	aStart, _ := aTimes.last()

	b := newPacer(t, dbs[1], pgpacing.Config{Name: d.name, Interval: seqInterval, PollInterval: 5 * time.Millisecond})
	var bTimes claimTimes
	pgpacing.SetClaimHook(b, bTimes.hook)
	polled := make(chan struct{})
	var once sync.Once
	pgpacing.SetPollHook(b, func(pacing.Priority) { once.Do(func() { close(polled) }) })
	got := make(chan error, 1)
	go func() {
		release, err := single(ctx, b, pacing.Background)
		if err == nil {
			release(time.Time{})
		}
		got <- err
	}()
	waitFor(t, polled, "the background caller to wait")
	time.Sleep(hold)
	released := time.Now()
	release(time.Time{}) // and the sequence is abandoned: no next page, no End
	require.NoError(t, <-got)
	bStart, bGranted := bTimes.last()

	// On the database clock: a's release came at least hold after its
	// claim, and kept the slot for the grace from there.
	require.GreaterOrEqual(t, bStart.Sub(aStart), hold+seqGrace-time.Millisecond,
		"the background caller got the slot within the grace of the release")
	// Bounded: the reservation ends after the grace, not after an
	// Interactive waiter's lease (5s). The slack covers polling and a
	// loaded machine.
	require.Less(t, bGranted.Sub(released), seqGrace+time.Second,
		"an abandoned sequence held the background caller back past the grace")
	t.Logf("abandoned sequence: background waited %v after the release (grace %v)", bGranted.Sub(released), seqGrace)
}

// End removes the sequence's row at once, so nobody waits out its grace.
func TestSequenceEndRemovesItsReservation(t *testing.T) {
	t.Parallel()
	d := newTestDB(t)
	dbs := d.migrated(t, 1)
	p := newPacer(t, dbs[0], pgpacing.Config{Name: d.name, Interval: time.Minute}) // grace 1s: long enough to be seen
	rows := func() int {
		var n int
		require.NoError(t, dbs[0].QueryRowContext(t.Context(),
			"SELECT count(*) FROM leadcalls_pacer_waiters WHERE lease_until > clock_timestamp()").Scan(&n))
		return n
	}

	seq := p.Begin(pacing.Interactive)
	release, err := seq.Acquire(t.Context())
	require.NoError(t, err)
	require.Zero(t, rows(), "the holder has no waiter row")
	release(time.Time{})
	require.Equal(t, 1, rows(), "the release reserves the slot for the sequence's next page")
	seq.End()
	require.Zero(t, rows(), "End removes the reservation")
	seq.End() // idempotent

	// Background sequences and ended ones reserve nothing.
	for _, prio := range []pacing.Priority{pacing.Background, pacing.Interactive} {
		seq := p.Begin(prio)
		if prio == pacing.Interactive {
			seq.End()
		}
		// The slot's next start is a minute away: hand it back by hand.
		_, err := dbs[0].ExecContext(t.Context(), "UPDATE leadcalls_pacer SET next_start_at = clock_timestamp()")
		require.NoError(t, err)
		release, err := seq.Acquire(t.Context())
		require.NoError(t, err)
		release(time.Time{})
		require.Zero(t, rows(), "priority %v", prio)
		seq.End()
	}
}
