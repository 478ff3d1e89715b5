package callyzer_test

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/require"

	"github.com/leadcalls/leadcalls/callyzer"
	"github.com/leadcalls/leadcalls/callyzer/pacing"
)

// The figures of the sequence tests: Callyzer's interval, and a page's
// answer taking longer than it (so a release finds the interval already
// passed). callyzer/pacing's tests check the sequence rules themselves.
const (
	seqInterval = 2 * time.Second
	seqLatency  = 2700 * time.Millisecond
)

// spyPacer is a pacer that counts what the Client asks of it.
type spyPacer struct {
	pacing.Pacer
	begins, ends, acquires atomic.Int64
}

func (s *spyPacer) Begin(prio pacing.Priority) pacing.Sequence {
	s.begins.Add(1)
	return &spySequence{s, s.Pacer.Begin(prio)}
}

type spySequence struct {
	s   *spyPacer
	seq pacing.Sequence
}

func (q *spySequence) Acquire(ctx context.Context) (func(time.Time), error) {
	q.s.acquires.Add(1)
	return q.seq.Acquire(ctx)
}

func (q *spySequence) End() {
	q.s.ends.Add(1)
	q.seq.End()
}

// Every HistoryPages iteration, every Employees call and every single
// HistoryPage is one sequence, ended however it ends, with one slot per
// request.
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
		{name: "one page: a sequence of one", serve: three, begins: 1, inSeq: 1,
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
				_, err := c.Employees(ctx, callyzer.EmployeesQuery{Priority: pacing.Interactive})
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
			spy := &spyPacer{Pacer: pacing.New(0)}
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
			require.Equal(t, tc.inSeq, spy.acquires.Load(), "requests in a sequence")
			require.Equal(t, int(tc.inSeq), mt.GetTotalCallCount(), "one slot per request")
		})
	}
}

// TestClientWithAPacerOfItsOwn: the Client goes through whatever Pacer
// WithPacer gives it (a host's own, such as a cross-replica one), one slot
// per request.
func TestClientWithAPacerOfItsOwn(t *testing.T) {
	t.Parallel()
	pacer := &spyPacer{Pacer: pacing.New(0)}
	srv := newAPIServer(t, serveFixtures(page(3, "a"), page(3, "b"), page(3, "c")))
	c := newClient(t, srv.URL, callyzer.WithPacer(pacer), callyzer.WithPageSize(1))
	pages, err := collect(t, c, oneMonth())
	require.NoError(t, err)
	require.Len(t, pages, 3)
	require.Equal(t, int64(3), pacer.acquires.Load())
	require.Equal(t, int64(1), pacer.ends.Load())
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
				p := pacing.New(seqInterval)
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
					seq := p.Begin(pacing.Background)
					defer seq.End()
					rel, err := seq.Acquire(t.Context())
					if err != nil {
						t.Error(err)
						return
					}
					grantedAt <- time.Now()
					rel(time.Time{})
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
