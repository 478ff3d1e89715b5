package callyzer_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/require"

	"github.com/leadcalls/leadcalls/callyzer"
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

type acquireFunc func(context.Context) (func(), error)

func plainAcquire(p callyzer.Pacer, prio callyzer.Priority) acquireFunc {
	return func(ctx context.Context) (func(), error) { return p.Acquire(ctx, prio) }
}

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
		rel()
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
	for _, backfill := range []string{"background sequence", "plain background Acquire"} {
		t.Run(backfill, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				p := callyzer.NewPacer(seqInterval)
				var log slotLog
				var wg sync.WaitGroup
				wg.Go(func() {
					acquire := plainAcquire(p, callyzer.Background)
					if backfill == "background sequence" {
						seq := p.Begin(callyzer.Background)
						defer seq.End()
						acquire = seq.Acquire
					}
					log.pages(t, "b", 20, acquire)
				})
				time.Sleep(4*seqLatency + time.Second) // mid-way through the fifth background page
				arrived := time.Now()
				wg.Go(func() {
					seq := p.Begin(callyzer.Interactive)
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
		p := callyzer.NewPacer(seqInterval)
		var log slotLog
		var wg sync.WaitGroup
		start := time.Now()
		done := make([]time.Time, 10)
		for i := range 10 {
			wg.Go(func() {
				seq := p.Begin(callyzer.Interactive)
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

// A plain Interactive Acquire counts as a sequence that begins when it is
// called: it goes after sequences begun before it, before those begun after.
func TestPlainInteractiveAcquireRanksByArrival(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		p := callyzer.NewPacer(seqInterval)
		granted := make(chan string, 10)
		holder := enqueue(t, p, "holder", callyzer.Background, granted)
		require.Equal(t, "holder", <-granted)
		early := p.Begin(callyzer.Interactive)
		defer early.End()
		plain := enqueue(t, p, "plain", callyzer.Interactive, granted)
		late := p.Begin(callyzer.Interactive)
		defer late.End()
		lateQ := enqueue(t, sequencePacer{late}, "late", callyzer.Interactive, granted)
		earlyQ := enqueue(t, sequencePacer{early}, "early", callyzer.Interactive, granted)

		close(holder.release)
		require.Equal(t, "early", <-granted, "begun first, although it asked last")
		close(earlyQ.release)
		require.Equal(t, "plain", <-granted)
		close(plain.release)
		require.Equal(t, "late", <-granted)
		close(lateQ.release)
	})
}

// sequencePacer adapts a Sequence to Pacer for enqueue.
type sequencePacer struct{ seq callyzer.Sequence }

func (s sequencePacer) Acquire(ctx context.Context, _ callyzer.Priority) (func(), error) {
	return s.seq.Acquire(ctx)
}

// An open Interactive sequence keeps the slot after its release only for the
// grace period (min(interval, 1s)); once it ends, or when it was a plain
// Acquire, or without an interval, the next waiter goes at once.
func TestSequenceReservationIsBounded(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		interval time.Duration
		plain    bool // the interactive request is a plain Acquire
		end      bool // the sequence ends right after its release
		next     callyzer.Priority
		want     time.Duration // from the release to the next grant
	}{
		{name: "left open, background waits the grace", interval: seqInterval, next: callyzer.Background, want: seqGrace},
		{name: "left open, a later refresh waits the grace", interval: seqInterval, next: callyzer.Interactive, want: seqGrace},
		{name: "ended", interval: seqInterval, end: true, next: callyzer.Background},
		{name: "plain Acquire keeps nothing", interval: seqInterval, plain: true, next: callyzer.Background},
		{name: "no interval keeps nothing", next: callyzer.Background},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				p := callyzer.NewPacer(tc.interval)
				seq := p.Begin(callyzer.Interactive)
				acquire := seq.Acquire
				if tc.plain {
					acquire = plainAcquire(p, callyzer.Interactive)
				}
				rel, err := acquire(t.Context())
				require.NoError(t, err)

				var next acquireFunc = plainAcquire(p, tc.next)
				if tc.next == callyzer.Interactive {
					later := p.Begin(callyzer.Interactive)
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
					rel()
				}()
				time.Sleep(seqLatency)
				rel()
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

// spyPacer is a SequencePacer that counts what the Client asks of it.
type spyPacer struct {
	p                            *callyzer.LocalPacer
	begins, ends, inSeq, outside atomic.Int64
}

func (s *spyPacer) Acquire(ctx context.Context, prio callyzer.Priority) (func(), error) {
	s.outside.Add(1)
	return s.p.Acquire(ctx, prio)
}

func (s *spyPacer) Begin(prio callyzer.Priority) callyzer.Sequence {
	s.begins.Add(1)
	return &spySequence{s, s.p.Begin(prio)}
}

type spySequence struct {
	s   *spyPacer
	seq callyzer.Sequence
}

func (q *spySequence) Acquire(ctx context.Context) (func(), error) {
	q.s.inSeq.Add(1)
	return q.seq.Acquire(ctx)
}

func (q *spySequence) End() {
	q.s.ends.Add(1)
	q.seq.End()
}

// Every HistoryPages iteration and every Employees call is one sequence,
// ended however the iteration ends; a single HistoryPage is a plain Acquire.
func TestClientEndsEverySequence(t *testing.T) {
	t.Parallel()
	three := func(mt *httpmock.MockTransport) {
		mt.RegisterResponder(http.MethodPost, mockBase+"/call-log/history", httpmock.ResponderFromMultipleResponses([]*http.Response{
			httpmock.NewBytesResponse(200, page(3, "a")), httpmock.NewBytesResponse(200, page(3, "b")), httpmock.NewBytesResponse(200, page(3, "c")),
		}))
	}
	drain := func(ctx context.Context, c *callyzer.Client, stopAfter int, cancel func()) error {
		n := 0
		for _, err := range c.HistoryPages(ctx, oneMonth()) {
			if err != nil {
				return err
			}
			if n++; n == stopAfter {
				if cancel == nil {
					break
				}
				cancel()
			}
		}
		return nil
	}
	for _, tc := range []struct {
		name          string
		serve         func(*httpmock.MockTransport)
		call          func(ctx context.Context, c *callyzer.Client, cancel func()) error
		wantErr       error
		begins, inSeq int64
		outside       int64
	}{
		{name: "pages to the end", serve: three, begins: 1, inSeq: 3,
			call: func(ctx context.Context, c *callyzer.Client, _ func()) error { return drain(ctx, c, 0, nil) }},
		{name: "consumer breaks", serve: three, begins: 1, inSeq: 1,
			call: func(ctx context.Context, c *callyzer.Client, _ func()) error { return drain(ctx, c, 1, nil) }},
		{name: "context cancelled", serve: three, begins: 1, inSeq: 1, wantErr: context.Canceled,
			call: func(ctx context.Context, c *callyzer.Client, cancel func()) error { return drain(ctx, c, 1, cancel) }},
		{name: "request fails", begins: 1, inSeq: 1, wantErr: callyzer.ErrUnauthorized,
			serve: func(mt *httpmock.MockTransport) {
				mt.RegisterResponder(http.MethodPost, mockBase+"/call-log/history", httpmock.NewStringResponder(401, `{"message":"no"}`))
			},
			call: func(ctx context.Context, c *callyzer.Client, _ func()) error { return drain(ctx, c, 0, nil) }},
		{name: "query refused: no sequence", serve: three, wantErr: callyzer.ErrInvalidQuery,
			call: func(ctx context.Context, c *callyzer.Client, _ func()) error {
				for _, err := range c.HistoryPages(ctx, callyzer.HistoryQuery{}) {
					return err
				}
				return nil
			}},
		{name: "one page: plain Acquire", serve: three, outside: 1,
			call: func(ctx context.Context, c *callyzer.Client, _ func()) error {
				_, err := c.HistoryPage(ctx, oneMonth(), 1)
				return err
			}},
		{name: "employees", begins: 1, inSeq: 2,
			serve: func(mt *httpmock.MockTransport) {
				mt.RegisterResponder(http.MethodGet, mockBase+"/employee/get", httpmock.ResponderFromMultipleResponses([]*http.Response{
					httpmock.NewBytesResponse(200, fixture(t, "employees_page1.json")), httpmock.NewBytesResponse(200, fixture(t, "employees_page2.json")),
				}))
			},
			call: func(ctx context.Context, c *callyzer.Client, _ func()) error {
				_, err := c.Employees(ctx, callyzer.EmployeesQuery{Priority: callyzer.Interactive})
				return err
			}},
		{name: "employees fail", begins: 1, inSeq: 1, wantErr: callyzer.ErrUnauthorized,
			serve: func(mt *httpmock.MockTransport) {
				mt.RegisterResponder(http.MethodGet, mockBase+"/employee/get", httpmock.NewStringResponder(403, `{"message":"no"}`))
			},
			call: func(ctx context.Context, c *callyzer.Client, _ func()) error {
				_, err := c.Employees(ctx, callyzer.EmployeesQuery{})
				return err
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			spy := &spyPacer{p: callyzer.NewPacer(0)}
			c, mt := mockClient(t, callyzer.WithPacer(spy), callyzer.WithPageSize(2), callyzer.WithMaxRetries(0))
			tc.serve(mt)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			err := tc.call(ctx, c, cancel)
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
			} else {
				require.NoError(t, err)
			}
			require.Equal(t, tc.begins, spy.begins.Load(), "sequences begun")
			require.Equal(t, tc.begins, spy.ends.Load(), "every sequence begun is ended")
			require.Equal(t, tc.inSeq, spy.inSeq.Load(), "requests in a sequence")
			require.Equal(t, tc.outside, spy.outside.Load(), "plain requests")
			require.Equal(t, int(tc.inSeq+tc.outside), mt.GetTotalCallCount(), "one slot per request")
		})
	}
}

// acquireOnly is a Pacer with Acquire alone, like a cross-replica pacer.
type acquireOnly struct {
	callyzer.Pacer
	calls atomic.Int64
}

func (a *acquireOnly) Acquire(ctx context.Context, prio callyzer.Priority) (func(), error) {
	a.calls.Add(1)
	return a.Pacer.Acquire(ctx, prio)
}

func TestClientWithAPacerWithoutSequences(t *testing.T) {
	t.Parallel()
	pacer := &acquireOnly{Pacer: callyzer.NewPacer(0)}
	var _ callyzer.Pacer = pacer
	_, isSeq := any(pacer).(callyzer.SequencePacer)
	require.False(t, isSeq)
	srv := newAPIServer(t, serveFixtures(page(3, "a"), page(3, "b"), page(3, "c")))
	c := newClient(t, srv.URL, callyzer.WithPacer(pacer), callyzer.WithPageSize(1))
	pages, err := collect(t, c, oneMonth())
	require.NoError(t, err)
	require.Len(t, pages, 3)
	require.Equal(t, int64(3), pacer.calls.Load())
}

// Through the Client: a refresh abandoned part-way (the consumer breaks,
// or cancels its context) holds the background back not at all.
func TestAbandonedHistoryPagesFreesTheSlotAtOnce(t *testing.T) {
	t.Parallel()
	for _, how := range []string{"break", "cancel"} {
		t.Run(how, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				api := &fakeAPI{latency: seqLatency, reply: func(n int) (int, http.Header, string) {
					return 200, nil, string(page(3, fmt.Sprint("c-", n)))
				}}
				p := callyzer.NewPacer(seqInterval)
				c, err := callyzer.NewClient(testKey,
					callyzer.WithBaseURL(mockBase),
					callyzer.WithHTTPClient(&http.Client{Transport: api}),
					callyzer.WithPacer(p),
					callyzer.WithPageSize(1),
				)
				require.NoError(t, err)
				start := time.Now()
				grantedAt := make(chan time.Time, 1)
				go func() {
					time.Sleep(time.Second) // while the refresh's first page is in flight
					rel, err := p.Acquire(t.Context(), callyzer.Background)
					if err != nil {
						t.Error(err)
						return
					}
					grantedAt <- time.Now()
					rel()
				}()
				ctx, cancel := context.WithCancel(t.Context())
				defer cancel()
				pages := 0
				var iterErr error
				for _, err := range c.HistoryPages(ctx, oneMonth()) {
					if err != nil {
						iterErr = err
						break
					}
					pages++
					if how == "break" {
						break
					}
					cancel()
				}
				require.Equal(t, 1, pages)
				if how == "cancel" {
					require.ErrorIs(t, iterErr, context.Canceled)
				}
				require.Equal(t, seqLatency, (<-grantedAt).Sub(start), "granted when the first page was released")
				api.mu.Lock()
				defer api.mu.Unlock()
				require.Len(t, api.starts, 1)
			})
		})
	}
}
