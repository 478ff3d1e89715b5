package callhistory_test

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/leadcalls/leadcalls/callhistory"
	"github.com/leadcalls/leadcalls/callyzer"
	"github.com/leadcalls/leadcalls/callyzer/callyzertest"
	"github.com/leadcalls/leadcalls/storage/memstore"
)

func ExampleSyncer() {
	ctx := context.Background()
	now := time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC)

	// A fake Callyzer with three calls of the last six months.
	srv := callyzertest.New(callyzertest.Options{Calls: []callyzertest.Call{
		callyzertest.NewCall("c-1", "+48601234567", now.Add(-30*24*time.Hour)),
		callyzertest.NewCall("c-2", "+48601234567", now.Add(-3*time.Hour)),
		callyzertest.NewCall("c-3", "+48512345678", now.Add(-90*24*time.Hour)),
	}})
	defer srv.Close()
	client, err := callyzer.NewClient(srv.APIKey(), callyzer.WithBaseURL(srv.URL), callyzer.WithInterval(0))
	if err != nil {
		panic(err)
	}

	store := memstore.New() // also keeps the sync state
	syncer, err := callhistory.NewSyncer(callhistory.SyncConfig{
		Source: client,
		Store:  store,
		Now:    func() time.Time { return now },
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		panic(err)
	}

	// The first pass backfills six months by call time.
	rep, err := syncer.RunOnce(ctx)
	if err != nil {
		panic(err)
	}
	fmt.Printf("first pass: %d pages, %d inserted\n", rep.Pages, rep.Inserted)

	// A phone uploads a two-day-old call late; the next pass, an hour
	// later, reads by upload time and picks it up.
	late := callyzertest.NewCall("c-4", "+48601234567", now.Add(-48*time.Hour))
	late.SyncedAt = now.Add(20 * time.Minute)
	srv.AddCalls(late)
	now = now.Add(time.Hour)
	rep, err = syncer.RunOnce(ctx) // a host would call syncer.Run(ctx, 5*time.Minute)
	if err != nil {
		panic(err)
	}
	fmt.Printf("next pass: %d inserted, %d unchanged\n", rep.Inserted, rep.Unchanged)

	st, err := syncer.State(ctx)
	if err != nil {
		panic(err)
	}
	fmt.Println("status:", st.Status, "cursor:", st.Cursor.Format(time.RFC3339), "backfill done:", st.Backfill.Done)
	calls, err := store.Calls(ctx, "+48601234567", 0)
	if err != nil {
		panic(err)
	}
	for _, c := range calls {
		fmt.Println(c.CallyzerID, c.StartedAt.Format(time.DateOnly), c.Status)
	}
	// Output:
	// first pass: 3 pages, 3 inserted
	// next pass: 1 inserted, 0 unchanged
	// status: idle cursor: 2026-11-25T15:00:00Z backfill done: true
	// c-2 2026-11-25 connected
	// c-4 2026-11-23 connected
	// c-1 2026-10-26 connected
}
