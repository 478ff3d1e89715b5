package callyzer_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/leadcalls/leadcalls/callyzer"
)

// TestEmployeesHealthFields: the roster's human dates are read as a wall
// clock of the account's zone (12-hour clock, one-digit hours, any case),
// empty and null values read as absent, and the device fields are read.
func TestEmployeesHealthFields(t *testing.T) {
	t.Parallel()
	body := []byte(`{"message":"Success","total_records":3,"result":[
	 {"emp_name":"Anna","emp_country_code":"48","emp_number":"511222333",
	  "registered_at":"02 Jan 2025, 12:05 AM","last_call_at":"28 Jul 2026, 12:30 PM","last_sync_req_at":"28 Jul 2026, 05:11 PM",
	  "is_call_recording_active":true,"app_version":"3.4.1",
	  "device_details":{"device_model":"SM-A546B","android_version":"14"},"device_preference":{"is_app_uninstalled":false}},
	 {"emp_name":"Piotr","emp_country_code":"48","emp_number":"511222444",
	  "registered_at":"5 mar 2026, 9:07 am","last_call_at":"","last_sync_req_at":null,
	  "is_call_recording_active":0,"app_version":null,"device_details":null,"device_preference":{"is_app_uninstalled":"1"}},
	 {"emp_name":"Olga","emp_country_code":"48","emp_number":"511222555","registered_at":"2026-03-29 02:30:00"}]}`)
	newYork, err := time.LoadLocation("America/New_York")
	require.NoError(t, err)
	for _, loc := range []*time.Location{warsaw, newYork} {
		t.Run(loc.String(), func(t *testing.T) {
			t.Parallel()
			srv := newAPIServer(t, serveFixtures(body))
			c := newClient(t, srv.URL, callyzer.WithLocation(loc))
			got, err := c.Employees(t.Context(), callyzer.EmployeesQuery{})
			require.NoError(t, err)
			want := []callyzer.Employee{
				{Name: "Anna", Number: "+48511222333", RegisteredAt: time.Date(2025, 1, 2, 0, 5, 0, 0, loc),
					LastCallAt: time.Date(2026, 7, 28, 12, 30, 0, 0, loc), LastSyncRequestAt: time.Date(2026, 7, 28, 17, 11, 0, 0, loc),
					CallRecordingActive: true, AppVersion: "3.4.1", DeviceModel: "SM-A546B", AndroidVersion: "14"},
				{Name: "Piotr", Number: "+48511222444", RegisteredAt: time.Date(2026, 3, 5, 9, 7, 0, 0, loc), AppUninstalled: true},
				// 02:30 on 29 March does not exist in Warsaw: time.Date's offset, as for call times.
				{Name: "Olga", Number: "+48511222555", RegisteredAt: time.Date(2026, 3, 29, 2, 30, 0, 0, loc)},
			}
			require.Empty(t, cmp.Diff(want, got))
		})
	}
	t.Run("zone offset", func(t *testing.T) {
		t.Parallel()
		srv := newAPIServer(t, serveFixtures(body))
		got, err := newClient(t, srv.URL, callyzer.WithLocation(warsaw)).Employees(t.Context(), callyzer.EmployeesQuery{})
		require.NoError(t, err)
		// 17:11 in Warsaw in July (CEST) is 15:11 UTC, not 17:11 UTC.
		require.Equal(t, time.Date(2026, 7, 28, 15, 11, 0, 0, time.UTC), got[0].LastSyncRequestAt.UTC())
		require.Equal(t, time.Date(2025, 1, 1, 23, 5, 0, 0, time.UTC), got[0].RegisteredAt.UTC(), "12:05 AM is just after midnight, CET")
	})
	for _, bad := range []string{"28 Jul 2026, 17:11 PM", "28 Jul 2026", "Jul 28 2026, 05:11 PM", "32 Jul 2026, 05:11 PM"} {
		t.Run("refuses "+bad, func(t *testing.T) {
			t.Parallel()
			srv := newAPIServer(t, serveFixtures([]byte(`{"total_records":1,"result":[{"emp_name":"A","last_sync_req_at":"`+bad+`"}]}`)))
			_, err := newClient(t, srv.URL).Employees(t.Context(), callyzer.EmployeesQuery{})
			require.ErrorIs(t, err, callyzer.ErrMalformedResponse)
			require.ErrorContains(t, err, "last_sync_req_at")
		})
	}
}

func TestSummary(t *testing.T) {
	t.Parallel()
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, warsaw)
	to := time.Date(2026, 4, 1, 0, 0, 0, 0, warsaw).Add(-time.Second)
	q := callyzer.HistoryQuery{CallFrom: from, CallTo: to, EmployeeNumbers: []string{"+48511222333"}}
	srv := newAPIServer(t, func(n int, _ sentRequest, w http.ResponseWriter) {
		if n == 1 {
			writeJSON(w, http.StatusServiceUnavailable, []byte(`{"message":"busy"}`))
			return
		}
		writeJSON(w, http.StatusOK, []byte(`{"message":"Success","result":{"total_calls":398,"total_incoming_calls":"120",
			"total_outgoing_calls":200,"total_missed_calls":70,"total_rejected_calls":8,"total_connected_calls":300,"total_duration":45678}}`))
	})
	got, err := newClient(t, srv.URL).Summary(t.Context(), q)
	require.NoError(t, err)
	require.Equal(t, callyzer.Totals{Calls: 398, Incoming: 120, Outgoing: 200, Missed: 70, Rejected: 8, Connected: 300, Duration: 45678}, got)
	reqs := srv.requests()
	require.Len(t, reqs, 2, "a 503 is retried")
	r := reqs[1]
	require.Equal(t, http.MethodPost, r.Method)
	require.Equal(t, "/call-log/summary", r.Path)
	body := r.decodeBody(t)
	require.Equal(t, fmt.Sprint(from.Unix()), fmt.Sprint(body["call_from"]))
	require.Equal(t, fmt.Sprint(to.Unix()), fmt.Sprint(body["call_to"]))
	require.Equal(t, []any{"48-511222333"}, body["emp_numbers"])
	require.Equal(t, true, body["is_exclude_numbers"])
	require.NotContains(t, body, "page_no")

	tests := []struct {
		name string
		body string
		want error
	}{
		{"list", `{"message":"Success","result":[]}`, callyzer.ErrMalformedResponse},
		{"null result", `{"message":"Success","result":null}`, callyzer.ErrMalformedResponse},
		{"data envelope", `{"message":"Success","data":{"total_calls":1}}`, callyzer.ErrMalformedResponse},
		{"no total", `{"result":{"total_incoming_calls":1,"total_outgoing_calls":1,"total_missed_calls":0,"total_rejected_calls":0}}`, callyzer.ErrMalformedResponse},
		{"no per-type total", `{"result":{"total_calls":1,"total_incoming_calls":1,"total_outgoing_calls":0,"total_missed_calls":0}}`, callyzer.ErrMalformedResponse},
		{"negative", `{"result":{"total_calls":-1,"total_incoming_calls":1,"total_outgoing_calls":0,"total_missed_calls":0,"total_rejected_calls":0}}`, callyzer.ErrMalformedResponse},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := newAPIServer(t, serveFixtures([]byte(tc.body)))
			_, err := newClient(t, srv.URL).Summary(t.Context(), q)
			require.ErrorIs(t, err, tc.want)
		})
	}
	t.Run("unauthorized", func(t *testing.T) {
		t.Parallel()
		srv := newAPIServer(t, func(_ int, _ sentRequest, w http.ResponseWriter) {
			writeJSON(w, http.StatusUnauthorized, []byte(`{"message":"Unauthenticated."}`))
		})
		_, err := newClient(t, srv.URL).Summary(t.Context(), q)
		require.ErrorIs(t, err, callyzer.ErrUnauthorized)
		require.Len(t, srv.requests(), 1, "a 401 is not retried")
	})
	t.Run("window over the maximum", func(t *testing.T) {
		t.Parallel()
		c := newClient(t, "http://127.0.0.1:1")
		_, err := c.Summary(t.Context(), callyzer.HistoryQuery{CallFrom: from.AddDate(-1, 0, 0), CallTo: to})
		require.ErrorIs(t, err, callyzer.ErrInvalidQuery)
	})
}
