package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	_ "modernc.org/sqlite"

	"github.com/leadcalls/leadcalls/callhistory"
	"github.com/leadcalls/leadcalls/statusmap"
	"github.com/leadcalls/leadcalls/storage/sqlstore"
)

func Example() {
	dir, err := os.MkdirTemp("", "sqlstore-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	// The DSN settings the store needs on SQLite: WAL, a busy timeout.
	dsn := "file:" + filepath.Join(dir, "calls.db") +
		"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	ctx := context.Background()
	store, err := sqlstore.New(db, sqlstore.SQLite)
	if err != nil {
		log.Fatal(err)
	}
	if err := store.Migrate(ctx); err != nil {
		log.Fatal(err)
	}

	const phone = "+48601234567"
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	window := callhistory.Window{From: now.AddDate(0, -6, 0), To: now}
	calls := []callhistory.Call{
		{CallyzerID: "c1", Phone: phone, Direction: statusmap.Outgoing, Status: statusmap.Connected, StartedAt: now.Add(-48 * time.Hour), DurationSeconds: 95},
		{CallyzerID: "c2", Phone: phone, Direction: statusmap.Incoming, Status: statusmap.Missed, StartedAt: now.Add(-2 * time.Hour)},
	}
	res, err := callhistory.ReplaceWindow(ctx, store, phone, window, calls, now)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("inserted %d, deleted %d\n", res.Inserted, res.Deleted)

	// The next refresh no longer has c1 and sees c2 answered.
	calls[1].Status = statusmap.Answered
	res, err = callhistory.ReplaceWindow(ctx, store, phone, window, calls[1:], now.Add(time.Minute))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("updated %d, deleted %d\n", res.Updated, res.Deleted)

	stored, err := store.Calls(ctx, phone, 10)
	if err != nil {
		log.Fatal(err)
	}
	for _, c := range stored {
		fmt.Println(c.CallyzerID, c.Status, c.StartedAt.Format(time.RFC3339))
	}
	last, err := store.LastSynced(ctx, phone)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("last synced", last.Format(time.RFC3339))
	// Output:
	// inserted 2, deleted 0
	// updated 1, deleted 1
	// c2 answered 2026-03-01T10:00:00Z
	// last synced 2026-03-01T12:01:00Z
}

// The periodic sync keeps its state (status, cursor, last report) in the
// same database: a callhistory.Syncer whose Store is a *sqlstore.Store uses
// it for its state too, unless SyncConfig.State names another.
func ExampleStore_SaveSyncState() {
	dir, err := os.MkdirTemp("", "sqlstore-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "calls.db")+"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	ctx := context.Background()
	store, err := sqlstore.New(db, sqlstore.SQLite)
	if err != nil {
		log.Fatal(err)
	}
	if err := store.Migrate(ctx); err != nil {
		log.Fatal(err)
	}

	st, err := store.SyncState(ctx, "default")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("never run: %q, cursor zero %v\n", st.Status, st.Cursor.IsZero())

	st.Status = callhistory.SyncIdle
	st.Cursor = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	if err := store.SaveSyncState(ctx, "default", st); err != nil {
		log.Fatal(err)
	}
	st, err = store.SyncState(ctx, "default")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(st.Status, st.Cursor.Format(time.RFC3339))
	// Output:
	// never run: "", cursor zero true
	// idle 2026-03-01T12:00:00Z
}
