package memstore

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/leadcalls/leadcalls/callhistory"
	"github.com/leadcalls/leadcalls/statusmap"
	"github.com/leadcalls/leadcalls/storage/storagetest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// withoutLockVar, set to 1, makes TestConformance run on stores without the
// per-number lock; only TestConformanceCatchesMissingLock sets it, in a
// child process.
const withoutLockVar = "MEMSTORE_TEST_WITHOUT_PHONE_LOCK"

func TestConformance(t *testing.T) {
	withoutLock := os.Getenv(withoutLockVar) == "1"
	storagetest.Run(t, func(t *testing.T) callhistory.Store {
		s := New()
		s.withoutPhoneLock = withoutLock
		return s
	}, storagetest.Parallel())
}

// TestConformanceCatchesMissingLock shows the suite has teeth: with the
// per-number lock disabled, its concurrency subtests fail. It runs them in a
// child process (this test binary), since a failing subtest cannot be
// contained in this one.
func TestConformanceCatchesMissingLock(t *testing.T) {
	if os.Getenv(withoutLockVar) == "1" {
		t.Skip("child process: only TestConformance runs here")
	}
	if testing.Short() {
		t.Skip("skipped in -short mode: runs the concurrency suite in a child process")
	}
	cmd := exec.CommandContext(t.Context(), os.Args[0],
		"-test.run=^TestConformance$/^Concurrency$/^OneNumber$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), withoutLockVar+"=1")
	out, err := cmd.CombinedOutput()
	require.Error(t, err, "the concurrency suite passed without the per-number lock:\n%s", out)
	require.Contains(t, string(out), "--- FAIL: TestConformance/Concurrency/OneNumber")
	// Writers that race either leave a mix of answers or, when the commit
	// sees the state changed under them, run out of retries.
	require.Regexp(t, "a mix|conflicting write", string(out))
}

func call(phone, id string, at time.Time) callhistory.Call {
	return callhistory.Call{CallyzerID: id, Phone: phone, Direction: statusmap.Outgoing, Status: statusmap.Answered, StartedAt: at}
}

var (
	day    = time.Date(2026, 5, 4, 8, 0, 0, 0, time.UTC)
	window = callhistory.Window{From: day, To: day.Add(24 * time.Hour)}
)

// blockingHooks returns hooks whose BeforeCommit, for the first write only,
// reports entered and waits for release.
func blockingHooks(entered, release chan struct{}) *storagetest.Hooks {
	first := true
	return &storagetest.Hooks{BeforeCommit: func() error {
		if first {
			first = false
			close(entered)
			<-release
		}
		return nil
	}}
}

// TestLockPerNumber shows, deterministically, that a writer of one number
// waits for another writer of that number and not for a writer of another.
func TestLockPerNumber(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		entered, release := make(chan struct{}), make(chan struct{})
		s := New()
		hooked := storagetest.WithHooks(s, blockingHooks(entered, release))
		ctx := t.Context()

		firstDone := make(chan error)
		go func() {
			_, err := callhistory.ReplaceWindow(ctx, hooked, "+48601000001", window, []callhistory.Call{call("+48601000001", "a", day)}, day)
			firstDone <- err
		}()
		<-entered // the first writer is inside its write, holding its number

		res, err := callhistory.ReplaceWindow(ctx, hooked, "+48601000002", window, []callhistory.Call{call("+48601000002", "b", day)}, day)
		require.NoError(t, err, "a writer of another number must not wait")
		require.Equal(t, callhistory.WriteResult{Inserted: 1}, res)

		secondDone := make(chan error, 1)
		go func() {
			_, err := callhistory.UpsertCalls(ctx, hooked, []callhistory.Call{call("+48601000001", "a2", day)}, day)
			secondDone <- err
		}()
		synctest.Wait()
		select {
		case err := <-secondDone:
			t.Fatalf("a second writer of the same number did not wait for the first (err %v)", err)
		default:
		}

		close(release)
		require.NoError(t, <-firstDone)
		require.NoError(t, <-secondDone)
		calls, err := s.Calls(ctx, "+48601000001", 0)
		require.NoError(t, err)
		require.Len(t, calls, 2)
	})
}

// TestLockWaitHonoursContext: a writer waiting for its number's lock gives
// up when its context ends, and changes nothing.
func TestLockWaitHonoursContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		entered, release := make(chan struct{}), make(chan struct{})
		s := New()
		hooked := storagetest.WithHooks(s, blockingHooks(entered, release))
		firstDone := make(chan error)
		go func() {
			_, err := callhistory.ReplaceWindow(t.Context(), hooked, "+48601000001", window, nil, day)
			firstDone <- err
		}()
		<-entered

		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		res, err := callhistory.ReplaceWindow(ctx, hooked, "+48601000001", window, []callhistory.Call{call("+48601000001", "x", day)}, day.Add(time.Hour))
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.Zero(t, res)

		close(release)
		require.NoError(t, <-firstDone)
		calls, err := s.Calls(t.Context(), "+48601000001", 0)
		require.NoError(t, err)
		require.Empty(t, calls)
		last, err := s.LastSynced(t.Context(), "+48601000001")
		require.NoError(t, err)
		require.True(t, last.Equal(day), "LastSynced = %v, want %v", last, day)
		require.Empty(t, s.locks.m, "no lock entry may outlive its holders and waiters")
	})
}

// TestInvalidInputWrapsSentinel: what the store refuses itself (the use
// cases check calls before they reach it) wraps ErrInvalidInput.
func TestInvalidInputWrapsSentinel(t *testing.T) {
	t.Parallel()
	s := New()
	var kept callhistory.Tx
	require.NoError(t, s.Update(t.Context(), []string{"+48601000001"}, func(tx callhistory.Tx) error {
		kept = tx
		return nil
	}))
	require.ErrorIs(t, kept.Put(t.Context(), []callhistory.Call{call("+48601000001", "y", day)}), ErrInvalidInput,
		"a Tx used after its Update returned")
	require.ErrorIs(t, s.SaveSyncState(t.Context(), "", callhistory.SyncState{}), ErrInvalidInput)
}

func BenchmarkReplaceWindow1000(b *testing.B) {
	s := New()
	const phone = "+48601000001"
	w := callhistory.Window{From: day, To: day.Add(1000 * time.Hour)}
	answers := make([][]callhistory.Call, 2)
	for a := range answers {
		for i := range 1000 {
			c := call(phone, fmt.Sprintf("c%05d", i), day.Add(time.Duration(i)*time.Hour))
			c.Note = fmt.Sprintf("answer %d", a) // every call changes between the two answers
			answers[a] = append(answers[a], c)
		}
	}
	ctx := b.Context()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := callhistory.ReplaceWindow(ctx, s, phone, w, answers[i%2], day); err != nil {
			b.Fatal(err)
		}
	}
}
