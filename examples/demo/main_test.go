package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/leadcalls/leadcalls/callhistory"
	"github.com/leadcalls/leadcalls/callyzer/callyzertest"
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
	base, _ := startDemoLogged(t, extra...)
	return base
}

// output counts the bytes the demo writes to its stdout, its log among
// them.
type output struct {
	mu   sync.Mutex
	n    int
	text strings.Builder
}

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.n += len(p)
	o.text.Write(p)
	return len(p), nil
}

func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.text.String()
}

func (o *output) size() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.n
}

// startDemoLogged is startDemo that also counts what the demo writes.
func startDemoLogged(t *testing.T, extra ...string) (string, *output) {
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
	out := &output{}
	done := make(chan error, 1)
	go func() {
		err := run(ctx, args, io.MultiWriter(out, pw))
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
		return u, out
	case err := <-done:
		t.Fatalf("the demo stopped before serving: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("the demo printed no URL")
	}
	return "", nil
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
	require.Contains(t, body, "Historia nie została jeszcze pobrana")

	resp, body = fetch(t, c, http.MethodPost, base+"/crm/leads/1001/refresh", url.Values{})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, body)
	next, err := resp.Request.URL.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	require.Equal(t, "/crm/leads/1001", next.RequestURI(), "the message is not in the URL")

	resp, body = fetch(t, c, http.MethodGet, next.String(), nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.Contains(t, body, `role="status">Historia połączeń została zaktualizowana<`)
	require.Contains(t, body, "Ostatnia synchronizacja:")
	require.Contains(t, body, `<table class="calls">`, "the seeded calls are shown")
	_, body = fetch(t, c, http.MethodGet, next.String(), nil)
	require.NotContains(t, body, "Historia połączeń została zaktualizowana", "a reload shows the message no more")
	require.Contains(t, body, `<table class="calls">`)

	// Another advisor: the spec's permission message.
	other := browserless(t)
	login(t, other, base, "anna.doradca")
	resp, body = fetch(t, other, http.MethodGet, base+"/crm/leads/1001", nil)
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	require.Contains(t, body, `role="alert">Brak uprawnień do przeglądania historii połączeń<`)
	resp, body = fetch(t, other, http.MethodPost, base+"/crm/leads/1001/refresh", url.Values{})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, body)
	require.Equal(t, "../1001", resp.Header.Get("Location"))
	resp, body = fetch(t, other, http.MethodGet, base+"/crm/leads/1001", nil)
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	require.Equal(t, 1, strings.Count(body, `role="alert"`), "one message, not the page's and the flash's")

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
	require.Contains(t, body, `<span class="meta">&#43;48 789 000 111<br>`, "numbers grouped as on the lead page")
	require.Contains(t, body, `<span class="meta">12-34<br>`, "an invalid number is shown as written")

	resp, body = fetch(t, c, http.MethodPost, base+"/crm/api/leads/L-BAD/call-history/refresh", nil)
	require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode, body)
	require.Contains(t, body, msgInvalidPhone)

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
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	s := newSessions(false)
	s.now = func() time.Time { return now }
	plain := httptest.NewRequest(http.MethodPost, "http://crm.example/login", nil)
	rec := httptest.NewRecorder()
	s.set(rec, plain, "piotr.doradca")
	cookies := rec.Result().Cookies()
	require.Len(t, cookies, 1)
	c := cookies[0]
	require.Equal(t, sessionCookie, c.Name)
	require.True(t, c.HttpOnly)
	require.Equal(t, http.SameSiteLaxMode, c.SameSite)
	require.False(t, c.Secure, "plain HTTP: no Secure flag, or the browser would drop it")
	require.Equal(t, 12*60*60, c.MaxAge)

	withCookie := func(name, value string) *http.Request {
		r := httptest.NewRequest(http.MethodGet, "http://crm.example/", nil)
		r.AddCookie(&http.Cookie{Name: name, Value: value})
		return r
	}
	require.Equal(t, "piotr.doradca", s.userID(withCookie(sessionCookie, c.Value)))

	// Expiry, from the issued-at time under the MAC.
	now = now.Add(12*time.Hour - time.Second)
	require.Equal(t, "piotr.doradca", s.userID(withCookie(sessionCookie, c.Value)), "valid for 12 hours")
	now = now.Add(2 * time.Second)
	require.Empty(t, s.userID(withCookie(sessionCookie, c.Value)), "expired after 12 hours")
	now = now.Add(-12*time.Hour - 2*time.Minute)
	require.Empty(t, s.userID(withCookie(sessionCookie, c.Value)), "issued in the future")
	now = now.Add(2 * time.Minute)

	parts := strings.Split(c.Value, ".") // user id, issued at, MAC
	require.Len(t, parts, 3)
	id64, issued, mac := parts[0], parts[1], parts[2]
	payload := id64 + "." + issued
	issuedUnix, err := strconv.ParseInt(issued, 10, 64)
	require.NoError(t, err)
	for name, forged := range map[string]string{
		"other user, old signature":    "YWRtaW4." + issued + "." + mac, // "admin"
		"later sign-in, old signature": id64 + "." + strconv.FormatInt(issuedUnix+60, 10) + "." + mac,
		"no signature":                 payload,
		"empty":                        "",
		"other process's key":          payload + "." + newSessions(false).mac(payload),
		"old format (no time)":         id64 + "." + s.mac(id64),
	} {
		require.Empty(t, s.userID(withCookie(sessionCookie, forged)), name)
	}

	// Over TLS: Secure and the __Host- prefix; the plain name is not read.
	secure := httptest.NewRequest(http.MethodPost, "https://crm.example/login", nil)
	rec = httptest.NewRecorder()
	s.set(rec, secure, "piotr.doradca")
	c = rec.Result().Cookies()[0]
	require.Equal(t, "__Host-leadcalls_demo_session", c.Name)
	require.True(t, c.Secure)
	require.Equal(t, "/", c.Path)
	require.Empty(t, c.Domain)
	tlsReq := withCookie(c.Name, c.Value)
	tlsReq.TLS = secure.TLS
	require.Equal(t, "piotr.doradca", s.userID(tlsReq))
	tlsReq = withCookie(sessionCookie, c.Value)
	tlsReq.TLS = secure.TLS
	require.Empty(t, s.userID(tlsReq), "over TLS only the __Host- cookie counts")

	// Signing out clears the cookie of the same name and path.
	rec = httptest.NewRecorder()
	s.clear(rec, secure)
	c = rec.Result().Cookies()[0]
	require.Equal(t, "__Host-leadcalls_demo_session", c.Name)
	require.Empty(t, c.Value)
	require.Negative(t, c.MaxAge)
	require.True(t, c.Secure)
	require.Equal(t, "/", c.Path)

	// Configured secure (a TLS-terminating proxy in front): Secure and
	// __Host- on a plain HTTP request too; the plain name is not read.
	proxied := newSessions(true)
	proxied.now = s.now
	rec = httptest.NewRecorder()
	proxied.set(rec, plain, "piotr.doradca")
	c = rec.Result().Cookies()[0]
	require.Equal(t, "__Host-leadcalls_demo_session", c.Name)
	require.True(t, c.Secure)
	require.Equal(t, "/", c.Path)
	require.Empty(t, c.Domain)
	require.Equal(t, "piotr.doradca", proxied.userID(withCookie(c.Name, c.Value)))
	require.Empty(t, proxied.userID(withCookie(sessionCookie, c.Value)), "only the __Host- cookie counts")
	rec = httptest.NewRecorder()
	proxied.clear(rec, plain)
	c = rec.Result().Cookies()[0]
	require.Equal(t, "__Host-leadcalls_demo_session", c.Name)
	require.True(t, c.Secure)
	require.Negative(t, c.MaxAge)
}

func TestLogoutClearsTheSession(t *testing.T) {
	base := startDemo(t)
	c := browserless(t)
	login(t, c, base, "admin")
	resp, _ := fetch(t, c, http.MethodGet, base+"/", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)

	resp, _ = fetch(t, c, http.MethodPost, base+"/logout", url.Values{})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	resp, _ = fetch(t, c, http.MethodGet, base+"/", nil)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, "signed out")
	resp, body := fetch(t, c, http.MethodGet, base+"/crm/api/leads/L-0001/call-history", nil)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	require.Contains(t, body, "Sesja wygasła lub nie jesteś zalogowany. Zaloguj się ponownie.")
}

// TestCalibratesARealCallyzer: pointed at a Callyzer of its own (here a
// fake that matches national numbers only), the demo prints the
// calibration's findings and options before it serves.
func TestCalibratesARealCallyzer(t *testing.T) {
	ds := callyzertest.Generate(5, callyzertest.GenerateConfig{Calls: 400})
	srv := callyzertest.NewServer(t, callyzertest.Options{Calls: ds.Calls, Employees: ds.Employees,
		ClientNumberForms: callyzertest.FormNational})
	t.Setenv("CALLYZER_API_KEY", srv.APIKey())
	_, out := startDemoLogged(t, "-callyzer-url", srv.URL, "-seed", "seed.example.json")
	text := out.String()
	require.Contains(t, text, "Calibration: how this Callyzer account answers")
	require.Contains(t, text, "\nkey: accepted\nclient_numbers form: national\n")
	require.Contains(t, text, "\n\tcallyzer.WithClientNumberForm(\"national\"),\n")
	require.Less(t, strings.Index(text, "client_numbers form:"), strings.Index(text, "leadcalls demo: open"), "before it serves")
}

func TestParseFlags(t *testing.T) {
	t.Setenv("CALLYZER_BASE_URL", "")
	t.Setenv("CALLYZER_API_KEY", "")
	cfg, err := parseFlags(nil, io.Discard)
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1:8080", cfg.addr)
	require.Equal(t, 30*time.Second, cfg.refreshTimeout)
	require.Equal(t, 2*time.Second, cfg.interval)
	require.Equal(t, "leadcalls-demo.db", filepath.Base(cfg.db))
	if cache, err := os.UserCacheDir(); err == nil {
		require.Equal(t, filepath.Join(cache, "leadcalls-demo", "leadcalls-demo.db"), cfg.db, "in the user's cache, not /tmp")
	}
	require.Equal(t, 5*time.Minute, cfg.syncInterval)
	require.Equal(t, 15*time.Second, cfg.readTimeout)
	require.False(t, cfg.secureCookies, "plain HTTP on localhost signs in")

	const realURL = "https://api1.callyzer.co/api/v2.1"
	_, err = parseFlags([]string{"-callyzer-url", realURL, "-seed", "seed.example.json"}, io.Discard)
	require.ErrorContains(t, err, "CALLYZER_API_KEY")
	t.Setenv("CALLYZER_API_KEY", "k")
	_, err = parseFlags([]string{"-callyzer-url", realURL}, io.Discard)
	require.ErrorContains(t, err, "-callyzer-url needs -seed", "the built-in leads are invented")
	cfg, err = parseFlags([]string{"-callyzer-url", realURL, "-seed", "seed.example.json"}, io.Discard)
	require.NoError(t, err)
	require.Equal(t, "k", cfg.callyzerKey)
	require.Zero(t, cfg.syncInterval, "no sync of a real account unless asked for")
	cfg, err = parseFlags([]string{"-callyzer-url", realURL, "-seed", "seed.example.json", "-sync-interval", "10m"}, io.Discard)
	require.NoError(t, err)
	require.Equal(t, 10*time.Minute, cfg.syncInterval, "asked for")
	t.Setenv("CALLYZER_BASE_URL", realURL)
	_, err = parseFlags(nil, io.Discard)
	require.ErrorContains(t, err, "-seed", "CALLYZER_BASE_URL counts as -callyzer-url")
	t.Setenv("CALLYZER_BASE_URL", "")

	_, err = parseFlags([]string{"extra"}, io.Discard)
	require.ErrorContains(t, err, "unexpected arguments")

	cfg, err = parseFlags([]string{"-sync-interval", "0"}, io.Discard)
	require.NoError(t, err)
	require.Zero(t, cfg.syncInterval, "0 turns the sync off")
	_, err = parseFlags([]string{"-sync-interval", "-1m"}, io.Discard)
	require.ErrorContains(t, err, "negative")

	cfg, err = parseFlags([]string{"-read-timeout", "2s"}, io.Discard)
	require.NoError(t, err)
	require.Equal(t, 2*time.Second, cfg.readTimeout)
	_, err = parseFlags([]string{"-read-timeout", "0"}, io.Discard)
	require.ErrorContains(t, err, "not positive")

	cfg, err = parseFlags([]string{"-secure-cookies"}, io.Discard)
	require.NoError(t, err)
	require.True(t, cfg.secureCookies)
	t.Setenv(secureCookiesEnv, "true")
	cfg, err = parseFlags(nil, io.Discard)
	require.NoError(t, err)
	require.True(t, cfg.secureCookies, "the variable gives the default")
	cfg, err = parseFlags([]string{"-secure-cookies=false"}, io.Discard)
	require.NoError(t, err)
	require.False(t, cfg.secureCookies, "the flag wins")
	t.Setenv(secureCookiesEnv, "yes please")
	_, err = parseFlags(nil, io.Discard)
	require.ErrorContains(t, err, secureCookiesEnv)
}

// TestHelp runs the demo's main with -h in a child process: it prints the
// flags and exits 0.
func TestHelp(t *testing.T) {
	if os.Getenv("LEADCALLS_DEMO_MAIN") == "1" {
		os.Args = []string{"demo", "-h"}
		main() // exits 1 on an error; returning is exit 0
		return
	}
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestHelp$")
	cmd.Env = append(os.Environ(), "LEADCALLS_DEMO_MAIN=1")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "demo -h must exit 0:\n%s", out)
	for _, flag := range []string{"-addr", "-db", "-seed", "-refresh-timeout", "-callyzer-interval", "-callyzer-url", "-sim-latency", "-sync-interval", "-read-timeout", "-secure-cookies"} {
		require.Regexp(t, `\n  `+flag+`[ \n]`, string(out))
	}
	require.Contains(t, string(out), "(default "+defaultDBPath()+")", "-db names the file it uses")
}

// TestDatabaseFilesArePrivate: a new SQLite file, and the -wal and -shm
// files SQLite makes beside it, are readable by their owner only.
func TestDatabaseFilesArePrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new-dir")
	path := filepath.Join(dir, "demo.db")
	base := startDemo(t, "-db", path)
	c := browserless(t)
	login(t, c, base, "admin")
	resp, body := fetch(t, c, http.MethodPost, base+"/crm/api/leads/L-0001/call-history/refresh", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, body) // writes: the WAL is in use

	for _, name := range []string{path, path + "-wal", path + "-shm"} {
		info, err := os.Stat(name)
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o600), info.Mode().Perm(), name)
	}
	info, err := os.Stat(dir)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o700), info.Mode().Perm(), "a directory the demo creates")
}

func TestCreatePrivateKeepsAnExistingFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "mine.db")
	require.NoError(t, os.WriteFile(path, nil, 0o640))
	require.NoError(t, os.Chmod(path, 0o640))
	require.NoError(t, createPrivate(path))
	info, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o640), info.Mode().Perm(), "the owner's choice stays")
}
