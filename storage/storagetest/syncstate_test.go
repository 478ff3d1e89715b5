package storagetest_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadcalls/leadcalls/callhistory"
	"github.com/leadcalls/leadcalls/storage/memstore"
	"github.com/leadcalls/leadcalls/storage/storagetest"
)

func TestRunSyncState(t *testing.T) {
	if os.Getenv(syncStateMutantVar) != "" {
		t.Skip("child process: only TestSyncStateMutant runs here")
	}
	t.Run("Defaults", func(t *testing.T) {
		storagetest.RunSyncState(t, func(t *testing.T) callhistory.SyncStateStore { return memstore.New() })
	})
	t.Run("SecondPrecisionParallel", func(t *testing.T) {
		storagetest.RunSyncState(t, func(t *testing.T) callhistory.SyncStateStore { return memstore.New() },
			storagetest.WithTimePrecision(time.Second), storagetest.Parallel())
	})
}

// syncStateMutantVar names the broken sync-state store TestSyncStateMutant
// runs the cases on, in a child process of
// TestRunSyncStateCatchesBrokenStores.
const syncStateMutantVar = "STORAGETEST_SYNCSTATE_MUTANT"

// syncStateMutants are sync-state stores with one bug each, and the case
// that must catch it.
var syncStateMutants = map[string]struct {
	failing string
	store   func() callhistory.SyncStateStore
}{
	"MergesOnSave": {"SyncState/Overwrite", func() callhistory.SyncStateStore {
		return &mergingStates{memstore.New()}
	}},
	"IgnoresTheName": {"SyncState/IndependentNames", func() callhistory.SyncStateStore {
		return oneSlot{memstore.New()}
	}},
	"IgnoresTheContext": {"SyncState/ContextDone", func() callhistory.SyncStateStore {
		return ctxBlind{memstore.New()}
	}},
	"KeepsWholeSeconds": {"SyncState/EveryField", func() callhistory.SyncStateStore {
		return secondsOnly{memstore.New()}
	}},
	"DropsTheBackfill": {"SyncState/EveryField", func() callhistory.SyncStateStore {
		return noBackfill{memstore.New()}
	}},
}

func TestSyncStateMutant(t *testing.T) {
	name := os.Getenv(syncStateMutantVar)
	if name == "" {
		return // runs only in a child process of TestRunSyncStateCatchesBrokenStores
	}
	storagetest.RunSyncState(t, func(t *testing.T) callhistory.SyncStateStore { return syncStateMutants[name].store() })
}

// TestRunSyncStateCatchesBrokenStores shows that the sync-state cases fail
// stores with known bugs, each in the case meant to catch it.
func TestRunSyncStateCatchesBrokenStores(t *testing.T) {
	if os.Getenv(syncStateMutantVar) != "" || os.Getenv(mutantVar) != "" {
		t.Skip("child process")
	}
	if testing.Short() {
		t.Skip("skipped in -short mode: runs the cases in child processes")
	}
	for name, m := range syncStateMutants {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestSyncStateMutant$", "-test.count=1", "-test.v")
			cmd.Env = append(os.Environ(), syncStateMutantVar+"="+name)
			out, err := cmd.CombinedOutput()
			require.Error(t, err, "the cases passed a store with the bug %s:\n%s", name, out)
			require.True(t, strings.Contains(string(out), "--- FAIL: TestSyncStateMutant/"+m.failing+" "),
				"the case %s did not catch the bug %s:\n%s", m.failing, name, out)
		})
	}
}

// mergingStates keeps the old cursor and error when the new state has none.
type mergingStates struct{ *memstore.Store }

func (s *mergingStates) SaveSyncState(ctx context.Context, name string, st callhistory.SyncState) error {
	old, err := s.Store.SyncState(ctx, name)
	if err != nil {
		return err
	}
	if st.LastError == "" {
		st.LastError = old.LastError
	}
	if st.Cursor.IsZero() {
		st.Cursor = old.Cursor
	}
	return s.Store.SaveSyncState(ctx, name, st)
}

// oneSlot keeps one state whatever the name.
type oneSlot struct{ *memstore.Store }

func (s oneSlot) SyncState(ctx context.Context, name string) (callhistory.SyncState, error) {
	if name == "" {
		return callhistory.SyncState{}, nil
	}
	return s.Store.SyncState(ctx, "slot")
}

func (s oneSlot) SaveSyncState(ctx context.Context, name string, st callhistory.SyncState) error {
	if name == "" {
		return s.Store.SaveSyncState(ctx, "", st)
	}
	return s.Store.SaveSyncState(ctx, "slot", st)
}

// ctxBlind saves whatever the context says.
type ctxBlind struct{ *memstore.Store }

func (s ctxBlind) SaveSyncState(_ context.Context, name string, st callhistory.SyncState) error {
	return s.Store.SaveSyncState(context.Background(), name, st)
}

// secondsOnly keeps times to the second, like a DATETIME column without
// fractions.
type secondsOnly struct{ *memstore.Store }

func (s secondsOnly) SaveSyncState(ctx context.Context, name string, st callhistory.SyncState) error {
	st.Cursor = st.Cursor.Truncate(time.Second)
	st.LastReport.StartedAt = st.LastReport.StartedAt.Truncate(time.Second)
	return s.Store.SaveSyncState(ctx, name, st)
}

// noBackfill forgets the backfill progress (a column never written).
type noBackfill struct{ *memstore.Store }

func (s noBackfill) SaveSyncState(ctx context.Context, name string, st callhistory.SyncState) error {
	st.Backfill = callhistory.BackfillProgress{}
	return s.Store.SaveSyncState(ctx, name, st)
}
