package pgpacing_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/leadcalls/leadcalls/callyzer/pacing"
	"github.com/leadcalls/leadcalls/callyzer/pacing/pgpacing"
	"github.com/leadcalls/leadcalls/internal/testdb"
)

// The tests run against a live PostgreSQL given by
// LEADCALLS_TEST_POSTGRES_DSN (see internal/testenv; they skip without it,
// and fail instead under LEADCALLS_REQUIRE_ALL=1). Each test has a schema
// of its own (internal/testdb) and opens one *sql.DB per simulated replica
// on it, so it can share the database with other packages' tests. They use
// real time with intervals of 10-150ms, and check the pacing where the
// pacer decides it (the database's claim times, and the moment Acquire
// measured its round trip against, through a test hook) rather than by
// clock readings a descheduled goroutine could shift. The sequence tests
// run one replica's background requests without pause against another's
// 5-page interactive sequences and check the order of grants: no
// background request between two pages of a sequence, a later sequence
// after the open one, and an abandoned sequence holding a background
// caller back for the grace (80ms there) and no longer.

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// heldError is the error of an Acquire that a Hold refuses, as callers
// outside package pacing see it.
type heldError interface {
	error
	HeldUntil() time.Time
}

// testDB is one test's private schema on the shared PostgreSQL.
type testDB struct {
	dsn  string
	name string // of the test's pacers (the tables are the schema's own)
}

func newTestDB(t *testing.T) testDB {
	t.Helper()
	_, dsn := testdb.Postgres(t)
	return testDB{dsn: dsn, name: "acct"}
}

// replica opens a separate pool on the test schema, as another process would.
func (d testDB) replica(t *testing.T) *sql.DB {
	t.Helper()
	return testdb.OpenDSN(t, testdb.PostgresDriver, d.dsn)
}

// migrated opens n replicas and creates the pacer tables.
func (d testDB) migrated(t *testing.T, n int) []*sql.DB {
	t.Helper()
	dbs := make([]*sql.DB, n)
	for i := range dbs {
		dbs[i] = d.replica(t)
	}
	require.NoError(t, pgpacing.Migrate(t.Context(), dbs[0]))
	return dbs
}

// single acquires p's slot for a single request, as a client sends one: a
// sequence of its own, ended with the release.
func single(ctx context.Context, p pacing.Pacer, prio pacing.Priority) (release func(sent time.Time), err error) {
	seq := p.Begin(prio)
	rel, err := seq.Acquire(ctx)
	if err != nil {
		seq.End()
		return nil, err
	}
	return func(sent time.Time) {
		rel(sent)
		seq.End()
	}, nil
}
