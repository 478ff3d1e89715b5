package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestServerBounds: the demo's server bounds the time and size of every
// request and the time of every answer.
func TestServerBounds(t *testing.T) {
	t.Parallel()
	logger := slog.New(slog.DiscardHandler)
	srv := newServer(config{readTimeout: 15 * time.Second, refreshTimeout: 30 * time.Second}, http.NotFoundHandler(), logger)
	require.Equal(t, 5*time.Second, srv.ReadHeaderTimeout)
	require.Equal(t, 15*time.Second, srv.ReadTimeout)
	require.Equal(t, 55*time.Second, srv.WriteTimeout, "reading the request, a refresh, and writing the answer")
	require.Equal(t, time.Minute, srv.IdleTimeout)
	require.Equal(t, 64<<10, srv.MaxHeaderBytes)

	srv = newServer(config{readTimeout: time.Second, refreshTimeout: 30 * time.Second}, http.NotFoundHandler(), logger)
	require.Equal(t, time.Second, srv.ReadHeaderTimeout, "never longer than the whole request may take")
}

// TestDemoCutsOffATrickledBody: a sign-in whose body comes a byte at a time
// is cut off when the read timeout ends, however long the client would go
// on sending. A real connection: the timeouts are the server's.
func TestDemoCutsOffATrickledBody(t *testing.T) {
	base := startDemo(t, "-read-timeout", "1s")
	u, err := url.Parse(base)
	require.NoError(t, err)
	conn, err := net.Dial("tcp", u.Host)
	require.NoError(t, err)
	defer conn.Close()

	const bodyLen = 100 // a byte every 200ms: 20 seconds
	_, err = fmt.Fprintf(conn, "POST /login HTTP/1.1\r\nHost: %s\r\n"+
		"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\nuser_id=", u.Host, bodyLen)
	require.NoError(t, err)
	start := time.Now()
	stop := make(chan struct{})
	trickled := make(chan struct{})
	go func() {
		defer close(trickled)
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for range bodyLen - len("user_id=") {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			if _, err := conn.Write([]byte("a")); err != nil {
				return
			}
		}
	}()

	require.NoError(t, conn.SetReadDeadline(time.Now().Add(15*time.Second)))
	answer, err := io.ReadAll(conn) // until the server closes the connection
	elapsed := time.Since(start)
	close(stop)
	<-trickled
	var netErr net.Error
	require.False(t, errors.As(err, &netErr) && netErr.Timeout(), "the server still held the connection after 15s")
	require.Less(t, elapsed, 5*time.Second, "cut off at the 1s read timeout")
	require.NotContains(t, string(answer), sessionCookie, "no session from a body that never arrived")
}

// TestDemoLongLeadIDLogsShortLines: a lead id of a million bytes, one too
// long for a lead, or one with a control character makes no long log line,
// with a session or without.
func TestDemoLongLeadIDLogsShortLines(t *testing.T) {
	base, out := startDemoLogged(t)
	admin := browserless(t)
	login(t, admin, base, "admin")
	anonymous := browserless(t)

	for _, id := range []struct {
		name, escaped string
		tooLarge      bool // beyond the server's header limit: 431
	}{
		{"a million bytes", strings.Repeat("a", 1_000_000), true},
		{"40,000 bytes", strings.Repeat("a", 40_000), false},
		{"a newline", "L-0001%0Ademo%20sign-in%20user_id=admin", false},
	} {
		for _, who := range []struct {
			name     string
			c        *http.Client
			signedIn bool
		}{{"signed in", admin, true}, {"no session", anonymous, false}} {
			for _, route := range []struct{ method, path string }{
				{http.MethodGet, "/crm/api/leads/%s/call-history"},
				{http.MethodPost, "/crm/api/leads/%s/call-history/refresh"},
				{http.MethodGet, "/crm/leads/%s"},
				{http.MethodPost, "/crm/leads/%s/refresh"},
			} {
				what := fmt.Sprintf("%s, %s: %s %s", id.name, who.name, route.method, route.path)
				before := out.size()
				req, err := http.NewRequestWithContext(t.Context(), route.method, base+fmt.Sprintf(route.path, id.escaped), nil)
				require.NoError(t, err)
				resp, err := who.c.Do(req)
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				switch {
				case id.tooLarge:
					// The server may close before the client has sent all of it.
					if err == nil {
						require.Equal(t, http.StatusRequestHeaderFieldsTooLarge, resp.StatusCode, what)
					}
				case !who.signedIn && route.method == http.MethodGet && strings.HasPrefix(route.path, "/crm/leads/"):
					require.NoError(t, err, what)
					require.Equal(t, http.StatusSeeOther, resp.StatusCode, what+": to the sign-in page")
				default:
					require.NoError(t, err, what)
					require.Equal(t, http.StatusNotFound, resp.StatusCode, what)
				}
				require.Less(t, out.size()-before, 400, "%s: the log stays short", what)
			}
		}
	}
}

// TestDemoSecureCookies: by default the demo's cookies suit plain HTTP on
// localhost; with -secure-cookies (or its variable), for a TLS-terminating
// proxy in front, the session cookie is Secure and __Host- prefixed and the
// flash cookie Secure, though the demo itself is reached over plain HTTP.
func TestDemoSecureCookies(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		env    string
		secure bool
	}{
		{"default", nil, "", false},
		{"-secure-cookies", []string{"-secure-cookies"}, "", true},
		{secureCookiesEnv + "=true", nil, "true", true},
		{"-secure-cookies=false over the variable", []string{"-secure-cookies=false"}, "1", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(secureCookiesEnv, tt.env)
			base := startDemo(t, tt.args...)
			name, other := sessionCookie, secureSessionCookie
			if tt.secure {
				name, other = other, name
			}
			// No cookie jar: the test plays the proxy, which passes the
			// browser's cookies on whatever their flags.
			c := &http.Client{
				Timeout:       30 * time.Second,
				CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
			}
			t.Cleanup(c.CloseIdleConnections)
			send := func(method, path, cookie string) *http.Response {
				t.Helper()
				var body io.Reader
				if path == "/login" {
					body = strings.NewReader("user_id=admin")
				}
				req, err := http.NewRequestWithContext(t.Context(), method, base+path, body)
				require.NoError(t, err)
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				if cookie != "" {
					req.Header.Set("Cookie", cookie)
				}
				resp, err := c.Do(req)
				require.NoError(t, err)
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				return resp
			}

			resp := send(http.MethodPost, "/login", "")
			require.Equal(t, http.StatusSeeOther, resp.StatusCode)
			cookies := resp.Cookies()
			require.Len(t, cookies, 1)
			session := cookies[0]
			require.Equal(t, name, session.Name)
			require.Equal(t, tt.secure, session.Secure)
			require.Equal(t, "/", session.Path)
			require.Empty(t, session.Domain)
			require.True(t, session.HttpOnly)

			resp = send(http.MethodGet, "/", name+"="+session.Value)
			require.Equal(t, http.StatusOK, resp.StatusCode, "signed in")
			resp = send(http.MethodGet, "/", other+"="+session.Value)
			require.Equal(t, http.StatusSeeOther, resp.StatusCode, "the cookie of the other name is not read")

			resp = send(http.MethodPost, "/crm/leads/L-0001/refresh", name+"="+session.Value)
			require.Equal(t, http.StatusSeeOther, resp.StatusCode)
			flash := resp.Cookies()
			require.Len(t, flash, 1)
			require.Equal(t, "leadcalls_flash", flash[0].Name)
			require.Equal(t, tt.secure, flash[0].Secure, "the flash cookie")

			resp = send(http.MethodPost, "/logout", name+"="+session.Value)
			require.Equal(t, http.StatusSeeOther, resp.StatusCode)
			cleared := resp.Cookies()
			require.Len(t, cleared, 1)
			require.Equal(t, name, cleared[0].Name)
			require.Equal(t, tt.secure, cleared[0].Secure)
			require.Negative(t, cleared[0].MaxAge)
		})
	}
}
