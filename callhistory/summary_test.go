package callhistory_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/leadcalls/leadcalls/callhistory"
	"github.com/leadcalls/leadcalls/callyzer"
	"github.com/leadcalls/leadcalls/statusmap"
)

// TestResultSummary: Refresh and History return the Summary of the listed
// calls in the refreshed window, its days counted in the zone of
// Config.Now's times.
func TestResultSummary(t *testing.T) {
	t.Parallel()
	warsaw, err := time.LoadLocation("Europe/Warsaw")
	require.NoError(t, err)
	now := time.Date(2026, 11, 25, 0, 30, 0, 0, warsaw) // 23:30 UTC on the 24th
	missed := apiCall("c-1", time.Date(2026, 11, 24, 22, 0, 0, 0, warsaw), callyzer.Missed, 0)
	older := apiCall("c-0", time.Date(2026, 11, 20, 10, 0, 0, 0, warsaw), callyzer.Outgoing, 87)
	u := newUnit(t, func(u *unit, cfg *callhistory.Config) {
		u.source.pages = []*callyzer.HistoryPage{page(1, 1, missed, older)}
		cfg.Now = func() time.Time { return now }
	})

	refreshed, err := u.r.Refresh(t.Context(), advisor, leadID)
	require.NoError(t, err)
	history, err := u.r.History(t.Context(), advisor, leadID)
	require.NoError(t, err)

	m := statusmap.Default()
	wantMissed, wantOlder := callhistory.FromCallyzer(m, missed), callhistory.FromCallyzer(m, older)
	wantMissed.RowID, wantOlder.RowID = 1, 2
	want := callhistory.Summary{
		Window: callhistory.Window{From: time.Date(2026, 5, 24, 22, 30, 0, 0, time.UTC), To: now.UTC()},
		Calls:  2, Connected: 1, Missed: 1, TalkSeconds: 87,
		LastContact: &wantMissed, LastContactDays: 1, // yesterday in Warsaw, today in UTC
		LastConnected:   &wantOlder,
		LastMissed:      &wantMissed,
		CallbackOverdue: true,
	}
	for name, res := range map[string]*callhistory.Result{"Refresh": refreshed, "History": history} {
		if diff := cmp.Diff(want, res.Summary); diff != "" {
			t.Errorf("%s's summary (-want +got):\n%s", name, diff)
		}
	}
}

// TestResultSummaryPartial: a list cut at Config.ListLimit inside the
// window says that its figures cover the newest calls only.
func TestResultSummaryPartial(t *testing.T) {
	t.Parallel()
	u := newUnit(t, func(u *unit, cfg *callhistory.Config) {
		u.source.pages = []*callyzer.HistoryPage{page(1, 1,
			apiCall("c-3", unitNow.Add(-time.Hour), callyzer.Outgoing, 30),
			apiCall("c-2", unitNow.Add(-2*time.Hour), callyzer.Outgoing, 30),
			apiCall("c-1", unitNow.Add(-3*time.Hour), callyzer.Outgoing, 30),
		)}
		cfg.ListLimit = 2
	})
	res, err := u.r.Refresh(t.Context(), advisor, leadID)
	require.NoError(t, err)
	require.Len(t, res.Calls, 2)
	require.True(t, res.Summary.Partial)
	require.Equal(t, 2, res.Summary.Calls)
	require.Equal(t, 60, res.Summary.TalkSeconds)
}
