package pacing_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadcalls/leadcalls/callyzer/pacing"
)

// The figures of the sequence tests: Callyzer's interval, a page's answer
// taking longer than it (so a release finds the interval already passed),
// and the time a consumer spends decoding a page before asking for the next.
const (
	seqInterval = 2 * time.Second
	seqLatency  = 2700 * time.Millisecond
	seqDecode   = 5 * time.Millisecond
	seqGrace    = time.Second // min(seqInterval, 1s)
)

type grant struct {
	who string
	at  time.Time
}

// slotLog records who got the slot when, in a synctest bubble, and how
// many held it at once.
type slotLog struct {
	mu              sync.Mutex
	grants          []grant
	inFlight, worst int
}

// pages sends n requests one after another through acquire, each holding
// the slot for seqLatency and followed by seqDecode of decoding.
func (l *slotLog) pages(t *testing.T, who string, n int, acquire acquireFunc) {
	for range n {
		rel, err := acquire(t.Context())
		if err != nil {
			t.Error(err)
			return
		}
		l.mu.Lock()
		l.grants = append(l.grants, grant{who, time.Now()})
		l.inFlight++
		l.worst = max(l.worst, l.inFlight)
		l.mu.Unlock()
		time.Sleep(seqLatency)
		l.mu.Lock()
		l.inFlight--
		l.mu.Unlock()
		rel(time.Time{})
		time.Sleep(seqDecode)
	}
}

// order is the sequence of grantees; checkPacing asserts the slot's rules.
func (l *slotLog) order() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]string, len(l.grants))
	for i, g := range l.grants {
		out[i] = g.who
	}
	return out
}

func (l *slotLog) checkPacing(t *testing.T) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	require.Equal(t, 1, l.worst, "one request in flight")
	for i := 1; i < len(l.grants); i++ {
		require.GreaterOrEqual(t, l.grants[i].at.Sub(l.grants[i-1].at), seqInterval, "start %d", i)
	}
}

// An interactive sequence arriving while a long background one runs waits
// only for the background request in flight, then gets all its pages before
// any further background page, although its next page is never queued
// when its previous one is released.
func TestSequenceWaitsOnlyForTheRequestInFlight(t *testing.T) {
	t.Parallel()
	for _, backfill := range []string{"background sequence", "single background requests"} {
		t.Run(backfill, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				p := pacing.New(seqInterval)
				var log slotLog
				var wg sync.WaitGroup
				wg.Go(func() {
					acquire := plain(p, pacing.Background)
					if backfill == "background sequence" {
						seq := p.Begin(pacing.Background)
						defer seq.End()
						acquire = seq.Acquire
					}
					log.pages(t, "b", 20, acquire)
				})
				time.Sleep(4*seqLatency + time.Second) // mid-way through the fifth background page
				arrived := time.Now()
				wg.Go(func() {
					seq := p.Begin(pacing.Interactive)
					defer seq.End()
					log.pages(t, "i", 3, seq.Acquire)
				})
				wg.Wait()

				log.checkPacing(t)
				order := strings.Join(log.order(), "")
				require.Equal(t, strings.Repeat("b", 5)+"iii"+strings.Repeat("b", 15), order,
					"the refresh waits for the one background page in flight, then has the slot to itself")
				first := log.grants[5].at
				require.LessOrEqual(t, first.Sub(arrived), seqLatency, "it waits at most one request's duration")
				require.Equal(t, seqLatency+seqDecode, log.grants[6].at.Sub(log.grants[5].at), "its next page starts once decoded")
			})
		})
	}
}

// Ten refreshes begun together are served one whole refresh after another,
// in the order they began, so the first is done after three slots, not
// after nearly all thirty.
func TestSequencesAreServedInTheOrderTheyBegan(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		p := pacing.New(seqInterval)
		var log slotLog
		var wg sync.WaitGroup
		start := time.Now()
		done := make([]time.Time, 10)
		for i := range 10 {
			wg.Go(func() {
				seq := p.Begin(pacing.Interactive)
				defer seq.End()
				log.pages(t, fmt.Sprint(i), 3, seq.Acquire)
				done[i] = time.Now()
			})
			time.Sleep(time.Millisecond) // they begin in this order
		}
		wg.Wait()

		log.checkPacing(t)
		var want []string
		for i := range 10 {
			want = append(want, fmt.Sprint(i), fmt.Sprint(i), fmt.Sprint(i))
		}
		require.Equal(t, want, log.order(), "whole sequences, in the order they began")
		require.Equal(t, 3*(seqLatency+seqDecode), done[0].Sub(start), "the first refresh takes its own three slots")
		for i := 1; i < 10; i++ {
			require.True(t, done[i].After(done[i-1]), "refresh %d finishes after refresh %d", i, i-1)
		}
	})
}

// A single Interactive request is a sequence that begins when it asks: it
// goes after sequences begun before it, before those begun after, whatever
// the order in which they ask.
func TestSingleInteractiveRequestRanksByArrival(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		p := pacing.New(seqInterval)
		granted := make(chan string, 10)
		holder := enqueue(t, plain(p, pacing.Background), "holder", granted)
		require.Equal(t, "holder", <-granted)
		early := p.Begin(pacing.Interactive)
		defer early.End()
		single := enqueue(t, plain(p, pacing.Interactive), "single", granted)
		late := p.Begin(pacing.Interactive)
		defer late.End()
		lateQ := enqueue(t, late.Acquire, "late", granted)
		earlyQ := enqueue(t, early.Acquire, "early", granted)

		close(holder.release)
		require.Equal(t, "early", <-granted, "begun first, although it asked last")
		close(earlyQ.release)
		require.Equal(t, "single", <-granted)
		close(single.release)
		require.Equal(t, "late", <-granted)
		close(lateQ.release)
	})
}

// An open Interactive sequence keeps the slot after its release only for the
// grace period (min(interval, 1s)); once it ends (a single request ends
// right after its release), or without an interval, the next waiter goes
// at once.
func TestSequenceReservationIsBounded(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		interval time.Duration
		single   bool // the interactive request is a single one
		end      bool // the sequence ends right after its release
		next     pacing.Priority
		want     time.Duration // from the release to the next grant
	}{
		{name: "left open, background waits the grace", interval: seqInterval, next: pacing.Background, want: seqGrace},
		{name: "left open, a later refresh waits the grace", interval: seqInterval, next: pacing.Interactive, want: seqGrace},
		{name: "ended", interval: seqInterval, end: true, next: pacing.Background},
		{name: "a single request keeps nothing", interval: seqInterval, single: true, next: pacing.Background},
		{name: "no interval keeps nothing", next: pacing.Background},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				p := pacing.New(tc.interval)
				seq := p.Begin(pacing.Interactive)
				acquire := seq.Acquire
				if tc.single {
					acquire = plain(p, pacing.Interactive)
				}
				rel, err := acquire(t.Context())
				require.NoError(t, err)

				next := plain(p, tc.next)
				if tc.next == pacing.Interactive {
					later := p.Begin(pacing.Interactive)
					defer later.End()
					next = later.Acquire
				}
				grantedAt := make(chan time.Time, 1)
				go func() {
					rel, err := next(t.Context())
					if err != nil {
						t.Error(err)
						return
					}
					grantedAt <- time.Now()
					rel(time.Time{})
				}()
				time.Sleep(seqLatency)
				rel(time.Time{})
				released := time.Now()
				if tc.end {
					seq.End()
				}
				require.Equal(t, tc.want, (<-grantedAt).Sub(released))
				seq.End()
				seq.End() // a second End does nothing
			})
		})
	}
}
