package callyzer_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadcalls/leadcalls/callyzer"
)

// TestRedirectsAreRefused: a 3xx is ErrUpstream after one request, and
// the token and the body (with the client number) never reach the target,
// with our own HTTP client and with a host's, which is left as it was.
func TestRedirectsAreRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		status    int
		otherHost bool // Location names "localhost" instead of 127.0.0.1
	}{
		// Go keeps Authorization on a redirect to the same host name, whatever the port.
		{"307 to the same host on another port", http.StatusTemporaryRedirect, false},
		// Go follows a 302 with a GET without a body; an empty page there would be zero calls.
		{"302 to an empty answer", http.StatusFound, false},
		// Go drops Authorization for another host, but sends the body again on 307 and 308.
		{"307 to another host", http.StatusTemporaryRedirect, true},
		{"308 to another host", http.StatusPermanentRedirect, true},
		{"301", http.StatusMovedPermanently, false},
		{"303", http.StatusSeeOther, false},
	}
	for _, tc := range tests {
		for _, hostClient := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/host client %v", tc.name, hostClient), func(t *testing.T) {
				t.Parallel()
				target := newAPIServer(t, serveFixtures(page(0)))
				u, err := url.Parse(target.URL)
				require.NoError(t, err)
				if tc.otherHost {
					u.Host = "localhost:" + u.Port()
				}
				location := u.String() + "/call-log/history"
				origin := newAPIServer(t, func(_ int, _ sentRequest, w http.ResponseWriter) {
					w.Header().Set("Location", location)
					writeJSON(w, tc.status, []byte(`{"message":"moved"}`))
				})
				var opts []callyzer.Option
				host := &http.Client{Timeout: 5 * time.Second}
				if hostClient {
					opts = append(opts, callyzer.WithHTTPClient(host))
				}
				c := newClient(t, origin.URL, opts...)

				pages, err := collect(t, c, historyQuery())
				for _, r := range target.requests() {
					t.Errorf("the target got %s with Authorization %q and body %q", r.Method, r.Header.Get("Authorization"), r.Body)
				}
				require.ErrorIs(t, err, callyzer.ErrUpstream)
				require.Empty(t, pages, "no page, and so no zero calls")
				var e *callyzer.Error
				require.ErrorAs(t, err, &e)
				require.Equal(t, tc.status, e.StatusCode)
				require.Equal(t, 1, e.Attempts, "a redirect is not retried")
				require.ErrorContains(t, err, fmt.Sprintf("redirect refused (HTTP %d %s to %s)", tc.status, http.StatusText(tc.status), u.Host))
				require.ErrorContains(t, err, "never follows a redirect")
				require.NotContains(t, err.Error(), testKey)

				require.Len(t, origin.requests(), 1)
				require.Equal(t, "Bearer "+testKey, origin.requests()[0].Header.Get("Authorization"))
				require.True(t, strings.Contains(string(origin.requests()[0].Body), "48-601234567"))
				require.Nil(t, host.CheckRedirect, "the host's client is not changed")
			})
		}
	}

	t.Run("employees", func(t *testing.T) {
		t.Parallel()
		target := newAPIServer(t, serveFixtures([]byte(`{"message":"Success","total_records":0,"result":[]}`)))
		origin := newAPIServer(t, func(_ int, _ sentRequest, w http.ResponseWriter) {
			http.Redirect(w, &http.Request{Method: http.MethodGet}, target.URL+"/employee/get", http.StatusFound)
		})
		c := newClient(t, origin.URL)
		got, err := c.Employees(t.Context(), callyzer.EmployeesQuery{})
		require.ErrorIs(t, err, callyzer.ErrUpstream)
		require.Nil(t, got)
		require.Len(t, origin.requests(), 1)
		require.Empty(t, target.requests())
	})
}
