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
			storagetest.Run(t, func(t *testing.T, hooks *callhistory.StoreHooks) callhistory.Store {
				db, _ := openFresh(t, b.name)
				return newMigrated(t, db, b.dialect, WithHooks(hooks))
			}, storagetest.Parallel())
		})
	}
}
