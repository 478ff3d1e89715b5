package sqlstore

import (
	"testing"

	"github.com/leadcalls/leadcalls/callhistory"
	"github.com/leadcalls/leadcalls/storage/storagetest"
)

// TestStore runs the conformance suite on every backend, each subtest on a
// fresh database namespace (so the subtests run in parallel).
func TestStore(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			opts := []storagetest.Option{storagetest.Parallel()}
			if b.dialect == SQLite {
				// SQLite runs one writer at a time (BEGIN IMMEDIATE), so
				// the concurrency subtests need contention, not volume:
				// 8 writers still queue at every begin, and 4 rounds
				// instead of 10 cut the most expensive part of the run
				// under -race (modernc's SQLite is translated C, every
				// memory access of it instrumented).
				opts = append(opts, storagetest.WithConcurrency(8, 4))
			}
			storagetest.Run(t, func(t *testing.T) callhistory.Store {
				db, _ := openFresh(t, b.name)
				return newMigrated(t, db, b.dialect)
			}, opts...)
		})
	}
}
