package storagetest_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
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

func newMemstore(t *testing.T) callhistory.Store {
	return memstore.New()
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
	t.Run("SecondPrecision", func(t *testing.T) {
		storagetest.Run(t, newMemstore, storagetest.WithTimePrecision(time.Second),
			storagetest.WithConcurrency(3, 2), storagetest.Parallel())
	})
}

func TestSnapshotDiff(t *testing.T) {
	t.Parallel()
	st := memstore.New()
	day := time.Date(2026, 5, 4, 0, 0, 0, 0, time.UTC)
	before := storagetest.Snapshot(t, st, "+48601000001")
	require.Empty(t, before.Diff(storagetest.Snapshot(t, st, "+48601000001")))
	_, err := callhistory.UpsertCalls(t.Context(), st, []callhistory.Call{{CallyzerID: "c1", Phone: "+48601000001", StartedAt: day}}, day)
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
	store   func(t *testing.T) callhistory.Store
}{
	"LastSyncedGoesBackwards": { // the stored date read back as never synced
		run: "LastSynced", failing: "LastSynced/NeverBackwards",
		store: func(t *testing.T) callhistory.Store {
			return txFilter{memstore.New(), func(tx callhistory.Tx) callhistory.Tx { return forgetsLastSync{tx} }}
		},
	},
	"UnorderedCalls": {
		run: "Calls", failing: "Calls/Order",
		store: func(t *testing.T) callhistory.Store {
			return readFilter{memstore.New(), func(c []callhistory.Call) []callhistory.Call {
				slices.Reverse(c)
				return c
			}}
		},
	},
	"NilForNoCalls": {
		run: "RoundTrip", failing: "RoundTrip/EmptyStore",
		store: func(t *testing.T) callhistory.Store {
			return readFilter{memstore.New(), func(c []callhistory.Call) []callhistory.Call {
				if len(c) == 0 {
					return nil
				}
				return c
			}}
		},
	},
	"NotAtomic": { // every write of a transaction committed at once
		run: "Faults", failing: "Faults/ReplaceWindow/ErrorOnCommit",
		store: func(t *testing.T) callhistory.Store {
			return notAtomic{memstore.New()}
		},
	},
	"CommitsAfterCancel": { // the context is not checked before the commit
		run: "Faults", failing: "Faults/ReplaceWindow/CancelBeforeCommit",
		store: func(t *testing.T) callhistory.Store {
			return ignoresCancel{memstore.New()}
		},
	},
	"DeletesLateUploads": { // upload times read back as zero: a refresh deletes what a concurrent sync stored
		run: "ReplaceWindow", failing: "ReplaceWindow/LateUploadsSurvive",
		store: func(t *testing.T) callhistory.Store {
			return txFilter{memstore.New(), func(tx callhistory.Tx) callhistory.Tx {
				return readsCalls{tx, func(c *callhistory.Call) { c.SyncedAt = time.Time{} }}
			}}
		},
	},
	"LastWriterWins": { // ModifiedAt read back as zero: an older copy overwrites a newer one
		run: "UpsertCalls", failing: "UpsertCalls/OlderCopy/OneStepOlderIsIgnored",
		store: func(t *testing.T) callhistory.Store {
			return txFilter{memstore.New(), func(tx callhistory.Tx) callhistory.Tx {
				return readsCalls{tx, func(c *callhistory.Call) { c.ModifiedAt = time.Time{} }}
			}}
		},
	},
	"GlobalLockless": { // one writer's answer merged into another's: no lock at all
		run: "Concurrency", failing: "Concurrency/OneNumber",
		store: func(t *testing.T) callhistory.Store {
			return lockless{memstore.New()}
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

// readFilter changes what Calls returns.
type readFilter struct {
	callhistory.Store
	filter func([]callhistory.Call) []callhistory.Call
}

func (s readFilter) Calls(ctx context.Context, phone string, limit int) ([]callhistory.Call, error) {
	c, err := s.Store.Calls(ctx, phone, limit)
	return s.filter(c), err
}

// txFilter hands Update's fn a changed Tx.
type txFilter struct {
	callhistory.Store
	wrap func(callhistory.Tx) callhistory.Tx
}

func (s txFilter) Update(ctx context.Context, phones []string, fn func(callhistory.Tx) error) error {
	return s.Store.Update(ctx, phones, func(tx callhistory.Tx) error { return fn(s.wrap(tx)) })
}

// forgetsLastSync reads no last-sync date inside a transaction.
type forgetsLastSync struct{ callhistory.Tx }

func (forgetsLastSync) LastSynced(context.Context, []string) (map[string]time.Time, error) {
	return map[string]time.Time{}, nil
}

// readsCalls changes every call a transaction reads.
type readsCalls struct {
	callhistory.Tx
	change func(*callhistory.Call)
}

func (t readsCalls) CallsInWindow(ctx context.Context, phone string, w callhistory.Window) ([]callhistory.Call, error) {
	calls, err := t.Tx.CallsInWindow(ctx, phone, w)
	for i := range calls {
		t.change(&calls[i])
	}
	return calls, err
}

func (t readsCalls) CallsByID(ctx context.Context, ids []string) ([]callhistory.Call, error) {
	calls, err := t.Tx.CallsByID(ctx, ids)
	for i := range calls {
		t.change(&calls[i])
	}
	return calls, err
}

// notAtomic commits each write of a transaction on its own, at once.
type notAtomic struct{ callhistory.Store }

func (s notAtomic) Update(ctx context.Context, phones []string, fn func(callhistory.Tx) error) error {
	return fn(autoCommit{s: s.Store, phones: phones})
}

// autoCommit runs every read and every write in an Update of its own.
type autoCommit struct {
	s      callhistory.Store
	phones []string
}

func (t autoCommit) CallsInWindow(ctx context.Context, phone string, w callhistory.Window) (out []callhistory.Call, err error) {
	err = t.read(ctx, func(tx callhistory.Tx) (err error) { out, err = tx.CallsInWindow(ctx, phone, w); return err })
	return out, err
}

func (t autoCommit) CallsByID(ctx context.Context, ids []string) (out []callhistory.Call, err error) {
	err = t.read(ctx, func(tx callhistory.Tx) (err error) { out, err = tx.CallsByID(ctx, ids); return err })
	return out, err
}

func (t autoCommit) LastSynced(ctx context.Context, phones []string) (out map[string]time.Time, err error) {
	err = t.read(ctx, func(tx callhistory.Tx) (err error) { out, err = tx.LastSynced(ctx, phones); return err })
	return out, err
}

func (t autoCommit) Delete(ctx context.Context, ids []int64) error {
	return t.s.Update(ctx, t.phones, func(tx callhistory.Tx) error { return tx.Delete(ctx, ids) })
}

func (t autoCommit) Put(ctx context.Context, calls []callhistory.Call) error {
	return t.s.Update(ctx, t.phones, func(tx callhistory.Tx) error { return tx.Put(ctx, calls) })
}

func (t autoCommit) SetLastSynced(ctx context.Context, dates map[string]time.Time) error {
	return t.s.Update(ctx, t.phones, func(tx callhistory.Tx) error { return tx.SetLastSynced(ctx, dates) })
}

var errReadDone = errors.New("read done")

// read runs f in an Update of its own that commits nothing.
func (t autoCommit) read(ctx context.Context, f func(callhistory.Tx) error) error {
	err := t.s.Update(ctx, t.phones, func(tx callhistory.Tx) error {
		if err := f(tx); err != nil {
			return err
		}
		return errReadDone
	})
	if errors.Is(err, errReadDone) {
		return nil
	}
	return err
}

// ignoresCancel commits although the context ended inside the write.
type ignoresCancel struct{ callhistory.Store }

func (s ignoresCancel) Update(ctx context.Context, phones []string, fn func(callhistory.Tx) error) error {
	return s.Store.Update(context.WithoutCancel(ctx), phones, fn)
}

// lockless takes no lock: writers of one number run at once.
type lockless struct{ callhistory.Store }

func (s lockless) Update(ctx context.Context, _ []string, fn func(callhistory.Tx) error) error {
	return s.Store.Update(ctx, nil, func(tx callhistory.Tx) error {
		// Yield between the reads and the writes, as a round trip would.
		return fn(yieldingTx{tx})
	})
}

type yieldingTx struct{ callhistory.Tx }

func (t yieldingTx) Delete(ctx context.Context, ids []int64) error {
	runtime.Gosched()
	return t.Tx.Delete(ctx, ids)
}

func (t yieldingTx) Put(ctx context.Context, calls []callhistory.Call) error {
	runtime.Gosched()
	return t.Tx.Put(ctx, calls)
}
