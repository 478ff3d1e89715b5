package memstore

import (
	"context"
	"fmt"

	"github.com/leadcalls/leadcalls/callhistory"
)

// SyncState implements callhistory.SyncStateStore.
func (s *Store) SyncState(ctx context.Context, name string) (callhistory.SyncState, error) {
	if err := ctx.Err(); err != nil {
		return callhistory.SyncState{}, fmt.Errorf("memstore: sync state: %w", err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	// A SyncState is plain data: the copy shares nothing with the store.
	return s.syncStates[name], nil
}

// SaveSyncState implements callhistory.SyncStateStore.
func (s *Store) SaveSyncState(ctx context.Context, name string, st callhistory.SyncState) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memstore: save sync state: %w", err)
	}
	if name == "" {
		return fmt.Errorf("%w: empty sync name", ErrInvalidInput)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.syncStates[name] = st
	return nil
}
