package callhistoryhttp_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/leadcalls/leadcalls/callhistory"
	"github.com/leadcalls/leadcalls/callyzer"
	"github.com/leadcalls/leadcalls/examples/callhistoryhttp"
)

// What the tests of this package cover:
//
// The tests drive the handler through httptest with a fake Service for
// every status code, the cross-origin checks, the exact JSON field names,
// English messages, Retry-After, the no-JavaScript form flow with its
// one-time message, the log levels, and the rendered HTML (rows, labels,
// m:ss durations, times in the account zone, asset paths of both pages).
// examples/demo has an end-to-end browser test in headless Chromium.

func decodeJSON(t *testing.T, body string) map[string]any {
	t.Helper()
	var doc map[string]any
	require.NoError(t, json.Unmarshal([]byte(body), &doc), "body: %s", body)
	return doc
}

// wantCalls is sampleResult's calls as the JSON API must write them:
// exactly these field names, times in Europe/Warsaw with their offset.
var wantCalls = []any{
	map[string]any{
		"id": "c-3", "phone": "+48601234567", "direction": "outgoing",
		"status": "connected", "status_label": "Połączone", "callyzer_call_type": "Outgoing",
		"started_at": "2026-11-20T14:30:00+01:00", "duration_seconds": 87.0,
		"employee_name": "Anna Nowak", "employee_phone": "+48511222333",
		"recording_url": "https://rec.example.com/c-3.mp3", "note": "Klient prosi o ofertę",
	},
	map[string]any{
		"id": "c-2", "phone": "+48601234567", "direction": "incoming",
		"status": "missed", "status_label": "Nieodebrane", "callyzer_call_type": "Missed",
		"started_at": "2026-07-01T09:05:09+02:00", "duration_seconds": 0.0,
		"employee_name": "Anna Nowak", "employee_phone": "+48511222333",
		"recording_url": "", "note": "",
	},
	map[string]any{
		"id": "c-1", "phone": "+48601234567", "direction": "unknown",
		"status": "unknown", "status_label": "Nieznany", "callyzer_call_type": "VoIP",
		"started_at": "2026-06-03T00:15:00+02:00", "duration_seconds": 3725.0,
		"employee_name": "Piotr Wiśniewski", "employee_phone": "",
		"recording_url": "", "note": "",
	},
}

// summaryCall is a call the JSON summary points at.
func summaryCall(id, startedAt, direction, status, label string, seconds float64, employee string) map[string]any {
	return map[string]any{
		"id": id, "started_at": startedAt, "direction": direction, "status": status,
		"status_label": label, "duration_seconds": seconds, "employee_name": employee,
	}
}

// with returns a copy of m with more fields.
func with(m map[string]any, kv ...any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

// wantSummary is sampleResult's summary as the JSON API must write it.
var wantSummary = map[string]any{
	"window_from": "2026-05-25T15:05:00+02:00", "window_to": "2026-11-25T14:05:00+01:00",
	"calls": 3.0, "connected": 1.0, "not_picked_up": 0.0, "missed": 1.0, "rejected": 0.0,
	"talk_seconds": 87.0,
	"last_contact": with(summaryCall("c-3", "2026-11-20T14:30:00+01:00", "outgoing", "connected", "Połączone", 87, "Anna Nowak"),
		"days_ago", 5.0),
	"last_connected": summaryCall("c-3", "2026-11-20T14:30:00+01:00", "outgoing", "connected", "Połączone", 87, "Anna Nowak"),
	"missed_call": with(summaryCall("c-2", "2026-07-01T09:05:09+02:00", "incoming", "missed", "Nieodebrane", 0, "Anna Nowak"),
		"called_back", summaryCall("c-3", "2026-11-20T14:30:00+01:00", "outgoing", "connected", "Połączone", 87, "Anna Nowak"),
		"callback_overdue", false),
	"partial": false,
}

func TestAPIHistory(t *testing.T) {
	t.Parallel()
	svc := &fakeService{result: sampleResult()}
	srv := newServer(t, svc, callhistoryhttp.Options{})

	resp, body := do(t, srv.Client(), http.MethodGet, srv.URL+"/crm/api/leads/L-1/call-history", signedIn(), nil)

	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.Equal(t, "application/json; charset=utf-8", resp.Header.Get("Content-Type"))
	want := map[string]any{
		"lead_id":        "L-1",
		"phone":          "+48601234567",
		"feed_note":      nil,
		"last_synced_at": "2026-11-25T14:05:00+01:00",
		"calls":          wantCalls,
		"summary":        wantSummary,
	}
	if diff := cmp.Diff(want, decodeJSON(t, body)); diff != "" {
		t.Errorf("GET call-history (-want +got):\n%s", diff)
	}
	refreshes, histories := svc.counts()
	require.Equal(t, 0, refreshes, "a GET must never refresh")
	require.Equal(t, 1, histories)
}

func TestAPIHistoryNeverSynced(t *testing.T) {
	t.Parallel()
	res := sampleResult()
	res.Calls, res.LastSyncedAt, res.Summary = nil, time.Time{}, callhistory.Summary{Window: res.Summary.Window}
	srv := newServer(t, &fakeService{result: res}, callhistoryhttp.Options{})

	resp, body := do(t, srv.Client(), http.MethodGet, srv.URL+"/crm/api/leads/L-1/call-history", signedIn(), nil)

	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	want := map[string]any{"lead_id": "L-1", "phone": "+48601234567", "last_synced_at": nil, "feed_note": nil, "calls": []any{}, "summary": map[string]any{
		"window_from": "2026-05-25T15:05:00+02:00", "window_to": "2026-11-25T14:05:00+01:00",
		"calls": 0.0, "connected": 0.0, "not_picked_up": 0.0, "missed": 0.0, "rejected": 0.0, "talk_seconds": 0.0,
		"last_contact": nil, "last_connected": nil, "missed_call": nil, "partial": false,
	}}
	if diff := cmp.Diff(want, decodeJSON(t, body)); diff != "" {
		t.Errorf("never-synced history (-want +got):\n%s", diff)
	}
}

func TestAPIRefresh(t *testing.T) {
	t.Parallel()
	svc := &fakeService{result: sampleResult()}
	srv := newServer(t, svc, callhistoryhttp.Options{})

	resp, body := do(t, srv.Client(), http.MethodPost, srv.URL+"/crm/api/leads/L-1/call-history/refresh",
		signedIn("Sec-Fetch-Site", "same-origin", "Origin", srv.URL), nil)

	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	want := map[string]any{
		"status":         "ok",
		"message":        "Historia połączeń została zaktualizowana",
		"feed_note":      nil,
		"last_synced_at": "2026-11-25T14:05:00+01:00",
		"calls":          wantCalls,
		"report": map[string]any{
			"requests": 2.0, "fetched": 3.0, "inserted": 1.0, "updated": 1.0,
			"deleted": 1.0, "unchanged": 1.0, "shared": false, "path": "spec", "duration_ms": 2345.0,
		},
		"summary": wantSummary,
	}
	if diff := cmp.Diff(want, decodeJSON(t, body)); diff != "" {
		t.Errorf("POST refresh (-want +got):\n%s", diff)
	}
	refreshes, _ := svc.counts()
	require.Equal(t, 1, refreshes)
	require.Equal(t, "u-adv", svc.actors[0].ID, "the actor comes from Options.Actor")
}

func TestAPIErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		err     error
		status  int
		message string
		english string
	}{
		{"forbidden", fmt.Errorf("lead L-1: %w", callhistory.ErrForbidden), 403,
			"Brak uprawnień do przeglądania historii połączeń", "You are not allowed to view the call history"},
		{"lead not found", callhistory.ErrLeadNotFound, 404, msgLeadNotFound, "Lead not found"},
		{"invalid phone", callhistory.ErrInvalidPhone, 422, msgInvalidPhone, "The lead's phone number is not valid"},
		{"callyzer auth", fmt.Errorf("%w: %w", callhistory.ErrCallyzerAuth, callyzer.ErrUnauthorized), 502,
			"Błąd autoryzacji API Callyzer", "Callyzer API authorisation error"},
		{"timeout", callhistory.ErrTimeout, 504,
			"Przekroczono czas oczekiwania. Spróbuj ponownie.", "The request timed out. Try again."},
		{"rate limited", callhistory.ErrRateLimited, 503, msgRateLimited,
			"Callyzer is limiting requests right now. Try again in a moment."},
		{"upstream", callhistory.ErrUpstream, 502,
			"Wystąpił błąd podczas aktualizacji historii połączeń", "An error occurred while updating the call history"},
		{"store", callhistory.ErrStore, 500,
			"Wystąpił błąd podczas aktualizacji historii połączeń", "An error occurred while updating the call history"},
		{"unexpected", errors.New("boom"), 500,
			"Wystąpił błąd podczas aktualizacji historii połączeń", "An error occurred while updating the call history"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, &fakeService{result: sampleResult(), historyErr: tt.err, refreshErr: tt.err}, callhistoryhttp.Options{})
			for _, req := range []struct{ method, path string }{
				{http.MethodGet, "/crm/api/leads/L-1/call-history"},
				{http.MethodPost, "/crm/api/leads/L-1/call-history/refresh"},
			} {
				for _, lang := range []struct{ header, want string }{
					{"", tt.message},
					{"pl-PL,pl;q=0.9,en;q=0.5", tt.message},
					{"en-GB,en;q=0.9,pl;q=0.4", tt.english},
				} {
					resp, body := do(t, srv.Client(), req.method, srv.URL+req.path, signedIn("Accept-Language", lang.header), nil)
					require.Equal(t, tt.status, resp.StatusCode, "%s %s: %s", req.method, req.path, body)
					require.Equal(t, "application/json; charset=utf-8", resp.Header.Get("Content-Type"))
					want := map[string]any{"status": "error", "message": lang.want}
					if diff := cmp.Diff(want, decodeJSON(t, body)); diff != "" {
						t.Errorf("%s %s, Accept-Language %q (-want +got):\n%s", req.method, req.path, lang.header, diff)
					}
					require.Equal(t, tt.status == 503, resp.Header.Get("Retry-After") != "", "Retry-After only on 503")
				}
			}
		})
	}
}

func TestAPIUnauthenticated(t *testing.T) {
	t.Parallel()
	svc := &fakeService{result: sampleResult()}
	srv := newServer(t, svc, callhistoryhttp.Options{})

	for _, req := range []struct{ method, path string }{
		{http.MethodGet, "/crm/api/leads/L-1/call-history"},
		{http.MethodPost, "/crm/api/leads/L-1/call-history/refresh"},
	} {
		for _, lang := range []struct{ header, want string }{
			{"", callhistoryhttp.MsgSignedOut},
			{"pl", "Sesja wygasła lub nie jesteś zalogowany. Zaloguj się ponownie."},
			{"en-GB,en;q=0.9", "Your session has expired or you are not signed in. Please sign in again."},
		} {
			resp, body := do(t, srv.Client(), req.method, srv.URL+req.path, http.Header{"Accept-Language": {lang.header}}, nil)
			require.Equal(t, http.StatusUnauthorized, resp.StatusCode, body)
			want := map[string]any{"status": "error", "message": lang.want}
			if diff := cmp.Diff(want, decodeJSON(t, body)); diff != "" {
				t.Errorf("%s %s without a user, Accept-Language %q (-want +got):\n%s", req.method, req.path, lang.header, diff)
			}
		}
	}
	refreshes, histories := svc.counts()
	require.Zero(t, refreshes+histories, "no service call without a user")
}

func TestZeroOptionsAnswer401(t *testing.T) {
	t.Parallel()
	svc := &fakeService{result: sampleResult()}
	srv := httptest.NewServer(callhistoryhttp.NewHandler(svc, callhistoryhttp.Options{Logger: slog.New(slog.DiscardHandler)}))
	t.Cleanup(srv.Close)

	resp, body := do(t, srv.Client(), http.MethodGet, srv.URL+"/api/leads/L-1/call-history", signedIn(), nil)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode, body)
	resp, body = do(t, srv.Client(), http.MethodGet, srv.URL+"/leads/L-1", signedIn(), nil)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode, body)
	require.Contains(t, body, callhistoryhttp.MsgSignedOut)
	require.NotContains(t, body, msgForbidden, "a 401 is not a missing permission")
	refreshes, histories := svc.counts()
	require.Zero(t, refreshes+histories)
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		err        error
		retryAfter time.Duration
		want       string
	}{
		{"from Callyzer, rounded up", fmt.Errorf("%w: %w", callhistory.ErrRateLimited,
			&callyzer.Error{StatusCode: 429, RetryAfter: 7200 * time.Millisecond}), 0, "8"},
		{"from Callyzer, whole seconds", fmt.Errorf("%w: %w", callhistory.ErrRateLimited,
			&callyzer.Error{StatusCode: 429, RetryAfter: 30 * time.Second}), 0, "30"},
		{"Callyzer sent none: default", fmt.Errorf("%w: %w", callhistory.ErrRateLimited,
			&callyzer.Error{StatusCode: 429}), 0, "5"},
		{"no callyzer error: default", callhistory.ErrRateLimited, 0, "5"},
		{"configured default", callhistory.ErrRateLimited, 12 * time.Second, "12"},
		{"sub-second is one second", fmt.Errorf("%w: %w", callhistory.ErrRateLimited,
			&callyzer.Error{StatusCode: 429, RetryAfter: 10 * time.Millisecond}), 0, "1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, &fakeService{refreshErr: tt.err}, callhistoryhttp.Options{RetryAfter: tt.retryAfter})
			resp, body := do(t, srv.Client(), http.MethodPost, srv.URL+"/crm/api/leads/L-1/call-history/refresh", signedIn(), nil)
			require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, body)
			require.Equal(t, tt.want, resp.Header.Get("Retry-After"))
		})
	}
}

func TestCrossOriginPOST(t *testing.T) {
	t.Parallel()
	trusted := http.NewCrossOriginProtection()
	require.NoError(t, trusted.AddTrustedOrigin("https://crm.example.com"))

	tests := []struct {
		name    string
		header  http.Header
		opts    callhistoryhttp.Options
		allowed bool
	}{
		{"cross-site fetch metadata", signedIn("Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"), callhistoryhttp.Options{}, false},
		{"same-site but other origin", signedIn("Sec-Fetch-Site", "same-site", "Origin", "https://other.crm.example"), callhistoryhttp.Options{}, false},
		{"foreign Origin, no fetch metadata", signedIn("Origin", "https://evil.example"), callhistoryhttp.Options{}, false},
		{"same-origin fetch metadata", signedIn("Sec-Fetch-Site", "same-origin"), callhistoryhttp.Options{}, true},
		{"user typed it (none)", signedIn("Sec-Fetch-Site", "none"), callhistoryhttp.Options{}, true},
		{"non-browser client", signedIn(), callhistoryhttp.Options{}, true},
		{"trusted origin", signedIn("Sec-Fetch-Site", "cross-site", "Origin", "https://crm.example.com"), callhistoryhttp.Options{CrossOrigin: trusted}, true},
	}
	for _, tt := range tests {
		for _, path := range []string{"/crm/api/leads/L-1/call-history/refresh", "/crm/leads/L-1/refresh"} {
			t.Run(tt.name+" "+path, func(t *testing.T) {
				t.Parallel()
				svc := &fakeService{result: sampleResult()}
				srv := newServer(t, svc, tt.opts)
				resp, body := do(t, noRedirects(srv), http.MethodPost, srv.URL+path, tt.header, nil)
				refreshes, _ := svc.counts()
				if !tt.allowed {
					require.Equal(t, http.StatusForbidden, resp.StatusCode, body)
					require.Contains(t, body, callhistoryhttp.MsgCrossOrigin, "its own message, not the permission's")
					require.NotContains(t, body, msgForbidden)
					require.Zero(t, refreshes, "a refused request must not reach the service")
					return
				}
				require.Contains(t, []int{http.StatusOK, http.StatusSeeOther}, resp.StatusCode, body)
				require.Equal(t, 1, refreshes)
			})
		}
	}
}

func TestGETNeverRefreshes(t *testing.T) {
	t.Parallel()
	svc := &fakeService{result: sampleResult()}
	srv := newServer(t, svc, callhistoryhttp.Options{})
	for _, tt := range []struct {
		path   string
		status int
	}{
		{"/crm/api/leads/L-1/call-history", http.StatusOK},
		{"/crm/leads/L-1", http.StatusOK},
		{"/crm/api/leads/L-1/call-history/refresh", http.StatusMethodNotAllowed},
		{"/crm/leads/L-1/refresh", http.StatusMethodNotAllowed},
	} {
		for _, method := range []string{http.MethodGet, http.MethodHead} {
			resp, _ := do(t, srv.Client(), method, srv.URL+tt.path, signedIn(), nil)
			require.Equal(t, tt.status, resp.StatusCode, "%s %s", method, tt.path)
		}
	}
	refreshes, _ := svc.counts()
	require.Zero(t, refreshes)
}

func TestAssets(t *testing.T) {
	t.Parallel()
	srv := newServer(t, &fakeService{result: sampleResult()}, callhistoryhttp.Options{})
	for _, tt := range []struct {
		path, contentType string
		status            int
	}{
		{"/crm/assets/callhistory.css", "text/css; charset=utf-8", 200},
		{"/crm/assets/callhistory.js", "text/javascript; charset=utf-8", 200},
		{"/crm/assets/favicon.svg", "image/svg+xml", 200},
		{"/crm/assets/", "", 404},
		{"/crm/assets/missing.css", "", 404},
	} {
		resp, body := do(t, srv.Client(), http.MethodGet, srv.URL+tt.path, nil, nil)
		require.Equal(t, tt.status, resp.StatusCode, tt.path)
		if tt.status == 200 {
			require.Equal(t, tt.contentType, resp.Header.Get("Content-Type"), tt.path)
			require.NotEmpty(t, strings.TrimSpace(body))
		}
	}
}

// logBuffer collects JSON log lines from the server's goroutines.
type logBuffer struct {
	mu    sync.Mutex
	lines []map[string]any
	size  int // bytes written
}

func (b *logBuffer) Write(p []byte) (int, error) {
	var rec map[string]any
	if err := json.Unmarshal(p, &rec); err != nil {
		return 0, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lines = append(b.lines, rec)
	b.size += len(p)
	return len(p), nil
}

func (b *logBuffer) take() []map[string]any {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := b.lines
	b.lines = nil
	return out
}

func (b *logBuffer) written() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.size
}

// TestLogging checks that a failure is logged once at a useful level: the
// service logs its own failures (callhistory.Refresher does), so the
// handler adds only a debug line with the route and status; the failures
// only the handler sees are logged at info.
func TestLogging(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		method string
		path   string
		header http.Header
		err    error
		want   map[string]any
	}{
		{"no signed-in user", http.MethodGet, "/crm/api/leads/L-1/call-history", nil, nil, map[string]any{
			"level": "INFO", "route": "GET /api/leads/{leadID}/call-history", "status": 401.0}},
		{"cross-site POST", http.MethodPost, "/crm/leads/L-1/refresh", signedIn("Sec-Fetch-Site", "cross-site"), nil, map[string]any{
			"level": "INFO", "route": "POST /leads/{leadID}/refresh", "status": 403.0}},
		{"service failure", http.MethodPost, "/crm/api/leads/L-1/call-history/refresh", signedIn(), callhistory.ErrUpstream, map[string]any{
			"level": "DEBUG", "route": "POST /api/leads/{leadID}/call-history/refresh", "status": 502.0}},
		{"service refusal on the page", http.MethodGet, "/crm/leads/L-1", signedIn(), callhistory.ErrForbidden, map[string]any{
			"level": "DEBUG", "route": "GET /leads/{leadID}", "status": 403.0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			logs := &logBuffer{}
			logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			srv := newServer(t, &fakeService{result: sampleResult(), historyErr: tt.err, refreshErr: tt.err}, callhistoryhttp.Options{Logger: logger})

			resp, body := do(t, noRedirects(srv), tt.method, srv.URL+tt.path, tt.header, nil)
			require.Equal(t, int(tt.want["status"].(float64)), resp.StatusCode, body)

			lines := logs.take()
			require.Len(t, lines, 1, "one line per failed request")
			got := map[string]any{}
			for k := range tt.want {
				got[k] = lines[0][k]
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("log line (-want +got):\n%s", diff)
			}
			require.Equal(t, "L-1", lines[0]["lead_id"])
		})
	}
}

// TestMalformedLeadID: a lead id that no CRM issues (over 256 bytes, a
// control character, not UTF-8) is answered on every route as a lead that
// does not exist, before the session is looked at, the service is called or
// a cookie is set, and its one log line stays short however long the id.
func TestMalformedLeadID(t *testing.T) {
	t.Parallel()
	ids := []struct{ name, escaped string }{
		{"a million bytes", strings.Repeat("a", 1_000_000)},
		{"257 bytes", strings.Repeat("a", 257)},
		{"NUL", "L-1%00"},
		{"newline", "L-1%0Aforged%20line"},
		{"DEL", "L-1%7F"},
		{"C1 control (NEL)", "L-1%C2%85"},
		{"invalid UTF-8", "L-1%FF"},
	}
	routes := []struct {
		method, path string // path with %s for the id
		json         bool
	}{
		{http.MethodGet, "/crm/api/leads/%s/call-history", true},
		{http.MethodPost, "/crm/api/leads/%s/call-history/refresh", true},
		{http.MethodGet, "/crm/leads/%s", false},
		{http.MethodPost, "/crm/leads/%s/refresh", false},
	}
	for _, id := range ids {
		for _, session := range []struct {
			name   string
			header http.Header
		}{{"signed in", signedIn()}, {"no session", nil}} {
			t.Run(id.name+", "+session.name, func(t *testing.T) {
				t.Parallel()
				svc := &fakeService{result: sampleResult()}
				var actorCalls atomic.Int32
				logs := &logBuffer{}
				srv := newServer(t, svc, callhistoryhttp.Options{
					Actor: func(r *http.Request) *callhistory.Actor {
						actorCalls.Add(1)
						return actorFromHeader(r)
					},
					Logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
				})
				for _, route := range routes {
					before := logs.written()
					resp, body := do(t, noRedirects(srv), route.method, srv.URL+fmt.Sprintf(route.path, id.escaped), session.header, nil)
					require.Equal(t, http.StatusNotFound, resp.StatusCode, "%s %s", route.method, route.path)
					if route.json {
						want := map[string]any{"status": "error", "message": msgLeadNotFound}
						if diff := cmp.Diff(want, decodeJSON(t, body)); diff != "" {
							t.Errorf("%s %s (-want +got):\n%s", route.method, route.path, diff)
						}
					} else {
						alerts := parseHTML(t, body).findAll(byAttr("role", "alert"))
						require.Len(t, alerts, 1, "%s %s", route.method, route.path)
						require.Equal(t, msgLeadNotFound, alerts[0].textContent())
						require.Empty(t, resp.Header.Get("Location"), "a refused id is not redirected to")
					}
					require.Less(t, len(body), 16<<10, "the answer does not echo the id")
					require.Empty(t, resp.Header.Values("Set-Cookie"), "no cookie on a refused id's path")
					require.Less(t, logs.written()-before, 400, "%s %s: the log stays short", route.method, route.path)
				}
				lines := logs.take()
				require.Len(t, lines, len(routes), "one line per refused request")
				for _, line := range lines {
					require.Equal(t, "INFO", line["level"])
					require.Equal(t, 404.0, line["status"])
					require.LessOrEqual(t, len(line["lead_id"].(string)), 64+len("…(+1000000 bytes)"))
				}
				refreshes, histories := svc.counts()
				require.Zero(t, refreshes+histories, "no service call")
				require.Zero(t, actorCalls.Load(), "no session lookup")
			})
		}
	}
}

// TestLeadIDLimits: the longest id allowed, and ids that are long in
// characters or not ASCII but well-formed, reach the service.
func TestLeadIDLimits(t *testing.T) {
	t.Parallel()
	for _, id := range []string{
		strings.Repeat("a", 256),
		strings.Repeat("ł", 128), // 256 bytes
		"L-ółć 1",
		"a:b c",
	} {
		svc := &fakeService{result: sampleResult()}
		srv := newServer(t, svc, callhistoryhttp.Options{})
		resp, body := do(t, srv.Client(), http.MethodGet, srv.URL+"/crm/api/leads/"+url.PathEscape(id)+"/call-history", signedIn(), nil)
		require.Equal(t, http.StatusOK, resp.StatusCode, body)
		_, histories := svc.counts()
		require.Equal(t, 1, histories, "%q reaches the service", id)
	}
}

// TestAPIMethodNotAllowed: a method an API route does not take is answered
// 405 in the API's JSON shape, with the methods it takes in Allow, in the
// language asked for, and reaches no service.
func TestAPIMethodNotAllowed(t *testing.T) {
	t.Parallel()
	svc := &fakeService{result: sampleResult()}
	srv := newServer(t, svc, callhistoryhttp.Options{})
	tests := []struct {
		path    string
		methods []string
		allow   string
	}{
		{"/crm/api/leads/L-1/call-history", []string{http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions}, "GET, HEAD"},
		{"/crm/api/leads/L-1/call-history/refresh", []string{http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete, http.MethodOptions}, "POST"},
	}
	for _, tt := range tests {
		for _, method := range tt.methods {
			for _, lang := range []struct{ header, want string }{
				{"", "Ten adres API historii połączeń nie obsługuje tej metody HTTP."},
				{"en", "This call-history API address does not accept this HTTP method."},
			} {
				resp, body := do(t, srv.Client(), method, srv.URL+tt.path, signedIn("Accept-Language", lang.header), nil)
				require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode, "%s %s", method, tt.path)
				require.Equal(t, tt.allow, resp.Header.Get("Allow"), "%s %s", method, tt.path)
				if method == http.MethodHead {
					continue // no body
				}
				require.Equal(t, "application/json; charset=utf-8", resp.Header.Get("Content-Type"))
				if diff := cmp.Diff(map[string]any{"status": "error", "message": lang.want}, decodeJSON(t, body)); diff != "" {
					t.Errorf("%s %s (-want +got):\n%s", method, tt.path, diff)
				}
			}
		}
	}
	refreshes, histories := svc.counts()
	require.Zero(t, refreshes+histories, "no service call")
}

// TestMalformedLeadPaths: an API path without a lead id, or not in
// canonical form, is answered 404 in JSON (no redirect, which under
// http.StripPrefix would leave the mount); an /api/ path of no route too;
// a page path not in canonical form gets the page's 404. The handler is
// mounted without a ServeMux in front, whose own redirect of such paths a
// host must route around (as the demo does).
func TestMalformedLeadPaths(t *testing.T) {
	t.Parallel()
	svc := &fakeService{result: sampleResult()}
	h := callhistoryhttp.NewHandler(svc, callhistoryhttp.Options{Actor: actorFromHeader, Logger: slog.New(slog.DiscardHandler)})
	srv := httptest.NewServer(http.StripPrefix("/crm", h))
	t.Cleanup(srv.Close)
	client := noRedirects(srv)
	tests := []struct {
		method, path string
		json         bool
		message      string
	}{
		{http.MethodGet, "/crm/api/leads//call-history", true, msgLeadNotFound},
		{http.MethodPost, "/crm/api/leads//call-history/refresh", true, msgLeadNotFound},
		{http.MethodGet, "/crm/api/leads/call-history", true, msgLeadNotFound},
		{http.MethodPost, "/crm/api/leads/call-history/refresh", true, msgLeadNotFound},
		{http.MethodGet, "/crm/api/leads/L-1/call-history/", true, "Nie ma takiego adresu w API historii połączeń."},
		{http.MethodGet, "/crm/api/leads/./call-history", true, msgLeadNotFound},
		{http.MethodGet, "/crm/api/leads/x/../L-1/call-history", true, msgLeadNotFound},
		{http.MethodGet, "/crm/api/leads/L-1/extra/call-history", true, msgLeadNotFound},
		{http.MethodGet, "/crm/api/leads/L-1", true, "Nie ma takiego adresu w API historii połączeń."},
		{http.MethodGet, "/crm/api/", true, "Nie ma takiego adresu w API historii połączeń."},
		{http.MethodDelete, "/crm/api/nothing", true, "Nie ma takiego adresu w API historii połączeń."},
		{http.MethodGet, "/crm/leads//x", false, msgLeadNotFound},
		{http.MethodPost, "/crm/leads//refresh", false, msgLeadNotFound},
	}
	for _, tt := range tests {
		req, err := http.NewRequestWithContext(t.Context(), tt.method, srv.URL+tt.path, nil)
		require.NoError(t, err)
		req.Header = signedIn()
		resp, err := client.Do(req)
		require.NoError(t, err)
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		body := string(b)
		require.Equal(t, http.StatusNotFound, resp.StatusCode, "%s %s: %s", tt.method, tt.path, body)
		require.Empty(t, resp.Header.Get("Location"), "%s %s: no redirect", tt.method, tt.path)
		if tt.json {
			if diff := cmp.Diff(map[string]any{"status": "error", "message": tt.message}, decodeJSON(t, body)); diff != "" {
				t.Errorf("%s %s (-want +got):\n%s", tt.method, tt.path, diff)
			}
			continue
		}
		alerts := parseHTML(t, body).findAll(byAttr("role", "alert"))
		require.Len(t, alerts, 1, "%s %s", tt.method, tt.path)
		require.Equal(t, tt.message, alerts[0].textContent())
	}
	refreshes, histories := svc.counts()
	require.Zero(t, refreshes+histories, "no service call")
}

// TestCrossOriginMessage: the refusal of a cross-site POST has a message
// of its own, in Polish or English, in JSON from the API and on a page
// from the form.
func TestCrossOriginMessage(t *testing.T) {
	t.Parallel()
	srv := newServer(t, &fakeService{result: sampleResult()}, callhistoryhttp.Options{})
	const english = "Request refused because it came from another site: its Origin or Sec-Fetch-Site header does not point at the CRM. Open the lead's page in the CRM and try again."
	for _, lang := range []struct{ header, want string }{{"pl", callhistoryhttp.MsgCrossOrigin}, {"en-GB", english}} {
		header := signedIn("Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example", "Accept-Language", lang.header)
		resp, body := do(t, noRedirects(srv), http.MethodPost, srv.URL+"/crm/api/leads/L-1/call-history/refresh", header, nil)
		require.Equal(t, http.StatusForbidden, resp.StatusCode)
		if diff := cmp.Diff(map[string]any{"status": "error", "message": lang.want}, decodeJSON(t, body)); diff != "" {
			t.Errorf("JSON (-want +got):\n%s", diff)
		}
		resp, body = do(t, noRedirects(srv), http.MethodPost, srv.URL+"/crm/leads/L-1/refresh", header, nil)
		require.Equal(t, http.StatusForbidden, resp.StatusCode)
		require.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
		alerts := parseHTML(t, body).findAll(byAttr("role", "alert"))
		require.Len(t, alerts, 1)
		require.Equal(t, lang.want, alerts[0].textContent())
	}
}

// TestREADMESummaryExample: the README's example of "summary" is what the
// handler writes for sampleResult, so its shape cannot drift.
func TestREADMESummaryExample(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	block := regexp.MustCompile("(?s)`summary` is `callhistory.Result.Summary`.*?```json\n(.*?)```").FindSubmatch(readme)
	require.NotNil(t, block, "the README shows an example summary")
	var example map[string]any
	require.NoError(t, json.Unmarshal(block[1], &example))
	if diff := cmp.Diff(wantSummary, example); diff != "" {
		t.Errorf("README's summary (-handler +README):\n%s", diff)
	}
}

// A page route asked with a method it does not take answers 405 as a page
// in the user's language, with Allow, and calls nothing.
func TestPageMethodNotAllowed(t *testing.T) {
	t.Parallel()
	svc := &fakeService{result: sampleResult()}
	srv := newServer(t, svc, callhistoryhttp.Options{})
	for _, tt := range []struct{ method, path, allow, lang, want string }{
		{http.MethodPost, "/crm/leads/L-1", "GET, HEAD", "pl", "Ta strona historii połączeń nie obsługuje tego rodzaju żądania."},
		{http.MethodDelete, "/crm/leads/L-1", "GET, HEAD", "en", "This call-history page does not accept this kind of request."},
		{http.MethodGet, "/crm/leads/L-1/refresh", "POST", "pl", "Ta strona historii połączeń nie obsługuje tego rodzaju żądania."},
	} {
		resp, body := do(t, srv.Client(), tt.method, srv.URL+tt.path, signedIn("Accept-Language", tt.lang), nil)
		require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode, "%s %s", tt.method, tt.path)
		require.Equal(t, tt.allow, resp.Header.Get("Allow"))
		require.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
		alerts := parseHTML(t, body).findAll(byAttr("role", "alert"))
		require.Len(t, alerts, 1, body)
		require.Equal(t, tt.want, alerts[0].textContent())
	}
	refreshes, histories := svc.counts()
	require.Zero(t, refreshes+histories)
}
