package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/require"
	"modernc.org/sqlite"

	"github.com/leadcalls/leadcalls/callhistory"
	"github.com/leadcalls/leadcalls/internal/testdb"
)

// idlePool leaves n idle connections, and no other, in s's pool and
// returns their server-side ids (PostgreSQL backend pid, MySQL connection
// id; 0 on SQLite).
func idlePool(t *testing.T, s *Store, n int) []int64 {
	t.Helper()
	q := map[string]string{"postgres": "SELECT pg_backend_pid()", "mysql": "SELECT CONNECTION_ID()", "sqlite": "SELECT 0"}[s.d.name]
	conns := make([]*sql.Conn, n)
	ids := make([]int64, n)
	for i := range conns {
		c, err := s.db.Conn(t.Context())
		require.NoError(t, err)
		require.NoError(t, c.QueryRowContext(t.Context(), q).Scan(&ids[i]))
		conns[i] = c
	}
	for _, c := range conns {
		require.NoError(t, c.Close())
	}
	st := s.db.Stats()
	require.Equal(t, n, st.Idle)
	require.Equal(t, n, st.OpenConnections)
	return ids
}

// writeAfterKill kills every connection of s's pool (two idle ones) with
// kill, then runs an UpsertCalls and, after another kill, a ReplaceWindow;
// both must succeed and store their calls.
func writeAfterKill(t *testing.T, s *Store, kill func(ids []int64)) {
	t.Helper()
	ctx := t.Context()
	const phone = "+48601234567"
	first := makeCalls(phone, "a", 3)

	kill(idlePool(t, s, 2))
	_, err := callhistory.UpsertCalls(ctx, s, first, afterUploads)
	require.NoError(t, err, "UpsertCalls after the pool's connections were killed")
	if diff := cmp.Diff(want(first), stored(t, s, phone), ignoreRowID); diff != "" {
		t.Fatalf("after UpsertCalls (-want +got):\n%s", diff)
	}

	second := []callhistory.Call{first[0], first[1], makeCall(phone, "b-0", 7)}
	kill(idlePool(t, s, 2))
	res, err := callhistory.ReplaceWindow(ctx, s, phone, window, second, afterUploads.Add(time.Hour))
	require.NoError(t, err, "ReplaceWindow after the pool's connections were killed")
	require.Equal(t, callhistory.WriteResult{Inserted: 1, Deleted: 1, Unchanged: 2}, res)
	if diff := cmp.Diff(want(second), stored(t, s, phone), ignoreRowID); diff != "" {
		t.Fatalf("after ReplaceWindow (-want +got):\n%s", diff)
	}
}

// TestTerminatedBackendsPostgres: after every backend of the pool was
// terminated (what a server restart does to a pool), the next write runs
// again on a live connection instead of failing.
func TestTerminatedBackendsPostgres(t *testing.T) {
	t.Parallel()
	_, dsn := testdb.Postgres(t)
	cfg, err := pgx.ParseConfig(dsn)
	require.NoError(t, err)
	// pgx pings a connection idle for more than a second before reusing
	// it; a busy pool reuses its connections sooner, which is how broken
	// ones reach a write. Never pinging makes that certain.
	db := stdlib.OpenDB(*cfg, stdlib.OptionShouldPing(func(context.Context, stdlib.ShouldPingParams) bool { return false }))
	t.Cleanup(func() { _ = db.Close() })
	s := newMigrated(t, db, Postgres)

	admin := testdb.OpenDSN(t, testdb.PostgresDriver, dsn)
	writeAfterKill(t, s, func(pids []int64) {
		for _, pid := range pids {
			var done bool
			require.NoError(t, admin.QueryRowContext(t.Context(), "SELECT pg_terminate_backend($1, 10000)", pid).Scan(&done))
			require.True(t, done, "backend %d terminated", pid)
		}
	})
}

// TestKilledConnectionsMySQL: the same with KILL on MariaDB/MySQL. By
// default go-sql-driver/mysql checks a pooled connection before handing it
// out and database/sql takes another; without that check the write meets
// the killed connection ("invalid connection", not driver.ErrBadConn).
func TestKilledConnectionsMySQL(t *testing.T) {
	t.Parallel()
	for _, check := range []bool{true, false} {
		t.Run(fmt.Sprintf("checkConnLiveness=%t", check), func(t *testing.T) {
			t.Parallel()
			_, dsn := testdb.MySQL(t)
			cfg, err := mysql.ParseDSN(dsn)
			require.NoError(t, err)
			cfg.CheckConnLiveness = check
			db := testdb.OpenDSN(t, testdb.MySQLDriver, cfg.FormatDSN())
			s := newMigrated(t, db, MySQL)

			admin := testdb.OpenDSN(t, testdb.MySQLDriver, dsn)
			writeAfterKill(t, s, func(ids []int64) {
				ctx := t.Context()
				for _, id := range ids {
					_, err := admin.ExecContext(ctx, fmt.Sprintf("KILL %d", id))
					require.NoError(t, err)
				}
				require.Eventually(t, func() bool {
					var n int
					q := "SELECT count(*) FROM information_schema.processlist WHERE id IN (?, ?)"
					err := admin.QueryRowContext(ctx, q, ids[0], ids[1]).Scan(&n)
					return err == nil && n == 0
				}, 10*time.Second, 10*time.Millisecond, "killed connections gone")
			})
		})
	}
}

// faultConnector opens SQLite connections that a test can break, as a
// server restart breaks a pool's: a broken connection fails its next
// statement or ping with failErr (the server's last word) and every later
// one with driver.ErrBadConn (the driver knows it is closed), like pgx. It
// is no driver.Validator, so only a driver.ErrBadConn or the store gets a
// broken connection out of the pool.
type faultConnector struct {
	base driver.Connector

	mu       sync.Mutex
	conns    []*faultConn
	failAt   string // a statement starting with failAt breaks its connection,
	failures int    // that many times
	failErr  error
	reused   int // statements and pings on a connection after its driver.ErrBadConn
}

type faultConn struct {
	driver.Conn
	c                        *faultConnector
	broken, failed, reported bool
	closed                   bool
}

func newFaultStore(t *testing.T) (*Store, *faultConnector) {
	t.Helper()
	base, err := sqlite.NewConnector(testdb.SQLiteDSN(testdb.SQLitePath(t)))
	require.NoError(t, err)
	c := &faultConnector{base: base}
	db := sql.OpenDB(c)
	t.Cleanup(func() { _ = db.Close() })
	return newMigrated(t, db, SQLite), c
}

func (c *faultConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.base.Connect(ctx)
	if err != nil {
		return nil, err
	}
	fc := &faultConn{Conn: conn, c: c}
	c.mu.Lock()
	c.conns = append(c.conns, fc)
	c.mu.Unlock()
	return fc, nil
}

func (c *faultConnector) Driver() driver.Driver { return c.base.Driver() }

// breakOpen breaks every open connection and returns how many.
func (c *faultConnector) breakOpen() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, fc := range c.conns {
		if !fc.closed {
			fc.broken = true
			n++
		}
	}
	return n
}

// stats returns the connections opened, those broken and not closed, and
// the uses of reported ones.
func (c *faultConnector) stats() (opened, brokenOpen, reused int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, fc := range c.conns {
		if fc.broken && !fc.closed {
			brokenOpen++
		}
	}
	return len(c.conns), brokenOpen, c.reused
}

// check returns the error of query ("" for a ping) on fc.
func (fc *faultConn) check(query string) error {
	c := fc.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if !fc.broken && c.failures > 0 && c.failAt != "" && strings.HasPrefix(query, c.failAt) {
		c.failures--
		fc.broken = true
	}
	if !fc.broken {
		return nil
	}
	if fc.reported {
		c.reused++
	}
	err := driver.ErrBadConn
	if !fc.failed {
		err = c.failErr
	}
	fc.failed = true
	fc.reported = fc.reported || errors.Is(err, driver.ErrBadConn)
	return err
}

func (fc *faultConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if err := fc.check(query); err != nil {
		return nil, err
	}
	return fc.Conn.(driver.ExecerContext).ExecContext(ctx, query, args)
}

func (fc *faultConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if err := fc.check(query); err != nil {
		return nil, err
	}
	return fc.Conn.(driver.QueryerContext).QueryContext(ctx, query, args)
}

func (fc *faultConn) Ping(context.Context) error { return fc.check("") }

func (fc *faultConn) Close() error {
	fc.c.mu.Lock()
	fc.closed = true
	fc.c.mu.Unlock()
	return fc.Conn.Close()
}

// TestLostConnection: a transaction whose connection was lost before
// COMMIT runs once more, on a live connection, and the lost one leaves
// the pool; one lost at COMMIT is not run again and says that its outcome
// is unknown.
func TestLostConnection(t *testing.T) {
	t.Parallel()
	// What pgx returns for a terminated backend, and go-sql-driver/mysql
	// for a killed connection: not driver.ErrBadConn.
	errTerminated := errors.New("FATAL: terminating connection due to administrator command (SQLSTATE 57P01)")
	tests := []struct {
		name     string
		failAt   string // the statement that loses the connection ("": break the pool first)
		failures int
		failErr  error
		runs     int  // calls of the Update's fn
		stored   bool // else an error and nothing stored
	}{
		{"bad connection in the transaction", "INSERT", 1, driver.ErrBadConn, 2, true},
		{"bad connection at begin", "BEGIN", 1, driver.ErrBadConn, 1, true},
		{"terminated in the transaction", "INSERT", 1, errTerminated, 2, true},
		{"every pooled connection terminated", "", 0, errTerminated, 1, true},
		{"every pooled connection bad", "", 0, driver.ErrBadConn, 1, true},
		{"lost again on the retry", "INSERT", 2, driver.ErrBadConn, 2, false},
		{"bad connection at commit", "COMMIT", 1, driver.ErrBadConn, 1, false},
		{"terminated at commit", "COMMIT", 1, errTerminated, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			s, fc := newFaultStore(t)
			const phone = "+48601234567"
			calls := makeCalls(phone, "a", 3)

			idlePool(t, s, 2)
			fc.mu.Lock()
			fc.failAt, fc.failures, fc.failErr = tt.failAt, tt.failures, tt.failErr
			fc.mu.Unlock()
			if tt.failAt == "" {
				require.Equal(t, 2, fc.breakOpen())
			}

			runs := 0
			err := s.Update(ctx, []string{phone}, func(tx callhistory.Tx) error {
				runs++
				return tx.Put(ctx, calls)
			})
			require.Equal(t, tt.runs, runs, "runs of fn")
			_, brokenOpen, reused := fc.stats()
			require.Zero(t, brokenOpen, "broken connections left open (in the pool)")
			require.Zero(t, reused, "uses of a connection after its driver.ErrBadConn")
			if tt.stored {
				require.NoError(t, err)
				if diff := cmp.Diff(want(calls), stored(t, s, phone), ignoreRowID); diff != "" {
					t.Fatalf("calls (-want +got):\n%s", diff)
				}
				return
			}
			require.Error(t, err)
			if tt.failAt == "COMMIT" {
				require.ErrorIs(t, err, errCommitUnknown)
			} else {
				require.NotErrorIs(t, err, errCommitUnknown)
			}
			if errors.Is(tt.failErr, driver.ErrBadConn) {
				require.ErrorIs(t, err, driver.ErrBadConn)
			}
			require.Empty(t, stored(t, s, phone))
		})
	}
}
