package pgcoord_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadcalls/leadcalls/storage/pgcoord"
)

func TestLockKey(t *testing.T) {
	t.Parallel()
	// The key is part of the protocol between replicas: a change would let
	// an old and a new version run a pass at the same time. (Value checked
	// against an independent FNV-1a 64 implementation.)
	require.Equal(t, int64(3374291165870138850), pgcoord.LockKey("leadcalls/sync"))
	require.Equal(t, pgcoord.LockKey("a"), pgcoord.LockKey("a"))
	require.NotEqual(t, pgcoord.LockKey("a"), pgcoord.LockKey("b"))
}

func TestTryLockRejectsBadInput(t *testing.T) {
	t.Parallel()
	db := sql.OpenDB(nil) // never used: input is checked first
	t.Cleanup(func() { _ = db.Close() })
	for name, tc := range map[string]struct {
		db   *sql.DB
		name string
	}{
		"nil db":     {nil, "x"},
		"empty name": {db, ""},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			release, ok, err := pgcoord.TryLock(t.Context(), tc.db, tc.name)
			require.Error(t, err)
			require.False(t, ok)
			require.Nil(t, release)
		})
	}
}

func TestTryLockOneHolderAcrossPools(t *testing.T) {
	t.Parallel()
	d := newTestDB(t)
	a, b := d.replica(t), d.replica(t)
	name := d.schema + "/pass"
	ctx := t.Context()

	releaseA, ok, err := pgcoord.TryLock(ctx, a, name)
	require.NoError(t, err)
	require.True(t, ok, "the first replica should get the lock")

	releaseB, ok, err := pgcoord.TryLock(ctx, b, name)
	require.NoError(t, err)
	require.False(t, ok, "the second replica must not get a held lock")
	require.Nil(t, releaseB)

	// Session locks are re-entrant per session; another session of the
	// same pool must still be refused.
	_, ok, err = pgcoord.TryLock(ctx, a, name)
	require.NoError(t, err)
	require.False(t, ok, "another connection of the holder's pool must not get the lock")

	// Other names are independent.
	releaseOther, ok, err := pgcoord.TryLock(ctx, b, name+"/other")
	require.NoError(t, err)
	require.True(t, ok)
	require.NoError(t, releaseOther())

	require.NoError(t, releaseA())
	require.NoError(t, releaseA(), "a second release returns the first result")

	releaseB, ok, err = pgcoord.TryLock(ctx, b, name)
	require.NoError(t, err)
	require.True(t, ok, "after release the other replica gets the lock")
	require.NoError(t, releaseB())
}

func TestTryLockFreedWhenHolderSessionDies(t *testing.T) {
	t.Parallel()
	d := newTestDB(t)
	a, b, admin := d.replica(t), d.replica(t), d.replica(t)
	name := d.schema + "/pass"
	ctx := t.Context()

	releaseA, ok, err := pgcoord.TryLock(ctx, a, name)
	require.NoError(t, err)
	require.True(t, ok)

	// Kill the holder's backend, as when its process or machine dies.
	key := pgcoord.LockKey(name)
	var killed bool
	require.NoError(t, admin.QueryRowContext(ctx, `SELECT pg_terminate_backend(pid) FROM pg_locks
		WHERE locktype = 'advisory' AND granted AND objsubid = 1
		  AND classid = ($1::bigint >> 32 & 4294967295)::oid AND objid = ($1::bigint & 4294967295)::oid`,
		key).Scan(&killed))
	require.True(t, killed)

	// Termination is asynchronous: poll, bounded.
	var releaseB func() error
	require.Eventually(t, func() bool {
		var err error
		releaseB, ok, err = pgcoord.TryLock(ctx, b, name)
		require.NoError(t, err)
		return ok
	}, 5*time.Second, 10*time.Millisecond, "the lock of a dead session must be free")
	require.NoError(t, releaseB())

	require.ErrorIs(t, releaseA(), pgcoord.ErrLockLost)
}

func TestLockWaitsForReleaseAndHonoursContext(t *testing.T) {
	t.Parallel()
	d := newTestDB(t)
	a, b := d.replica(t), d.replica(t)
	name := d.schema + "/pass"

	releaseA, err := pgcoord.Lock(t.Context(), a, name)
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(t.Context(), 120*time.Millisecond)
	defer cancel()
	_, err = pgcoord.Lock(ctx, b, name)
	require.ErrorIs(t, err, context.DeadlineExceeded)

	got := make(chan error, 1)
	go func() {
		releaseB, err := pgcoord.Lock(t.Context(), b, name)
		if err == nil {
			err = releaseB()
		}
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("Lock returned (%v) while another session held the lock", err)
	case <-time.After(150 * time.Millisecond):
	}
	require.NoError(t, releaseA())
	select {
	case err := <-got:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("Lock did not get the lock after it was released")
	}
}
