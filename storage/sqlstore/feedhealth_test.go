package sqlstore

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadcalls/leadcalls/callhistory"
	"github.com/leadcalls/leadcalls/feedhealth"
)

// TestFeedHealthUpgrade: a database of version 3 holding calls upgrades
// to the version with feed health; the calls written before count, and a
// state saves and reads back.
func TestFeedHealthUpgrade(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			db, _ := openFresh(t, b.name)
			s, err := New(db, b.dialect)
			require.NoError(t, err)
			ms, err := s.migrations()
			require.NoError(t, err)
			require.NoError(t, s.migrate(t.Context(), ms[:3]))
			const phone = "+48601234567"
			calls := makeCalls(phone, "u", 3)
			_, err = callhistory.UpsertCalls(t.Context(), s, calls, base)
			require.NoError(t, err)

			require.NoError(t, s.Migrate(t.Context()))
			require.Equal(t, latestVersion, schemaVersion(t, db, DefaultTablePrefix))
			got, err := s.CountCalls(t.Context(), calls[0].StartedAt, calls[2].StartedAt.Add(time.Microsecond))
			require.NoError(t, err)
			require.Equal(t, map[string]int{calls[0].RawCallType: 3}, got)
			st := feedhealth.State{CheckedAt: base, LastError: "x"}
			require.NoError(t, s.SaveFeedHealth(t.Context(), "default", st))
			back, err := s.FeedHealth(t.Context(), "default")
			require.NoError(t, err)
			require.True(t, back.CheckedAt.Equal(base))
			require.Equal(t, "x", back.LastError)
		})
	}
}
