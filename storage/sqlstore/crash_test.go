package sqlstore

import (
	"bufio"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/leadcalls/leadcalls/callhistory"
	"github.com/leadcalls/leadcalls/internal/testdb"
	"github.com/leadcalls/leadcalls/storage/storagetest"
)

// Settings the crash test hands its child process.
const (
	crashDBVar    = "LEADCALLS_SQLSTORE_CRASH_DB"    // the SQLite file
	crashPointVar = "LEADCALLS_SQLSTORE_CRASH_POINT" // delete, write or commit
	crashPhone    = "+48601234567"
	crashCalls    = 100
	crashReady    = "READY"
)

// crashAnswer is the window the child writes: new ids, and the first half
// of the old calls changed.
func crashAnswer() []callhistory.Call {
	next := makeCalls(crashPhone, "new", crashCalls)
	changed := makeCalls(crashPhone, "old", crashCalls/2)
	for i := range changed {
		changed[i].Note = "changed by the killed process"
	}
	return append(next, changed...)
}

// TestHelperProcess is the child of TestSQLiteCrashConsistency: it starts a
// big window replacement and, at the crash point, tells the parent and
// blocks until it is killed. It does nothing in a normal test run.
func TestHelperProcess(t *testing.T) {
	path := os.Getenv(crashDBVar)
	if path == "" {
		return // not the child: nothing to do (and nothing skipped)
	}
	// A tiny page cache makes SQLite spill the uncommitted transaction into
	// the WAL before commit, the state a crash must not expose (the parent
	// checks that it did).
	db := testdb.OpenDSN(t, testdb.SQLiteDriver, testdb.SQLiteDSN(path)+"&_pragma=cache_size(8)")
	halt := func() error {
		fmt.Println(crashReady)
		_, _ = io.Copy(io.Discard, os.Stdin) // the parent never closes stdin: block until killed
		return errors.New("stdin closed before the kill")
	}
	hooks := &storagetest.Hooks{}
	switch os.Getenv(crashPointVar) {
	case "delete":
		hooks.AfterDelete = halt
	case "write":
		hooks.BeforeWrite = func(k int) error {
			if k == crashCalls+crashCalls/4 { // several statements are written by then
				return halt()
			}
			return nil
		}
	case "commit":
		hooks.BeforeCommit = halt
	}
	s, err := New(db, SQLite)
	require.NoError(t, err)
	s.maxRows = 50
	_, err = callhistory.ReplaceWindow(t.Context(), storagetest.WithHooks(s, hooks), crashPhone, window, crashAnswer(), base.Add(time.Hour))
	t.Fatalf("the write was not interrupted: %v", err)
}

// TestSQLiteCrashConsistency kills (SIGKILL) a process in the middle of a
// big window replacement, 20 times at different points; after each, the
// reopened database holds the old state exactly and passes
// PRAGMA integrity_check.
func TestSQLiteCrashConsistency(t *testing.T) {
	t.Parallel()
	path := testdb.SQLitePath(t)
	var before []callhistory.Call
	func() {
		db, err := sql.Open(testdb.SQLiteDriver, testdb.SQLiteDSN(path))
		require.NoError(t, err)
		defer db.Close()
		s := newMigrated(t, db, SQLite)
		_, err = callhistory.ReplaceWindow(t.Context(), s, crashPhone, window, makeCalls(crashPhone, "old", crashCalls), base)
		require.NoError(t, err)
		before = stored(t, s, crashPhone)
	}()
	require.Len(t, before, crashCalls)

	points := []string{"delete", "write", "commit"}
	for i := range 20 {
		point := points[i%len(points)]
		walSize := killMidWrite(t, path, point)
		if point != "delete" {
			// The uncommitted rows really reached the file a crash
			// leaves behind (the WAL was empty when the child began).
			require.Positive(t, walSize, "kill %d (%s): nothing of the write was in the WAL", i+1, point)
		}

		db, err := sql.Open(testdb.SQLiteDriver, testdb.SQLiteDSN(path))
		require.NoError(t, err)
		s, err := New(db, SQLite)
		require.NoError(t, err)
		after := stored(t, s, crashPhone)
		last, err := s.LastSynced(t.Context(), crashPhone)
		require.NoError(t, err)
		var check string
		require.NoError(t, db.QueryRowContext(t.Context(), "PRAGMA integrity_check").Scan(&check))
		require.NoError(t, db.Close())

		if diff := cmp.Diff(before, after); diff != "" {
			t.Fatalf("kill %d (%s): the store changed (-before +after):\n%s", i+1, point, diff)
		}
		require.Equal(t, base, last, "kill %d (%s): last sync moved", i+1, point)
		require.Equal(t, "ok", check, "kill %d (%s): integrity_check", i+1, point)
	}
}

// killMidWrite runs TestHelperProcess on path, waits for it to reach point
// and kills it with SIGKILL. It returns the size of the WAL file at the
// crash point.
func killMidWrite(t *testing.T, path, point string) int64 {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashDBVar+"="+path, crashPointVar+"="+point)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	defer stdin.Close()
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())

	ready := false
	lines := bufio.NewScanner(stdout)
	var output []string
	for lines.Scan() {
		if lines.Text() == crashReady {
			ready = true
			break
		}
		output = append(output, lines.Text())
	}
	var walSize int64
	if fi, err := os.Stat(path + "-wal"); err == nil {
		walSize = fi.Size()
	}
	require.NoError(t, cmd.Process.Kill()) // SIGKILL on Unix
	err = cmd.Wait()
	require.True(t, ready, "the child never reached %s:\n%s\n%s", point, strings.Join(output, "\n"), stderr.String())
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "the child was not killed")
	return walSize
}
