package memstore_test

import (
	"context"
	"fmt"
	"time"

	"github.com/leadcalls/leadcalls/callhistory"
	"github.com/leadcalls/leadcalls/statusmap"
	"github.com/leadcalls/leadcalls/storage/memstore"
)

func Example() {
	ctx := context.Background()
	store := memstore.New()
	const phone = "+48601234567"
	day := time.Date(2026, 5, 4, 0, 0, 0, 0, time.UTC)
	window := callhistory.Window{From: day, To: day.Add(24 * time.Hour)}
	call := func(id string, hour int, recording string) callhistory.Call {
		return callhistory.Call{
			CallyzerID: id, Phone: phone, StartedAt: day.Add(time.Duration(hour) * time.Hour),
			Direction: statusmap.Outgoing, Status: statusmap.Answered, RecordingURL: recording,
		}
	}

	// The first refresh stores two calls.
	res, _ := callhistory.ReplaceWindow(ctx, store, phone, window, []callhistory.Call{
		call("c1", 9, "https://rec.example/c1.mp3"),
		call("c2", 11, ""),
	}, day.Add(12*time.Hour))
	fmt.Printf("%+v\n", res)

	// The next answer lost c1's recording URL, dropped c2 and added c3: the
	// recording stays, c2 leaves the list (kept, missing, until a later
	// answer confirms it is gone).
	res, _ = callhistory.ReplaceWindow(ctx, store, phone, window, []callhistory.Call{
		call("c1", 9, ""),
		call("c3", 15, ""),
	}, day.Add(16*time.Hour))
	fmt.Printf("%+v\n", res)

	calls, _ := store.Calls(ctx, phone, 0)
	for _, c := range calls {
		recording := c.RecordingURL
		if recording == "" {
			recording = "(no recording)"
		}
		fmt.Println(c.CallyzerID, c.StartedAt.Format("15:04"), recording)
	}
	last, _ := store.LastSynced(ctx, phone)
	fmt.Println("last synced:", last.Format(time.DateTime))
	// Output:
	// {Inserted:2 Updated:0 Deleted:0 Unchanged:0 Purged:0}
	// {Inserted:1 Updated:0 Deleted:1 Unchanged:1 Purged:0}
	// c3 15:00 (no recording)
	// c1 09:00 https://rec.example/c1.mp3
	// last synced: 2026-05-04 16:00:00
}
