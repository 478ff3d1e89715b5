package pgcoord_test

import (
	"crypto/rand"
	"database/sql"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/leadcalls/leadcalls/internal/testenv"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testDB is one test's private schema on the shared PostgreSQL.
type testDB struct {
	dsn    string
	schema string
}

// newTestDB creates a fresh schema for t and drops it when t ends. Tests of
// other packages use the same database at the same time; advisory locks are
// database-wide, so the names of a test's locks include the schema.
func newTestDB(t *testing.T) testDB {
	t.Helper()
	dsn := testenv.PostgresDSN(t)
	schema := "lc_test_" + strings.ToLower(rand.Text())
	admin := open(t, dsn, "")
	_, err := admin.ExecContext(t.Context(), "CREATE SCHEMA "+schema)
	require.NoError(t, err)
	t.Cleanup(func() {
		// Runs after the cleanups registered later, which close the
		// replicas' pools; t.Context() is already cancelled here.
		_, err := admin.Exec("DROP SCHEMA " + schema + " CASCADE")
		require.NoError(t, err)
	})
	return testDB{dsn: dsn, schema: schema}
}

// replica opens a separate pool on the test schema, as another process would.
func (d testDB) replica(t *testing.T) *sql.DB {
	t.Helper()
	return open(t, d.dsn, d.schema)
}

func open(t *testing.T, dsn, schema string) *sql.DB {
	t.Helper()
	cfg, err := pgx.ParseConfig(dsn)
	require.NoError(t, err)
	if schema != "" {
		cfg.RuntimeParams["search_path"] = schema
	}
	db := stdlib.OpenDB(*cfg)
	t.Cleanup(func() { require.NoError(t, db.Close()) })
	require.NoError(t, db.PingContext(t.Context()))
	return db
}
