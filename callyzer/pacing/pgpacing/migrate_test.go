package pgpacing_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/leadcalls/leadcalls/callyzer/pacing/pgpacing"
	"github.com/leadcalls/leadcalls/storage/pgcoord"
)

// Migrate takes the advisory lock that storage/pgcoord's Migrate took for
// the same tables, so that replicas of both versions exclude each other.
func TestMigrateLockKeyOfEarlierVersions(t *testing.T) {
	t.Parallel()
	require.Equal(t, pgcoord.LockKey("leadcalls/pgcoord/migrate"), pgpacing.MigrateLockKey)
}
