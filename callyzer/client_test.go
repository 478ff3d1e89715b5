package callyzer_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadcalls/leadcalls/callyzer"
)

func TestNewClientValidates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		key  string
		opt  callyzer.Option
	}{
		{"empty key", "", nil},
		{"key with a newline", "abc\ndef", nil},
		{"relative base URL", "k", callyzer.WithBaseURL("/api/v2.1")},
		{"base URL with user info", "k", callyzer.WithBaseURL("https://u:p@api1.callyzer.co/api/v2.1")},
		{"ftp base URL", "k", callyzer.WithBaseURL("ftp://api1.callyzer.co")},
		{"plain http to Callyzer", "k", callyzer.WithBaseURL("http://api1.callyzer.co/api/v2.1")},
		{"plain http to a private address", "k", callyzer.WithBaseURL("http://10.0.0.5:8080/api/v2.1")},
		{"plain http to a name that starts with localhost", "k", callyzer.WithBaseURL("http://localhost.example.com/api")},
		{"plain http to a name under localhost", "k", callyzer.WithBaseURL("http://api.localhost/api")},
		{"plain http just past 127.0.0.0/8", "k", callyzer.WithBaseURL("http://128.0.0.1/api")},
		{"plain http to IPv6 other than ::1", "k", callyzer.WithBaseURL("http://[::2]:8080/api")},
		{"plain http to the unspecified address", "k", callyzer.WithBaseURL("http://0.0.0.0:8080/api")},
		{"no variants", "k", callyzer.WithCallVariants()},
		{"half a variant", "k", callyzer.WithCallVariants(callyzer.CallVariant{Method: "PhoneCall"})},
		{"nil HTTP client", "k", callyzer.WithHTTPClient(nil)},
		{"zero attempt timeout", "k", callyzer.WithAttemptTimeout(0)},
		{"negative retries", "k", callyzer.WithMaxRetries(-1)},
		{"page size 0", "k", callyzer.WithPageSize(0)},
		{"page size 101", "k", callyzer.WithPageSize(101)},
		{"window under a second", "k", callyzer.WithMaxWindow(time.Millisecond)},
		{"window not whole seconds", "k", callyzer.WithMaxWindow(1500 * time.Millisecond)},
		{"nil location", "k", callyzer.WithLocation(nil)},
		{"nil logger", "k", callyzer.WithLogger(nil)},
		{"nil pacer", "k", callyzer.WithPacer(nil)},
		{"negative interval", "k", callyzer.WithInterval(-time.Second)},
		{"max delay under base", "k", callyzer.WithRetryDelays(time.Second, time.Millisecond)},
		{"negative retry-after cap", "k", callyzer.WithLimits(0, 0, -1)},
		{"negative body cap", "k", callyzer.WithLimits(0, -1, 0)},
		{"negative page cap", "k", callyzer.WithLimits(-1, 0, 0)},
		{"unknown number form", "k", callyzer.WithClientNumberForm("international")},
		{"number form in capitals", "k", callyzer.WithClientNumberForm("E164")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := callyzer.NewClient(tc.key, tc.opt)
			require.Error(t, err)
			require.Nil(t, c)
		})
	}
	c, err := callyzer.NewClient("k",
		callyzer.WithCallVariants(callyzer.CallVariant{Method: "WhatsAppCall", Mode: "Video"}),
		callyzer.WithRetryDelays(0, 0), callyzer.WithInterval(0), callyzer.WithLimits(0, 0, time.Nanosecond),
		callyzer.WithLogger(slog.New(slog.DiscardHandler)),
	)
	require.NoError(t, err)
	require.Contains(t, fmt.Sprint(c), "https://api1.callyzer.co/api/v2.2", "v2.2 defaults to the v2.2 path")
}

// TestBaseURLSchemes: https for any host; plain http for a loopback host
// only (the key travels in every request).
func TestBaseURLSchemes(t *testing.T) {
	t.Parallel()
	for _, base := range []string{
		"https://api1.callyzer.co/api/v2.1",
		"https://sandbox.api.callyzer.co/api/v2.2",
		"https://10.0.0.5:8443/api",
		"http://localhost:8080/api/v2.1",
		"http://LocalHost/api",
		"http://127.0.0.1:1",
		"http://127.8.9.10/api",
		"http://[::1]:8080/api",
	} {
		t.Run(base, func(t *testing.T) {
			t.Parallel()
			c, err := callyzer.NewClient("k", callyzer.WithBaseURL(base), callyzer.WithLogger(slog.New(slog.DiscardHandler)))
			require.NoError(t, err)
			require.Contains(t, fmt.Sprint(c), base)
		})
	}
	_, err := callyzer.NewClient("k", callyzer.WithBaseURL("http://api1.callyzer.co/api/v2.1"))
	require.EqualError(t, err, "callyzer: WithBaseURL: plain http only for a loopback host (localhost, 127.0.0.0/8, ::1); use https")
}

func TestClientsOfOneKeyShareAPacer(t *testing.T) {
	t.Parallel()
	var (
		mu              sync.Mutex
		inFlight, worst int
	)
	srv := newAPIServer(t, func(n int, _ sentRequest, w http.ResponseWriter) {
		mu.Lock()
		inFlight++
		worst = max(worst, inFlight)
		mu.Unlock()
		time.Sleep(5 * time.Millisecond) // long enough for an overlap to show
		mu.Lock()
		inFlight--
		mu.Unlock()
		writeJSON(w, http.StatusOK, page(0))
	})
	newShared := func(interval time.Duration) *callyzer.Client {
		c, err := callyzer.NewClient("shared-key", callyzer.WithBaseURL(srv.URL), callyzer.WithInterval(interval),
			callyzer.WithLogger(slog.New(slog.DiscardHandler)))
		require.NoError(t, err)
		return c
	}
	// Different intervals do not make different budgets: the pacer is the
	// key's and host's (and keeps the larger interval, 1 ns here).
	clients := []*callyzer.Client{newShared(0), newShared(time.Nanosecond)}
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Go(func() {
			_, err := clients[i%2].HistoryPage(t.Context(), oneMonth(), 1)
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	require.Len(t, srv.requests(), 6)
	require.Equal(t, 1, worst, "two clients of one key never overlap")
}

func TestErrorText(t *testing.T) {
	t.Parallel()
	srv := newAPIServer(t, func(n int, _ sentRequest, w http.ResponseWriter) {
		w.Header().Set("Retry-After", "90")
		writeJSON(w, http.StatusTooManyRequests, []byte(`{"message":"Too Many Attempts."}`))
	})
	c := newClient(t, srv.URL, callyzer.WithLimits(0, 0, time.Minute))
	_, err := c.HistoryPage(t.Context(), oneMonth(), 2)
	require.EqualError(t, err, "callyzer: /call-log/history page 2: rate limited (HTTP 429) (retry after 1m30s): Too Many Attempts.; Retry-After 1m30s is over the 1m0s cap")
}
