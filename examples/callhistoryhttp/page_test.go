package callhistoryhttp_test

import (
	"html/template"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/leadcalls/leadcalls/callhistory"
	"github.com/leadcalls/leadcalls/examples/callhistoryhttp"
	"github.com/leadcalls/leadcalls/statusmap"
)

// rows returns the cells' text of the calls table, row by row.
func rows(t *testing.T, doc *node) [][]string {
	t.Helper()
	tables := doc.findAll(byAttr("class", "calls"))
	require.Len(t, tables, 1, "one calls table")
	var out [][]string
	for _, tbody := range tables[0].findAll(byTag("tbody")) {
		for _, tr := range tbody.findAll(byTag("tr")) {
			var cells []string
			for _, td := range tr.findAll(byTag("td")) {
				cells = append(cells, td.textContent())
			}
			out = append(out, cells)
		}
	}
	return out
}

func TestPage(t *testing.T) {
	t.Parallel()
	svc := &fakeService{result: sampleResult()}
	srv := newServer(t, svc, callhistoryhttp.Options{})

	resp, body := do(t, srv.Client(), http.MethodGet, srv.URL+"/crm/leads/L-1", signedIn(), nil)

	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
	require.Contains(t, resp.Header.Get("Content-Security-Policy"), "script-src 'self'")
	doc := parseHTML(t, body)

	htmls := doc.findAll(byTag("html"))
	require.Len(t, htmls, 1)
	require.Equal(t, "pl", htmls[0].Attr["lang"])
	require.Equal(t, "Jan Kowalski", doc.findAll(byID("lead-name"))[0].textContent())
	require.Equal(t, "+48 601 234 567", doc.findAll(byAttr("class", "lead-phone"))[0].textContent())
	sync := doc.findAll(byID("call-history-sync"))
	require.Len(t, sync, 1)
	require.Equal(t, "Ostatnia synchronizacja: 25.11.2026, 14:05 · pobranie historii tego leada Czas polski (Europe/Warsaw)", sync[0].textContent())

	wantRows := [][]string{
		{"20.11.2026, 14:30", "↗ Wychodzące", "Połączone", "1:27", "Anna Nowak+48 511 222 333", "Otwórz nagranie", "Klient prosi o ofertę"},
		{"01.07.2026, 09:05", "↙ Przychodzące", "Nieodebrane", "0:00", "Anna Nowak+48 511 222 333", "— brak nagrania", "— brak notatki"},
		{"03.06.2026, 00:15", "Nieznany", "Nieznany", "62:05", "Piotr Wiśniewski", "— brak nagrania", "— brak notatki"},
	}
	if diff := cmp.Diff(wantRows, rows(t, doc)); diff != "" {
		t.Errorf("table rows (-want +got):\n%s", diff)
	}
	times := doc.findAll(byTag("time"))
	var datetimes []string
	for _, tm := range times {
		datetimes = append(datetimes, tm.Attr["datetime"])
	}
	require.Subset(t, datetimes, []string{"2026-11-25T14:05:00+01:00", "2026-11-20T14:30:00+01:00", "2026-07-01T09:05:09+02:00", "PT87S"})

	// The recording plays in the page; the link stays as a fallback.
	players := doc.findAll(byTag("audio"))
	require.Len(t, players, 1)
	require.Equal(t, "https://rec.example.com/c-3.mp3", players[0].Attr["src"])
	require.Equal(t, "none", players[0].Attr["preload"], "nothing is downloaded until play")
	require.Contains(t, players[0].Attr, "controls")
	links := doc.findAll(byAttr("class", "recording"))
	require.Len(t, links, 1)
	require.Equal(t, "https://rec.example.com/c-3.mp3", links[0].Attr["href"])
	require.Equal(t, "noopener noreferrer", links[0].Attr["rel"])
	require.Contains(t, resp.Header.Get("Content-Security-Policy"), "media-src 'self' https:", "Callyzer's recordings may play")

	// The summary, above the list.
	if diff := cmp.Diff(map[string][2]string{
		"calls":          {"3", "od 25.05.2026"},
		"connected":      {"1", "Nieodebrane: 1"},
		"talk":           {"1 min 27 s", "średnio 1:27 na rozmowę"},
		"last-contact":   {"5 dni temu", "20.11.2026, 14:30 · ↗ Anna Nowak · Połączone"},
		"last-connected": {"20.11.2026, 14:30", "Anna Nowak · 1:27"},
		"missed":         {"01.07.2026, 09:05", "Oddzwoniono 20.11.2026, 14:30 (Anna Nowak)"},
	}, tiles(t, doc)); diff != "" {
		t.Errorf("summary tiles (-want +got):\n%s", diff)
	}
	require.Equal(t, "Połączenia (6 mies.)", tileLabel(t, doc, "calls"))
	require.Empty(t, doc.findAll(byAttr("class", "back")), "no way back without Options.LeadsURL")

	// The no-JavaScript form and the script's endpoint, relative to the page.
	forms := doc.findAll(byTag("form"))
	require.Len(t, forms, 1)
	require.Equal(t, "post", forms[0].Attr["method"])
	pageURL, err := url.Parse(srv.URL + "/crm/leads/L-1")
	require.NoError(t, err)
	action, err := pageURL.Parse(forms[0].Attr["action"])
	require.NoError(t, err)
	require.Equal(t, "/crm/leads/L-1/refresh", action.Path)
	require.Equal(t, "Odśwież historię połączeń", forms[0].textContent())
	section := doc.findAll(byID("call-history"))[0]
	api, err := pageURL.Parse(section.Attr["data-refresh-url"])
	require.NoError(t, err)
	require.Equal(t, "/crm/api/leads/L-1/call-history/refresh", api.Path)
	progress := doc.findAll(byAttr("class", "progress"))
	require.Len(t, progress, 1)
	require.Equal(t, "Odświeżanie… to może potrwać kilka sekund", progress[0].textContent())
	for _, link := range doc.findAll(byAttr("rel", "stylesheet")) {
		css, err := pageURL.Parse(link.Attr["href"])
		require.NoError(t, err)
		require.Equal(t, "/crm/assets/callhistory.css", css.Path)
	}
	require.Empty(t, doc.findAll(byAttr("role", "alert")), "no alert on a plain GET")

	refreshes, _ := svc.counts()
	require.Zero(t, refreshes, "showing the page must not refresh")
}

func TestPageEnglish(t *testing.T) {
	t.Parallel()
	srv := newServer(t, &fakeService{result: sampleResult()}, callhistoryhttp.Options{})

	resp, body := do(t, srv.Client(), http.MethodGet, srv.URL+"/crm/leads/L-1", signedIn("Accept-Language", "en-US,en;q=0.9"), nil)

	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	doc := parseHTML(t, body)
	require.Equal(t, "en", doc.findAll(byTag("html"))[0].Attr["lang"])
	got := rows(t, doc)
	require.Equal(t, []string{"20 Nov 2026, 14:30", "↗ Outgoing", "Connected", "1:27", "Anna Nowak+48 511 222 333", "Open recording", "Klient prosi o ofertę"}, got[0])
	require.Equal(t, "Refresh call history", doc.findAll(byTag("form"))[0].textContent())
	if diff := cmp.Diff(map[string][2]string{
		"calls":          {"3", "since 25 May 2026"},
		"connected":      {"1", "Missed: 1"},
		"talk":           {"1 min 27 s", "1:27 per conversation on average"},
		"last-contact":   {"5 days ago", "20 Nov 2026, 14:30 · ↗ Anna Nowak · Connected"},
		"last-connected": {"20 Nov 2026, 14:30", "Anna Nowak · 1:27"},
		"missed":         {"1 Jul 2026, 09:05", "Called back 20 Nov 2026, 14:30 (Anna Nowak)"},
	}, tiles(t, doc)); diff != "" {
		t.Errorf("summary tiles (-want +got):\n%s", diff)
	}
	require.Equal(t, "Calls (6 months)", tileLabel(t, doc, "calls"))
}

func TestPageEmptyAndNeverSynced(t *testing.T) {
	t.Parallel()
	res := sampleResult()
	res.Calls, res.LastSyncedAt = nil, time.Time{}
	srv := newServer(t, &fakeService{result: res}, callhistoryhttp.Options{})

	resp, body := do(t, srv.Client(), http.MethodGet, srv.URL+"/crm/leads/L-1", signedIn(), nil)

	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	doc := parseHTML(t, body)
	require.Empty(t, doc.findAll(byAttr("class", "calls")), "no table without calls")
	empty := doc.findAll(byAttr("class", "empty"))
	require.Len(t, empty, 1)
	require.Equal(t, "Historia nie została jeszcze pobrana Odśwież historię, aby pobrać połączenia z ostatnich 6 miesięcy z Callyzer.", empty[0].textContent())
	require.Contains(t, doc.findAll(byID("call-history-sync"))[0].textContent(),
		"Historia nie była jeszcze synchronizowana z Callyzer.")
	require.Len(t, doc.findAll(byTag("form")), 1, "the refresh button is there")
	require.Empty(t, doc.findAll(byAttr("class", "summary")), "no summary of no calls")
}

func TestPageErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		err     error
		actor   bool
		status  int
		message string
	}{
		{"no user", nil, false, http.StatusUnauthorized, callhistoryhttp.MsgSignedOut},
		{"forbidden", callhistory.ErrForbidden, true, http.StatusForbidden, msgForbidden},
		{"lead not found", callhistory.ErrLeadNotFound, true, http.StatusNotFound, msgLeadNotFound},
		{"invalid phone", callhistory.ErrInvalidPhone, true, http.StatusUnprocessableEntity, msgInvalidPhone},
		{"store", callhistory.ErrStore, true, http.StatusInternalServerError, msgFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, &fakeService{result: sampleResult(), historyErr: tt.err}, callhistoryhttp.Options{})
			var header http.Header
			if tt.actor {
				header = signedIn()
			}
			resp, body := do(t, srv.Client(), http.MethodGet, srv.URL+"/crm/leads/L-1", header, nil)
			require.Equal(t, tt.status, resp.StatusCode, body)
			doc := parseHTML(t, body)
			alerts := doc.findAll(byAttr("role", "alert"))
			require.Len(t, alerts, 1)
			require.Equal(t, tt.message, alerts[0].textContent())
			require.Empty(t, doc.findAll(byTag("form")), "no refresh button when the history cannot be shown")
			require.Empty(t, doc.findAll(byID("lead-name")), "nothing the service holds of the lead is shown")
			ids := doc.findAll(byAttr("class", "lead-id"))
			require.Len(t, ids, 1, "the page names the lead asked for")
			require.Equal(t, "Lead L-1", ids[0].textContent())
		})
	}
}

// TestFormRefresh follows the no-JavaScript flow: the form POSTs, the
// handler answers 303 to the page with the message key in a one-time
// cookie, the page shows the message, and a reload does not.
func TestFormRefresh(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		err      error
		key      string
		role     string
		message  string
		language string
	}{
		{"success", nil, "updated", "status", msgUpdated, ""},
		{"success in English", nil, "updated", "status", "The call history has been updated", "en"},
		{"timeout", callhistory.ErrTimeout, "timeout", "alert", msgTimeout, ""},
		{"callyzer auth", callhistory.ErrCallyzerAuth, "callyzer_auth", "alert", msgCallyzerAuth, ""},
		{"rate limited", callhistory.ErrRateLimited, "rate_limited", "alert", msgRateLimited, ""},
		{"upstream", callhistory.ErrUpstream, "upstream", "alert", msgFailed, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			svc := &fakeService{result: sampleResult(), refreshErr: tt.err}
			srv := newServer(t, svc, callhistoryhttp.Options{})
			browser := withJar(t, srv)
			browser.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
			header := signedIn("Content-Type", "application/x-www-form-urlencoded",
				"Sec-Fetch-Site", "same-origin", "Origin", srv.URL, "Accept-Language", tt.language)

			resp, body := do(t, browser, http.MethodPost, srv.URL+"/crm/leads/L-1/refresh", header, strings.NewReader(""))

			require.Equal(t, http.StatusSeeOther, resp.StatusCode, body)
			loc, err := resp.Request.URL.Parse(resp.Header.Get("Location"))
			require.NoError(t, err)
			require.Equal(t, "/crm/leads/L-1", loc.Path, "the redirect stays under the mount prefix")
			require.Empty(t, loc.RawQuery, "the outcome is not in the URL")
			flash := resp.Cookies()
			require.Len(t, flash, 1)
			require.Equal(t, "leadcalls_flash", flash[0].Name)
			require.Equal(t, tt.key, flash[0].Value, "a message key, never text")
			require.Empty(t, flash[0].Path, "scoped by the browser to the lead page's path")
			require.True(t, flash[0].HttpOnly)
			require.Equal(t, 60, flash[0].MaxAge)

			messages := func() []*node {
				t.Helper()
				resp, body := do(t, browser, http.MethodGet, loc.String(), signedIn("Accept-Language", tt.language), nil)
				require.Equal(t, http.StatusOK, resp.StatusCode, body)
				doc := parseHTML(t, body)
				require.Len(t, rows(t, doc), 3, "the stored history stays visible")
				msgs := doc.findAll(byID("call-history-messages"))
				require.Len(t, msgs, 1)
				return msgs[0].findAll(byAttr("role", tt.role))
			}
			shown := messages()
			require.Len(t, shown, 1, "one message with role=%s", tt.role)
			require.Equal(t, tt.message, shown[0].textContent())
			require.Empty(t, messages(), "a reload does not show the message again")
			refreshes, _ := svc.counts()
			require.Equal(t, 1, refreshes)
		})
	}
}

// TestFlashIsPerLead: the message of one lead's refresh is not shown on
// another lead's page.
func TestFlashIsPerLead(t *testing.T) {
	t.Parallel()
	srv := newServer(t, &fakeService{result: sampleResult()}, callhistoryhttp.Options{})
	browser := withJar(t, srv)
	browser.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	resp, body := do(t, browser, http.MethodPost, srv.URL+"/crm/leads/L-1/refresh", signedIn(), nil)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, body)
	_, body = do(t, browser, http.MethodGet, srv.URL+"/crm/leads/L-2", signedIn(), nil)
	require.NotContains(t, body, msgUpdated)
	_, body = do(t, browser, http.MethodGet, srv.URL+"/crm/leads/L-1", signedIn(), nil)
	require.Contains(t, body, msgUpdated)
}

func TestFormRefreshLeadIDEscaping(t *testing.T) {
	t.Parallel()
	srv := newServer(t, &fakeService{result: sampleResult()}, callhistoryhttp.Options{})

	resp, body := do(t, noRedirects(srv), http.MethodPost, srv.URL+"/crm/leads/a:b%20c/refresh", signedIn(), nil)

	require.Equal(t, http.StatusSeeOther, resp.StatusCode, body)
	loc, err := resp.Request.URL.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	require.Equal(t, "/crm/leads/a:b c", loc.Path)
	require.Equal(t, srv.URL[len("http://"):], loc.Host, "a relative redirect, not a scheme")
}

func TestPageFlashKeyIsNotText(t *testing.T) {
	t.Parallel()
	srv := newServer(t, &fakeService{result: sampleResult()}, callhistoryhttp.Options{})

	for _, key := range []string{"Twoje_konto_zostalo_zablokowane", "%3Cscript%3Ealert(1)%3C/script%3E", "UPDATED"} {
		resp, body := do(t, srv.Client(), http.MethodGet, srv.URL+"/crm/leads/L-1", signedIn("Cookie", "leadcalls_flash="+key), nil)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.NotContains(t, body, key)
		doc := parseHTML(t, body)
		msgs := doc.findAll(byID("call-history-messages"))
		require.Len(t, msgs, 1)
		require.Empty(t, msgs[0].Children, "an unknown key shows no message, and the box stays :empty")
		cleared := resp.Cookies()
		require.Len(t, cleared, 1, "an unknown key is cleared too")
		require.Equal(t, "/crm/leads/L-1", cleared[0].Path)
		require.Negative(t, cleared[0].MaxAge)
	}
	// The old query parameter carries nothing any more.
	_, body := do(t, srv.Client(), http.MethodGet, srv.URL+"/crm/leads/L-1?result=updated", signedIn(), nil)
	require.NotContains(t, body, msgUpdated)
}

// TestCrossSiteFormPage: the 403 page of a cross-site form POST, at
// /leads/{leadID}/refresh, links the stylesheet at the mount's assets.
func TestCrossSiteFormPage(t *testing.T) {
	t.Parallel()
	svc := &fakeService{result: sampleResult()}
	srv := newServer(t, svc, callhistoryhttp.Options{})
	pageURL := srv.URL + "/crm/leads/L-1/refresh"

	resp, body := do(t, noRedirects(srv), http.MethodPost, pageURL, signedIn("Sec-Fetch-Site", "cross-site"), nil)

	require.Equal(t, http.StatusForbidden, resp.StatusCode, body)
	doc := parseHTML(t, body)
	alerts := doc.findAll(byAttr("role", "alert"))
	require.Len(t, alerts, 1)
	require.Equal(t, callhistoryhttp.MsgCrossOrigin, alerts[0].textContent())
	base, err := url.Parse(pageURL)
	require.NoError(t, err)
	links := doc.findAll(byAttr("rel", "stylesheet"))
	require.Len(t, links, 1)
	css, err := base.Parse(links[0].Attr["href"])
	require.NoError(t, err)
	require.Equal(t, "/crm/assets/callhistory.css", css.Path)
	scripts := doc.findAll(byTag("script"))
	require.Len(t, scripts, 1)
	js, err := base.Parse(scripts[0].Attr["src"])
	require.NoError(t, err)
	require.Equal(t, "/crm/assets/callhistory.js", js.Path)
	resp, _ = do(t, srv.Client(), http.MethodGet, css.String(), nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, "the stylesheet is there")
	require.Empty(t, resp.Cookies(), "no flash for a refused form")
}

func TestPageZoneNote(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, zone, lang, want string
	}{
		{"Warsaw in Polish", "Europe/Warsaw", "pl", "Czas polski (Europe/Warsaw)"},
		{"Warsaw in English", "Europe/Warsaw", "en", "Polish time (Europe/Warsaw)"},
		{"another zone in Polish", "America/New_York", "pl", "Godziny w strefie America/New_York"},
		{"another zone in English", "America/New_York", "en", "Times in America/New_York"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, &fakeService{result: sampleResult()}, callhistoryhttp.Options{Location: mustLoad(tt.zone)})
			_, body := do(t, srv.Client(), http.MethodGet, srv.URL+"/crm/leads/L-1", signedIn("Accept-Language", tt.lang), nil)
			zones := parseHTML(t, body).findAll(byAttr("class", "zone"))
			require.Len(t, zones, 1)
			require.Equal(t, tt.want, zones[0].textContent())
		})
	}
}

func TestPageHeaderHook(t *testing.T) {
	t.Parallel()
	srv := newServer(t, &fakeService{result: sampleResult()}, callhistoryhttp.Options{
		Header: func(r *http.Request) template.HTML {
			return `<nav class="topbar"><a href="/">Leady</a></nav>`
		},
	})

	_, body := do(t, srv.Client(), http.MethodGet, srv.URL+"/crm/leads/L-1", signedIn(), nil)

	doc := parseHTML(t, body)
	headers := doc.findAll(byAttr("class", "app-header"))
	require.Len(t, headers, 1)
	require.Equal(t, "Leady", headers[0].textContent())
}

// TestRecordingURLIsHTTPS: a recording URL reaches the JSON API and the
// page's player and link only when it is an absolute https URL; any other
// is left out as if the call had no recording.
func TestRecordingURLIsHTTPS(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url  string
		kept bool
	}{
		{"https://rec.example.com/c-3.mp3", true},
		{"HTTPS://rec.example.com/c-3.mp3?sig=a%2Fb", true},
		{"https://rec.example.com:8443/c-3.mp3", true},
		{"http://rec.example.com/c-3.mp3", false},
		{"javascript:alert(document.cookie)", false},
		{"JavaScript:alert(1)", false},
		{"data:audio/mpeg;base64,SUQz", false},
		{"data:text/html,<script>alert(1)</script>", false},
		{"//rec.example.com/c-3.mp3", false},
		{"/recordings/c-3.mp3", false},
		{"c-3.mp3", false},
		{"https:///c-3.mp3", false},
		{"https:c-3.mp3", false},
		{" https://rec.example.com/c-3.mp3", false},
		{"https://rec.example.com/\x00.mp3", false},
		{"ftp://rec.example.com/c-3.mp3", false},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			t.Parallel()
			res := sampleResult()
			res.Calls = res.Calls[:1]
			res.Calls[0].RecordingURL = tt.url
			srv := newServer(t, &fakeService{result: res}, callhistoryhttp.Options{})

			resp, body := do(t, srv.Client(), http.MethodGet, srv.URL+"/crm/api/leads/L-1/call-history", signedIn(), nil)
			require.Equal(t, http.StatusOK, resp.StatusCode, body)
			calls := decodeJSON(t, body)["calls"].([]any)
			require.Len(t, calls, 1)
			want := ""
			if tt.kept {
				want = tt.url
			}
			require.Equal(t, want, calls[0].(map[string]any)["recording_url"], "JSON")

			resp, body = do(t, srv.Client(), http.MethodGet, srv.URL+"/crm/leads/L-1", signedIn(), nil)
			require.Equal(t, http.StatusOK, resp.StatusCode, body)
			doc := parseHTML(t, body)
			links := doc.findAll(byAttr("class", "recording"))
			cells := rows(t, doc)
			require.Len(t, cells, 1)
			players := doc.findAll(byTag("audio"))
			if !tt.kept {
				require.Empty(t, links, "no link to the recording")
				require.Empty(t, players, "no player")
				require.Equal(t, "— brak nagrania", cells[0][5], "shown as a call without a recording")
				return
			}
			require.Len(t, links, 1)
			require.Equal(t, "Otwórz nagranie", links[0].textContent())
			u, err := url.Parse(links[0].Attr["href"])
			require.NoError(t, err)
			require.Equal(t, "https", u.Scheme)
			require.Equal(t, "Otwórz nagranie", cells[0][5])
			require.Len(t, players, 1)
			require.Equal(t, links[0].Attr["href"], players[0].Attr["src"])
		})
	}
}

// TestFlashCookieSecure: the flash cookie, set by the form POST and
// cleared by the page, is Secure over TLS, and with Options.SecureCookies
// also over plain HTTP (behind a TLS-terminating proxy).
func TestFlashCookieSecure(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		tls           bool
		secureCookies bool
		want          bool
	}{
		{"plain HTTP", false, false, false},
		{"plain HTTP behind a TLS proxy (SecureCookies)", false, true, true},
		{"TLS", true, false, true},
		{"TLS and SecureCookies", true, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			mux := http.NewServeMux()
			mux.Handle("/crm/", http.StripPrefix("/crm", callhistoryhttp.NewHandler(&fakeService{result: sampleResult()}, callhistoryhttp.Options{
				Actor:         actorFromHeader,
				Logger:        slog.New(slog.DiscardHandler),
				SecureCookies: tt.secureCookies,
			})))
			srv := httptest.NewUnstartedServer(mux)
			if tt.tls {
				srv.StartTLS()
			} else {
				srv.Start()
			}
			t.Cleanup(srv.Close)

			resp, body := do(t, noRedirects(srv), http.MethodPost, srv.URL+"/crm/leads/L-1/refresh", signedIn(), nil)
			require.Equal(t, http.StatusSeeOther, resp.StatusCode, body)
			set := resp.Cookies()
			require.Len(t, set, 1)
			require.Equal(t, "leadcalls_flash", set[0].Name, "the name stays (the cookie has a path, so no __Host- prefix)")
			require.Equal(t, tt.want, set[0].Secure, "set")

			resp, body = do(t, srv.Client(), http.MethodGet, srv.URL+"/crm/leads/L-1", signedIn("Cookie", "leadcalls_flash=updated"), nil)
			require.Equal(t, http.StatusOK, resp.StatusCode, body)
			cleared := resp.Cookies()
			require.Len(t, cleared, 1)
			require.Negative(t, cleared[0].MaxAge)
			require.Equal(t, tt.want, cleared[0].Secure, "cleared")
		})
	}
}

// tiles returns the value and the detail of each summary tile, by key.
func tiles(t *testing.T, doc *node) map[string][2]string {
	t.Helper()
	out := map[string][2]string{}
	for _, tile := range doc.findAll(func(n *node) bool { return n.Attr["data-tile"] != "" }) {
		var v [2]string
		for _, dd := range tile.findAll(byTag("dd")) {
			switch dd.Attr["class"] {
			case "value":
				v[0] = dd.textContent()
			case "detail":
				v[1] = dd.textContent()
			}
		}
		out[tile.Attr["data-tile"]] = v
	}
	return out
}

func tileLabel(t *testing.T, doc *node, key string) string {
	t.Helper()
	found := doc.findAll(byAttr("data-tile", key))
	require.Len(t, found, 1, key)
	dts := found[0].findAll(byTag("dt"))
	require.Len(t, dts, 1, key)
	return dts[0].textContent()
}

// tileClass returns the class attribute of the tile of key.
func tileClass(t *testing.T, doc *node, key string) string {
	t.Helper()
	found := doc.findAll(byAttr("data-tile", key))
	require.Len(t, found, 1, key)
	return found[0].Attr["class"]
}

// TestPageEmptyAfterSync: a number that was synced and has no calls says
// there were none in the window, not that the history was never fetched.
func TestPageEmptyAfterSync(t *testing.T) {
	t.Parallel()
	res := sampleResult()
	res.Calls, res.Summary = nil, callhistory.Summary{Window: res.Summary.Window}
	srv := newServer(t, &fakeService{result: res}, callhistoryhttp.Options{})

	for _, tt := range []struct{ lang, want string }{
		{"pl", "Brak połączeń w ostatnich 6 miesiącach Callyzer nie ma żadnego połączenia z tym numerem od 25.05.2026."},
		{"en", "No calls in the last 6 months Callyzer has no call with this number since 25 May 2026."},
	} {
		resp, body := do(t, srv.Client(), http.MethodGet, srv.URL+"/crm/leads/L-1", signedIn("Accept-Language", tt.lang), nil)
		require.Equal(t, http.StatusOK, resp.StatusCode, body)
		doc := parseHTML(t, body)
		empty := doc.findAll(byAttr("class", "empty"))
		require.Len(t, empty, 1)
		require.Equal(t, tt.want, empty[0].textContent())
		require.NotContains(t, body, "Odśwież historię, aby pobrać")
	}
}

// TestPageLastSyncPass: "last synchronised" is the later of the lead's
// own last sync and the last pass of the periodic sync, and says which.
func TestPageLastSyncPass(t *testing.T) {
	t.Parallel()
	own := time.Date(2026, 11, 25, 13, 5, 0, 0, time.UTC)
	tests := []struct {
		name  string
		own   time.Time
		pass  func(*http.Request) time.Time
		lang  string
		want  string
		empty string // the empty state, when the lead has no calls
	}{
		{"no periodic sync", own, nil, "pl", "Ostatnia synchronizacja: 25.11.2026, 14:05 · pobranie historii tego leada Czas polski (Europe/Warsaw)", ""},
		{"the lead's own is later", own, func(*http.Request) time.Time { return own.Add(-time.Hour) }, "pl",
			"Ostatnia synchronizacja: 25.11.2026, 14:05 · pobranie historii tego leada Czas polski (Europe/Warsaw)", ""},
		{"the pass is later", own, func(*http.Request) time.Time { return own.Add(10 * time.Minute) }, "pl",
			"Ostatnia synchronizacja: 25.11.2026, 14:15 · okresowa synchronizacja wszystkich leadów Czas polski (Europe/Warsaw)", ""},
		{"the pass is later, in English", own, func(*http.Request) time.Time { return own.Add(10 * time.Minute) }, "en",
			"Last synchronised: 25 Nov 2026, 14:15 · periodic sync of all leads Polish time (Europe/Warsaw)", ""},
		{"never refreshed, but a pass ran", time.Time{}, func(*http.Request) time.Time { return own }, "pl",
			"Ostatnia synchronizacja: 25.11.2026, 14:05 · okresowa synchronizacja wszystkich leadów Czas polski (Europe/Warsaw)",
			"Brak połączeń w ostatnich 6 miesiącach Callyzer nie ma żadnego połączenia z tym numerem od 25.05.2026."},
		{"never synced, no pass either", time.Time{}, func(*http.Request) time.Time { return time.Time{} }, "pl",
			"Historia nie była jeszcze synchronizowana z Callyzer. Czas polski (Europe/Warsaw)",
			"Historia nie została jeszcze pobrana Odśwież historię, aby pobrać połączenia z ostatnich 6 miesięcy z Callyzer."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := sampleResult()
			res.LastSyncedAt = tt.own
			if tt.empty != "" {
				res.Calls, res.Summary = nil, callhistory.Summary{Window: res.Summary.Window}
			}
			srv := newServer(t, &fakeService{result: res}, callhistoryhttp.Options{LastSyncPass: tt.pass})
			resp, body := do(t, srv.Client(), http.MethodGet, srv.URL+"/crm/leads/L-1", signedIn("Accept-Language", tt.lang), nil)
			require.Equal(t, http.StatusOK, resp.StatusCode, body)
			doc := parseHTML(t, body)
			require.Equal(t, tt.want, doc.findAll(byID("call-history-sync"))[0].textContent())
			if tt.empty != "" {
				require.Equal(t, tt.empty, doc.findAll(byAttr("class", "empty"))[0].textContent())
			}
		})
	}
}

// TestPageSummaryStates: the tiles of the last contact and of the latest
// missed call in each of their states.
func TestPageSummaryStates(t *testing.T) {
	t.Parallel()
	base := sampleCalls()
	c3, c2 := base.Calls[0], base.Calls[1] // outgoing connected on 20.11; incoming missed on 1.07
	answered := c3
	answered.Direction, answered.Status, answered.EmployeeName = statusmap.Incoming, statusmap.Answered, "Piotr Wiśniewski"
	tests := []struct {
		name    string
		summary callhistory.Summary
		key     string
		want    [2]string
		tone    string
	}{
		{"last contact today", callhistory.Summary{Calls: 1, LastContact: &c3}, "last-contact",
			[2]string{"dziś, 14:30", "↗ Anna Nowak · Połączone"}, ""},
		{"last contact yesterday", callhistory.Summary{Calls: 1, LastContact: &c3, LastContactDays: 1}, "last-contact",
			[2]string{"wczoraj, 14:30", "↗ Anna Nowak · Połączone"}, ""},
		{"no connected call", callhistory.Summary{Calls: 1, LastContact: &c2, Missed: 1}, "last-connected",
			[2]string{"brak", ""}, ""},
		{"no missed call", callhistory.Summary{Calls: 1, LastContact: &c3}, "missed",
			[2]string{"brak", "Klient nie czeka na oddzwonienie"}, "ok"},
		{"called back", callhistory.Summary{Calls: 2, LastMissed: &c2, CalledBack: &c3}, "missed",
			[2]string{"01.07.2026, 09:05", "Oddzwoniono 20.11.2026, 14:30 (Anna Nowak)"}, "ok"},
		{"the client got through", callhistory.Summary{Calls: 2, LastMissed: &c2, CalledBack: &answered}, "missed",
			[2]string{"01.07.2026, 09:05", "Klient dodzwonił się 20.11.2026, 14:30 (Piotr Wiśniewski)"}, "ok"},
		{"waiting, the same day", callhistory.Summary{Calls: 1, LastMissed: &c2}, "missed",
			[2]string{"01.07.2026, 09:05", "Nikt jeszcze nie oddzwonił"}, "warn"},
		{"overdue", callhistory.Summary{Calls: 1, LastMissed: &c2, CallbackOverdue: true}, "missed",
			[2]string{"01.07.2026, 09:05", "Nikt nie oddzwonił – zaległe"}, "err"},
		{"talk time over an hour", callhistory.Summary{Calls: 2, Connected: 2, TalkSeconds: 3725}, "talk",
			[2]string{"1 godz. 2 min", "średnio 31:02 na rozmowę"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := sampleCalls()
			res.Summary = tt.summary
			srv := newServer(t, &fakeService{result: res}, callhistoryhttp.Options{})
			resp, body := do(t, srv.Client(), http.MethodGet, srv.URL+"/crm/leads/L-1", signedIn(), nil)
			require.Equal(t, http.StatusOK, resp.StatusCode, body)
			doc := parseHTML(t, body)
			require.Equal(t, tt.want, tiles(t, doc)[tt.key])
			if tt.tone != "" {
				require.Contains(t, tileClass(t, doc, tt.key), "tone-"+tt.tone)
			}
		})
	}

	t.Run("partial", func(t *testing.T) {
		t.Parallel()
		res := sampleResult()
		res.Summary.Partial = true
		srv := newServer(t, &fakeService{result: res}, callhistoryhttp.Options{})
		_, body := do(t, srv.Client(), http.MethodGet, srv.URL+"/crm/leads/L-1", signedIn(), nil)
		notes := parseHTML(t, body).findAll(byAttr("class", "muted partial"))
		require.Len(t, notes, 1)
		require.Equal(t, "Podsumowanie obejmuje 3 najnowszych połączeń z listy.", notes[0].textContent())
	})
}

// TestPageRecordingURLHook: a host that serves recordings itself gives
// the page's player and link its own address; the JSON API keeps
// Callyzer's.
func TestPageRecordingURLHook(t *testing.T) {
	t.Parallel()
	srv := newServer(t, &fakeService{result: sampleResult()}, callhistoryhttp.Options{
		RecordingURL: func(r *http.Request, leadID string, c callhistory.Call) string {
			if c.RecordingURL == "" {
				return ""
			}
			return "/recordings/" + url.PathEscape(leadID) + "/" + url.PathEscape(c.CallyzerID)
		},
	})
	_, body := do(t, srv.Client(), http.MethodGet, srv.URL+"/crm/leads/L-1", signedIn(), nil)
	doc := parseHTML(t, body)
	players := doc.findAll(byTag("audio"))
	require.Len(t, players, 1)
	require.Equal(t, "/recordings/L-1/c-3", players[0].Attr["src"])
	require.Equal(t, "/recordings/L-1/c-3", doc.findAll(byAttr("class", "recording"))[0].Attr["href"])

	_, body = do(t, srv.Client(), http.MethodGet, srv.URL+"/crm/api/leads/L-1/call-history", signedIn(), nil)
	calls := decodeJSON(t, body)["calls"].([]any)
	require.Equal(t, "https://rec.example.com/c-3.mp3", calls[0].(map[string]any)["recording_url"])
}

// TestPageWayBack: with Options.LeadsURL every page, a failed one too,
// links back to the host's list of leads.
func TestPageWayBack(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		err    error
		status int
	}{
		{"the lead's page", nil, http.StatusOK},
		{"forbidden", callhistory.ErrForbidden, http.StatusForbidden},
		{"not found", callhistory.ErrLeadNotFound, http.StatusNotFound},
		{"invalid phone", callhistory.ErrInvalidPhone, http.StatusUnprocessableEntity},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, &fakeService{result: sampleResult(), historyErr: tt.err}, callhistoryhttp.Options{LeadsURL: "/leads?view=mine"})
			for _, lang := range []struct{ header, want string }{{"pl", "← Wróć do listy leadów"}, {"en", "← Back to the leads"}} {
				resp, body := do(t, srv.Client(), http.MethodGet, srv.URL+"/crm/leads/L-1", signedIn("Accept-Language", lang.header), nil)
				require.Equal(t, tt.status, resp.StatusCode, body)
				back := parseHTML(t, body).findAll(byAttr("class", "back"))
				require.Len(t, back, 1)
				links := back[0].findAll(byTag("a"))
				require.Len(t, links, 1)
				require.Equal(t, "/leads?view=mine", links[0].Attr["href"])
				require.Equal(t, lang.want, links[0].textContent())
			}
		})
	}
}

// TestPageIcon: the page names its icon among the handler's assets, so a
// browser does not ask the host for /favicon.ico.
func TestPageIcon(t *testing.T) {
	t.Parallel()
	srv := newServer(t, &fakeService{result: sampleResult()}, callhistoryhttp.Options{})
	pageURL := srv.URL + "/crm/leads/L-1"
	_, body := do(t, srv.Client(), http.MethodGet, pageURL, signedIn(), nil)
	icons := parseHTML(t, body).findAll(byAttr("rel", "icon"))
	require.Len(t, icons, 1)
	base, err := url.Parse(pageURL)
	require.NoError(t, err)
	icon, err := base.Parse(icons[0].Attr["href"])
	require.NoError(t, err)
	require.Equal(t, "/crm/assets/favicon.svg", icon.Path)
	resp, svg := do(t, srv.Client(), http.MethodGet, icon.String(), nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "image/svg+xml", resp.Header.Get("Content-Type"))
	require.Contains(t, svg, "<svg")
}
