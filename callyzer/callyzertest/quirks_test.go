package callyzertest_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadcalls/leadcalls/callyzer"
	"github.com/leadcalls/leadcalls/callyzer/callyzertest"
)

// The switches that play an account as it may really be: the number form
// its filter matches, several client numbers, a narrower window, a smaller
// page, employee paging in one place. Each is shown on the wire, then with
// the client set right (it works) and set wrong (it fails in a way a host
// can diagnose, or finds nothing, never by losing data).

// pagesSized lists the page_no and page_size of every history request.
func pagesSized(srv *callyzertest.Server) (out [][2]int) {
	for _, r := range srv.Requests() {
		if r.Path == callyzertest.PathHistory {
			out = append(out, [2]int{r.PageNo, int(r.Body["page_size"].(float64))})
		}
	}
	return out
}

// TestClientNumberFormThroughTheClient: against an account that matches
// one form, the client set to that form (WithClientNumberForm) finds the
// calls in one request and sends the number in that form; set to another
// form it finds nothing (one request, no error: the rows Callyzer holds
// are only not listed). Against the default account, which checks the
// documented dashed form, another form is refused with 400, and the
// client halves the 30-day window down to a day before it gives up: 6
// requests, ErrBadRequest naming the refusal.
func TestClientNumberFormThroughTheClient(t *testing.T) {
	t.Parallel()
	sent := map[string]string{"dashed": "48-601234567", "national": "601234567", "e164": "+48601234567", "digits": "48601234567"}
	forms := map[string]callyzertest.NumberForms{
		"dashed": callyzertest.FormDashed, "national": callyzertest.FormNational,
		"e164": callyzertest.FormE164, "digits": callyzertest.FormDigits,
	}
	for account, accForm := range forms {
		for client := range forms {
			t.Run(account+"/"+client, func(t *testing.T) {
				t.Parallel()
				srv := callyzertest.NewServer(t, callyzertest.Options{Calls: seedCalls(3), ClientNumberForms: accForm})
				got, err := fetchAll(t, newClient(t, srv, callyzer.WithClientNumberForm(client)))
				first := srv.Requests()[0]
				require.Equal(t, []any{sent[client]}, first.Body["client_numbers"])
				switch {
				case account == client:
					require.NoError(t, err)
					require.Len(t, got, 3)
					require.Equal(t, 1, srv.RequestCount())
				case account == "dashed":
					require.ErrorIs(t, err, callyzer.ErrBadRequest)
					require.ErrorContains(t, err, "Invalid number")
					require.ErrorContains(t, err, "refused at every window tried")
					require.NotContains(t, err.Error(), "601234567", "the number is masked")
					require.Equal(t, 6, srv.RequestCount())
				default:
					require.NoError(t, err)
					require.Empty(t, got, "a form the account does not match matches nothing")
					require.Equal(t, 1, srv.RequestCount())
				}
			})
		}
	}
}

// TestFirstClientNumberOnly: an account that honours only the first of
// several client_numbers lists the first number's calls and total only;
// the client cannot tell (the calibration must), so a query of two numbers
// finds the first one's calls in one request.
func TestFirstClientNumberOnly(t *testing.T) {
	t.Parallel()
	calls := append(seedCalls(3), callyzertest.NewCall("other-1", "+48502000111", now.Add(-90*time.Minute)),
		callyzertest.NewCall("other-2", "+48502000111", now.Add(-150*time.Minute)))
	both := map[string]any{"client_numbers": []string{"48-601234567", "48-502000111"}}
	for _, first := range []bool{false, true} {
		t.Run(fmt.Sprint("first only ", first), func(t *testing.T) {
			t.Parallel()
			srv := callyzertest.NewServer(t, callyzertest.Options{Calls: calls, FirstClientNumberOnly: first})
			r := history(t.Context(), srv, now.AddDate(0, 0, -1), now, both)
			require.Equal(t, http.StatusOK, r.Status)
			want := []string{"c-001", "other-1", "c-002", "other-2", "c-003"}
			if first {
				want = []string{"c-001", "c-002", "c-003"}
			}
			require.Equal(t, want, r.ids(t))
			require.Equal(t, len(want), r.total(t))

			var ids []string
			for call, err := range historyCalls(t.Context(), newClient(t, srv), callyzer.HistoryQuery{
				CallFrom: now.AddDate(0, 0, -1), CallTo: now, ClientNumbers: []string{"+48601234567", "+48502000111"},
			}) {
				require.NoError(t, err)
				ids = append(ids, call.ID)
			}
			require.Equal(t, want, ids)
			require.Equal(t, 2, srv.RequestCount())
		})
	}
}

// TestMaxWindowOption: an account that refuses windows over 90 days
// answers 400 with a plain message (not the server-exception kind the
// client retries as it is); the client, whose maximum is 180 days, asks
// 180 days, is refused, and reads the 181-day window in chunks of 90 days
// from then on: 1 refused + 3 chunks (90 days, 90 days and what is left:
// a day less the two seconds that chunk bounds take), every request
// counted in the pages' Attempts.
func TestMaxWindowOption(t *testing.T) {
	t.Parallel()
	srv := callyzertest.NewServer(t, callyzertest.Options{Calls: seedCalls(5), MaxWindow: 90 * 24 * time.Hour})
	r := history(t.Context(), srv, now.AddDate(0, 0, -91), now, nil)
	require.Equal(t, http.StatusBadRequest, r.Status)
	require.JSONEq(t, `{"message":"The date range should not be greater than 90 days."}`, string(r.Raw))
	require.Equal(t, http.StatusOK, history(t.Context(), srv, now.AddDate(0, 0, -90), now, nil).Status)

	srv.ResetRequests()
	c := newClient(t, srv)
	q := callyzer.HistoryQuery{CallFrom: now.AddDate(0, 0, -181), CallTo: now}
	attempts, n := 0, 0
	for pg, err := range c.HistoryPages(t.Context(), q) {
		require.NoError(t, err)
		attempts += pg.Attempts
		n += len(pg.Calls)
	}
	require.Equal(t, 5, n)
	reqs := srv.Requests()
	var spans []int
	var statuses []int
	for _, r := range reqs {
		spans = append(spans, int(r.Body["call_to"].(float64)-r.Body["call_from"].(float64)))
		statuses = append(statuses, r.Status)
	}
	const day = 24 * 3600
	require.Equal(t, []int{180 * day, 90 * day, 90 * day, day - 2}, spans)
	require.Equal(t, []int{400, 200, 200, 200}, statuses)
	require.Equal(t, len(reqs), attempts)
}

// TestPageSizeCap: an account that serves at most 30 rows a page answers
// page_size 100 with 30 rows and an honest total, paging by 30; the
// client asking 100 learns 30 from page 1 and reads 70 rows in 3
// requests, then asks 30 from the start. A broken account that pages by
// the size asked and cuts each page to 30 (PagesBySizeAsked) serves rows
// 101.. for page 2 of 100, but the client asks page 2 of 30, where the two
// agree: the same 3 requests, every row.
func TestPageSizeCap(t *testing.T) {
	t.Parallel()
	const calls = 70
	for _, byAsked := range []bool{false, true} {
		t.Run(fmt.Sprint("pages by size asked ", byAsked), func(t *testing.T) {
			t.Parallel()
			srv := callyzertest.NewServer(t, callyzertest.Options{Calls: seedCalls(calls), PageSizeCap: 30, PagesBySizeAsked: byAsked})
			win := func(page, size int) reply {
				r := history(t.Context(), srv, now.AddDate(0, 0, -30), now, map[string]any{"page_no": page, "page_size": size})
				require.Equal(t, http.StatusOK, r.Status)
				require.Equal(t, calls, r.total(t), "total_records is honest")
				return r
			}
			require.Equal(t, idOf(1), win(1, 100).ids(t)[0])
			require.Len(t, win(1, 100).ids(t), 30)
			p2 := win(2, 100).ids(t)
			if byAsked {
				require.Empty(t, p2, "page 2 of 100 starts at row 101: past the 70")
			} else {
				require.Equal(t, idOf(31), p2[0], "page 2 of 30")
				require.Len(t, p2, 30)
			}
			require.Equal(t, idOf(31), win(2, 30).ids(t)[0])
			require.Len(t, win(3, 30).ids(t), 10)
			require.Len(t, win(1, 10).ids(t), 10, "a page_size under the cap is served as asked")
			srv.ResetRequests()

			c := newClient(t, srv, callyzer.WithPageSize(100))
			got, err := fetchAll(t, c)
			require.NoError(t, err)
			require.Len(t, distinctIDs(got), calls)
			require.Len(t, got, calls, "each row once")
			require.Equal(t, [][2]int{{1, 100}, {2, 30}, {3, 30}}, pagesSized(srv))

			srv.ResetRequests()
			_, err = fetchAll(t, c)
			require.NoError(t, err)
			require.Equal(t, [][2]int{{1, 30}, {2, 30}, {3, 30}}, pagesSized(srv), "the size kept")
		})
	}

	// Under a learned page size the distinct-id check still catches a
	// page that repeats a row and skips another: the chunk is read again,
	// then the iteration fails (3 + 3 requests).
	t.Run("distinct ids", func(t *testing.T) {
		t.Parallel()
		srv := callyzertest.NewServer(t, callyzertest.Options{Calls: seedCalls(calls), PageSizeCap: 30})
		srv.Inject(callyzertest.Fault{Kind: callyzertest.FaultRepeatSkipRow, Page: 2, Always: true})
		_, err := fetchAll(t, newClient(t, srv, callyzer.WithPageSize(100)))
		require.ErrorIs(t, err, callyzer.ErrIncompleteResponse)
		require.ErrorContains(t, err, "69 distinct call ids for total_records 70, on two readings")
		require.Equal(t, [][2]int{{1, 100}, {2, 30}, {3, 30}, {1, 30}, {2, 30}, {3, 30}}, pagesSized(srv))
	})
}

// TestEmployeePaging: an account that reads the roster's paging only in
// the body, or only in the query string. A client that sends it there
// reads 23 employees in 3 pages of 10; one that sends it in the other
// place gets page 1 of 10 every time and fails on the third request, when
// the rows pass total_records (ErrIncompleteResponse), with no roster.
func TestEmployeePaging(t *testing.T) {
	t.Parallel()
	ds := callyzertest.Generate(9, callyzertest.GenerateConfig{End: now, Employees: 23, Leads: 1, Calls: 10})
	for _, where := range []callyzertest.Paging{callyzertest.PagingInBody, callyzertest.PagingInQuery} {
		for _, inQuery := range []bool{false, true} {
			t.Run(fmt.Sprintf("account %d client in query %v", where, inQuery), func(t *testing.T) {
				t.Parallel()
				srv := callyzertest.NewServer(t, callyzertest.Options{Employees: ds.Employees, EmployeePaging: where})
				var opts []callyzer.Option
				if inQuery {
					opts = append(opts, callyzer.WithEmployeePagingInQuery())
				}
				emps, err := newClient(t, srv, opts...).Employees(t.Context(), callyzer.EmployeesQuery{})
				require.Equal(t, 3, srv.RequestCount())
				if (where == callyzertest.PagingInQuery) == inQuery {
					require.NoError(t, err)
					require.Len(t, emps, 23)
					return
				}
				require.ErrorIs(t, err, callyzer.ErrIncompleteResponse)
				require.ErrorContains(t, err, "10 rows after 20 seen, more than total_records 23")
				require.Nil(t, emps)
			})
		}
	}
	// The default reads either place, the body first.
	srv := callyzertest.NewServer(t, callyzertest.Options{Employees: ds.Employees})
	r := send(t.Context(), srv, http.MethodGet, callyzertest.PathEmployees+"?page_no=3", map[string]any{"page_no": 2})
	require.Equal(t, http.StatusOK, r.Status)
	require.Len(t, r.rows(t), 10, "page 2 of the body, not 3 of the query")
	r = send(t.Context(), srv, http.MethodGet, callyzertest.PathEmployees+"?page_no=3", nil)
	require.Len(t, r.rows(t), 3)
	require.True(t, slices.ContainsFunc(srv.Requests(), func(r callyzertest.Request) bool { return r.PageNo == 3 }))
}
