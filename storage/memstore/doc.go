// Package memstore is a callhistory.Store in memory: for tests, demos and
// single-process hosts that can lose their call history on restart.
//
// # Usage
//
//	store := memstore.New()
//	refresher, err := callhistory.NewRefresher(callhistory.Config{
//		Source: client, Store: store, Leads: leads,
//	})
//
// A Store is safe for concurrent use. Writers of one number take turns on a
// lock of that number; writers of different numbers work in parallel and
// meet only for the short step that makes a write visible; readers wait
// for nothing else. The lock is per process, like the data.
//
// Each write is worked out against the current state first, then made
// visible in one step, so a failed write changes nothing. Calls are copied
// in and out: a caller may change its slices afterwards. Times are kept to
// the nanosecond, in UTC. Calls(phone) reads an index by number; it sorts
// the number's calls on every read.
//
// A Store also keeps the periodic sync's state (callhistory.SyncStateStore),
// so a callhistory.Syncer on a memstore needs no SyncConfig.State:
//
//	syncer, err := callhistory.NewSyncer(callhistory.SyncConfig{Source: client, Store: store})
//
// The contract decisions (see storagetest for the full list): a CallyzerID
// twice in one write is an error; a call already stored under another number
// moves to the new one, keeping its RowID, and counts as updated; the RowID a
// caller passes in is ignored; RowIDs are never reused. The two rules that
// protect a concurrent sync's writes (see callhistory.Store) compare times
// to the nanosecond: ReplaceWindow deletes a call missing from the answer
// only when its SyncedAt is zero or not after syncedAt, and an incoming
// call whose ModifiedAt is before the stored one's (both non-zero) leaves
// the stored call as it is and counts as unchanged. A call moved from
// another number is checked again when the write is made visible, so an
// older copy loses even to a writer of that other number.
//
// # Errors
//
// ReplaceWindow and UpsertCalls return an error, and change nothing, when:
//
//   - the input breaks the contract: the error wraps ErrInvalidInput;
//   - ctx is done before the write becomes visible, including while waiting
//     for the number's lock: the error wraps ctx.Err();
//   - a StoreHooks hook returns an error: the error wraps it.
//
// A panic in a hook propagates to the caller, after the number's lock is
// released; the store is left as it was. Calls and LastSynced fail only
// when ctx is done. On error the WriteResult is zero. SyncState fails only
// when ctx is done; SaveSyncState also refuses an empty name (wrapping
// ErrInvalidInput).
//
// # Testing
//
// The package passes storagetest.Run at nanosecond precision, fault
// injection (WithHooks), concurrency and sync-state subtests included. A test runs the
// suite's concurrency subtests with the per-number lock disabled and checks
// that they fail, and a deterministic test (testing/synctest) shows that a
// writer waits for a writer of its own number and not for one of another.
// BenchmarkReplaceWindow1000 measures a refresh of a 1,000-call window.
package memstore
