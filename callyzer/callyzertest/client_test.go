package callyzertest_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/leadcalls/leadcalls/callyzer"
	"github.com/leadcalls/leadcalls/callyzer/callyzertest"
)

// The client-side settings of these tests: 25 calls on pages of 10 make
// three pages (10, 10, 5); two retries make at most three attempts a page.
const (
	clientPageSize   = 10
	clientRetries    = 2
	clientAttempts   = clientRetries + 1
	seededCalls      = 25
	seededPages      = 3
	clientMaxPages   = 5
	clientBodyCap    = 1 << 20
	clientMaxRA      = 5 * time.Second
	clientAttemptTTL = 5 * time.Second
	// Cases that wait for the attempt timeout use a short one and one
	// retry; it must still let a normal page through on a busy machine.
	hangTTL      = 300 * time.Millisecond
	hangRetries  = 1
	hangAttempts = hangRetries + 1
)

// newClient returns a client for srv that retries at once.
func newClient(t *testing.T, srv *callyzertest.Server, opts ...callyzer.Option) *callyzer.Client {
	t.Helper()
	base := []callyzer.Option{
		callyzer.WithBaseURL(srv.URL),
		callyzer.WithInterval(0),
		callyzer.WithRetryDelays(0, 0),
		callyzer.WithMaxRetries(clientRetries),
		callyzer.WithPageSize(clientPageSize),
		callyzer.WithAttemptTimeout(clientAttemptTTL),
		callyzer.WithLimits(clientMaxPages, clientBodyCap, clientMaxRA),
		callyzer.WithHTTPClient(srv.Client()),
		callyzer.WithLogger(slog.New(slog.DiscardHandler)), // the Info lines of what the client learns
	}
	c, err := callyzer.NewClient(srv.APIKey(), append(base, opts...)...)
	require.NoError(t, err)
	return c
}

// fetchAll runs HistoryPages over a 30-day window of the seeded number and
// returns the calls, or the first error.
func fetchAll(t *testing.T, c *callyzer.Client) ([]callyzer.Call, error) {
	t.Helper()
	q := callyzer.HistoryQuery{
		CallFrom:      now.AddDate(0, 0, -30),
		CallTo:        now,
		ClientNumbers: []string{"+48601234567"},
	}
	var calls []callyzer.Call
	for pg, err := range c.HistoryPages(t.Context(), q) {
		if err != nil {
			require.Nil(t, pg)
			return nil, err
		}
		require.NotNil(t, pg)
		calls = append(calls, pg.Calls...)
	}
	return calls, nil
}

// pagesAsked lists the page_no of every request the server got.
func pagesAsked(srv *callyzertest.Server) []int {
	var out []int
	for _, r := range srv.Requests() {
		out = append(out, r.PageNo)
	}
	return out
}

// TestClientFaults maps every fault of the fake to the client's error, on
// the first, a middle and the last page, with the requests the retries
// imply.
func TestClientFaults(t *testing.T) {
	t.Parallel()
	pastDate := now.Add(-time.Hour).Format(http.TimeFormat)
	farDate := time.Now().Add(time.Hour).Format(http.TimeFormat)
	status := func(code int, body, retryAfter string) callyzertest.Fault {
		return callyzertest.Fault{Kind: callyzertest.FaultStatus, Status: code, Body: body, RetryAfter: retryAfter}
	}
	kind := func(k callyzertest.FaultKind) callyzertest.Fault { return callyzertest.Fault{Kind: k} }

	tests := []struct {
		name  string
		fault callyzertest.Fault // Page and Always are set per case
		once  bool               // the fault hits once; otherwise every attempt
		want  error              // nil: the fetch succeeds
		// attempts is the requests spent on the faulty page; the request
		// count is (page-1) + attempts on failure, seededPages + attempts-1
		// on success.
		attempts int
		// extraPages are pages asked after the faulty one before the error
		// (a total that changes is seen on the next page).
		extraPages int
		// firstAttempts, when set, is the requests spent on the faulty page
		// 1: a 400 to a chunk's first request makes the client halve the
		// 30-day window down to one day (30, 15, 7.5, 3.75, 1.875, 1 days).
		firstAttempts int
		firstOnly     bool // the fault only makes sense on page 1 (no earlier page)
		notFirst      bool // the fault needs an earlier page
		hang          bool // the case waits for attempt timeouts: hangTTL, hangRetries
	}{
		{name: "500 every attempt", fault: status(500, "", ""), want: callyzer.ErrUpstream, attempts: clientAttempts},
		{name: "503 once", fault: status(503, "", ""), once: true, attempts: 2},
		{name: "502 non-JSON body", fault: status(502, "<html><body>Bad Gateway</body></html>", ""), want: callyzer.ErrUpstream, attempts: clientAttempts},
		{name: "501 not retried", fault: status(501, "", ""), want: callyzer.ErrUpstream, attempts: 1},
		{name: "401", fault: status(401, `{"message":"Unauthenticated."}`, ""), want: callyzer.ErrUnauthorized, attempts: 1},
		{name: "403 non-JSON", fault: status(403, "Forbidden", ""), want: callyzer.ErrUnauthorized, attempts: 1},
		{name: "400", fault: status(400, `{"message":"The selected call_types is invalid."}`, ""), want: callyzer.ErrBadRequest, attempts: 1, firstAttempts: 6},
		{name: "418 unexpected", fault: status(418, "", ""), want: callyzer.ErrUpstream, attempts: 1},
		{name: "429 every attempt", fault: status(429, "", "0"), want: callyzer.ErrRateLimited, attempts: clientAttempts},
		{name: "429 once", fault: status(429, "", "0"), once: true, attempts: 2},
		{name: "429 without Retry-After once", fault: status(429, "", ""), once: true, attempts: 2},
		{name: "429 HTTP date in the past once", fault: status(429, "", pastDate), once: true, attempts: 2},
		{name: "429 Retry-After over the cap", fault: status(429, "", "3600"), want: callyzer.ErrRateLimited, attempts: 1},
		{name: "429 HTTP date over the cap", fault: status(429, "", farDate), want: callyzer.ErrRateLimited, attempts: 1},
		{name: "database exception once", fault: kind(callyzertest.FaultDBException), once: true, attempts: 2},
		{name: "database exception twice", fault: kind(callyzertest.FaultDBException), want: callyzer.ErrBadRequest, attempts: 2},
		{name: "reset every attempt", fault: kind(callyzertest.FaultReset), want: callyzer.ErrUpstream, attempts: clientAttempts},
		{name: "reset once", fault: kind(callyzertest.FaultReset), once: true, attempts: 2},
		{name: "hang every attempt", fault: kind(callyzertest.FaultHang), want: callyzer.ErrTimeout, attempts: hangAttempts, hang: true},
		{name: "hang once", fault: kind(callyzertest.FaultHang), once: true, attempts: 2, hang: true},
		{name: "slow but in time", fault: callyzertest.Fault{Kind: callyzertest.FaultHang, Delay: 20 * time.Millisecond}, once: true, attempts: 1},
		{name: "stall mid-body", fault: kind(callyzertest.FaultStall), want: callyzer.ErrTimeout, attempts: hangAttempts, hang: true},
		{name: "truncated body", fault: kind(callyzertest.FaultTruncate), want: callyzer.ErrUpstream, attempts: clientAttempts},
		{name: "truncated once", fault: kind(callyzertest.FaultTruncate), once: true, attempts: 2},
		{name: "garbage JSON", fault: kind(callyzertest.FaultGarbage), want: callyzer.ErrMalformedResponse, attempts: 1},
		{name: "half-typed row", fault: kind(callyzertest.FaultHalfTyped), want: callyzer.ErrMalformedResponse, attempts: 1},
		{name: "data envelope", fault: kind(callyzertest.FaultDataEnvelope), want: callyzer.ErrMalformedResponse, attempts: 1},
		{name: "null result", fault: kind(callyzertest.FaultNullResult), want: callyzer.ErrMalformedResponse, attempts: 1},
		{name: "missing result", fault: kind(callyzertest.FaultMissingResult), want: callyzer.ErrMalformedResponse, attempts: 1},
		{name: "row without id", fault: kind(callyzertest.FaultMissingID), want: callyzer.ErrMalformedResponse, attempts: 1},
		{name: "oversized body", fault: callyzertest.Fault{Kind: callyzertest.FaultOversized, Size: 2 * clientBodyCap}, want: callyzer.ErrMalformedResponse, attempts: 1},
		{name: "total_records one more on page 1", fault: kind(callyzertest.FaultWrongTotal), want: callyzer.ErrIncompleteResponse, attempts: 1, extraPages: 1, firstOnly: true},
		{name: "total_records changes", fault: kind(callyzertest.FaultWrongTotal), want: callyzer.ErrIncompleteResponse, attempts: 1, notFirst: true},
		{name: "total_records below the rows", fault: callyzertest.Fault{Kind: callyzertest.FaultWrongTotal, Delta: -20}, want: callyzer.ErrIncompleteResponse, attempts: 1},
		{name: "endless paging from this page", fault: kind(callyzertest.FaultEndlessPaging), want: callyzer.ErrIncompleteResponse, attempts: 1, extraPages: 1, firstOnly: true},
		{name: "endless paging total appears", fault: kind(callyzertest.FaultEndlessPaging), want: callyzer.ErrIncompleteResponse, attempts: 1, notFirst: true},
	}
	for _, tt := range tests {
		for _, page := range []int{1, 2, seededPages} {
			if (tt.firstOnly && page != 1) || (tt.notFirst && page == 1) {
				continue
			}
			t.Run(fmt.Sprintf("%s/page %d", tt.name, page), func(t *testing.T) {
				t.Parallel()
				srv := callyzertest.NewServer(t, callyzertest.Options{Calls: seedCalls(seededCalls)})
				f := tt.fault
				f.Page = page
				f.Always = !tt.once
				srv.Inject(f)
				var opts []callyzer.Option
				if tt.hang {
					opts = append(opts, callyzer.WithAttemptTimeout(hangTTL), callyzer.WithMaxRetries(hangRetries))
				}
				c := newClient(t, srv, opts...)

				calls, err := fetchAll(t, c)
				if tt.want == nil {
					require.NoError(t, err)
					require.Len(t, calls, seededCalls)
					require.Equal(t, seededPages+tt.attempts-1, srv.RequestCount())
					return
				}
				require.ErrorIs(t, err, tt.want)
				if tt.fault.Kind == callyzertest.FaultOversized {
					require.ErrorContains(t, err, "body over the cap")
				}
				require.Nil(t, calls)
				var ce *callyzer.Error
				require.ErrorAs(t, err, &ce)
				require.Equal(t, page+tt.extraPages, ce.PageNo, "the error names the page")
				require.NotContains(t, err.Error(), srv.APIKey())
				attempts := tt.attempts
				if page == 1 && tt.firstAttempts > 0 {
					attempts = tt.firstAttempts
				}
				require.Equal(t, page-1+attempts+tt.extraPages, srv.RequestCount(), "pages asked: %v", pagesAsked(srv))
				if tt.firstAttempts > 0 {
					require.Equal(t, attempts, ce.Attempts, "every 400 is counted in the error")
				}
				if tt.want == callyzer.ErrTimeout {
					require.ErrorIs(t, err, context.DeadlineExceeded)
				}
			})
		}
	}
}

func TestClientEndlessPagingHitsThePageCap(t *testing.T) {
	t.Parallel()
	srv := callyzertest.NewServer(t, callyzertest.Options{Calls: seedCalls(seededCalls)})
	srv.Inject(callyzertest.Fault{Kind: callyzertest.FaultEndlessPaging, Always: true})
	_, err := fetchAll(t, newClient(t, srv))
	require.ErrorIs(t, err, callyzer.ErrIncompleteResponse)
	require.Equal(t, []int{1, 2, 3, 4, 5}, pagesAsked(srv), "stops at WithLimits' maxPages")
}

// TestClientRepeatedRow: pages that shift while the client pages deliver a
// row twice, counted in total_records, so the distinct ids fall one short
// of it: the client reads the chunk again (the fault is spent: whole), the
// fetch succeeds and the consumer de-duplicates by id.
func TestClientRepeatedRow(t *testing.T) {
	t.Parallel()
	for _, page := range []int{2, seededPages} {
		t.Run(fmt.Sprintf("page %d", page), func(t *testing.T) {
			t.Parallel()
			srv := callyzertest.NewServer(t, callyzertest.Options{Calls: seedCalls(seededCalls)})
			srv.Inject(callyzertest.Fault{Kind: callyzertest.FaultRepeatRow, Page: page})
			calls, err := fetchAll(t, newClient(t, srv))
			require.NoError(t, err)
			require.Len(t, calls, seededCalls+1+seededCalls, "both readings")
			ids := map[string]int{}
			for _, c := range calls {
				ids[c.ID]++
			}
			require.Len(t, ids, seededCalls)
			require.Equal(t, 3, ids[idOf((page-1)*clientPageSize)], "the last row of the page before, twice on the first reading")
			require.Equal(t, []int{1, 2, 3, 1, 2, 3}, pagesAsked(srv))
		})
	}
}

// TestClientDecodesTheFake checks the client reads back exactly what the
// fake was seeded with, under every serialisation quirk.
func TestClientDecodesTheFake(t *testing.T) {
	t.Parallel()
	ds := callyzertest.Generate(5, callyzertest.GenerateConfig{End: now, Employees: 4, Leads: 10, Calls: 150, Quirks: true})
	for _, format := range []callyzertest.Format{{}, {DurationAsString: true, ZoneSuffix: true, NullEmpty: true}} {
		t.Run(fmt.Sprintf("%+v", format), func(t *testing.T) {
			t.Parallel()
			srv := callyzertest.NewServer(t, callyzertest.Options{Calls: ds.Calls, Format: format})
			c := newClient(t, srv, callyzer.WithPageSize(100))
			want := map[string]callyzer.Call{}
			from := now.AddDate(0, 0, -180)
			for _, s := range ds.Calls {
				if s.StartedAt.Before(from) {
					continue
				}
				want[s.ID] = callyzer.Call{
					ID: s.ID, ClientName: s.ClientName, ClientNumber: s.ClientE164(),
					EmployeeName: s.EmpName, EmployeeCode: s.EmpCode, EmployeeNumber: s.EmpE164(), EmployeeTags: s.EmpTags,
					Type: callyzer.CallType(s.CallType), Duration: s.Duration, StartedAt: s.StartedAt,
					Note: s.Note, RecordingURL: s.RecordingURL, CRMStatus: s.CRMStatus,
					SyncedAt: s.SyncedAt, ModifiedAt: s.ModifiedAt, LeadID: s.LeadID,
				}
			}
			got := map[string]callyzer.Call{}
			for call, err := range historyCalls(t.Context(), c, callyzer.HistoryQuery{CallFrom: from, CallTo: now}) {
				require.NoError(t, err)
				got[call.ID] = call
			}
			if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
				t.Errorf("decoded calls (-seeded +decoded):\n%s", diff)
			}
		})
	}
}

// TestClientWindowRule: a six-month window goes out as two requests that
// each pass the fake's 180-day rule; a client allowed a wider window gets
// the fake's 400, which is not the server-exception kind: it is not
// retried as it is, the chunk is asked again at half the width.
func TestClientWindowRule(t *testing.T) {
	t.Parallel()
	srv := callyzertest.NewServer(t, callyzertest.Options{Calls: seedCalls(seededCalls)})
	q := callyzer.HistoryQuery{CallFrom: now.AddDate(0, -6, -1), CallTo: now}
	n := 0
	for call, err := range historyCalls(t.Context(), newClient(t, srv), q) {
		require.NoError(t, err)
		require.NotEmpty(t, call.ID)
		n++
	}
	require.Equal(t, seededCalls, n)
	reqs := srv.Requests()
	require.Len(t, reqs, 2+seededPages-1, "two chunks; the seeded calls fill three pages of the newer one")
	for _, r := range reqs {
		span := r.Body["call_to"].(float64) - r.Body["call_from"].(float64)
		require.LessOrEqual(t, span, float64(180*24*3600))
		require.Equal(t, http.StatusOK, r.Status)
	}

	wide := newClient(t, srv, callyzer.WithMaxWindow(190*24*time.Hour))
	srv.ResetRequests()
	pg, err := firstPage(t.Context(), wide, callyzer.HistoryQuery{CallFrom: now.AddDate(0, 0, -185), CallTo: now}, 1)
	require.NoError(t, err)
	require.Equal(t, 2, pg.Attempts, "the 400 and the narrower request")
	reqs = srv.Requests()
	require.Len(t, reqs, 2)
	require.Equal(t, []int{http.StatusBadRequest, http.StatusOK}, []int{reqs[0].Status, reqs[1].Status})
	require.Contains(t, reqs[0].RawBody, `"call_from"`)
	require.Equal(t, float64(185*24*3600), reqs[0].Body["call_to"].(float64)-reqs[0].Body["call_from"].(float64))
	require.Equal(t, float64(185*24*3600/2), reqs[1].Body["call_to"].(float64)-reqs[1].Body["call_from"].(float64),
		"half the width, from the same (older) end")
	require.Equal(t, reqs[0].Body["call_from"], reqs[1].Body["call_from"])
}

func TestClientVersion22(t *testing.T) {
	t.Parallel()
	calls := seedCalls(4)
	calls[1].CallMethod, calls[1].CallMode = callyzertest.WhatsAppCall, callyzertest.Video
	srv := callyzertest.NewServer(t, callyzertest.Options{Version: callyzertest.V22, Calls: calls})
	q := callyzer.HistoryQuery{CallFrom: now.AddDate(0, 0, -1), CallTo: now}

	c := newClient(t, srv, callyzer.WithCallVariants(
		callyzer.CallVariant{Method: callyzertest.PhoneCall, Mode: callyzertest.Voice},
		callyzer.CallVariant{Method: callyzertest.WhatsAppCall, Mode: callyzertest.Video},
	))
	got := map[string]string{}
	for call, err := range historyCalls(t.Context(), c, q) {
		require.NoError(t, err)
		got[call.ID] = call.CallMethod + "/" + call.CallMode
	}
	require.Equal(t, map[string]string{
		idOf(1): "PhoneCall/Voice", idOf(2): "WhatsAppCall/Video", idOf(3): "PhoneCall/Voice", idOf(4): "PhoneCall/Voice",
	}, got)

	old := newClient(t, srv) // a v2.1 client sends no call_method
	_, err := firstPage(t.Context(), old, q, 1)
	require.ErrorIs(t, err, callyzer.ErrBadRequest)
}

// TestClientOneRequestInFlight: callers sharing a client never overlap at
// the fake, which refuses any overlap with 429.
func TestClientOneRequestInFlight(t *testing.T) {
	t.Parallel()
	srv := callyzertest.NewServer(t, callyzertest.Options{
		Calls:    seedCalls(seededCalls),
		Interval: time.Nanosecond, // pacing on: only the in-flight rule bites
		Latency:  5 * time.Millisecond,
	})
	c := newClient(t, srv, callyzer.WithMaxRetries(0))
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for range 6 {
		wg.Go(func() {
			_, err := firstPage(t.Context(), c, callyzer.HistoryQuery{CallFrom: now.AddDate(0, 0, -1), CallTo: now}, 1)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Equal(t, 1, srv.MaxInFlight())
	require.Equal(t, 6, srv.RequestCount())
}

// TestClientPacingRateLimited: a client that does not pace gets the fake's
// 429s, honours their Retry-After and gives up after its retries.
func TestClientPacingRateLimited(t *testing.T) {
	t.Parallel()
	clk := newClock(now) // frozen: every request after the first is too early
	srv := callyzertest.NewServer(t, callyzertest.Options{Calls: seedCalls(seededCalls), Now: clk.Now, Interval: callyzertest.DefaultInterval})
	c := newClient(t, srv, callyzer.WithLimits(0, 0, time.Second))
	_, err := fetchAll(t, c)
	require.ErrorIs(t, err, callyzer.ErrRateLimited)
	var ce *callyzer.Error
	require.ErrorAs(t, err, &ce)
	require.Equal(t, 2, ce.PageNo)
	require.Equal(t, 2*time.Second, ce.RetryAfter)
	require.Equal(t, []int{1, 2}, pagesAsked(srv), "Retry-After 2 s is over the 1 s cap: no retry")
}

func TestClientEmployees(t *testing.T) {
	t.Parallel()
	ds := callyzertest.Generate(9, callyzertest.GenerateConfig{End: now, Employees: 23, Leads: 1, Calls: 10})
	for _, inQuery := range []bool{false, true} {
		t.Run(fmt.Sprint("paging in query ", inQuery), func(t *testing.T) {
			t.Parallel()
			srv := callyzertest.NewServer(t, callyzertest.Options{Employees: ds.Employees})
			var opts []callyzer.Option
			if inQuery {
				opts = append(opts, callyzer.WithEmployeePagingInQuery())
			}
			emps, err := newClient(t, srv, opts...).Employees(t.Context(), callyzer.EmployeesQuery{})
			require.NoError(t, err)
			require.Len(t, emps, 23)
			for i, e := range emps {
				require.Equal(t, ds.Employees[i].E164(), e.Number)
				require.True(t, ds.Employees[i].LastCallAt.Equal(e.LastCallAt))
			}
			require.Equal(t, []int{1, 2, 3}, pagesAsked(srv))
			if inQuery {
				require.Equal(t, "10", srv.Requests()[0].Query.Get("page_size"))
			} else {
				require.Equal(t, float64(10), srv.Requests()[0].Body["page_size"])
			}
		})
	}

	faults := []struct {
		fault    callyzertest.Fault
		want     error
		requests int
	}{
		{callyzertest.Fault{Kind: callyzertest.FaultStatus, Status: 500, Always: true}, callyzer.ErrUpstream, clientAttempts},
		{callyzertest.Fault{Kind: callyzertest.FaultStatus, Status: 401}, callyzer.ErrUnauthorized, 1},
		{callyzertest.Fault{Kind: callyzertest.FaultDataEnvelope, Request: 2}, callyzer.ErrMalformedResponse, 2},
		{callyzertest.Fault{Kind: callyzertest.FaultHalfTyped, Request: 3}, callyzer.ErrMalformedResponse, 3},
		{callyzertest.Fault{Kind: callyzertest.FaultWrongTotal, Request: 2}, callyzer.ErrIncompleteResponse, 2},
		{callyzertest.Fault{Kind: callyzertest.FaultEndlessPaging, Always: true}, callyzer.ErrIncompleteResponse, clientMaxPages},
		{callyzertest.Fault{Kind: callyzertest.FaultReset, Request: 1}, nil, 4},
	}
	for _, tt := range faults {
		t.Run(tt.fault.String(), func(t *testing.T) {
			t.Parallel()
			srv := callyzertest.NewServer(t, callyzertest.Options{Employees: ds.Employees})
			srv.Inject(tt.fault)
			emps, err := newClient(t, srv).Employees(t.Context(), callyzer.EmployeesQuery{})
			if tt.want == nil {
				require.NoError(t, err)
				require.Len(t, emps, 23)
			} else {
				require.ErrorIs(t, err, tt.want)
			}
			require.Equal(t, tt.requests, srv.RequestCount())
		})
	}
}

// The fake sees what the client sends: the body of a history request.
func TestClientRequestBody(t *testing.T) {
	t.Parallel()
	srv := callyzertest.NewServer(t, callyzertest.Options{Calls: seedCalls(3)})
	_, err := firstPage(t.Context(), newClient(t, srv), callyzer.HistoryQuery{
		CallFrom: now.Add(-time.Hour), CallTo: now,
		ClientNumbers: []string{"+48601234567"}, EmployeeNumbers: []string{"+48511222333"},
		CallTypes: []callyzer.CallType{callyzer.Missed},
	}, 1)
	require.NoError(t, err)
	r := srv.Requests()[0]
	want := map[string]any{
		"call_from": float64(now.Add(-time.Hour).Unix()), "call_to": float64(now.Unix()),
		"client_numbers": []any{"48-601234567"}, "emp_numbers": []any{"48-511222333"},
		"call_types": []any{"Missed"}, "emp_tags": []any{}, "is_exclude_numbers": true,
		"page_no": float64(1), "page_size": float64(clientPageSize),
	}
	if diff := cmp.Diff(want, r.Body); diff != "" {
		t.Errorf("body (-want +got):\n%s", diff)
	}
	require.Equal(t, http.MethodPost, r.Method)
	require.True(t, r.Authorized)
	require.Equal(t, "[redacted]", r.Header.Get("Authorization"))
}
