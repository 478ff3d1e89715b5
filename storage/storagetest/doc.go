// Package storagetest is the conformance suite every callhistory.Store must
// pass: ours (storage/memstore, storage/sqlstore) and a host CRM's own.
//
// # Usage
//
// In a test of the store's package:
//
//	func TestStore(t *testing.T) {
//		storagetest.Run(t, func(t *testing.T, hooks *callhistory.StoreHooks) callhistory.Store {
//			return mystore.New(openTestDB(t), mystore.WithHooks(hooks))
//		})
//	}
//
// newStore must return a fresh, empty store on every call and release it
// with t.Cleanup. hooks is nil except in the Faults subtests (which inject
// errors, panics and cancellations through it) and the Concurrency subtests
// (where the hooks only yield the processor, to widen race windows). A store
// that cannot take hooks passes WithoutHooks: the Faults subtests then skip
// and say that fault injection is not covered. Other options: Parallel
// (independent stores: subtests run in parallel), WithConcurrency (writers
// and rounds of the Concurrency subtests; default 8 x 10) and
// WithTimePrecision (default a microsecond).
//
// Run also checks callhistory.SyncStateStore (the SyncState group) when the
// store implements it; RunSyncState runs those cases alone, for a state
// store that is not a callhistory.Store:
//
//	storagetest.RunSyncState(t, func(t *testing.T) callhistory.SyncStateStore {
//		return mystore.New(openTestDB(t))
//	})
//
// Snapshot and State.Diff are exported for a host's own "nothing changed"
// checks, e.g. after a failed refresh.
//
// # The contract the suite checks
//
// The callhistory.Store doc comments, made exact where they are silent:
//
//   - Times compare with time.Time.Equal; the location a store returns is
//     not checked. Every time the suite writes is a multiple of the
//     precision (WithTimePrecision; default a microsecond, what PostgreSQL
//     and MariaDB DATETIME(6) keep; PostgreSQL rounds finer values, so the
//     suite never writes them). Zero SyncedAt and ModifiedAt stay zero.
//   - Text is UTF-8 and round-trips exactly, 4-byte characters (an emoji)
//     and a 5,000-rune note included: MariaDB tables need utf8mb4.
//   - The window is closed: calls at From and at To are in it; a call one
//     precision step or one second outside either bound is untouched.
//   - RowID is the store's: non-zero, unique, kept by an updated call, new
//     for an inserted one (a deleted call's RowID may be reused). A RowID in
//     the input is ignored.
//   - An empty RecordingURL never erases a stored one, in ReplaceWindow and
//     UpsertCalls. A call is Unchanged when every stored column equals the
//     input after that rule; otherwise Updated. WriteResult counts are exact
//     (UpsertCalls never reports Deleted) and zero when the write fails.
//   - An older copy is ignored: an incoming call whose ModifiedAt is before
//     the stored call's (both non-zero; one precision step is enough)
//     leaves the stored call exactly as it is, its number included, and
//     counts as Unchanged, in UpsertCalls and ReplaceWindow; in
//     ReplaceWindow it counts as in the answer, so the stored call is not
//     deleted. An equal or later ModifiedAt, or a zero one on either side,
//     writes as the rules above say.
//   - ReplaceWindow deletes a stored call of its number in the window that
//     the answer lacks only when the call's SyncedAt is zero or not after
//     syncedAt: a call uploaded exactly at syncedAt is deleted, one uploaded
//     a precision step later stays and is counted in no field (a sync may
//     have stored it after the refresh's fetch began), and a later
//     ReplaceWindow whose syncedAt is not before its upload deletes it. A
//     zero syncedAt deletes only calls with a zero SyncedAt.
//   - ReplaceWindow with no calls deletes the window's calls of that number
//     uploaded no later than syncedAt, and nothing else, and moves the
//     last-sync date.
//   - The last-sync date of a number is max(current, syncedAt) on commit,
//     and only on commit; zero for a number never synced; a zero syncedAt
//     leaves it. UpsertCalls moves it for each number in its calls, so with
//     no calls it changes nothing.
//   - Invalid input is an error and changes nothing: an empty phone, a
//     window whose From is after its To, a call without CallyzerID, a call
//     whose Phone differs from phone (ReplaceWindow) or is empty
//     (UpsertCalls), a call outside the window, and a CallyzerID that
//     appears twice in one input (whether the copies are equal or not: the
//     caller de-duplicates; a store must not guess which copy wins). The
//     suite does not ask for a particular error value.
//   - A CallyzerID already stored under another number moves to the new
//     number: the row keeps its RowID, takes the new Phone and counts as
//     Updated; it leaves the other number's list, whose last-sync date does
//     not move. CallyzerID is the identity, and a call's number can change
//     in Callyzer.
//   - Calls orders by StartedAt descending, then CallyzerID ascending in byte
//     order (the suite's tied ids are digits of equal length, which every
//     collation orders the same). limit <= 0 means all. No calls is an empty,
//     non-nil slice.
//   - A done context fails every method with an error wrapping ctx.Err()
//     (context.Canceled in the suite), also when the context ends inside a
//     write: a store on database/sql should check ctx.Err() when a statement
//     or Commit fails, since a rolled-back transaction reports
//     sql.ErrTxDone.
//   - Hooks: ReplaceWindow calls AfterDelete once, before any BeforeWrite;
//     both methods call BeforeWrite(k) with k = 1, 2, ... for at least every
//     insert and update (a store may count unchanged rows too), then
//     BeforeCommit once. UpsertCalls does not call AfterDelete. A hook's
//     error fails the write with an error wrapping it. A hook's panic may
//     propagate (recommended) or become an error; either way the store is
//     left exactly as it was and works afterwards (locks released, no
//     transaction left open).
//   - Writers of one number are serialised: concurrent ReplaceWindows of one
//     number with different answers leave exactly one answer, never a mix,
//     never a duplicate, and surface no error (a store retries its own
//     serialisation failures and busy errors). Every read between them sees
//     exactly one answer. UpsertCalls racing with ReplaceWindow loses no
//     upsert; the last-sync date never goes backwards. Writers of different
//     numbers do not disturb each other.
//   - Sync states (SyncState group): a name never saved reads as the zero
//     SyncState with a nil error; a save replaces the whole state (no field
//     of the previous one lingers: a store must not merge) and every field
//     round-trips, times to the precision and by instant, text as UTF-8
//     (Polish letters, an emoji); names are independent (any UTF-8, up to
//     105 bytes in the suite); an empty name is refused; a done context
//     fails both methods with an error wrapping ctx.Err() and changes
//     nothing. A store can keep the state as one JSON document per name:
//     SyncState marshals to JSON and back without loss.
//
// # Errors
//
// The suite reports through t: each failure names the rule broken and,
// for stored data, prints a go-cmp diff (-want +got). It never calls
// t.Fatal from a goroutine it starts.
//
// # Testing
//
// storage/memstore runs the suite at nanosecond precision with Parallel,
// and shows that the Concurrency subtests fail when its per-number lock is
// disabled. This package's own tests show that the suite fails stores with
// known bugs, each in the subtest meant to catch it (a last-sync date that
// goes backwards, wrong order, nil for no calls, ignored or late hooks, no
// lock, a refresh that deletes calls uploaded after its syncedAt, an older
// copy that overwrites a newer call), and that the SyncState cases fail
// stores that merge on save, ignore the name or the context, keep whole
// seconds, or drop the backfill progress. storage/sqlstore runs it on SQLite, PostgreSQL and MariaDB. The
// suite writes at most a few hundred transactions per run, and one
// 1,000-call window (ReplaceWindow/LargeWindow).
package storagetest
