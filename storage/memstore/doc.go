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
// A Store is safe for concurrent use. An Update holds a lock of each of its
// numbers (writers of one number take turns, writers of different numbers
// work in parallel), collects its writes and makes them visible in one
// short step, so a failed write changes nothing. Calls are copied in and
// out. RowIDs are never reused. The lock is per process, like the data.
//
// A Store also keeps the periodic sync's state (callhistory.SyncStateStore),
// so a callhistory.Syncer on a memstore needs no SyncConfig.State:
//
//	syncer, err := callhistory.NewSyncer(callhistory.SyncConfig{Source: client, Store: store})
//
// # Errors
//
// Update returns fn's error as it is, and an error wrapping ctx.Err() when
// ctx ends before the write becomes visible (also while it waits for a
// lock); nothing changes either way. A panic in fn propagates after the
// locks are released. A Tx used after its Update returned fails with
// ErrInvalidInput, and so does SaveSyncState with an empty name. Reads fail
// only when ctx is done.
package memstore
