package callyzer_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/leadcalls/leadcalls/callyzer"
)

func TestHistoryPageDecodesTheDocExample(t *testing.T) {
	t.Parallel()
	srv := newAPIServer(t, serveFixtures(fixture(t, "history_example.json")))
	c := newClient(t, srv.URL)
	q := historyQuery()
	q.CallFrom = time.Date(2026, 11, 1, 0, 0, 0, 0, warsaw)
	q.CallTo = time.Date(2026, 11, 30, 23, 59, 59, 0, warsaw)

	pg, err := c.HistoryPage(t.Context(), q, 1)
	require.NoError(t, err)

	want := []callyzer.Call{{
		ID: "c-10001", ClientName: "Jan Kowalski", ClientNumber: "+48601234567",
		EmployeeName: "Anna Nowak", EmployeeCode: "A7", EmployeeNumber: "+48511222333", EmployeeTags: []string{"BIK"},
		Type: callyzer.Outgoing, Duration: 87,
		StartedAt: time.Date(2026, 11, 20, 13, 30, 0, 0, time.UTC),
		SyncedAt:  time.Date(2026, 11, 20, 14, 32, 10, 0, warsaw), ModifiedAt: time.Date(2026, 11, 20, 14, 32, 10, 0, warsaw),
	}, {
		ID: "c-10002", ClientName: "Unknown", ClientNumber: "+48601234567",
		EmployeeName: "Anna Nowak", EmployeeCode: "A7", EmployeeNumber: "+48511222333", EmployeeTags: []string{},
		Type: callyzer.Missed, Duration: 0,
		StartedAt: time.Date(2026, 11, 21, 9, 5, 12, 0, warsaw),
		SyncedAt:  time.Date(2026, 11, 21, 9, 40, 0, 0, warsaw), ModifiedAt: time.Date(2026, 11, 21, 9, 40, 0, 0, warsaw),
	}}
	require.Empty(t, cmp.Diff(want, pg.Calls))
	require.Equal(t, 1, pg.PageNo)
	require.Equal(t, 2, pg.TotalRecords)
	require.Equal(t, 1, pg.Attempts)
	require.True(t, pg.ChunkFrom.Equal(q.CallFrom) && pg.ChunkTo.Equal(q.CallTo), "chunk %v..%v", pg.ChunkFrom, pg.ChunkTo)
	require.Equal(t, warsaw, pg.Calls[0].StartedAt.Location(), "call times are in the account zone")
}

func TestHistoryRequestShape(t *testing.T) {
	t.Parallel()
	srv := newAPIServer(t, serveFixtures(page(0)))
	c := newClient(t, srv.URL)
	q := callyzer.HistoryQuery{
		CallFrom:        time.Date(2026, 11, 1, 0, 0, 0, 500, time.UTC), // rounds up to the next second
		CallTo:          time.Date(2026, 11, 2, 0, 0, 0, 999, time.UTC), // rounds down
		ClientNumbers:   []string{"+48601234567", "+4915112345678"},
		EmployeeNumbers: []string{"+48511222333"},
		CallTypes:       []callyzer.CallType{callyzer.Incoming, callyzer.Missed},
	}
	_, err := c.HistoryPage(t.Context(), q, 3)
	require.NoError(t, err)

	reqs := srv.requests()
	require.Len(t, reqs, 1)
	r := reqs[0]
	require.Equal(t, http.MethodPost, r.Method)
	require.Equal(t, "/call-log/history", r.Path)
	require.Equal(t, "Bearer "+testKey, r.Header.Get("Authorization"))
	require.Equal(t, "application/json", r.Header.Get("Content-Type"))
	from := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC).Unix() + 1
	to := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC).Unix()
	want := map[string]any{
		"call_from": json.Number(fmt.Sprint(from)), "call_to": json.Number(fmt.Sprint(to)),
		"client_numbers":     []any{"48-601234567", "49-15112345678"},
		"emp_numbers":        []any{"48-511222333"},
		"call_types":         []any{"Incoming", "Missed"},
		"emp_tags":           []any{},
		"is_exclude_numbers": true,
		"page_no":            json.Number("3"),
		"page_size":          json.Number("100"),
	}
	require.Empty(t, cmp.Diff(want, r.decodeBody(t)))
}

func TestHistorySyncedWindowOnly(t *testing.T) {
	t.Parallel()
	srv := newAPIServer(t, serveFixtures(page(0)))
	c := newClient(t, srv.URL, callyzer.WithPageSize(25))
	from := time.Unix(1_780_000_000, 0)
	_, err := collect(t, c, callyzer.HistoryQuery{SyncedFrom: from, SyncedTo: from.Add(time.Hour)})
	require.NoError(t, err)
	body := srv.requests()[0].decodeBody(t)
	require.Equal(t, json.Number("1780000000"), body["synced_from"])
	require.Equal(t, json.Number("1780003600"), body["synced_to"])
	require.NotContains(t, body, "call_from")
	require.Equal(t, true, body["is_exclude_numbers"], "always sent, as Callyzer's default")
	require.Equal(t, json.Number("25"), body["page_size"])
}

// TestHistoryBothWindows: the call window is chunked and a synced window
// of at most the maximum goes whole with every chunk (a wider one is
// refused: see TestHistoryRefusesBadQueries).
func TestHistoryBothWindows(t *testing.T) {
	t.Parallel()
	srv := newAPIServer(t, serveFixtures(page(0)))
	c := newClient(t, srv.URL)
	q := historyQuery()
	q.SyncedFrom, q.SyncedTo = windowTo.Add(-180*24*time.Hour), windowTo
	_, err := collect(t, c, q)
	require.NoError(t, err)
	reqs := srv.requests()
	require.Len(t, reqs, 2, "184 days of calls need two requests")
	for _, r := range reqs {
		b := r.decodeBody(t)
		require.Equal(t, json.Number(fmt.Sprint(q.SyncedFrom.Unix())), b["synced_from"])
		require.Equal(t, json.Number(fmt.Sprint(windowTo.Unix())), b["synced_to"])
	}
}

func TestHistoryPagesChunksA184DayWindow(t *testing.T) {
	t.Parallel()
	srv := newAPIServer(t, func(n int, _ sentRequest, w http.ResponseWriter) {
		writeJSON(w, http.StatusOK, page(1, fmt.Sprintf("c-%d", n)))
	})
	c := newClient(t, srv.URL)
	pages, err := collect(t, c, historyQuery())
	require.NoError(t, err)

	reqs := srv.requests()
	require.Len(t, reqs, 2, "184 days need two requests")
	require.Len(t, pages, 2)
	maxSpan := int64(180 * 24 * 3600)
	var bounds [][2]int64
	for _, r := range reqs {
		b := r.decodeBody(t)
		from, _ := b["call_from"].(json.Number).Int64()
		to, _ := b["call_to"].(json.Number).Int64()
		bounds = append(bounds, [2]int64{from, to})
	}
	want := [][2]int64{
		{windowFrom.Unix(), windowFrom.Unix() + maxSpan},
		{windowFrom.Unix() + maxSpan + 1, windowTo.Unix()},
	}
	require.Equal(t, want, bounds, "chunks cover [from, to] exactly, without overlap")
	require.True(t, pages[1].ChunkFrom.Equal(time.Unix(want[1][0], 0)))
	require.True(t, pages[1].ChunkTo.Equal(windowTo))
}

func TestHistoryPagesPagesToTheTotal(t *testing.T) {
	t.Parallel()
	srv := newAPIServer(t, serveFixtures(
		page(5, "a", "b"), page(5, "c", "d"), page(5, "e"),
	))
	c := newClient(t, srv.URL, callyzer.WithPageSize(2))
	q := historyQuery()
	q.CallFrom = windowTo.AddDate(0, -1, 0)
	var ids []string
	for call, err := range calls(t.Context(), c, q) {
		require.NoError(t, err)
		ids = append(ids, call.ID)
	}
	require.Equal(t, []string{"a", "b", "c", "d", "e"}, ids)
	reqs := srv.requests()
	require.Len(t, reqs, 3)
	for i, r := range reqs {
		require.Equal(t, json.Number(fmt.Sprint(i+1)), r.decodeBody(t)["page_no"])
	}
}

func TestHistoryPagesYieldsRepeatedRows(t *testing.T) {
	t.Parallel()
	// The pages shifted: "b" appears on both pages and "c" never arrives,
	// so the chunk is read again (see TestHistoryChunkDistinctIDs).
	srv := newAPIServer(t, serveFixtures(page(4, "a", "b"), page(4, "b", "d"), page(4, "a", "b"), page(4, "c", "d")))
	c := newClient(t, srv.URL, callyzer.WithPageSize(2))
	q := historyQuery()
	q.CallFrom = windowTo.AddDate(0, -1, 0)
	var ids []string
	for call, err := range calls(t.Context(), c, q) {
		require.NoError(t, err)
		ids = append(ids, call.ID)
	}
	require.Equal(t, []string{"a", "b", "b", "d", "a", "b", "c", "d"}, ids, "repeats are counted and yielded; the consumer de-duplicates")
}

func TestHistoryPagesEmptyAnswer(t *testing.T) {
	t.Parallel()
	srv := newAPIServer(t, serveFixtures(page(0)))
	c := newClient(t, srv.URL)
	pages, err := collect(t, c, historyQuery())
	require.NoError(t, err)
	require.Len(t, pages, 2, "one empty page per chunk")
	for _, pg := range pages {
		require.NotNil(t, pg.Calls)
		require.Empty(t, pg.Calls)
	}
}

func TestHistoryPagesV22SweepsVariants(t *testing.T) {
	t.Parallel()
	srv := newAPIServer(t, func(n int, _ sentRequest, w http.ResponseWriter) {
		writeJSON(w, http.StatusOK, page(1, fmt.Sprintf("c-%d", n)))
	})
	variants := []callyzer.CallVariant{
		{Method: "PhoneCall", Mode: "Voice"},
		{Method: "WhatsAppCall", Mode: "Voice"},
		{Method: "WhatsAppCall", Mode: "Video"},
	}
	c := newClient(t, srv.URL, callyzer.WithCallVariants(variants...))
	pages, err := collect(t, c, historyQuery())
	require.NoError(t, err)
	reqs := srv.requests()
	require.Len(t, reqs, 6, "2 chunks x 3 variants")
	for i, r := range reqs {
		b := r.decodeBody(t)
		v := variants[i%3]
		require.Equal(t, v.Method, b["call_method"], "request %d", i)
		require.Equal(t, v.Mode, b["call_mode"], "request %d", i)
		require.Equal(t, v, pages[i].Variant)
	}

	// One variant only, and a single page needs one named variant.
	q := historyQuery()
	q.CallFrom = windowTo.AddDate(0, -1, 0)
	_, err = c.HistoryPage(t.Context(), q, 1)
	require.ErrorIs(t, err, callyzer.ErrInvalidQuery)
	q.Variant = variants[2]
	pg, err := c.HistoryPage(t.Context(), q, 1)
	require.NoError(t, err)
	require.Equal(t, variants[2], pg.Variant)
	last := srv.requests()[len(srv.requests())-1].decodeBody(t)
	require.Equal(t, "Video", last["call_mode"])
}

func TestHistoryV22Fixture(t *testing.T) {
	t.Parallel()
	srv := newAPIServer(t, serveFixtures(fixture(t, "history_v22.json")))
	c := newClient(t, srv.URL, callyzer.WithCallVariants(callyzer.CallVariant{Method: "PhoneCall", Mode: "Voice"}))
	q := historyQuery()
	q.CallFrom = windowTo.AddDate(0, -1, 0)
	pg, err := c.HistoryPage(t.Context(), q, 1)
	require.NoError(t, err)
	want := []callyzer.Call{{
		ID: "w-1", ClientName: "Ewa Lis", ClientNumber: "+48602000111", EmployeeName: "Anna Nowak", EmployeeCode: "A7",
		EmployeeNumber: "+48511222333", EmployeeTags: []string{"BIK", "VIP"}, Type: callyzer.Incoming, Duration: 125,
		StartedAt: time.Date(2026, 7, 1, 8, 0, 0, 0, warsaw), Note: "oddzwonić", RecordingURL: "https://rec.example/w-1.mp3",
		CRMStatus: "Interested", ReminderDate: "2026-07-02", ReminderTime: "10:00:00",
		SyncedAt: time.Date(2026, 7, 1, 8, 5, 0, 0, warsaw), ModifiedAt: time.Date(2026, 7, 1, 8, 6, 0, 0, warsaw),
		LeadID: "L-77", CallMethod: "WhatsAppCall", CallMode: "Video",
	}, {
		ID: "w-2", ClientName: "Ewa Lis", ClientNumber: "+48602000111", EmployeeName: "Anna Nowak", EmployeeCode: "A7",
		EmployeeNumber: "+48511222333", Type: callyzer.Rejected, Duration: 0,
		StartedAt: time.Date(2026, 7, 1, 9, 0, 0, 0, warsaw), CallMethod: "PhoneCall", CallMode: "Voice",
	}}
	require.Empty(t, cmp.Diff(want, pg.Calls))
	body := srv.requests()[0].decodeBody(t)
	require.Equal(t, "PhoneCall", body["call_method"], "the one v2.2 variant")
	require.Equal(t, "Voice", body["call_mode"])
	require.True(t, strings.HasSuffix(srv.requests()[0].Path, "/call-log/history"))
}

func TestHistoryZonesAndOddValues(t *testing.T) {
	t.Parallel()
	srv := newAPIServer(t, serveFixtures(fixture(t, "history_zones.json")))
	c := newClient(t, srv.URL)
	q := historyQuery()
	q.CallFrom = windowTo.AddDate(0, -1, 0)
	pg, err := c.HistoryPage(t.Context(), q, 1)
	require.NoError(t, err)
	require.Len(t, pg.Calls, 5)
	type row struct {
		Type                      callyzer.CallType
		Duration                  int
		Client                    string
		Started, Synced, Modified time.Time
	}
	var got []row
	for _, call := range pg.Calls {
		got = append(got, row{call.Type, call.Duration, call.ClientNumber, call.StartedAt, call.SyncedAt, call.ModifiedAt})
	}
	utc := func(y int, m time.Month, d, hh, mm, ss int) time.Time {
		return time.Date(y, m, d, hh, mm, ss, 0, time.UTC)
	}
	want := []row{
		// Before the spring switch: CET. "CEST" and "IST" suffixes are ignored; the wall clock is Warsaw's.
		{"Incoming", 7, "+48601234567", utc(2026, 3, 29, 0, 30, 0), utc(2026, 3, 29, 1, 30, 0), utc(2026, 3, 29, 1, 30, 0)},
		// "UTC" and a numeric offset are honoured; 7.0 is a whole number.
		{"Incoming", 7, "+48601234567", utc(2026, 1, 10, 11, 0, 0), utc(2026, 1, 10, 11, 0, 0), utc(2026, 1, 10, 11, 0, 0)},
		// MySQL's zero date and null are "absent".
		{"Incoming", 7, "+48601234567", utc(2026, 1, 10, 11, 0, 0), time.Time{}, time.Time{}},
		// An unknown call type is kept verbatim; a padded numeric string; summer time; "T" separator; GMT.
		{"VoiceMail", 42, "+48601234567", utc(2026, 8, 15, 21, 59, 59), utc(2026, 8, 15, 21, 59, 59), utc(2026, 8, 16, 0, 0, 1)},
		// A number already in international form with separators, no country code field.
		{"", 0, "+48601234567", utc(2026, 8, 14, 22, 0, 0), time.Time{}, time.Time{}},
	}
	require.Empty(t, cmp.Diff(want, got))
}

func TestHistoryMalformedAnswers(t *testing.T) {
	t.Parallel()
	for _, name := range []string{
		"data_envelope", "null_result", "missing_result", "missing_total", "missing_id", "null_id",
		"bad_duration", "fractional_duration", "missing_duration", "bad_date", "bad_synced_at",
		"half_typed", "result_object", "bad_total", "truncated", "html",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := newAPIServer(t, serveFixtures(fixture(t, "malformed/"+name+".json")))
			c := newClient(t, srv.URL)
			pages, err := collect(t, c, historyQuery())
			require.ErrorIs(t, err, callyzer.ErrMalformedResponse)
			require.Empty(t, pages)
			var e *callyzer.Error
			require.ErrorAs(t, err, &e)
			require.Equal(t, http.StatusOK, e.StatusCode)
			require.Equal(t, 1, e.PageNo)
			require.Len(t, srv.requests(), 1, "a malformed answer is not retried")
		})
	}
}

func TestHistoryIncompleteAnswers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		pages    [][]byte
		maxPages int
		wantReqs int
	}{
		{"total changes between pages", [][]byte{page(3, "a", "b"), page(4, "c", "d")}, 0, 2},
		{"empty page before the total", [][]byte{page(3, "a", "b"), page(3)}, 0, 2},
		{"more rows than announced on one page", [][]byte{page(1, "a", "b")}, 0, 1},
		{"more rows than remain", [][]byte{page(3, "a", "b"), page(3, "c", "d")}, 0, 2},
		{"never stops paging", [][]byte{page(1000, "a", "b")}, 3, 3},
		{"more rows than the page size", [][]byte{page(9, "a", "b", "c")}, 0, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := newAPIServer(t, serveFixtures(tc.pages...))
			opts := []callyzer.Option{callyzer.WithPageSize(2)}
			if tc.maxPages > 0 {
				opts = append(opts, callyzer.WithLimits(tc.maxPages, 0, 0))
			}
			c := newClient(t, srv.URL, opts...)
			q := historyQuery()
			q.CallFrom = windowTo.AddDate(0, -1, 0)
			_, err := collect(t, c, q)
			require.Error(t, err)
			if tc.name == "more rows than the page size" {
				require.ErrorIs(t, err, callyzer.ErrMalformedResponse)
			} else {
				require.ErrorIs(t, err, callyzer.ErrIncompleteResponse)
			}
			require.Len(t, srv.requests(), tc.wantReqs)
		})
	}
}

func TestHistoryOversizedBody(t *testing.T) {
	t.Parallel()
	srv := newAPIServer(t, serveFixtures(fixture(t, "history_example.json")))
	c := newClient(t, srv.URL, callyzer.WithLimits(0, 100, 0))
	_, err := collect(t, c, historyQuery())
	require.ErrorIs(t, err, callyzer.ErrMalformedResponse)
	require.ErrorContains(t, err, "body over the cap of 100 bytes")
	require.Len(t, srv.requests(), 1)
}

func TestHistoryRefusesBadQueries(t *testing.T) {
	t.Parallel()
	srv := newAPIServer(t, serveFixtures(page(0)))
	c := newClient(t, srv.URL)
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		q      callyzer.HistoryQuery
		pageNo int
	}{
		{"no window", callyzer.HistoryQuery{}, 1},
		{"half a call window", callyzer.HistoryQuery{CallFrom: now}, 1},
		{"half a synced window", callyzer.HistoryQuery{SyncedTo: now}, 1},
		{"from after to", callyzer.HistoryQuery{CallFrom: now, CallTo: now.Add(-time.Second)}, 1},
		{"no whole second", callyzer.HistoryQuery{CallFrom: now.Add(time.Millisecond), CallTo: now.Add(2 * time.Millisecond)}, 1},
		{"page 0", callyzer.HistoryQuery{CallFrom: now.Add(-time.Hour), CallTo: now}, 0},
		{"window over the maximum for one page", callyzer.HistoryQuery{CallFrom: windowFrom, CallTo: windowTo}, 1},
		{"national number", callyzer.HistoryQuery{CallFrom: now.Add(-time.Hour), CallTo: now, ClientNumbers: []string{"601234567"}}, 1},
		{"number with spaces", callyzer.HistoryQuery{CallFrom: now.Add(-time.Hour), CallTo: now, EmployeeNumbers: []string{"+48 601 234 567"}}, 1},
		{"unknown country code", callyzer.HistoryQuery{CallFrom: now.Add(-time.Hour), CallTo: now, ClientNumbers: []string{"+999123456789"}}, 1},
		{"empty call type", callyzer.HistoryQuery{CallFrom: now.Add(-time.Hour), CallTo: now, CallTypes: []callyzer.CallType{""}}, 1},
		{"variant under v2.1", callyzer.HistoryQuery{CallFrom: now.Add(-time.Hour), CallTo: now, Variant: callyzer.CallVariant{Method: "PhoneCall", Mode: "Voice"}}, 1},
		{"synced window over the maximum beside a call window", callyzer.HistoryQuery{
			CallFrom: now.AddDate(0, 0, -30), CallTo: now, SyncedFrom: now.AddDate(0, 0, -200), SyncedTo: now}, 1},
		{"synced window one second over the maximum beside a call window", callyzer.HistoryQuery{
			CallFrom: now.AddDate(0, 0, -30), CallTo: now, SyncedFrom: now.Add(-180*24*time.Hour - time.Second), SyncedTo: now}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.HistoryPage(t.Context(), tc.q, tc.pageNo)
			require.ErrorIs(t, err, callyzer.ErrInvalidQuery)
			require.NotContains(t, err.Error(), "601234567", "numbers are masked in errors")
			if tc.pageNo == 1 && tc.name != "window over the maximum for one page" {
				_, err = collect(t, c, tc.q)
				require.ErrorIs(t, err, callyzer.ErrInvalidQuery)
			}
		})
	}
	require.Empty(t, srv.requests(), "nothing refused was sent")
}

func TestHistoryStopsWhenTheConsumerBreaks(t *testing.T) {
	t.Parallel()
	srv := newAPIServer(t, serveFixtures(page(4, "a", "b")))
	c := newClient(t, srv.URL, callyzer.WithPageSize(2))
	for pg, err := range c.HistoryPages(t.Context(), historyQuery()) {
		require.NoError(t, err)
		require.NotNil(t, pg)
		break
	}
	require.Len(t, srv.requests(), 1)
}

func TestEmployees(t *testing.T) {
	t.Parallel()
	for _, inQuery := range []bool{false, true} {
		t.Run(fmt.Sprint("paging in query ", inQuery), func(t *testing.T) {
			t.Parallel()
			srv := newAPIServer(t, serveFixtures(fixture(t, "employees_page1.json"), fixture(t, "employees_page2.json")))
			opts := []callyzer.Option{callyzer.WithPageSize(2)}
			if inQuery {
				opts = append(opts, callyzer.WithEmployeePagingInQuery())
			}
			c := newClient(t, srv.URL, opts...)
			got, err := c.Employees(t.Context(), callyzer.EmployeesQuery{EmployeeNumbers: []string{"+48511222333"}, Tags: []string{"BIK"}})
			require.NoError(t, err)
			want := []callyzer.Employee{
				{Name: "Anna Nowak", Code: "A7", Number: "+48511222333", Tags: []string{"BIK"},
					RegisteredAt: time.Date(2025, 1, 2, 10, 0, 0, 0, warsaw), LastCallAt: time.Date(2026, 11, 21, 9, 5, 12, 0, warsaw),
					LastSyncRequestAt: time.Date(2026, 11, 21, 9, 40, 0, 0, warsaw), CallRecordingActive: true},
				{Name: "Piotr Zieliński", Code: "B2", Number: "+48511222444", Tags: []string{},
					RegisteredAt: time.Date(2025, 3, 4, 11, 0, 0, 0, warsaw)},
				{Name: "Olga Wiśniewska", Code: "C3", Number: "+48511222555",
					RegisteredAt: time.Date(2025, 5, 6, 12, 0, 0, 0, warsaw), LastCallAt: time.Date(2026, 11, 20, 8, 0, 0, 0, warsaw),
					LastSyncRequestAt: time.Date(2026, 11, 20, 8, 0, 0, 0, warsaw), CallRecordingActive: true},
			}
			require.Empty(t, cmp.Diff(want, got))
			reqs := srv.requests()
			require.Len(t, reqs, 2)
			for i, r := range reqs {
				require.Equal(t, http.MethodGet, r.Method)
				require.Equal(t, "/employee/get", r.Path)
				body := r.decodeBody(t)
				require.Equal(t, []any{"48-511222333"}, body["emp_numbers"])
				require.Equal(t, []any{"BIK"}, body["emp_tags"])
				if !inQuery {
					require.Equal(t, json.Number(fmt.Sprint(i+1)), body["page_no"])
					require.Equal(t, json.Number("2"), body["page_size"])
					require.Empty(t, r.RawQuery)
				} else {
					require.NotContains(t, body, "page_no")
					require.Equal(t, fmt.Sprintf("page_no=%d&page_size=2", i+1), r.RawQuery)
				}
			}
		})
	}
}

func TestEmployeesErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		pages [][]byte
		want  error
	}{
		{"data envelope", [][]byte{[]byte(`{"message":"Success","data":[]}`)}, callyzer.ErrMalformedResponse},
		{"bad timestamp", [][]byte{[]byte(`{"total_records":1,"result":[{"emp_name":"A","registered_at":"soon"}]}`)}, callyzer.ErrMalformedResponse},
		{"bad flag", [][]byte{[]byte(`{"total_records":1,"result":[{"emp_name":"A","is_call_recording_active":"maybe"}]}`)}, callyzer.ErrMalformedResponse},
		{"short", [][]byte{[]byte(`{"total_records":3,"result":[{"emp_name":"A"}]}`), []byte(`{"total_records":3,"result":[]}`)}, callyzer.ErrIncompleteResponse},
		{"total changes", [][]byte{[]byte(`{"total_records":3,"result":[{"emp_name":"A"}]}`), []byte(`{"total_records":2,"result":[{"emp_name":"B"}]}`)}, callyzer.ErrIncompleteResponse},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := newAPIServer(t, serveFixtures(tc.pages...))
			c := newClient(t, srv.URL, callyzer.WithPageSize(1))
			got, err := c.Employees(t.Context(), callyzer.EmployeesQuery{})
			require.ErrorIs(t, err, tc.want)
			require.Nil(t, got)
		})
	}
	c := newClient(t, "http://127.0.0.1:1")
	_, err := c.Employees(t.Context(), callyzer.EmployeesQuery{EmployeeNumbers: []string{"511222333"}})
	require.ErrorIs(t, err, callyzer.ErrInvalidQuery)
	require.False(t, errors.Is(err, callyzer.ErrUpstream))
}

// TestHistoryRowWithoutCountryCode: a call Callyzer holds without a
// country code keeps its bare digits; nothing guesses the country.
func TestHistoryRowWithoutCountryCode(t *testing.T) {
	t.Parallel()
	srv := newAPIServer(t, serveFixtures([]byte(`{"message":"Success","total_records":1,"result":[
		{"id":"bare","client_country_code":"","client_number":"601234567","emp_country_code":"48","emp_number":"511222333",
		 "call_type":"Incoming","duration":5,"call_date":"2026-11-20","call_time":"10:00:00"}]}`)))
	c := newClient(t, srv.URL)
	q := historyQuery()
	q.CallFrom = windowTo.AddDate(0, -1, 0)
	pg, err := c.HistoryPage(t.Context(), q, 1)
	require.NoError(t, err)
	require.Len(t, pg.Calls, 1)
	require.Equal(t, "601234567", pg.Calls[0].ClientNumber)
	require.Equal(t, "+48511222333", pg.Calls[0].EmployeeNumber)
}
