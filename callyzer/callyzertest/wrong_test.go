package callyzertest_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadcalls/leadcalls/callyzer"
	"github.com/leadcalls/leadcalls/callyzer/callyzertest"
)

// The switches for answers that are well formed but wrong: an account
// whose client_numbers filter expects another number form, calls held
// without a country code, rows that shift or repeat between pages with the
// same total, and a redirect.

// withoutCountryCode returns a call of +48601234567 held as bare national
// digits.
func withoutCountryCode(id string, at time.Time) callyzertest.Call {
	c := callyzertest.NewCall(id, "+48601234567", at)
	c.ClientCountryCode = ""
	return c
}

func TestClientNumberForms(t *testing.T) {
	t.Parallel()
	calls := append(seedCalls(3), // c-001..c-003, +48601234567
		withoutCountryCode("bare", now.Add(-30*time.Minute)),
		callyzertest.NewCall("other", "+48502000111", now.Add(-10*time.Minute)),
	)
	const (
		dashed   = "48-601234567"
		national = "601234567"
		e164     = "+48601234567"
		digits   = "48601234567"
	)
	all := []string{"bare", "c-001", "c-002", "c-003"}
	withCC := []string{"c-001", "c-002", "c-003"}
	tests := []struct {
		forms callyzertest.NumberForms
		entry string
		want  []string // nil: 400
	}{
		{0, dashed, withCC},
		{0, national, nil},
		{0, e164, nil},
		{callyzertest.FormDashed, dashed, withCC},
		{callyzertest.FormNational, dashed, []string{}},
		{callyzertest.FormNational, national, all},
		{callyzertest.FormNational, e164, []string{}},
		{callyzertest.FormE164, dashed, []string{}},
		{callyzertest.FormE164, e164, withCC},
		{callyzertest.FormE164, national, []string{}},
		{callyzertest.FormDashed | callyzertest.FormNational, dashed, withCC},
		{callyzertest.FormDashed | callyzertest.FormNational, national, all},
		{callyzertest.FormNational, "48 601", nil},
		{0, digits, nil},
		{callyzertest.FormDigits, digits, withCC},
		{callyzertest.FormDigits, national, []string{}},
		{callyzertest.FormDigits, dashed, []string{}},
		{callyzertest.FormDigits, e164, []string{}},
		{callyzertest.FormNational, digits, []string{}},
		{callyzertest.FormNational | callyzertest.FormDigits, digits, withCC},
		{callyzertest.FormNational | callyzertest.FormDigits, national, all},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("forms %b entry %s", tt.forms, tt.entry), func(t *testing.T) {
			t.Parallel()
			srv := callyzertest.NewServer(t, callyzertest.Options{Calls: calls, ClientNumberForms: tt.forms})
			r := history(t.Context(), srv, now.AddDate(0, 0, -1), now, map[string]any{"client_numbers": []string{tt.entry}})
			if tt.want == nil {
				require.Equal(t, http.StatusBadRequest, r.Status, "%s", r.Raw)
				return
			}
			require.Equal(t, http.StatusOK, r.Status, "%s", r.Raw)
			ids := r.ids(t)
			slices.Sort(ids)
			require.Equal(t, tt.want, append([]string{}, ids...))
			require.Equal(t, len(tt.want), r.total(t))
			if len(tt.want) == 0 {
				require.JSONEq(t, `{"message":"Success","total_records":0,"result":[]}`, string(r.Raw), "an empty answer, not an error")
			}
		})
	}

	// Through the client, which sends the dashed form: a well-formed answer
	// of zero calls, one request, no error.
	t.Run("client", func(t *testing.T) {
		t.Parallel()
		srv := callyzertest.NewServer(t, callyzertest.Options{Calls: calls, ClientNumberForms: callyzertest.FormNational})
		got, err := fetchAll(t, newClient(t, srv))
		require.NoError(t, err)
		require.Empty(t, got)
		require.Equal(t, 1, srv.RequestCount())
		require.Equal(t, []any{dashed}, srv.Requests()[0].Body["client_numbers"])
	})
}

// TestCallWithoutCountryCode: a call held without a country code is
// written with client_country_code "" and bare digits, is not matched by
// the dashed form, and reaches the client as bare digits.
func TestCallWithoutCountryCode(t *testing.T) {
	t.Parallel()
	bare := withoutCountryCode("bare", now.Add(-time.Hour))
	require.Equal(t, "601234567", bare.ClientE164(), "bare digits, as the client reads them")
	srv := callyzertest.NewServer(t, callyzertest.Options{Calls: []callyzertest.Call{bare}})

	r := history(t.Context(), srv, now.AddDate(0, 0, -1), now, nil)
	rows := r.rows(t)
	require.Len(t, rows, 1)
	require.Equal(t, "", rows[0]["client_country_code"])
	require.Equal(t, "601234567", rows[0]["client_number"])

	r = history(t.Context(), srv, now.AddDate(0, 0, -1), now, map[string]any{"client_numbers": []string{"48-601234567"}})
	require.Equal(t, 0, r.total(t), "the dashed form names a country code the call does not have")

	c := newClient(t, srv)
	got, err := fetchAll(t, c) // filters on +48601234567
	require.NoError(t, err)
	require.Empty(t, got)
	var calls []callyzer.Call
	for call, err := range historyCalls(t.Context(), c, callyzer.HistoryQuery{
		CallFrom: now.AddDate(0, 0, -1), CallTo: now, EmployeeNumbers: []string{callyzertest.DefaultEmployee.E164()},
	}) {
		require.NoError(t, err)
		calls = append(calls, call)
	}
	require.Len(t, calls, 1)
	require.Equal(t, "601234567", calls[0].ClientNumber)
}

// TestRepeatSkipRow: page 2 starts with the last row of page 1 in place of
// its own first row, and total_records stays the number of calls (where
// FaultRepeatRow counts the repeat).
func TestRepeatSkipRow(t *testing.T) {
	t.Parallel()
	for _, kind := range []callyzertest.FaultKind{callyzertest.FaultRepeatSkipRow, callyzertest.FaultRepeatRow} {
		t.Run(kind.String(), func(t *testing.T) {
			t.Parallel()
			srv := callyzertest.NewServer(t, callyzertest.Options{Calls: seedCalls(6)})
			srv.Inject(callyzertest.Fault{Kind: kind, Page: 2})
			page := func(n int) ([]string, int) {
				r := history(t.Context(), srv, now.AddDate(0, 0, -1), now, map[string]any{"page_no": n, "page_size": 3})
				require.Equal(t, 200, r.Status)
				return r.ids(t), r.total(t)
			}
			p1, t1 := page(1)
			p2, t2 := page(2)
			require.Equal(t, []string{"c-001", "c-002", "c-003"}, p1)
			if kind == callyzertest.FaultRepeatSkipRow {
				require.Equal(t, []string{"c-003", "c-005", "c-006"}, p2, "c-003 twice, c-004 never")
				require.Equal(t, []int{6, 6}, []int{t1, t2}, "the total stays 6")
			} else {
				require.Equal(t, []string{"c-003", "c-004", "c-005"}, p2)
				require.Equal(t, []int{7, 7}, []int{t1, t2}, "the repeat is counted")
			}
			require.Equal(t, []callyzertest.FaultKind{0, kind}, faultsOf(srv.Requests()))
			p1, _ = page(1)
			p2, _ = page(2)
			require.Equal(t, []string{"c-001", "c-002", "c-003", "c-004", "c-005", "c-006"}, append(p1, p2...), "spent")
		})
	}

	// Through the client: the distinct ids fall short, so the chunk is
	// read again: whole when the fault fired once, an error when always.
	for _, always := range []bool{false, true} {
		t.Run(fmt.Sprintf("client always %v", always), func(t *testing.T) {
			t.Parallel()
			srv := callyzertest.NewServer(t, callyzertest.Options{Calls: seedCalls(seededCalls)})
			srv.Inject(callyzertest.Fault{Kind: callyzertest.FaultRepeatSkipRow, Page: 2, Always: always})
			got, err := fetchAll(t, newClient(t, srv))
			require.Equal(t, []int{1, 2, 3, 1, 2, 3}, pagesAsked(srv))
			if always {
				require.ErrorIs(t, err, callyzer.ErrIncompleteResponse)
				require.ErrorContains(t, err, "24 distinct call ids for total_records 25, on two readings")
				return
			}
			require.NoError(t, err)
			require.Len(t, got, 2*seededCalls)
			require.Len(t, distinctIDs(got), seededCalls)
		})
	}
}

func distinctIDs(calls []callyzer.Call) map[string]int {
	ids := map[string]int{}
	for _, c := range calls {
		ids[c.ID]++
	}
	return ids
}

// TestShiftRows: between page 1 and page 2 the newest call is deleted and
// an older one added, so the total stays and page 2 shifts: the row that
// was first on it is never listed to the client paging on, though the
// fake still holds it.
func TestShiftRows(t *testing.T) {
	t.Parallel()
	srv := callyzertest.NewServer(t, callyzertest.Options{Calls: seedCalls(6)})
	page := func(n int) ([]string, int) {
		r := history(t.Context(), srv, now.AddDate(0, 0, -1), now, map[string]any{"page_no": n, "page_size": 3})
		require.Equal(t, 200, r.Status)
		return r.ids(t), r.total(t)
	}
	p1, t1 := page(1)
	require.Equal(t, []string{"c-001", "c-002", "c-003"}, p1)
	srv.Inject(callyzertest.Fault{Kind: callyzertest.FaultShiftRows, Page: 2})
	p2, t2 := page(2)
	require.Equal(t, []string{"c-005", "c-006", "shifted-2"}, p2, "c-004 moved to page 1")
	require.Equal(t, []int{6, 6}, []int{t1, t2})
	require.Equal(t, []callyzertest.FaultKind{0, callyzertest.FaultShiftRows}, faultsOf(srv.Requests()))

	var held []string
	for _, c := range srv.Calls() {
		held = append(held, c.ID)
		if c.ID == "shifted-2" {
			require.True(t, c.StartedAt.Equal(now.Add(-6*time.Hour-time.Second)), "one second before the oldest")
		}
	}
	require.Equal(t, []string{"c-002", "c-003", "c-004", "c-005", "c-006", "shifted-2"}, held)
	p1, _ = page(1)
	require.Equal(t, []string{"c-002", "c-003", "c-004"}, p1, "a new reading lists c-004")

	// Through the client: the rows and their distinct ids add up, so the
	// client cannot tell; c-011 is missing from the answer, still held.
	t.Run("client", func(t *testing.T) {
		t.Parallel()
		srv := callyzertest.NewServer(t, callyzertest.Options{Calls: seedCalls(seededCalls)})
		srv.Inject(callyzertest.Fault{Kind: callyzertest.FaultShiftRows, Page: 2})
		got, err := fetchAll(t, newClient(t, srv))
		require.NoError(t, err)
		require.Equal(t, []int{1, 2, 3}, pagesAsked(srv))
		ids := distinctIDs(got)
		require.Len(t, ids, seededCalls)
		require.Contains(t, ids, "c-001", "read before it was deleted")
		require.NotContains(t, ids, "c-011")
		require.Contains(t, ids, "shifted-2")

		again, err := fetchAll(t, newClient(t, srv))
		require.NoError(t, err)
		require.Contains(t, distinctIDs(again), "c-011", "Callyzer still holds it")
		require.NotContains(t, distinctIDs(again), "c-001")
	})

	t.Run("nothing selected", func(t *testing.T) {
		t.Parallel()
		srv := callyzertest.NewServer(t, callyzertest.Options{})
		srv.Inject(callyzertest.Fault{Kind: callyzertest.FaultShiftRows})
		require.Equal(t, 0, history(t.Context(), srv, now.AddDate(0, 0, -1), now, nil).total(t))
		require.Empty(t, srv.Calls())
	})
}

// noFollow returns the fake's HTTP client that does not follow redirects.
func noFollow(srv *callyzertest.Server) *http.Client {
	hc := *srv.Client()
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &hc
}

func TestRedirect(t *testing.T) {
	t.Parallel()
	post := func(t *testing.T, srv *callyzertest.Server, key string) *http.Response {
		t.Helper()
		body := fmt.Sprintf(`{"call_from":%d,"call_to":%d}`, now.Add(-time.Hour).Unix(), now.Unix())
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+callyzertest.PathHistory, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		resp, err := noFollow(srv).Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp
	}

	t.Run("default", func(t *testing.T) {
		t.Parallel()
		srv := callyzertest.NewServer(t, callyzertest.Options{})
		srv.Inject(callyzertest.Fault{Kind: callyzertest.FaultRedirect})
		resp := post(t, srv, srv.APIKey())
		require.Equal(t, http.StatusTemporaryRedirect, resp.StatusCode)
		require.Equal(t, srv.URL+callyzertest.PathHistory, resp.Header.Get("Location"), "its own URL")
		require.Equal(t, 200, post(t, srv, srv.APIKey()).StatusCode, "spent")
	})
	t.Run("status and target", func(t *testing.T) {
		t.Parallel()
		srv := callyzertest.NewServer(t, callyzertest.Options{})
		srv.Inject(callyzertest.Fault{Kind: callyzertest.FaultRedirect, Status: http.StatusFound, Location: "https://elsewhere.example/x"})
		resp := post(t, srv, srv.APIKey())
		require.Equal(t, http.StatusFound, resp.StatusCode)
		require.Equal(t, "https://elsewhere.example/x", resp.Header.Get("Location"))
	})
	t.Run("in place of a refusal", func(t *testing.T) {
		t.Parallel()
		srv := callyzertest.NewServer(t, callyzertest.Options{})
		srv.Inject(callyzertest.Fault{Kind: callyzertest.FaultRedirect, Request: 1, Status: http.StatusPermanentRedirect})
		require.Equal(t, http.StatusPermanentRedirect, post(t, srv, "wrong-key").StatusCode)
	})

	// Through the client: one request, ErrUpstream, nothing sent to the
	// target (another fake) nor again to the fake itself.
	for _, status := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		for _, elsewhere := range []bool{false, true} {
			t.Run(fmt.Sprintf("client %d elsewhere %v", status, elsewhere), func(t *testing.T) {
				t.Parallel()
				srv := callyzertest.NewServer(t, callyzertest.Options{Calls: seedCalls(seededCalls)})
				target := callyzertest.NewServer(t, callyzertest.Options{APIKey: srv.APIKey(), Calls: seedCalls(seededCalls)})
				f := callyzertest.Fault{Kind: callyzertest.FaultRedirect, Status: status, Page: 2}
				if elsewhere {
					f.Location = target.URL + callyzertest.PathHistory
				}
				srv.Inject(f)
				got, err := fetchAll(t, newClient(t, srv))
				require.ErrorIs(t, err, callyzer.ErrUpstream)
				require.ErrorContains(t, err, fmt.Sprintf("redirect refused (HTTP %d", status))
				require.Nil(t, got)
				require.Equal(t, []int{1, 2}, pagesAsked(srv), "page 2 once, not retried nor followed")
				require.Zero(t, target.RequestCount())
			})
		}
	}
}
