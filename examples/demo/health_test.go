package main

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadcalls/leadcalls/callyzer/callyzertest"
	"github.com/leadcalls/leadcalls/feedhealth"
)

// TestPhonesPage runs the demo with its sync: after the first pass the
// admin page lists a phone in every state and the closed month that
// misses a page, flagged after its re-read; the leads list marks the
// leads of the advisors whose phones fail, and the lead page says why.
func TestPhonesPage(t *testing.T) {
	base := startDemo(t, "-sync-interval", "1h")
	admin := browserless(t)
	login(t, admin, base, "admin")

	statusRe := regexp.MustCompile(`data-phone-status="([a-z_]+)"`)
	var body string
	require.Eventually(t, func() bool {
		_, b, err := tryGet(t.Context(), admin, base+"/admin/phones")
		body = b
		return err == nil && strings.Contains(b, `data-month-complete="false"`)
	}, 30*time.Second, 50*time.Millisecond, "no flagged month on the phones page")
	var statuses []string
	for _, m := range statusRe.FindAllStringSubmatch(body, -1) {
		statuses = append(statuses, m[1])
	}
	slices.Sort(statuses)
	require.Equal(t, []string{"offline", "ok", "recording_off", "stale", "uninstalled"}, statuses)
	require.Equal(t, 1, strings.Count(body, `data-month-complete="false"`), "one month misses a page")
	require.GreaterOrEqual(t, strings.Count(body, `data-month-complete="true"`), 4, "the other closed months agree")
	require.Regexp(t, `w bazie brakuje \d+ z \d+ połączeń \(po ponownym odczycie \d\d\.\d\d\.\d{4} \d\d:\d\d\)`, body)
	require.Contains(t, body, `Problemów teraz: <strong id="problem-count">4</strong>`, "uninstalled, offline, recording off, the month")

	// Who may see it: the Administrator and the Head of department.
	for user, want := range map[string]int{"szef": http.StatusOK, "kierownik": http.StatusForbidden, "D02": http.StatusForbidden} {
		c := browserless(t)
		login(t, c, base, user)
		resp, b := fetch(t, c, http.MethodGet, base+"/admin/phones", nil)
		require.Equal(t, want, resp.StatusCode, user)
		if want == http.StatusForbidden {
			require.Contains(t, b, "Stan telefonów widzą Administrator i Szef działu.")
			require.NotContains(t, b, "data-phone-status")
		}
	}
	anonymous := browserless(t)
	resp, _ := fetch(t, anonymous, http.MethodGet, base+"/admin/phones", nil)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, "/login", resp.Header.Get("Location"), "sent to sign in")

	// The leads list: a badge on each lead of D02 (offline) and D03
	// (recording off); the admin also gets the count of problems.
	_, list := fetch(t, admin, http.MethodGet, base+"/", nil)
	require.Contains(t, list, `id="feed-problems">Problemy z danymi z Callyzer: 4.`)
	require.Contains(t, list, `<a href="/admin/phones">Telefony</a>`)
	require.Positive(t, strings.Count(list, "⚠ Telefon doradcy: nie przesyła połączeń"))
	require.Positive(t, strings.Count(list, "⚠ Telefon doradcy: nagrywanie wyłączone"))
	advisor := browserless(t)
	login(t, advisor, base, "D02")
	_, list2 := fetch(t, advisor, http.MethodGet, base+"/", nil)
	require.NotContains(t, list2, "feed-problems", "the count is for managers")
	require.NotContains(t, list2, `href="/admin/phones"`)

	// The lead page of an offline advisor's lead, and its JSON.
	lead := regexp.MustCompile(`href="/crm/leads/([^"]+)">\s*<span><span class="name">[^<]*</span>(?: <span class="tag">Twój lead</span>)? <span class="feed-badge" data-feed-badge>⚠ Telefon doradcy: nie przesyła`).FindStringSubmatch(list)
	require.NotNil(t, lead, "a lead of the offline advisor:\n%s", list)
	_, page := fetch(t, admin, http.MethodGet, base+"/crm/leads/"+lead[1], nil)
	require.Regexp(t, `data-feed-status="offline"[^>]*>Telefon doradcy nie przesyła połączeń od 3 dni — historia może być niepełna`, page)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, base+"/crm/api/leads/"+lead[1]+"/call-history", nil)
	require.NoError(t, err)
	req.Header.Set("Accept-Language", "en")
	r, err := admin.Do(req)
	require.NoError(t, err)
	defer r.Body.Close()
	var doc struct {
		FeedNote struct{ Status, Message string } `json:"feed_note"`
	}
	require.NoError(t, json.NewDecoder(r.Body).Decode(&doc))
	require.Equal(t, "offline", doc.FeedNote.Status)
	require.Equal(t, "The advisor's phone has not uploaded calls for 3 days — the history may be incomplete", doc.FeedNote.Message)
}

// Without the periodic sync nothing checks the phones, and the page says so.
func TestPhonesPageWithoutSync(t *testing.T) {
	base := startDemo(t)
	admin := browserless(t)
	login(t, admin, base, "admin")
	resp, body := fetch(t, admin, http.MethodGet, base+"/admin/phones", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, body, "okresowa synchronizacja, która jest wyłączona")
	_, list := fetch(t, admin, http.MethodGet, base+"/", nil)
	require.NotContains(t, list, "feed-badge")
}

func TestMissingPageIsAClosedMonth(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 0, 30, 0, 0, warsaw) // the first half hour of March in Warsaw
	hide := missingPage(now)
	at := func(y int, m time.Month, d, h, min, s int) callyzertest.Call {
		return callyzertest.Call{StartedAt: time.Date(y, m, d, h, min, s, 0, warsaw)}
	}
	require.True(t, hide(at(2026, 1, 1, 0, 0, 0)), "midnight of 1 January, Warsaw, is in the month (its Unix time divides by 3)")
	require.False(t, hide(at(2025, 12, 31, 23, 59, 57)), "December is not")
	require.False(t, hide(at(2026, 2, 1, 0, 0, 0)), "February is not")
	n := 0
	for s := range 300 {
		if hide(at(2026, 1, 15, 12, 0, s)) {
			n++
		}
	}
	require.Equal(t, 100, n, "every third call")
}

func TestPlayPhoneStates(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	ds := generateDataset(now)
	playPhoneStates(&ds, now)
	require.Len(t, ds.Employees, 5)
	require.Equal(t, 3*24*time.Hour+2*time.Hour, now.Sub(ds.Employees[1].LastSyncReqAt), "D02 offline for three days")
	require.False(t, ds.Employees[2].CallRecordingActive, "D03 records nothing")
	require.True(t, ds.Employees[4].AppUninstalled, "the fifth phone's app is gone")
	require.Equal(t, "", leadBadge(feedhealth.State{}, "D02"), "no badge before the first check")
	st := feedhealth.State{Phones: []feedhealth.Phone{{Code: "D02", Status: feedhealth.Offline}, {Code: "D04", Status: feedhealth.Stale}}}
	require.Equal(t, "Telefon doradcy: nie przesyła połączeń", leadBadge(st, "D02"))
	require.Equal(t, "", leadBadge(st, "D04"), "a quiet night is no problem")
	require.Equal(t, "", leadBadge(st, ""), "a lead without an advisor")
}
