package pgpacing

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
)

// migrateLockKey serialises concurrent Migrate calls across processes
// (CREATE TABLE IF NOT EXISTS alone can fail when two sessions run it at
// once). It is the advisory-lock key the earlier home of these tables,
// storage/pgcoord, used, so that replicas of both versions exclude each
// other during a rolling upgrade.
var migrateLockKey = func() int64 {
	h := fnv.New64a()
	h.Write([]byte("leadcalls/pgcoord/lock:leadcalls/pgcoord/migrate"))
	return int64(h.Sum64())
}()

// schema creates the pacer's tables in the first schema of the connection's
// search_path.
var schema = []string{
	`CREATE TABLE IF NOT EXISTS leadcalls_pacer (
	name          text PRIMARY KEY,   -- the pacer's name (an account label, never an API key)
	next_start_at timestamptz NOT NULL, -- no request may start before this
	started_at    timestamptz,          -- when the current or last holder started
	holder        text,                 -- token of the holder of the in-flight slot; NULL when free
	lease_until   timestamptz,          -- the slot counts as free after this even if holder is set
	held_until    timestamptz           -- set by Hold (a 429's Retry-After); no start before it
)`,
	`CREATE TABLE IF NOT EXISTS leadcalls_pacer_waiters (
	name        text NOT NULL,
	waiter      text NOT NULL,          -- a waiting Interactive request, or an open Interactive sequence
	lease_until timestamptz NOT NULL,   -- renewed while waiting; ignored after this
	begun_at    timestamptz NOT NULL DEFAULT clock_timestamp(), -- when its sequence began: its rank
	PRIMARY KEY (name, waiter)
)`,
	// Tables created by an earlier version.
	`ALTER TABLE leadcalls_pacer ADD COLUMN IF NOT EXISTS held_until timestamptz`,
	// The starts so far, by which a waiting Background request ages
	// (rule.Slot.Aged); it wraps past 2^63, never in practice.
	`ALTER TABLE leadcalls_pacer ADD COLUMN IF NOT EXISTS starts bigint NOT NULL DEFAULT 0`,
	`ALTER TABLE leadcalls_pacer_waiters ADD COLUMN IF NOT EXISTS
	begun_at timestamptz NOT NULL DEFAULT clock_timestamp()`,
}

// Migrate creates the tables the pacers of New need (leadcalls_pacer and
// leadcalls_pacer_waiters) if they do not exist, in the first schema of the
// connection's search_path, and adds the columns of this version to tables
// an earlier version created. It is idempotent and safe to run from several
// processes at once: the statements run in one transaction under a
// transaction-scoped advisory lock.
func Migrate(ctx context.Context, db *sql.DB) (err error) {
	if db == nil {
		return errors.New("pgpacing: Migrate: nil db")
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("pgpacing: migrate: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", migrateLockKey); err != nil {
		return fmt.Errorf("pgpacing: migrate: %w", err)
	}
	for _, stmt := range schema {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("pgpacing: migrate: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("pgpacing: migrate: %w", err)
	}
	return nil
}
