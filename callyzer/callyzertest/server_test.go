package callyzertest_test

import (
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/leadcalls/leadcalls/callyzer/callyzertest"
)

func TestAuth(t *testing.T) {
	t.Parallel()
	srv := callyzertest.NewServer(t, callyzertest.Options{APIKey: "secret-key", Calls: seedCalls(3)})
	ctx := t.Context()
	body := map[string]any{"call_from": now.Add(-24 * time.Hour).Unix(), "call_to": now.Unix()}

	tests := []struct {
		name, key string
		want      int
	}{
		{"no header", "", http.StatusUnauthorized},
		{"wrong key", "other-key", http.StatusUnauthorized},
		{"right key", "secret-key", http.StatusOK},
	}
	for _, tt := range tests {
		r := sendKey(ctx, srv, tt.key, http.MethodPost, callyzertest.PathHistory, body)
		require.NoError(t, r.Err)
		require.Equal(t, tt.want, r.Status, tt.name)
		require.NotEmpty(t, r.JSON["message"], tt.name)
	}
	reqs := srv.Requests()
	require.Len(t, reqs, 3)
	require.False(t, reqs[0].Authorized)
	require.Empty(t, reqs[0].Header.Get("Authorization"))
	require.False(t, reqs[1].Authorized)
	require.True(t, reqs[2].Authorized)
	require.Equal(t, "[redacted]", reqs[2].Header.Get("Authorization"))
	for _, r := range reqs {
		require.NotContains(t, r.Header.Get("Authorization"), "secret-key")
	}
	require.Equal(t, []int{401, 401, 200}, []int{reqs[0].Status, reqs[1].Status, reqs[2].Status})
}

func TestHistoryFilters(t *testing.T) {
	t.Parallel()
	base := now.Add(-48 * time.Hour)
	other := callyzertest.Employee{Name: "Piotr Zieliński", Code: "D02", CountryCode: "48", Number: "731000222", Tags: []string{"Konsolidacja"}}
	mk := func(id, client string, at time.Duration, typ string, dur int) callyzertest.Call {
		c := callyzertest.NewCall(id, client, base.Add(at))
		c.CallType, c.Duration = typ, dur
		return c
	}
	c1 := mk("a1", "+48601234567", 0, callyzertest.Outgoing, 30)
	c2 := mk("a2", "+48601234567", time.Hour, callyzertest.Missed, 0)
	c3 := mk("a3", "+48502000111", 2*time.Hour, callyzertest.Incoming, 300)
	c3.SetEmployee(other)
	c4 := mk("a4", "+48502000111", 3*time.Hour, callyzertest.Rejected, 0)
	c4.CallMethod = callyzertest.WhatsAppCall
	c4.SyncedAt = now.Add(-time.Minute)
	srv := callyzertest.NewServer(t, callyzertest.Options{Calls: []callyzertest.Call{c1, c2, c3, c4}})

	tests := []struct {
		name     string
		from, to time.Time
		extra    map[string]any
		want     []string
	}{
		{"whole window, newest first", base, now, nil, []string{"a4", "a3", "a2", "a1"}},
		{"bounds inclusive", base, base.Add(time.Hour), nil, []string{"a2", "a1"}},
		{"window excludes", base.Add(time.Second), base.Add(time.Hour - time.Second), nil, nil},
		{"client number", base, now, map[string]any{"client_numbers": []string{"48-601234567"}}, []string{"a2", "a1"}},
		{"employee number", base, now, map[string]any{"emp_numbers": []string{"48-731000222"}}, []string{"a3"}},
		{"employee tags", base, now, map[string]any{"emp_tags": []string{"Konsolidacja"}}, []string{"a3"}},
		{"call types", base, now, map[string]any{"call_types": []string{"Missed", "Rejected"}}, []string{"a4", "a2"}},
		{"longer than", base, now, map[string]any{"duration_grt_than": 30}, []string{"a3"}},
		{"shorter than", base, now, map[string]any{"duration_les_than": 30}, []string{"a4", "a2"}},
		{"call method", base, now, map[string]any{"call_method": "WhatsAppCall"}, []string{"a4"}},
		{"call mode", base, now, map[string]any{"call_mode": "Video"}, nil},
		{"exclude numbers accepted", base, now, map[string]any{"is_exclude_numbers": true, "client_numbers": []string{"48-502000111"}}, []string{"a4", "a3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := history(t.Context(), srv, tt.from, tt.to, tt.extra)
			require.Equal(t, http.StatusOK, r.Status, "%s", r.Raw)
			require.Equal(t, "Success", r.JSON["message"])
			if diff := cmp.Diff(tt.want, r.ids(t)); diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
			require.Equal(t, len(tt.want), r.total(t))
		})
	}

	t.Run("synced window alone", func(t *testing.T) {
		t.Parallel()
		r := send(t.Context(), srv, http.MethodPost, callyzertest.PathHistory, map[string]any{
			"synced_from": now.Add(-5 * time.Minute).Unix(), "synced_to": now.Unix(),
		})
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Raw)
		require.Equal(t, []string{"a4"}, r.ids(t))
	})
}

func TestHistoryPaging(t *testing.T) {
	t.Parallel()
	srv := callyzertest.NewServer(t, callyzertest.Options{Calls: seedCalls(25)})
	from, to := now.Add(-30*24*time.Hour), now

	var got []string
	for page, wantRows := range map[int]int{1: 10, 2: 10, 3: 5, 4: 0} {
		r := history(t.Context(), srv, from, to, map[string]any{"page_no": page, "page_size": 10})
		require.Equal(t, http.StatusOK, r.Status)
		require.Len(t, r.rows(t), wantRows, "page %d", page)
		require.Equal(t, 25, r.total(t), "page %d", page)
		got = append(got, r.ids(t)...)
	}
	require.Len(t, got, 25)
	seen := map[string]bool{}
	for _, id := range got {
		require.False(t, seen[id], "duplicate %s", id)
		seen[id] = true
	}

	r := history(t.Context(), srv, from, to, map[string]any{"page_no": 2, "page_size": 10})
	require.Equal(t, idOf(11), r.ids(t)[0], "newest first: page 2 starts with the 11th newest")

	r = history(t.Context(), srv, from, to, nil)
	require.Len(t, r.rows(t), callyzertest.DefaultPageSize, "no page_size: the default")

	r = history(t.Context(), srv, from, to, map[string]any{"page_size": 100})
	require.Len(t, r.rows(t), 25)
}

func TestHistoryValidation(t *testing.T) {
	t.Parallel()
	srv := callyzertest.NewServer(t, callyzertest.Options{Calls: seedCalls(2)})
	v22 := callyzertest.NewServer(t, callyzertest.Options{Version: callyzertest.V22, Calls: seedCalls(2)})
	narrow := callyzertest.NewServer(t, callyzertest.Options{MaxWindow: 7 * 24 * time.Hour})
	day := int64(24 * 3600)
	to := now.Unix()

	tests := []struct {
		name string
		srv  *callyzertest.Server
		body any
		want int
		msg  string // part of the message
	}{
		{"exactly 180 days", srv, map[string]any{"call_from": to - 180*day, "call_to": to}, 200, "Success"},
		{"180 days and a second", srv, map[string]any{"call_from": to - 180*day - 1, "call_to": to}, 400, "180 days"},
		{"184-day six months", srv, map[string]any{"call_from": to - 184*day, "call_to": to}, 400, "180 days"},
		{"synced window too wide", srv, map[string]any{"synced_from": to - 181*day, "synced_to": to}, 400, "180 days"},
		{"ten billion seconds", srv, map[string]any{"call_from": 0, "call_to": int64(10_000_000_000)}, 400, "180 days"},
		{"a span past MaxInt64", srv, map[string]any{"call_from": int64(math.MinInt64), "call_to": int64(math.MaxInt64)}, 400, "180 days"},
		{"synced span of ten billion seconds", srv, map[string]any{"synced_from": 0, "synced_to": int64(10_000_000_000)}, 400, "180 days"},
		{"configured limit", narrow, map[string]any{"call_from": to - 8*day, "call_to": to}, 400, "7 days"},
		{"reversed window", srv, map[string]any{"call_from": to, "call_to": to - 1}, 400, "after"},
		{"no window", srv, map[string]any{"page_no": 1}, 400, "required"},
		{"half a window", srv, map[string]any{"call_from": to}, 400, "together"},
		{"empty body", srv, "", 400, "required"},
		{"not JSON", srv, "call_from=1", 400, "invalid"},
		{"unix seconds as a string", srv, map[string]any{"call_from": "1700000000", "call_to": to}, 400, "invalid"},
		{"unknown field", srv, map[string]any{"call_from": to - day, "call_to": to, "duration_less_than": 5}, 400, "unknown field"},
		{"E.164 number", srv, map[string]any{"call_from": to - day, "call_to": to, "client_numbers": []string{"+48601234567"}}, 400, "48-601234567"},
		{"number without country code", srv, map[string]any{"call_from": to - day, "call_to": to, "emp_numbers": []string{"601234567"}}, 400, "48-601234567"},
		{"unknown call type", srv, map[string]any{"call_from": to - day, "call_to": to, "call_types": []string{"missed"}}, 400, "call_types"},
		{"page 0", srv, map[string]any{"call_from": to - day, "call_to": to, "page_no": 0}, 400, "page_no"},
		{"page size 101", srv, map[string]any{"call_from": to - day, "call_to": to, "page_size": 101}, 400, "page_size"},
		{"v2.2 without call_method", v22, map[string]any{"call_from": to - day, "call_to": to}, 400, "call_method"},
		{"v2.2 complete", v22, map[string]any{"call_from": to - day, "call_to": to, "call_method": "PhoneCall", "call_mode": "Voice"}, 200, "Success"},
		{"bad call_mode", srv, map[string]any{"call_from": to - day, "call_to": to, "call_mode": "Audio"}, 400, "call_mode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := send(t.Context(), tt.srv, http.MethodPost, callyzertest.PathHistory, tt.body)
			require.Equal(t, tt.want, r.Status, "%s", r.Raw)
			require.Equal(t, "application/json", r.Header.Get("Content-Type"))
			msg, _ := r.JSON["message"].(string)
			require.Contains(t, msg, tt.msg)
		})
	}

	t.Run("content type", func(t *testing.T) {
		t.Parallel()
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+callyzertest.PathHistory,
			strings.NewReader(`{"call_from":1,"call_to":2}`))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+srv.APIKey())
		req.Header.Set("Content-Type", "text/plain")
		resp, err := srv.Client().Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	})
	t.Run("method and path", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, http.StatusMethodNotAllowed, send(t.Context(), srv, http.MethodGet, callyzertest.PathHistory, nil).Status)
		require.Equal(t, http.StatusNotFound, send(t.Context(), srv, http.MethodPost, "/api/v2.1/call-log/history", nil).Status)
	})
	t.Run("lenient body", func(t *testing.T) {
		t.Parallel()
		lenient := callyzertest.NewServer(t, callyzertest.Options{LenientBody: true})
		r := send(t.Context(), lenient, http.MethodPost, callyzertest.PathHistory,
			map[string]any{"call_from": to - day, "call_to": to, "something_new": true})
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Raw)
	})
}

func TestWireFormat(t *testing.T) {
	t.Parallel()
	winter := time.Date(2026, 11, 20, 13, 30, 0, 0, time.UTC) // 14:30 CET
	summer := time.Date(2026, 7, 1, 6, 5, 12, 0, time.UTC)    // 08:05:12 CEST
	plain := callyzertest.NewCall("w1", "+48601234567", winter)
	plain.Duration = 87
	plain.SyncedAt = winter.Add(130 * time.Second)
	plain.ModifiedAt = plain.SyncedAt
	quirky := callyzertest.NewCall("w2", "+48601234567", summer)
	quirky.CallType, quirky.Duration = callyzertest.Missed, 0
	quirky.SyncedAt, quirky.ModifiedAt = summer.Add(time.Hour), summer.Add(time.Hour)
	quirky.DurationAsString, quirky.ZoneSuffix, quirky.NullEmpty = true, true, true
	calls := []callyzertest.Call{plain, quirky}
	from, to := now.AddDate(0, 0, -180), now

	rowsOf := func(t *testing.T, opts callyzertest.Options) map[string]map[string]any {
		t.Helper()
		opts.Calls = calls
		srv := callyzertest.NewServer(t, opts)
		r := history(t.Context(), srv, from, to, map[string]any{"call_method": "PhoneCall", "call_mode": "Voice"})
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Raw)
		out := map[string]map[string]any{}
		for _, row := range r.rows(t) {
			out[row["id"].(string)] = row
		}
		return out
	}

	t.Run("default and per-call quirks", func(t *testing.T) {
		t.Parallel()
		rows := rowsOf(t, callyzertest.Options{})
		want := map[string]any{
			"id": "w1", "client_name": "Unknown", "client_country_code": "48", "client_number": "601234567",
			"emp_name": "Anna Nowak", "emp_code": "A7", "emp_country_code": "48", "emp_number": "511222333",
			"emp_tags": []any{"BIK"}, "call_type": "Outgoing", "duration": float64(87),
			"call_date": "2026-11-20", "call_time": "14:30:00", "note": "", "call_recording_url": "",
			"crm_status": "", "reminder_date": "", "reminder_time": "",
			"synced_at": "2026-11-20 14:32:10", "modified_at": "2026-11-20 14:32:10", "lead_id": "",
		}
		if diff := cmp.Diff(want, rows["w1"]); diff != "" {
			t.Errorf("w1 (-want +got):\n%s", diff)
		}
		q := rows["w2"]
		require.Equal(t, "0", q["duration"])
		require.Equal(t, "2026-07-01", q["call_date"])
		require.Equal(t, "08:05:12", q["call_time"])
		require.Equal(t, "2026-07-01 09:05:12 CEST", q["synced_at"])
		require.Nil(t, q["note"])
		require.Contains(t, q, "note")
		require.Nil(t, q["call_recording_url"])
		require.NotContains(t, q, "call_method", "v2.1 rows have no call_method")
	})
	t.Run("server-wide format", func(t *testing.T) {
		t.Parallel()
		rows := rowsOf(t, callyzertest.Options{Format: callyzertest.Format{DurationAsString: true, ZoneSuffix: true, NullEmpty: true}})
		w1 := rows["w1"]
		require.Equal(t, "87", w1["duration"])
		require.Equal(t, "2026-11-20 14:32:10 CET", w1["synced_at"])
		require.Equal(t, "2026-11-20 14:32:10 CET", w1["modified_at"])
		require.Nil(t, w1["note"])
	})
	t.Run("v2.2 fields", func(t *testing.T) {
		t.Parallel()
		rows := rowsOf(t, callyzertest.Options{Version: callyzertest.V22})
		require.Equal(t, "PhoneCall", rows["w1"]["call_method"])
		require.Equal(t, "Voice", rows["w1"]["call_mode"])
	})
	t.Run("account zone", func(t *testing.T) {
		t.Parallel()
		kolkata, err := time.LoadLocation("Asia/Kolkata")
		require.NoError(t, err)
		rows := rowsOf(t, callyzertest.Options{Location: kolkata, Format: callyzertest.Format{ZoneSuffix: true}})
		require.Equal(t, "19:00:00", rows["w1"]["call_time"])
		require.Equal(t, "2026-11-20 19:02:10 IST", rows["w1"]["synced_at"])
	})
}

func TestEmployees(t *testing.T) {
	t.Parallel()
	ds := callyzertest.Generate(7, callyzertest.GenerateConfig{End: now, Employees: 12, Leads: 5, Calls: 50})
	srv := callyzertest.NewServer(t, callyzertest.Options{Employees: ds.Employees})
	codes := func(t *testing.T, r reply) []string {
		t.Helper()
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Raw)
		require.Equal(t, 12, r.total(t))
		var out []string
		for _, row := range r.rows(t) {
			out = append(out, row["emp_code"].(string))
		}
		return out
	}

	inBody := codes(t, send(t.Context(), srv, http.MethodGet, callyzertest.PathEmployees,
		map[string]any{"emp_numbers": []string{}, "emp_tags": []string{}, "page_no": 2, "page_size": 5}))
	inQuery := codes(t, send(t.Context(), srv, http.MethodGet, callyzertest.PathEmployees+"?page_no=2&page_size=5", nil))
	bodyWins := codes(t, send(t.Context(), srv, http.MethodGet, callyzertest.PathEmployees+"?page_no=1&page_size=5",
		map[string]any{"page_no": 2}))
	require.Equal(t, []string{"D06", "D07", "D08", "D09", "D10"}, inBody)
	require.Equal(t, inBody, inQuery)
	require.Equal(t, inBody, bodyWins, "body page_no, query page_size")
	last := codes(t, send(t.Context(), srv, http.MethodGet, callyzertest.PathEmployees+"?page_no=3&page_size=5", nil))
	require.Equal(t, []string{"D11", "D12"}, last)

	r := send(t.Context(), srv, http.MethodGet, callyzertest.PathEmployees,
		map[string]any{"emp_numbers": []string{"48-" + ds.Employees[3].Number}})
	require.Equal(t, http.StatusOK, r.Status)
	rows := r.rows(t)
	require.Len(t, rows, 1)
	want := map[string]any{
		"emp_name": ds.Employees[3].Name, "emp_code": "D04", "emp_country_code": "48",
		"emp_number": ds.Employees[3].Number, "emp_tags": []any{"BIK", ds.Employees[3].Tags[1]},
		"registered_at":            ds.Employees[3].RegisteredAt.In(warsaw).Format(time.DateTime),
		"last_call_at":             ds.Employees[3].LastCallAt.In(warsaw).Format(time.DateTime),
		"last_sync_req_at":         ds.Employees[3].LastSyncReqAt.In(warsaw).Format(time.DateTime),
		"is_call_recording_active": ds.Employees[3].CallRecordingActive,
		"app_version":              ds.Employees[3].AppVersion,
		"device_details":           map[string]any{"device_model": ds.Employees[3].DeviceModel, "android_version": ds.Employees[3].AndroidVersion},
		"device_preference":        map[string]any{"is_app_uninstalled": ds.Employees[3].AppUninstalled},
	}
	if diff := cmp.Diff(want, rows[0]); diff != "" {
		t.Errorf("employee row (-want +got):\n%s", diff)
	}

	r = send(t.Context(), srv, http.MethodGet, callyzertest.PathEmployees+"?page_size=500", nil)
	require.Equal(t, http.StatusBadRequest, r.Status)
	r = send(t.Context(), srv, http.MethodGet, callyzertest.PathEmployees, map[string]any{"emp_tags": []string{"Kierownik"}})
	require.Len(t, r.rows(t), 1)
	require.Equal(t, http.StatusMethodNotAllowed, send(t.Context(), srv, http.MethodDelete, callyzertest.PathEmployees, nil).Status)
}

func TestRequestsRecorded(t *testing.T) {
	t.Parallel()
	clk := newClock(now)
	srv := callyzertest.NewServer(t, callyzertest.Options{Now: clk.Now, Calls: seedCalls(3)})
	require.Equal(t, time.Duration(-1), srv.MinGap())
	history(t.Context(), srv, now.Add(-time.Hour*24), now, map[string]any{"page_no": 2, "client_numbers": []string{"48-601234567"}})
	clk.Advance(1500 * time.Millisecond)
	send(t.Context(), srv, http.MethodGet, callyzertest.PathEmployees+"?page_no=3", nil)

	reqs := srv.Requests()
	require.Len(t, reqs, 2)
	require.Equal(t, 2, srv.RequestCount())
	h := reqs[0]
	require.Equal(t, 1, h.N)
	require.Equal(t, http.MethodPost, h.Method)
	require.Equal(t, callyzertest.PathHistory, h.Path)
	require.Equal(t, 2, h.PageNo)
	require.Equal(t, float64(now.Unix()), h.Body["call_to"])
	require.Equal(t, []any{"48-601234567"}, h.Body["client_numbers"])
	require.Equal(t, "application/json", h.Header.Get("Content-Type"))
	require.True(t, h.Time.Equal(now))
	require.Equal(t, http.StatusOK, h.Status)
	require.Zero(t, h.Fault)

	e := reqs[1]
	require.Equal(t, 2, e.N)
	require.Equal(t, "3", e.Query.Get("page_no"))
	require.Equal(t, 3, e.PageNo)
	require.Nil(t, e.Body)
	require.Equal(t, 1500*time.Millisecond, srv.MinGap())
	require.Equal(t, 1, srv.MaxInFlight())

	srv.ResetRequests()
	require.Empty(t, srv.Requests())
	require.Equal(t, time.Duration(-1), srv.MinGap())
	send(t.Context(), srv, http.MethodGet, callyzertest.PathEmployees, nil)
	require.Equal(t, 3, srv.Requests()[0].N, "numbers keep counting")
}

func TestLatency(t *testing.T) {
	t.Parallel()
	var seen []int
	srv := callyzertest.NewServer(t, callyzertest.Options{
		Calls: seedCalls(1),
		LatencyFunc: func(r callyzertest.Request) time.Duration {
			seen = append(seen, r.N) // requests are sequential here
			if r.PageNo == 2 {
				return 40 * time.Millisecond
			}
			return 0
		},
	})
	history(t.Context(), srv, now.Add(-time.Hour*24), now, nil)
	start := time.Now()
	r := history(t.Context(), srv, now.Add(-time.Hour*24), now, map[string]any{"page_no": 2})
	require.Equal(t, http.StatusOK, r.Status)
	require.GreaterOrEqual(t, time.Since(start), 40*time.Millisecond)
	require.Equal(t, []int{1, 2}, seen)
}

func TestCallHelpers(t *testing.T) {
	t.Parallel()
	c := callyzertest.NewCall("x", "+48601234567", now)
	require.Equal(t, []string{"48", "601234567"}, []string{c.ClientCountryCode, c.ClientNumber})
	c = callyzertest.NewCall("x", "+4915112345678", now)
	require.Equal(t, []string{"49", "15112345678"}, []string{c.ClientCountryCode, c.ClientNumber})
	for _, bad := range []string{"", "601234567", "+48123", "48-601234567", "+48 601 234 567", "+48000000000"} {
		require.Panics(t, func() { callyzertest.NewCall("x", bad, now) }, bad)
	}
	c = callyzertest.NewCall("x", "+48601234567", now)
	require.Equal(t, "+48601234567", c.ClientE164())
	require.Equal(t, callyzertest.DefaultEmployee.E164(), c.EmpE164())
}

func TestDataAccessors(t *testing.T) {
	t.Parallel()
	srv := callyzertest.NewServer(t, callyzertest.Options{Calls: seedCalls(2)})
	srv.AddCalls(seedCalls(3)[2])
	got := srv.Calls()
	require.Len(t, got, 3)
	got[0].EmpTags[0] = "changed"
	require.Equal(t, "BIK", srv.Calls()[0].EmpTags[0], "Calls returns copies")
	srv.SetCalls()
	require.Empty(t, srv.Calls())
	srv.AddEmployees(callyzertest.DefaultEmployee)
	require.Len(t, srv.Employees(), 1)
	require.Equal(t, callyzertest.DefaultAPIKey, srv.APIKey())
	require.Equal(t, "Europe/Warsaw", srv.Location().String())
}
