package main

import (
	"encoding/json"
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
	// stored by the sync.
	var history struct {
		Calls []struct {
			ID string `json:"id"`
		} `json:"calls"`
		LastSyncedAt string `json:"last_synced_at"`
	}
	require.Eventually(t, func() bool {
		resp, body := fetch(t, c, http.MethodGet, base+"/crm/api/leads/1001/call-history", nil)
		require.Equal(t, http.StatusOK, resp.StatusCode, body)
		require.NoError(t, json.Unmarshal([]byte(body), &history))
		return len(history.Calls) > 0
	}, 20*time.Second, 50*time.Millisecond, "the sync stored no calls of lead 1001")
	require.NotEmpty(t, history.LastSyncedAt, "the sync sets the number's last-sync date")

	require.Eventually(t, func() bool {
		_, body := fetch(t, c, http.MethodGet, base+"/", nil)
		return syncLineRe.MatchString(body)
	}, 20*time.Second, 50*time.Millisecond, "the leads page shows the last successful sync")
}

var syncLineRe = regexp.MustCompile(`id="sync-status">Synchronizacja: ostatnia udana \d\d:\d\d, status: `)

func TestSyncLine(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 25, 15, 0, 0, 0, time.UTC) // 16:00 in Warsaw
	tests := []struct {
		name string
		st   callhistory.SyncState
		want string
	}{
		{"never run", callhistory.SyncState{}, "Synchronizacja: jeszcze żadna udana, status: gotowa"},
		{"first pass", callhistory.SyncState{Status: callhistory.SyncRunning}, "Synchronizacja: jeszcze żadna udana, status: w toku"},
		{"today", callhistory.SyncState{Status: callhistory.SyncIdle, LastSuccess: now.Add(-time.Hour)},
			"Synchronizacja: ostatnia udana 15:00, status: gotowa"},
		{"another day", callhistory.SyncState{Status: callhistory.SyncFailedUnauthorized, LastSuccess: now.AddDate(0, 0, -2)},
			"Synchronizacja: ostatnia udana 23.11.2026 16:00, status: błąd autoryzacji API Callyzer"},
		{"rate limited", callhistory.SyncState{Status: callhistory.SyncFailedRateLimited, LastSuccess: now},
			"Synchronizacja: ostatnia udana 16:00, status: przekroczony limit zapytań Callyzer"},
		{"failed", callhistory.SyncState{Status: callhistory.SyncFailedOther, LastSuccess: now},
			"Synchronizacja: ostatnia udana 16:00, status: błąd"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, syncLine(tt.st, now))
		})
	}
}
