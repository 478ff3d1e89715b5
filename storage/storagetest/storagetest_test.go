package storagetest_test

import (
	"context"
	"maps"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/leadcalls/leadcalls/callhistory"
	"github.com/leadcalls/leadcalls/storage/memstore"
	"github.com/leadcalls/leadcalls/storage/storagetest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func newMemstore(t *testing.T, hooks *callhistory.StoreHooks) callhistory.Store {
	return memstore.New(memstore.WithHooks(hooks))
}

// TestRunOptions runs the suite on memstore with the options a host would
// use, so the suite itself is consistent at every precision.
func TestRunOptions(t *testing.T) {
	if os.Getenv(mutantVar) != "" {
		t.Skip("child process: only TestMutant runs here")
	}
	t.Run("Defaults", func(t *testing.T) {
		storagetest.Run(t, newMemstore)
	})
	t.Run("SecondPrecisionWithoutHooks", func(t *testing.T) {
		storagetest.Run(t, func(t *testing.T, hooks *callhistory.StoreHooks) callhistory.Store {
			if hooks != nil {
				t.Fatal("WithoutHooks, yet newStore received hooks")
			}
			return memstore.New()
		}, storagetest.WithoutHooks(), storagetest.WithTimePrecision(time.Second),
			storagetest.WithConcurrency(3, 2), storagetest.Parallel())
	})
}

func TestSnapshotDiff(t *testing.T) {
	t.Parallel()
	st := memstore.New()
	day := time.Date(2026, 5, 4, 0, 0, 0, 0, time.UTC)
	before := storagetest.Snapshot(t, st, "+48601000001")
	require.Empty(t, before.Diff(storagetest.Snapshot(t, st, "+48601000001")))
	_, err := st.UpsertCalls(t.Context(), []callhistory.Call{{CallyzerID: "c1", Phone: "+48601000001", StartedAt: day}}, day)
	require.NoError(t, err)
	diff := before.Diff(storagetest.Snapshot(t, st, "+48601000001"))
	require.Contains(t, diff, "c1")
}

// mutantVar names the broken store TestMutant runs the suite on, in a child
// process started by TestSuiteCatchesBrokenStores.
const mutantVar = "STORAGETEST_MUTANT"

// mutants are stores with one bug each, and the subtest that must catch it.
var mutants = map[string]struct {
	run     string // the -test.run pattern of the part that catches it
	failing string // a subtest that must fail
	store   func(t *testing.T, hooks *callhistory.StoreHooks) callhistory.Store
}{
	"LastSyncedGoesBackwards": {
		run: "LastSynced", failing: "LastSynced/NeverBackwards",
		store: func(t *testing.T, hooks *callhistory.StoreHooks) callhistory.Store {
			return &lastSyncOverwrite{Store: memstore.New(memstore.WithHooks(hooks)), last: map[string]time.Time{}}
		},
	},
	"UnorderedCalls": {
		run: "Calls", failing: "Calls/Order",
		store: func(t *testing.T, hooks *callhistory.StoreHooks) callhistory.Store {
			return readFilter{memstore.New(memstore.WithHooks(hooks)), func(c []callhistory.Call) []callhistory.Call {
				slices.Reverse(c)
				return c
			}}
		},
	},
	"NilForNoCalls": {
		run: "RoundTrip", failing: "RoundTrip/EmptyStore",
		store: func(t *testing.T, hooks *callhistory.StoreHooks) callhistory.Store {
			return readFilter{memstore.New(memstore.WithHooks(hooks)), func(c []callhistory.Call) []callhistory.Call {
				if len(c) == 0 {
					return nil
				}
				return c
			}}
		},
	},
	"IgnoresHooks": {
		run: "Faults", failing: "Faults/ReplaceWindow/ErrorOnCommit",
		store: func(t *testing.T, hooks *callhistory.StoreHooks) callhistory.Store {
			return memstore.New()
		},
	},
	"HookAfterCommit": {
		run: "Faults", failing: "Faults/ReplaceWindow/ErrorOnCommit",
		store: func(t *testing.T, hooks *callhistory.StoreHooks) callhistory.Store {
			return commitThenHook{memstore.New(), hooks}
		},
	},
	"DeletesLateUploads": { // the old contract: a refresh deletes what a concurrent sync stored
		run: "ReplaceWindow", failing: "ReplaceWindow/LateUploadsSurvive",
		store: func(t *testing.T, hooks *callhistory.StoreHooks) callhistory.Store {
			return deletesLateUploads{memstore.New(memstore.WithHooks(hooks))}
		},
	},
	"LastWriterWins": { // the old contract: an older copy overwrites a newer one
		run: "UpsertCalls", failing: "UpsertCalls/OlderCopy/OneStepOlderIsIgnored",
		store: func(t *testing.T, hooks *callhistory.StoreHooks) callhistory.Store {
			return lastWriterWins{memstore.New(memstore.WithHooks(hooks))}
		},
	},
	"GlobalLockless": { // one writer's answer merged into another's: no lock at all, and a stale plan
		run: "Concurrency", failing: "Concurrency/OneNumber",
		store: func(t *testing.T, hooks *callhistory.StoreHooks) callhistory.Store {
			return &readThenWrite{Store: memstore.New(memstore.WithHooks(hooks))}
		},
	},
}

// TestMutant runs the suite on the broken store named by STORAGETEST_MUTANT.
func TestMutant(t *testing.T) {
	name := os.Getenv(mutantVar)
	if name == "" {
		return // runs only in a child process of TestSuiteCatchesBrokenStores
	}
	storagetest.Run(t, mutants[name].store)
}

// TestSuiteCatchesBrokenStores shows that the suite fails stores with known
// bugs, each in the subtest meant to catch it.
func TestSuiteCatchesBrokenStores(t *testing.T) {
	if os.Getenv(mutantVar) != "" {
		t.Skip("child process")
	}
	if testing.Short() {
		t.Skip("skipped in -short mode: runs the suite in child processes")
	}
	for name, m := range mutants {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestMutant$/^"+m.run+"$", "-test.count=1", "-test.v")
			cmd.Env = append(os.Environ(), mutantVar+"="+name)
			out, err := cmd.CombinedOutput()
			require.Error(t, err, "the suite passed a store with the bug %s:\n%s", name, out)
			require.True(t, strings.Contains(string(out), "--- FAIL: TestMutant/"+m.failing+" "),
				"the subtest %s did not catch the bug %s:\n%s", m.failing, name, out)
		})
	}
}

// lastSyncOverwrite sets the last-sync date on every write, without the max
// rule.
type lastSyncOverwrite struct {
	callhistory.Store
	mu   sync.Mutex
	last map[string]time.Time
}

func (s *lastSyncOverwrite) ReplaceWindow(ctx context.Context, phone string, w callhistory.Window, calls []callhistory.Call, at time.Time) (callhistory.WriteResult, error) {
	res, err := s.Store.ReplaceWindow(ctx, phone, w, calls, at)
	if err == nil {
		s.mu.Lock()
		s.last[phone] = at
		s.mu.Unlock()
	}
	return res, err
}

func (s *lastSyncOverwrite) UpsertCalls(ctx context.Context, calls []callhistory.Call, at time.Time) (callhistory.WriteResult, error) {
	res, err := s.Store.UpsertCalls(ctx, calls, at)
	if err == nil {
		s.mu.Lock()
		for _, c := range calls {
			s.last[c.Phone] = at
		}
		s.mu.Unlock()
	}
	return res, err
}

func (s *lastSyncOverwrite) LastSynced(ctx context.Context, phone string) (time.Time, error) {
	if _, err := s.Store.LastSynced(ctx, phone); err != nil {
		return time.Time{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last[phone], nil
}

// readFilter changes what Calls returns.
type readFilter struct {
	callhistory.Store
	filter func([]callhistory.Call) []callhistory.Call
}

func (s readFilter) Calls(ctx context.Context, phone string, limit int) ([]callhistory.Call, error) {
	c, err := s.Store.Calls(ctx, phone, limit)
	return s.filter(c), err
}

// commitThenHook writes first and runs BeforeCommit afterwards: a hook's
// error comes too late to undo anything.
type commitThenHook struct {
	callhistory.Store
	hooks *callhistory.StoreHooks
}

func (s commitThenHook) ReplaceWindow(ctx context.Context, phone string, w callhistory.Window, calls []callhistory.Call, at time.Time) (callhistory.WriteResult, error) {
	res, err := s.Store.ReplaceWindow(ctx, phone, w, calls, at)
	if err == nil && s.hooks != nil {
		if s.hooks.AfterDelete != nil {
			err = s.hooks.AfterDelete()
		}
		for k := 1; err == nil && s.hooks.BeforeWrite != nil && k <= res.Inserted+res.Updated; k++ {
			err = s.hooks.BeforeWrite(k)
		}
		if err == nil && s.hooks.BeforeCommit != nil {
			err = s.hooks.BeforeCommit()
		}
	}
	if err != nil {
		return callhistory.WriteResult{}, err
	}
	return res, nil
}

// readThenWrite replaces a window by reading it, deleting what the answer
// lacks with one write and upserting the answer with another, with no lock
// between: the read-modify-write race of a store without serialisation.
type readThenWrite struct {
	callhistory.Store
}

func (s *readThenWrite) ReplaceWindow(ctx context.Context, phone string, w callhistory.Window, calls []callhistory.Call, at time.Time) (callhistory.WriteResult, error) {
	stored, err := s.Store.Calls(ctx, phone, 0)
	if err != nil {
		return callhistory.WriteResult{}, err
	}
	keep := map[string]bool{}
	for _, c := range calls {
		keep[c.CallyzerID] = true
	}
	var kept []callhistory.Call
	for _, c := range stored {
		if !w.Contains(c.StartedAt) || keep[c.CallyzerID] {
			kept = append(kept, c)
		}
	}
	// Yield between the read and the writes, as a network round trip would.
	runtime.Gosched()
	if _, err := s.Store.ReplaceWindow(ctx, phone, w, callsWithin(kept, w), at); err != nil {
		return callhistory.WriteResult{}, err
	}
	return s.Store.UpsertCalls(ctx, calls, at)
}

func callsWithin(calls []callhistory.Call, w callhistory.Window) []callhistory.Call {
	var out []callhistory.Call
	for _, c := range calls {
		if w.Contains(c.StartedAt) {
			out = append(out, c)
		}
	}
	return out
}

// deletesLateUploads deletes every call of the window its answer lacks,
// however late it was uploaded: it first marks those calls as never
// uploaded (a zero SyncedAt), which the store deletes whatever syncedAt is.
type deletesLateUploads struct {
	callhistory.Store
}

func (s deletesLateUploads) ReplaceWindow(ctx context.Context, phone string, w callhistory.Window, calls []callhistory.Call, at time.Time) (callhistory.WriteResult, error) {
	stored, err := s.Store.Calls(ctx, phone, 0)
	if err != nil {
		return callhistory.WriteResult{}, err
	}
	inAnswer := map[string]bool{}
	for _, c := range calls {
		inAnswer[c.CallyzerID] = true
	}
	var late []callhistory.Call
	for _, c := range callsWithin(stored, w) {
		if !inAnswer[c.CallyzerID] && c.SyncedAt.After(at) {
			c.SyncedAt = time.Time{}
			late = append(late, c)
		}
	}
	if _, err := s.Store.UpsertCalls(ctx, late, time.Time{}); err != nil {
		return callhistory.WriteResult{}, err
	}
	return s.Store.ReplaceWindow(ctx, phone, w, calls, at)
}

// lastWriterWins lets an older copy overwrite a stored call of its number:
// it first clears the stored call's ModifiedAt, which takes it out of the
// older-copy rule.
type lastWriterWins struct {
	callhistory.Store
}

func (s lastWriterWins) UpsertCalls(ctx context.Context, calls []callhistory.Call, at time.Time) (callhistory.WriteResult, error) {
	incoming := map[string]callhistory.Call{}
	for _, c := range calls {
		incoming[c.CallyzerID] = c
	}
	var cleared []callhistory.Call
	for _, phone := range slices.Sorted(maps.Keys(phonesOf(calls))) {
		stored, err := s.Store.Calls(ctx, phone, 0)
		if err != nil {
			return callhistory.WriteResult{}, err
		}
		for _, c := range stored {
			if in, ok := incoming[c.CallyzerID]; ok && in.ModifiedAt.Before(c.ModifiedAt) {
				c.ModifiedAt = time.Time{}
				cleared = append(cleared, c)
			}
		}
	}
	if _, err := s.Store.UpsertCalls(ctx, cleared, time.Time{}); err != nil {
		return callhistory.WriteResult{}, err
	}
	return s.Store.UpsertCalls(ctx, calls, at)
}

func phonesOf(calls []callhistory.Call) map[string]bool {
	m := map[string]bool{}
	for _, c := range calls {
		m[c.Phone] = true
	}
	return m
}
