package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadcalls/leadcalls/callhistory"
)

// TestDemoSyncStoresCallsWithoutRefresh starts the demo with the periodic
// sync on: its first pass, at start, stores the simulator's calls, so a
// lead's history is there before anyone presses refresh, and the leads page
// says when the sync last succeeded.
func TestDemoSyncStoresCallsWithoutRefresh(t *testing.T) {
	base := startDemo(t, "-seed", "seed.example.json", "-sync-interval", "1h")
	c := browserless(t)
	login(t, c, base, "ewa.admin")

	// GET never refreshes (a refresh is a POST): calls seen here were
	// stored by the sync. The conditions run on Eventually's goroutine, so
	// they report by returning false, never through require.
	var history struct {
		Calls []struct {
			ID string `json:"id"`
		} `json:"calls"`
		LastSyncedAt string `json:"last_synced_at"`
	}
	require.Eventually(t, func() bool {
		status, body, err := tryGet(t.Context(), c, base+"/crm/api/leads/1001/call-history")
		if err != nil || status != http.StatusOK || json.Unmarshal([]byte(body), &history) != nil {
			return false
		}
		return len(history.Calls) > 0
	}, 20*time.Second, 50*time.Millisecond, "the sync stored no calls of lead 1001")
	require.NotEmpty(t, history.LastSyncedAt, "the sync sets the number's last-sync date")

	require.Eventually(t, func() bool {
		_, body, err := tryGet(t.Context(), c, base+"/")
		return err == nil && syncLineRe.MatchString(body)
	}, 20*time.Second, 50*time.Millisecond, "the leads page shows the last successful sync")
}

// tryGet is fetch for Eventually's conditions: it returns its failure
// instead of failing the test.
func tryGet(ctx context.Context, c *http.Client, u string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

var syncLineRe = regexp.MustCompile(`id="sync-status">Ostatnia udana synchronizacja: \d\d:\d\d<`)

func TestSyncLine(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 25, 15, 0, 0, 0, time.UTC) // 16:00 in Warsaw
	tests := []struct {
		name string
		st   callhistory.SyncState
		want string
	}{
		{"never run", callhistory.SyncState{}, "Synchronizacja jeszcze się nie odbyła"},
		{"first pass", callhistory.SyncState{Status: callhistory.SyncRunning}, "Trwa pierwsza synchronizacja"},
		{"first pass failed", callhistory.SyncState{Status: callhistory.SyncFailedUnauthorized},
			"Synchronizacja nie powiodła się: błąd autoryzacji API Callyzer"},
		{"today", callhistory.SyncState{Status: callhistory.SyncIdle, LastSuccess: now.Add(-time.Hour)},
			"Ostatnia udana synchronizacja: 15:00"},
		{"running again", callhistory.SyncState{Status: callhistory.SyncRunning, LastSuccess: now.Add(-time.Hour)},
			"Ostatnia udana synchronizacja: 15:00 (trwa kolejna)"},
		{"another day", callhistory.SyncState{Status: callhistory.SyncFailedUnauthorized, LastSuccess: now.AddDate(0, 0, -2)},
			"Ostatnia udana synchronizacja: 23.11.2026 16:00; ostatnia próba nie powiodła się: błąd autoryzacji API Callyzer"},
		{"rate limited", callhistory.SyncState{Status: callhistory.SyncFailedRateLimited, LastSuccess: now},
			"Ostatnia udana synchronizacja: 16:00; ostatnia próba nie powiodła się: Callyzer ograniczył liczbę zapytań"},
		{"failed", callhistory.SyncState{Status: callhistory.SyncFailedOther, LastSuccess: now},
			"Ostatnia udana synchronizacja: 16:00; ostatnia próba nie powiodła się: wystąpił błąd (szczegóły w logu serwera)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, syncLine(tt.st, now))
		})
	}
}
