// Package storagetest is the conformance suite every callhistory.Store must
// pass: ours (storage/memstore, storage/sqlstore) and a host CRM's own.
//
// # Usage
//
// In a test of the store's package:
//
//	func TestStore(t *testing.T) {
//		storagetest.Run(t, func(t *testing.T) callhistory.Store {
//			return mystore.New(openTestDB(t))
//		})
//	}
//
// newStore must return a fresh, empty store on every call and release it
// with t.Cleanup. Options: Parallel (independent stores: subtests run in
// parallel), WithConcurrency (writers and rounds of the Concurrency
// subtests; default 8 x 10) and WithTimePrecision (default a microsecond).
//
// The suite drives the store through callhistory.ReplaceWindow and
// callhistory.UpsertCalls, so it checks the rules the use cases apply (see
// their doc comments) on top of the store, end to end. Fault injection needs
// nothing of the store: WithHooks wraps any Store and fails a write after
// its deletes, before its k-th insert or update, or before its commit, with
// an error, a panic or a cancelled context. Use WithHooks in a host's own
// tests too, for a store that fails on demand.
//
// Run also checks callhistory.SyncStateStore (the SyncState group) when the
// store implements it; RunSyncState runs those cases alone, for a state
// store that is not a callhistory.Store. Snapshot and State.Diff are
// exported for a host's own "nothing changed" checks.
//
// # What a store must do
//
// The callhistory.Store and callhistory.Tx doc comments, made exact where
// they are silent:
//
//   - Update is atomic: after fn's error, a panic, or a context that ended
//     at any point before the commit, nothing fn wrote is visible, and the
//     store works afterwards (locks released, no transaction left open).
//     A panic propagates after the rollback.
//   - Writers of one number are serialised (Update's phones); concurrent
//     replacements of one number leave exactly one answer, never a mix or a
//     duplicate, and surface no error (a store retries its own
//     serialisation failures and busy errors). Writers of different numbers
//     do not disturb each other.
//   - Times round-trip by instant at the store's precision (WithTimePrecision;
//     the use cases write microseconds); zero SyncedAt and ModifiedAt stay
//     zero; the location returned is not checked.
//   - Text is UTF-8 and round-trips exactly, 4-byte characters and a
//     5,000-rune note included: MariaDB tables need utf8mb4.
//   - RowIDs are the store's: non-zero, unique, kept by an overwritten call,
//     new for an inserted one.
//   - Calls orders by StartedAt descending, then CallyzerID ascending in
//     byte order; limit <= 0 means all; no calls is an empty, non-nil
//     slice. CallsInWindow includes calls at both bounds.
//   - A done context fails every method with an error wrapping ctx.Err().
//   - Sync states (SyncState group): a name never saved reads as the zero
//     SyncState; a save replaces the whole state; every field round-trips;
//     names are independent; an empty name is refused; a done context fails
//     both methods and changes nothing.
//
// # Errors
//
// The suite reports through t: each failure names the rule broken and,
// for stored data, prints a go-cmp diff (-want +got). It never calls
// t.Fatal from a goroutine it starts.
package storagetest
