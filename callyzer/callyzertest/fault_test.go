package callyzertest_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadcalls/leadcalls/callyzer/callyzertest"
)

func TestFaults(t *testing.T) {
	t.Parallel()
	httpDate := now.Add(3 * time.Second).Format(http.TimeFormat)
	tests := []struct {
		fault   callyzertest.Fault
		timeout time.Duration // of the request; 0: the test's
		check   func(t *testing.T, r reply)
	}{
		{callyzertest.Fault{Kind: callyzertest.FaultStatus}, 0, func(t *testing.T, r reply) {
			require.Equal(t, 500, r.Status)
			require.Equal(t, "Internal Server Error", r.JSON["message"])
		}},
		{callyzertest.Fault{Kind: callyzertest.FaultStatus, Status: 503, RetryAfter: "7"}, 0, func(t *testing.T, r reply) {
			require.Equal(t, 503, r.Status)
			require.Equal(t, "7", r.Header.Get("Retry-After"))
		}},
		{callyzertest.Fault{Kind: callyzertest.FaultStatus, Status: 429, RetryAfter: httpDate}, 0, func(t *testing.T, r reply) {
			require.Equal(t, 429, r.Status)
			require.Equal(t, httpDate, r.Header.Get("Retry-After"))
		}},
		{callyzertest.Fault{Kind: callyzertest.FaultStatus, Status: 502, Body: "<html>Bad Gateway</html>"}, 0, func(t *testing.T, r reply) {
			require.Equal(t, 502, r.Status)
			require.Nil(t, r.JSON)
			require.Equal(t, "<html>Bad Gateway</html>", string(r.Raw))
			require.Contains(t, r.Header.Get("Content-Type"), "text/html")
		}},
		{callyzertest.Fault{Kind: callyzertest.FaultStatus, Status: 403, Body: `{"message":"Subscription expired"}`}, 0, func(t *testing.T, r reply) {
			require.Equal(t, 403, r.Status)
			require.Equal(t, "Subscription expired", r.JSON["message"])
		}},
		{callyzertest.Fault{Kind: callyzertest.FaultHang}, 150 * time.Millisecond, func(t *testing.T, r reply) {
			require.ErrorIs(t, r.Err, context.DeadlineExceeded)
			require.Zero(t, r.Status, "no headers")
		}},
		{callyzertest.Fault{Kind: callyzertest.FaultHang, Delay: 30 * time.Millisecond}, 0, func(t *testing.T, r reply) {
			require.NoError(t, r.Err)
			require.Equal(t, 200, r.Status)
			require.Len(t, r.rows(t), 10)
		}},
		{callyzertest.Fault{Kind: callyzertest.FaultStall}, 500 * time.Millisecond, func(t *testing.T, r reply) {
			require.Equal(t, 200, r.Status, "headers came")
			require.ErrorIs(t, r.Err, context.DeadlineExceeded)
			require.NotEmpty(t, r.Raw, "half a body came")
		}},
		{callyzertest.Fault{Kind: callyzertest.FaultTruncate}, 0, func(t *testing.T, r reply) {
			require.Equal(t, 200, r.Status)
			require.ErrorIs(t, r.Err, io.ErrUnexpectedEOF)
			n, err := strconv.Atoi(r.Header.Get("Content-Length"))
			require.NoError(t, err)
			require.Equal(t, n/2, len(r.Raw))
		}},
		{callyzertest.Fault{Kind: callyzertest.FaultGarbage}, 0, func(t *testing.T, r reply) {
			require.Equal(t, 200, r.Status)
			require.Nil(t, r.JSON)
			require.NotEmpty(t, r.Raw)
		}},
		{callyzertest.Fault{Kind: callyzertest.FaultHalfTyped}, 0, func(t *testing.T, r reply) {
			rows := r.rows(t)
			require.IsType(t, map[string]any{}, rows[0]["duration"])
			require.IsType(t, float64(0), rows[0]["id"])
			require.IsType(t, "", rows[1]["id"])
		}},
		{callyzertest.Fault{Kind: callyzertest.FaultDataEnvelope}, 0, func(t *testing.T, r reply) {
			require.NotContains(t, r.JSON, "result")
			require.Len(t, r.JSON["data"], 10)
		}},
		{callyzertest.Fault{Kind: callyzertest.FaultNullResult}, 0, func(t *testing.T, r reply) {
			require.Contains(t, r.JSON, "result")
			require.Nil(t, r.JSON["result"])
			require.Equal(t, 25, r.total(t))
		}},
		{callyzertest.Fault{Kind: callyzertest.FaultMissingResult}, 0, func(t *testing.T, r reply) {
			require.NotContains(t, r.JSON, "result")
			require.NotContains(t, r.JSON, "data")
			require.Equal(t, "Success", r.JSON["message"])
		}},
		{callyzertest.Fault{Kind: callyzertest.FaultWrongTotal}, 0, func(t *testing.T, r reply) {
			require.Equal(t, 26, r.total(t))
			require.Len(t, r.rows(t), 10)
		}},
		{callyzertest.Fault{Kind: callyzertest.FaultWrongTotal, Delta: -3}, 0, func(t *testing.T, r reply) {
			require.Equal(t, 22, r.total(t))
		}},
		{callyzertest.Fault{Kind: callyzertest.FaultOversized, Size: 1 << 20}, 0, func(t *testing.T, r reply) {
			require.NoError(t, r.Err)
			require.Greater(t, len(r.Raw), 1<<20)
			rows := r.rows(t)
			require.Len(t, rows, 10, "still a valid page")
			require.Len(t, rows[0]["note"], 1<<20)
		}},
		{callyzertest.Fault{Kind: callyzertest.FaultMissingID}, 0, func(t *testing.T, r reply) {
			rows := r.rows(t)
			require.NotContains(t, rows[0], "id")
			require.Contains(t, rows[1], "id")
		}},
		{callyzertest.Fault{Kind: callyzertest.FaultEndlessPaging}, 0, func(t *testing.T, r reply) {
			require.Equal(t, 1_000_000, r.total(t))
			require.Equal(t, "endless-1-1", r.ids(t)[0])
			require.Len(t, r.rows(t), 10)
		}},
		{callyzertest.Fault{Kind: callyzertest.FaultDBException}, 0, func(t *testing.T, r reply) {
			require.Equal(t, 400, r.Status)
			require.Contains(t, r.JSON["message"], "SQLSTATE")
		}},
		{callyzertest.Fault{Kind: callyzertest.FaultDBException, Body: "Illuminate\\Database\\QueryException: SQLSTATE[HY000] [2002] Connection refused"}, 0, func(t *testing.T, r reply) {
			require.Equal(t, 400, r.Status)
			require.Nil(t, r.JSON)
		}},
		{callyzertest.Fault{Kind: callyzertest.FaultReset}, 0, func(t *testing.T, r reply) {
			require.Error(t, r.Err)
			require.Zero(t, r.Status)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.fault.String(), func(t *testing.T) {
			t.Parallel()
			srv := callyzertest.NewServer(t, callyzertest.Options{Calls: seedCalls(25)})
			srv.Inject(tt.fault)
			ctx := t.Context()
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			extra := map[string]any{"page_size": 10}
			tt.check(t, history(ctx, srv, now.AddDate(0, 0, -30), now, extra))
			require.Equal(t, tt.fault.Kind, srv.Requests()[0].Fault)

			// The fault fired once: the next request is normal.
			r := history(t.Context(), srv, now.AddDate(0, 0, -30), now, extra)
			require.NoError(t, r.Err)
			require.Equal(t, http.StatusOK, r.Status, "%s", r.Raw)
			require.Len(t, r.rows(t), 10)
			require.Equal(t, 25, r.total(t))
			require.Zero(t, srv.Requests()[1].Fault)
		})
	}
}

func TestFaultKindsCovered(t *testing.T) {
	t.Parallel()
	kinds := callyzertest.FaultKinds()
	require.Len(t, kinds, 19)
	seen := map[string]bool{}
	for _, k := range kinds {
		s := k.String()
		require.NotContains(t, s, "FaultKind(", "kind %d has no name", int(k))
		require.False(t, seen[s])
		seen[s] = true
	}
	require.Equal(t, "FaultKind(99)", callyzertest.FaultKind(99).String())
	require.Equal(t, "Status(503) on page 2 always",
		callyzertest.Fault{Kind: callyzertest.FaultStatus, Status: 503, Page: 2, Always: true}.String())
	require.Equal(t, "Reset on request 3 2 times", callyzertest.Fault{Kind: callyzertest.FaultReset, Request: 3, Times: 2}.String())
	require.Equal(t, "Redirect(307) on page 1", callyzertest.Fault{Kind: callyzertest.FaultRedirect, Page: 1}.String())
	require.Equal(t, "Redirect(302)", callyzertest.Fault{Kind: callyzertest.FaultRedirect, Status: 302}.String())
}

func TestFaultSelectors(t *testing.T) {
	t.Parallel()
	status := func(code int) callyzertest.Fault {
		return callyzertest.Fault{Kind: callyzertest.FaultStatus, Status: code}
	}
	on := func(f callyzertest.Fault, set func(*callyzertest.Fault)) callyzertest.Fault { set(&f); return f }
	type call struct {
		path string // PathHistory or PathEmployees
		page int
	}
	h := func(page int) call { return call{callyzertest.PathHistory, page} }
	emp := call{path: callyzertest.PathEmployees, page: 1}

	tests := []struct {
		name   string
		faults []callyzertest.Fault
		calls  []call
		want   []int
	}{
		{"next request", []callyzertest.Fault{status(500)}, []call{h(1), h(1)}, []int{500, 200}},
		{"request number", []callyzertest.Fault{on(status(502), func(f *callyzertest.Fault) { f.Request = 3 })},
			[]call{h(1), h(2), h(3), h(3)}, []int{200, 200, 502, 200}},
		{"page once", []callyzertest.Fault{on(status(503), func(f *callyzertest.Fault) { f.Page = 2 })},
			[]call{h(1), emp, h(2), h(2), h(3)}, []int{200, 200, 503, 200, 200}},
		{"page always", []callyzertest.Fault{on(status(503), func(f *callyzertest.Fault) { f.Page = 3; f.Always = true })},
			[]call{h(3), h(2), h(3), h(3)}, []int{503, 200, 503, 503}},
		{"times", []callyzertest.Fault{on(status(500), func(f *callyzertest.Fault) { f.Times = 2 })},
			[]call{h(1), h(1), h(1)}, []int{500, 500, 200}},
		{"path", []callyzertest.Fault{on(status(504), func(f *callyzertest.Fault) { f.Path = callyzertest.PathEmployees })},
			[]call{h(1), emp, emp}, []int{200, 504, 200}},
		{"first injected wins", []callyzertest.Fault{status(500), status(502)},
			[]call{h(1), h(1), h(1)}, []int{500, 502, 200}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := callyzertest.NewServer(t, callyzertest.Options{Calls: seedCalls(25)})
			srv.Inject(tt.faults...)
			var got []int
			for _, c := range tt.calls {
				var r reply
				if c.path == callyzertest.PathHistory {
					r = history(t.Context(), srv, now.AddDate(0, 0, -30), now, map[string]any{"page_no": c.page})
				} else {
					r = send(t.Context(), srv, http.MethodGet, c.path, nil)
				}
				got = append(got, r.Status)
			}
			require.Equal(t, tt.want, got)
		})
	}

	t.Run("clear", func(t *testing.T) {
		t.Parallel()
		srv := callyzertest.NewServer(t, callyzertest.Options{})
		srv.Inject(callyzertest.Fault{Kind: callyzertest.FaultStatus, Always: true})
		require.Equal(t, 500, history(t.Context(), srv, now.Add(-time.Hour), now, nil).Status)
		srv.ClearFaults()
		require.Equal(t, 200, history(t.Context(), srv, now.Add(-time.Hour), now, nil).Status)
	})
	t.Run("a numbered fault fires on its request even when refused", func(t *testing.T) {
		t.Parallel()
		clk := newClock(now) // frozen: every request after the first accepted one breaks pacing
		srv := callyzertest.NewServer(t, callyzertest.Options{Now: clk.Now, Interval: time.Second})
		srv.Inject(
			callyzertest.Fault{Kind: callyzertest.FaultStatus}, // no number: waits for an accepted request
			callyzertest.Fault{Kind: callyzertest.FaultStatus, Status: 503, Request: 1},
			callyzertest.Fault{Kind: callyzertest.FaultMissingID, Request: 2}, // alters a page: spent on the 401
			callyzertest.Fault{Kind: callyzertest.FaultStatus, Status: 502, Request: 5},
			callyzertest.Fault{Kind: callyzertest.FaultStatus, Status: 504, Request: 7},
		)
		bad := func() int {
			return sendKey(t.Context(), srv, "bad", http.MethodPost, callyzertest.PathHistory,
				map[string]any{"call_from": now.Add(-time.Hour).Unix(), "call_to": now.Unix()}).Status
		}
		good := func() int { return history(t.Context(), srv, now.Add(-time.Hour), now, nil).Status }
		got := []int{
			bad(),  // 1: the 503 instead of 401
			bad(),  // 2: 401, MissingID spent
			bad(),  // 3: 401, the unnumbered fault still waits
			good(), // 4: accepted: the unnumbered 500
			good(), // 5: too early: the 502 instead of 429
			good(), // 6: too early: 429
			send(t.Context(), srv, http.MethodPost, "/nowhere", nil).Status, // 7: the 504 instead of 404
		}
		require.Equal(t, []int{503, 401, 401, 500, 502, 429, 504}, got)
		var kinds []callyzertest.FaultKind
		for _, r := range srv.Requests() {
			kinds = append(kinds, r.Fault)
		}
		require.Equal(t, []callyzertest.FaultKind{callyzertest.FaultStatus, callyzertest.FaultMissingID, 0,
			callyzertest.FaultStatus, callyzertest.FaultStatus, 0, callyzertest.FaultStatus}, kinds)
		clk.Advance(time.Hour)
		require.Equal(t, 200, good(), "no fault is left pending")
	})
	t.Run("refused requests count but do not consume", func(t *testing.T) {
		t.Parallel()
		srv := callyzertest.NewServer(t, callyzertest.Options{})
		srv.Inject(callyzertest.Fault{Kind: callyzertest.FaultStatus})
		require.Equal(t, 401, sendKey(t.Context(), srv, "bad", http.MethodGet, callyzertest.PathEmployees, nil).Status)
		require.Equal(t, 500, send(t.Context(), srv, http.MethodGet, callyzertest.PathEmployees, nil).Status)
	})
}

func TestRepeatRow(t *testing.T) {
	t.Parallel()
	srv := callyzertest.NewServer(t, callyzertest.Options{Calls: seedCalls(25)})
	srv.Inject(callyzertest.Fault{Kind: callyzertest.FaultRepeatRow, Page: 2})
	page := func(n, wantTotal int) []string {
		r := history(t.Context(), srv, now.AddDate(0, 0, -30), now, map[string]any{"page_no": n, "page_size": 10})
		require.Equal(t, 200, r.Status)
		require.Equal(t, wantTotal, r.total(t), "page %d", n)
		return r.ids(t)
	}
	p1, p2, p3 := page(1, 26), page(2, 26), page(3, 26)
	require.Len(t, p2, 10)
	require.Equal(t, p1[9], p2[0], "page 2 repeats the last row of page 1")
	require.Len(t, p3, 6, "the shift carries on to the last page")
	all := map[string]int{}
	for _, id := range append(append(p1, p2...), p3...) {
		all[id]++
	}
	require.Len(t, all, 25, "no row lost")
	require.Equal(t, 2, all[p1[9]])
	require.Equal(t, []callyzertest.FaultKind{0, callyzertest.FaultRepeatRow, 0}, faultsOf(srv.Requests()))

	// The fault fired: a new run from page 1 is plain.
	require.Equal(t, p1, page(1, 25))
	require.Equal(t, idOf(11), page(2, 25)[0])
	require.Len(t, page(3, 25), 5)
}

func faultsOf(reqs []callyzertest.Request) []callyzertest.FaultKind {
	var out []callyzertest.FaultKind
	for _, r := range reqs {
		out = append(out, r.Fault)
	}
	return out
}

func TestEndlessPagingAlways(t *testing.T) {
	t.Parallel()
	srv := callyzertest.NewServer(t, callyzertest.Options{Calls: seedCalls(3)})
	srv.Inject(callyzertest.Fault{Kind: callyzertest.FaultEndlessPaging, Always: true})
	seen := map[string]bool{}
	for p := 1; p <= 5; p++ {
		r := history(t.Context(), srv, now.AddDate(0, 0, -30), now, map[string]any{"page_no": p, "page_size": 4,
			"client_numbers": []string{"48-601234567"}})
		require.Equal(t, 1_000_000, r.total(t))
		for _, row := range r.rows(t) {
			id := row["id"].(string)
			require.True(t, strings.HasPrefix(id, "endless-"))
			require.False(t, seen[id])
			seen[id] = true
			require.Equal(t, "601234567", row["client_number"], "made-up rows match the filter")
		}
	}
	require.Len(t, seen, 20)

	empty := callyzertest.NewServer(t, callyzertest.Options{})
	empty.Inject(callyzertest.Fault{Kind: callyzertest.FaultEndlessPaging, Always: true})
	from := now.AddDate(0, 0, -1)
	r := history(t.Context(), empty, from, now, map[string]any{"page_size": 2, "client_numbers": []string{"48-502111222"}})
	rows := r.rows(t)
	require.Len(t, rows, 2)
	require.Equal(t, "502111222", rows[0]["client_number"])
	require.Equal(t, from.In(warsaw).Format(time.TimeOnly), rows[0]["call_time"], "inside the window")
}

func TestRowFaultsOnEmptyPage(t *testing.T) {
	t.Parallel()
	srv := callyzertest.NewServer(t, callyzertest.Options{})
	srv.Inject(callyzertest.Fault{Kind: callyzertest.FaultMissingID})
	r := history(t.Context(), srv, now.AddDate(0, 0, -1), now, nil)
	rows := r.rows(t)
	require.Len(t, rows, 1, "a row is made up to carry the fault")
	require.NotContains(t, rows[0], "id")
}

func TestEmployeeFaults(t *testing.T) {
	t.Parallel()
	srv := callyzertest.NewServer(t, callyzertest.Options{Employees: []callyzertest.Employee{callyzertest.DefaultEmployee}})
	srv.Inject(
		callyzertest.Fault{Kind: callyzertest.FaultHalfTyped, Request: 1},
		callyzertest.Fault{Kind: callyzertest.FaultDataEnvelope, Request: 2},
	)
	r := send(t.Context(), srv, http.MethodGet, callyzertest.PathEmployees, nil)
	require.IsType(t, float64(0), r.rows(t)[0]["emp_number"])
	r = send(t.Context(), srv, http.MethodGet, callyzertest.PathEmployees, nil)
	require.NotContains(t, r.JSON, "result")
	require.Len(t, r.JSON["data"], 1)
}

func TestFaultOnInvalidRequest(t *testing.T) {
	t.Parallel()
	srv := callyzertest.NewServer(t, callyzertest.Options{})
	srv.Inject(
		callyzertest.Fault{Kind: callyzertest.FaultWrongTotal, Request: 1}, // needs a valid request: the 400 wins
		callyzertest.Fault{Kind: callyzertest.FaultStatus, Status: 503, Request: 2},
	)
	require.Equal(t, 400, send(t.Context(), srv, http.MethodPost, callyzertest.PathHistory, map[string]any{"page_no": 1}).Status)
	require.Equal(t, 503, send(t.Context(), srv, http.MethodPost, callyzertest.PathHistory, map[string]any{"page_no": 1}).Status)
}

func TestCloseEndsHangingHandlers(t *testing.T) {
	t.Parallel()
	for _, kind := range []callyzertest.FaultKind{callyzertest.FaultHang, callyzertest.FaultStall} {
		t.Run(kind.String(), func(t *testing.T) {
			t.Parallel()
			srv := callyzertest.New(callyzertest.Options{Calls: seedCalls(3)})
			srv.Inject(callyzertest.Fault{Kind: kind})
			got := make(chan reply, 1)
			go func() { got <- history(context.Background(), srv, now.AddDate(0, 0, -1), now, nil) }()
			require.Eventually(t, func() bool { return srv.InFlight() == 1 }, 5*time.Second, time.Millisecond)
			closed := make(chan struct{})
			go func() { srv.Close(); close(closed) }()
			select {
			case <-closed:
			case <-time.After(5 * time.Second):
				t.Fatal("Close did not return while a handler hung")
			}
			r := <-got
			require.Error(t, r.Err)
			require.False(t, errors.Is(r.Err, context.DeadlineExceeded))
			srv.Close() // idempotent
		})
	}
}
