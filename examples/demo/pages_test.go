package main

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadcalls/leadcalls/callhistory"
	"github.com/leadcalls/leadcalls/callyzer/callyzertest"
	"github.com/leadcalls/leadcalls/examples/callhistoryhttp"
	"github.com/leadcalls/leadcalls/statusmap"
)

// TestBuiltinLeadsAllHaveCalls: every lead of the built-in seed with a
// valid number has calls in the simulator, but the one meant to show the
// empty state.
func TestBuiltinLeadsAllHaveCalls(t *testing.T) {
	base := startDemo(t)
	c := browserless(t)
	login(t, c, base, "admin")
	ds := generateDataset(time.Now())
	for _, l := range ds.Leads {
		require.Positive(t, l.Calls, "lead %s", l.ID)
		resp, body := fetch(t, c, http.MethodPost, base+"/crm/api/leads/"+l.ID+"/call-history/refresh", nil)
		require.Equal(t, http.StatusOK, resp.StatusCode, body)
		require.Contains(t, body, `"calls":[{`, "lead %s has calls", l.ID)
	}
	_, body := fetch(t, c, http.MethodGet, base+"/crm/leads/L-NEW", nil)
	require.Contains(t, body, "Historia nie została jeszcze pobrana", "before its first refresh")
	_, body = fetch(t, c, http.MethodPost, base+"/crm/api/leads/L-NEW/call-history/refresh", nil)
	require.Contains(t, body, `"calls":[]`, "the new lead has none")
	_, body = fetch(t, c, http.MethodGet, base+"/crm/leads/L-NEW", nil)
	require.Contains(t, body, `<p class="empty-title">Brak połączeń w ostatnich 6 miesiącach</p>`, "after a refresh that found none")
	require.NotContains(t, body, "Odśwież historię, aby pobrać")
}

func TestGiveEveryLeadCalls(t *testing.T) {
	t.Parallel()
	ds := callyzertest.Generate(7, callyzertest.GenerateConfig{End: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC), Employees: 3, Leads: 30, Calls: 150})
	var empty []string
	for _, l := range ds.Leads {
		if l.Calls == 0 {
			empty = append(empty, l.Phone)
		}
	}
	require.NotEmpty(t, empty, "the generator leaves some leads without calls")
	before := len(ds.Calls)

	giveEveryLeadCalls(&ds, 4)

	require.Len(t, ds.Calls, before, "calls are moved, not added")
	advisors := map[string]string{}
	for _, l := range ds.Leads {
		advisors[l.Phone] = l.AdvisorCode
	}
	for _, p := range empty {
		n := 0
		for _, c := range ds.Calls {
			if c.ClientE164() == p {
				n++
				require.Equal(t, advisors[p], c.EmpCode, "the lead's advisor calls it")
			}
		}
		require.Equal(t, 4, n, "calls of %s", p)
	}
	for _, l := range ds.Leads {
		require.Positive(t, l.Calls, l.ID)
	}
}

// TestLeadsListShowsActivity: the list of leads shows, for each lead the
// user may view, how many calls it had and the last contact; an advisor
// sees no figures of another advisor's leads.
func TestLeadsListShowsActivity(t *testing.T) {
	base := startDemo(t, "-seed", "seed.example.json")
	admin := browserless(t)
	login(t, admin, base, "ewa.admin")

	_, body := fetch(t, admin, http.MethodGet, base+"/", nil)
	require.Equal(t, 5, strings.Count(body, `<span class="activity">Historia jeszcze nie pobrana</span>`), "before any sync:\n%s", body)

	resp, refreshed := fetch(t, admin, http.MethodPost, base+"/crm/api/leads/1001/call-history/refresh", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, refreshed)
	var doc struct {
		Summary struct {
			Calls       int `json:"calls"`
			LastContact struct {
				EmployeeName string `json:"employee_name"`
			} `json:"last_contact"`
		} `json:"summary"`
	}
	require.NoError(t, json.Unmarshal([]byte(refreshed), &doc))
	require.Positive(t, doc.Summary.Calls)

	_, body = fetch(t, admin, http.MethodGet, base+"/", nil)
	line := regexp.MustCompile(`<span class="activity">(\d+) połącze(?:nie|nia|ń) w 6 mies\. · ostatni kontakt: ([^<]*)</span>`).FindStringSubmatch(body)
	require.NotNil(t, line, "lead 1001's activity:\n%s", body)
	require.Equal(t, doc.Summary.Calls, atoi(t, line[1]))
	require.Contains(t, line[2], "("+doc.Summary.LastContact.EmployeeName+", ")

	// Piotr may view lead 1001 (his), Anna may not.
	piotr, anna := browserless(t), browserless(t)
	login(t, piotr, base, "piotr.doradca")
	login(t, anna, base, "anna.doradca")
	_, body = fetch(t, piotr, http.MethodGet, base+"/", nil)
	require.Regexp(t, `Jan Kowalski</span> <span class="tag">Twój lead</span><span class="activity">\d+ połącze`, body)
	_, body = fetch(t, anna, http.MethodGet, base+"/", nil)
	require.NotRegexp(t, `Jan Kowalski</span><span class="activity">`, body, "no figures of another advisor's lead")
	require.NotContains(t, body, " w 6 mies.")
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n := 0
	for _, r := range s {
		require.True(t, r >= '0' && r <= '9', s)
		n = n*10 + int(r-'0')
	}
	return n
}

func TestActivityLine(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 24, 23, 30, 0, 0, warsaw)
	c := &callhistory.Call{StartedAt: at.UTC(), EmployeeName: "Anna Nowak", Status: statusmap.NotPickedUp}
	tests := []struct {
		name    string
		summary callhistory.Summary
		synced  bool
		want    string
	}{
		{"never synced", callhistory.Summary{}, false, "Historia jeszcze nie pobrana"},
		{"synced, no calls", callhistory.Summary{}, true, "Brak połączeń w ostatnich 6 miesiącach"},
		{"one call today", callhistory.Summary{Calls: 1, LastContact: c}, true, "1 połączenie w 6 mies. · ostatni kontakt: dziś, 23:30 (Anna Nowak, Nieodebrane przez klienta)"},
		{"three, yesterday", callhistory.Summary{Calls: 3, LastContact: c, LastContactDays: 1}, true, "3 połączenia w 6 mies. · ostatni kontakt: wczoraj, 23:30 (Anna Nowak, Nieodebrane przez klienta)"},
		{"twelve, long ago", callhistory.Summary{Calls: 12, LastContact: c, LastContactDays: 9}, true, "12 połączeń w 6 mies. · ostatni kontakt: 24.11.2026 (Anna Nowak, Nieodebrane przez klienta)"},
		{"twenty-two", callhistory.Summary{Calls: 22, LastContact: c, LastContactDays: 9}, true, "22 połączenia w 6 mies. · ostatni kontakt: 24.11.2026 (Anna Nowak, Nieodebrane przez klienta)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, activityLine(tt.summary, tt.synced))
		})
	}
}

// TestRecordings: with the simulator the lead page plays each recording
// from the demo, which serves it only to a user who may view the lead.
func TestRecordings(t *testing.T) {
	base := startDemo(t, "-seed", "seed.example.json")
	piotr := browserless(t)
	login(t, piotr, base, "piotr.doradca")
	resp, body := fetch(t, piotr, http.MethodPost, base+"/crm/api/leads/1001/call-history/refresh", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	var doc struct {
		Calls []struct {
			ID           string `json:"id"`
			RecordingURL string `json:"recording_url"`
		} `json:"calls"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &doc))
	var withRec, without string
	for _, c := range doc.Calls {
		if c.RecordingURL != "" && withRec == "" {
			withRec = c.ID
			require.True(t, strings.HasPrefix(c.RecordingURL, "https://recordings.callyzer.example/"), "the JSON keeps Callyzer's address")
		}
		if c.RecordingURL == "" && without == "" {
			without = c.ID
		}
	}
	require.NotEmpty(t, withRec)
	require.NotEmpty(t, without)

	_, page := fetch(t, piotr, http.MethodGet, base+"/crm/leads/1001", nil)
	require.Contains(t, page, `<audio controls preload="none" src="/recordings/1001/`+withRec+`"`)

	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, base+"/recordings/1001/"+withRec, nil)
	require.NoError(t, err)
	req.Header.Set("Range", "bytes=0-43") // the WAV header, as a player asks
	resp, err = piotr.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusPartialContent, resp.StatusCode)
	require.Equal(t, "audio/wav", resp.Header.Get("Content-Type"))
	resp, wav := fetch(t, piotr, http.MethodGet, base+"/recordings/1001/"+withRec, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.True(t, strings.HasPrefix(wav, "RIFF") && strings.Contains(wav[:16], "WAVE"), "a WAV file")

	resp, _ = fetch(t, piotr, http.MethodGet, base+"/recordings/1001/"+without, nil)
	require.Equal(t, http.StatusNotFound, resp.StatusCode, "a call without a recording")
	resp, _ = fetch(t, piotr, http.MethodGet, base+"/recordings/1001/c-nope", nil)
	require.Equal(t, http.StatusNotFound, resp.StatusCode, "no such call")
	anna := browserless(t)
	login(t, anna, base, "anna.doradca")
	resp, _ = fetch(t, anna, http.MethodGet, base+"/recordings/1001/"+withRec, nil)
	require.Equal(t, http.StatusNotFound, resp.StatusCode, "another advisor's lead")
	resp, _ = fetch(t, browserless(t), http.MethodGet, base+"/recordings/1001/"+withRec, nil)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "nobody signed in")
}

// TestDemoClearAnswers: the answers of issue 14, through the demo's own
// routing: a cross-site sign-in gets a page with its own message; a path
// without a lead id gets the handler's 404 in JSON, not a redirect; a
// method an API route does not take gets 405 in JSON with Allow; an
// advisor asking for a lead that does not exist gets 403, as for a lead
// not theirs; /favicon.ico is no 404.
func TestDemoClearAnswers(t *testing.T) {
	base := startDemo(t)
	c := browserless(t)

	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, base+"/logout", nil)
	require.NoError(t, err)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := c.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	require.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))

	login(t, c, base, "admin")
	for _, path := range []string{"/crm/api/leads//call-history", "/crm/api/leads/call-history", "/crm/api/leads/L-0001//call-history"} {
		resp, body := fetch(t, c, http.MethodGet, base+path, nil)
		require.Equal(t, http.StatusNotFound, resp.StatusCode, "%s: %s", path, body)
		require.Empty(t, resp.Header.Get("Location"), path)
		require.JSONEq(t, `{"status":"error","message":"`+msgLeadNotFound+`"}`, body, path)
	}
	resp, body := fetch(t, c, http.MethodDelete, base+"/crm/api/leads/L-0001/call-history", nil)
	require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode, body)
	require.Equal(t, "GET, HEAD", resp.Header.Get("Allow"))
	require.Contains(t, body, `"status":"error"`)

	advisor := browserless(t)
	login(t, advisor, base, "D01")
	resp, body = fetch(t, advisor, http.MethodGet, base+"/crm/api/leads/L-NOPE/call-history", nil)
	require.Equal(t, http.StatusForbidden, resp.StatusCode, "an advisor does not learn whether a lead exists: %s", body)
	resp, body = fetch(t, c, http.MethodGet, base+"/crm/api/leads/L-NOPE/call-history", nil)
	require.Equal(t, http.StatusNotFound, resp.StatusCode, "an administrator does: %s", body)

	resp, _ = fetch(t, c, http.MethodGet, base+"/favicon.ico", nil)
	require.Equal(t, http.StatusMovedPermanently, resp.StatusCode)
	resp, icon := fetch(t, c, http.MethodGet, base+resp.Header.Get("Location"), nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, icon, "<svg")
	_, page := fetch(t, c, http.MethodGet, base+"/", nil)
	require.Contains(t, page, `<link rel="icon" href="/crm/assets/favicon.svg"`)
}

// TestDemoCrossSiteLoginPage: the refusal of a cross-site sign-in is the
// sign-in page with the handler's message, in Polish, not Go's text.
func TestDemoCrossSiteLoginPage(t *testing.T) {
	base := startDemo(t)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, base+"/login", strings.NewReader("user_id=admin"))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	resp, err := browserless(t).Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	require.Contains(t, string(b), `role="alert">`+callhistoryhttp.MsgCrossOrigin+`<`)
	require.Contains(t, string(b), `<form method="post" action="/login">`, "the sign-in form, to try again")
	require.Empty(t, resp.Cookies())
}
