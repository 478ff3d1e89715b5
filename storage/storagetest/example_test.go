package storagetest_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/leadcalls/leadcalls/callhistory"
	"github.com/leadcalls/leadcalls/storage/memstore"
	"github.com/leadcalls/leadcalls/storage/storagetest"
)

// A store that fails inside the write, for testing a caller's error path:
// the store is left as it was.
func ExampleWithHooks() {
	ctx := context.Background()
	store := memstore.New()
	failing := storagetest.WithHooks(store, &storagetest.Hooks{
		BeforeCommit: func() error { return errors.New("disk full") },
	})
	day := time.Date(2026, 5, 4, 0, 0, 0, 0, time.UTC)
	_, err := callhistory.ReplaceWindow(ctx, failing, "+48601234567", callhistory.Window{From: day, To: day.Add(time.Hour)},
		[]callhistory.Call{{CallyzerID: "c1", Phone: "+48601234567", StartedAt: day}}, day)
	fmt.Println(err)
	calls, _ := store.Calls(ctx, "+48601234567", 0)
	fmt.Println(len(calls), "calls stored")
	// Output:
	// callhistory: replace window: disk full
	// 0 calls stored
}
