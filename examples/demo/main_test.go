package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/leadcalls/leadcalls/callhistory"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

var urlLine = regexp.MustCompile(`open (http://127\.0\.0\.1:\d+)/`)

// startDemo runs the demo in-process on a free loopback port, with a fresh
// SQLite file and a fast simulator, and returns its base URL. The periodic
// sync is off unless extra turns it on (a later flag wins), so that a test
// sees a lead's history only after its own refresh. The demo is stopped,
// and must shut down cleanly, when the test ends.
func startDemo(t *testing.T, extra ...string) string {
	t.Helper()
	args := append([]string{
		"-addr", "127.0.0.1:0",
		"-db", filepath.Join(t.TempDir(), "demo.db"),
		"-callyzer-interval", "50ms",
		"-sim-latency", "0",
		"-refresh-timeout", "20s",
		"-sync-interval", "0",
	}, extra...)
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(ctx, args, pw)
		pw.CloseWithError(err)
		done <- err
	}()
	found := make(chan string, 1)
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if m := urlLine.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
			if testing.Verbose() {
				t.Log(sc.Text())
			}
		}
		io.Copy(io.Discard, pr)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			<-scanned // no t.Log after the test
			require.NoError(t, err, "the demo must shut down cleanly")
		case <-time.After(30 * time.Second):
			t.Error("the demo did not shut down")
		}
	})
	select {
	case u := <-found:
		return u
	case err := <-done:
		t.Fatalf("the demo stopped before serving: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("the demo printed no URL")
	}
	return ""
}

// browserless is a cookie-keeping HTTP client that does not follow
// redirects.
func browserless(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	t.Cleanup(c.CloseIdleConnections)
	return c
}

func fetch(t *testing.T, c *http.Client, method, u string, form url.Values) (*http.Response, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(t.Context(), method, u, body)
	require.NoError(t, err)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(b)
}

func login(t *testing.T, c *http.Client, base, userID string) {
	t.Helper()
	resp, body := fetch(t, c, http.MethodPost, base+"/login", url.Values{"user_id": {userID}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, body)
	require.Equal(t, "/", resp.Header.Get("Location"))
}

// TestDemoWithoutJavaScript walks the demo as a browser without JavaScript
// would: sign in, open a lead, refresh through the form, follow the 303.
func TestDemoWithoutJavaScript(t *testing.T) {
	base := startDemo(t, "-seed", "seed.example.json")
	c := browserless(t)

	resp, _ := fetch(t, c, http.MethodGet, base+"/crm/leads/1001", nil)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, "no session: to the sign-in page")
	require.Equal(t, "/login", resp.Header.Get("Location"))
	resp, _ = fetch(t, c, http.MethodGet, base+"/crm/api/leads/1001/call-history", nil)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "the API answers 401 itself")

	login(t, c, base, "piotr.doradca")
	resp, body := fetch(t, c, http.MethodGet, base+"/", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	for _, name := range []string{"Jan Kowalski", "Barbara Wiśniewska", "Grzegorz Lewandowski", "Zofia Kamińska", "Krzysztof Wójcik"} {
		require.Contains(t, body, name, "an advisor sees every lead in the list")
	}
	require.Contains(t, body, "Piotr Nowicki")

	resp, body = fetch(t, c, http.MethodGet, base+"/crm/leads/1001", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.Contains(t, body, "Historia nie była jeszcze synchronizowana")
	require.Contains(t, body, "Brak połączeń w historii")

	resp, body = fetch(t, c, http.MethodPost, base+"/crm/leads/1001/refresh", url.Values{})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, body)
	next, err := resp.Request.URL.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	require.Equal(t, "/crm/leads/1001?result=updated", next.RequestURI())

	resp, body = fetch(t, c, http.MethodGet, next.String(), nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.Contains(t, body, `role="status">Historia połączeń została zaktualizowana<`)
	require.Contains(t, body, "Ostatnia synchronizacja:")
	require.Contains(t, body, `<table class="calls">`, "the seeded calls are shown")

	// Another advisor: the spec's permission message.
	other := browserless(t)
	login(t, other, base, "anna.doradca")
	resp, body = fetch(t, other, http.MethodGet, base+"/crm/leads/1001", nil)
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	require.Contains(t, body, `role="alert">Brak uprawnień do przeglądania historii połączeń<`)
	resp, body = fetch(t, other, http.MethodPost, base+"/crm/leads/1001/refresh", url.Values{})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, body)
	require.Equal(t, "../1001?result=forbidden", resp.Header.Get("Location"))

	// Every seed lead with a valid number has calls in the simulator.
	admin := browserless(t)
	login(t, admin, base, "ewa.admin")
	for _, id := range []string{"1002", "1003", "1004", "1005"} {
		resp, body = fetch(t, admin, http.MethodPost, base+"/crm/api/leads/"+id+"/call-history/refresh", nil)
		require.Equal(t, http.StatusOK, resp.StatusCode, body)
		require.Contains(t, body, `"calls":[{`, "lead %s has simulated calls", id)
	}
}

func TestDemoBuiltinSeed(t *testing.T) {
	base := startDemo(t)
	c := browserless(t)
	login(t, c, base, "admin")

	resp, body := fetch(t, c, http.MethodGet, base+"/", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, body, "/crm/leads/L-0001")

	resp, body = fetch(t, c, http.MethodPost, base+"/crm/api/leads/L-BAD/call-history/refresh", nil)
	require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode, body)
	require.Contains(t, body, callhistory.MsgInvalidPhone)

	resp, body = fetch(t, c, http.MethodPost, base+"/crm/api/leads/L-NEW/call-history/refresh", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.Contains(t, body, `"calls":[]`)

	resp, body = fetch(t, c, http.MethodGet, base+"/crm/api/leads/L-NOPE/call-history", nil)
	require.Equal(t, http.StatusNotFound, resp.StatusCode, body)
}

func TestDemoCrossSiteLoginRefused(t *testing.T) {
	base := startDemo(t)
	c := browserless(t)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, base+"/login", strings.NewReader("user_id=admin"))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := c.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	require.Empty(t, resp.Cookies(), "no session from a cross-site form")

	resp, _ = fetch(t, c, http.MethodPost, base+"/login", url.Values{"user_id": {"nobody"}})
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
}

func TestSeedExampleLoads(t *testing.T) {
	t.Parallel()
	s, err := loadSeed("seed.example.json")
	require.NoError(t, err)
	require.Len(t, s.Users, 5)
	require.Len(t, s.Leads, 5)
	require.Equal(t, SeedLead{ID: "1001", Name: "Jan Kowalski", Phone: "+48 601 234 567", AdvisorID: "piotr.doradca"}, s.Leads[0])
	roles := map[callhistory.Role]bool{}
	for _, u := range s.Users {
		roles[u.Role] = true
	}
	require.Len(t, roles, 4, "the example shows every role")
}

func TestSeedRejects(t *testing.T) {
	t.Parallel()
	u := User{ID: "u", Name: "U", Role: callhistory.RoleAdvisor}
	l := SeedLead{ID: "l", Name: "L", Phone: "+48601234567", AdvisorID: "u"}
	tests := []struct {
		name string
		seed Seed
		want string
	}{
		{"empty", Seed{}, "at least one"},
		{"unknown role", Seed{Users: []User{{ID: "u", Name: "U", Role: "manager"}}, Leads: []SeedLead{l}}, "role"},
		{"duplicate user", Seed{Users: []User{u, u}, Leads: []SeedLead{l}}, "duplicate"},
		{"duplicate lead", Seed{Users: []User{u}, Leads: []SeedLead{l, l}}, "duplicate"},
		{"unknown advisor", Seed{Users: []User{u}, Leads: []SeedLead{{ID: "l", Name: "L", AdvisorID: "x"}}}, "not a user"},
		{"nameless lead", Seed{Users: []User{u}, Leads: []SeedLead{{ID: "l"}}}, "required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.seed.validate()
			require.Error(t, err)
			require.Contains(t, err.Error(), tt.want)
		})
	}
	_, err := loadSeed(filepath.Join(t.TempDir(), "missing.json"))
	require.Error(t, err)
}

func TestSessions(t *testing.T) {
	t.Parallel()
	s := newSessions()
	rec := &cookieRecorder{header: http.Header{}}
	s.set(rec, "piotr.doradca")
	req, err := http.NewRequest(http.MethodGet, "/", nil)
	require.NoError(t, err)
	cookie := rec.header.Get("Set-Cookie")
	require.Contains(t, cookie, "HttpOnly")
	require.Contains(t, cookie, "SameSite=Lax")
	req.Header.Set("Cookie", strings.Split(cookie, ";")[0])
	require.Equal(t, "piotr.doradca", s.userID(req))

	value := strings.TrimPrefix(strings.Split(cookie, ";")[0], sessionCookie+"=")
	v, sig, _ := strings.Cut(value, ".")
	for name, forged := range map[string]string{
		"other user, old signature": "YWRtaW4." + sig, // "admin"
		"no signature":              v,
		"empty":                     "",
		"other process's key":       v + "." + newSessions().sign(v),
	} {
		req.Header.Set("Cookie", sessionCookie+"="+forged)
		require.Empty(t, s.userID(req), name)
	}
}

type cookieRecorder struct{ header http.Header }

func (r *cookieRecorder) Header() http.Header         { return r.header }
func (r *cookieRecorder) Write(b []byte) (int, error) { return len(b), nil }
func (r *cookieRecorder) WriteHeader(int)             {}

func TestParseFlags(t *testing.T) {
	t.Setenv("CALLYZER_BASE_URL", "")
	t.Setenv("CALLYZER_API_KEY", "")
	cfg, err := parseFlags(nil, io.Discard)
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1:8080", cfg.addr)
	require.Equal(t, 30*time.Second, cfg.refreshTimeout)
	require.Equal(t, 2*time.Second, cfg.interval)
	require.Equal(t, "leadcalls-demo.db", filepath.Base(cfg.db))
	require.Equal(t, 5*time.Minute, cfg.syncInterval)

	_, err = parseFlags([]string{"-callyzer-url", "https://api1.callyzer.co/api/v2.1"}, io.Discard)
	require.ErrorContains(t, err, "CALLYZER_API_KEY")
	t.Setenv("CALLYZER_API_KEY", "k")
	cfg, err = parseFlags([]string{"-callyzer-url", "https://api1.callyzer.co/api/v2.1"}, io.Discard)
	require.NoError(t, err)
	require.Equal(t, "k", cfg.callyzerKey)

	_, err = parseFlags([]string{"extra"}, io.Discard)
	require.ErrorContains(t, err, "unexpected arguments")

	cfg, err = parseFlags([]string{"-sync-interval", "0"}, io.Discard)
	require.NoError(t, err)
	require.Zero(t, cfg.syncInterval, "0 turns the sync off")
	_, err = parseFlags([]string{"-sync-interval", "-1m"}, io.Discard)
	require.ErrorContains(t, err, "negative")
}
