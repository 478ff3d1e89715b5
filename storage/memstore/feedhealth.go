package memstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/leadcalls/leadcalls/feedhealth"
)

var _ feedhealth.Store = (*Store)(nil)

// CountCalls implements feedhealth.Store.
func (s *Store) CountCalls(ctx context.Context, from, to time.Time) (map[string]int, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("memstore: count calls: %w", err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := map[string]int{}
	for _, c := range s.byRow {
		if c.MissingSince.IsZero() && !c.StartedAt.Before(from) && c.StartedAt.Before(to) {
			out[c.RawCallType]++
		}
	}
	return out, nil
}

// FeedHealth implements feedhealth.Store.
func (s *Store) FeedHealth(ctx context.Context, name string) (feedhealth.State, error) {
	if err := ctx.Err(); err != nil {
		return feedhealth.State{}, fmt.Errorf("memstore: feed health: %w", err)
	}
	s.mu.RLock()
	doc, ok := s.health[name]
	s.mu.RUnlock()
	var st feedhealth.State
	if !ok {
		return st, nil
	}
	// Kept as JSON, as the SQL stores keep it: a copy shares nothing, and
	// times come back alike on every store.
	if err := json.Unmarshal(doc, &st); err != nil {
		return feedhealth.State{}, fmt.Errorf("memstore: feed health: %w", err)
	}
	return st, nil
}

// SaveFeedHealth implements feedhealth.Store.
func (s *Store) SaveFeedHealth(ctx context.Context, name string, st feedhealth.State) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memstore: save feed health: %w", err)
	}
	if name == "" {
		return fmt.Errorf("%w: empty feed health name", ErrInvalidInput)
	}
	doc, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("%w: feed health: %w", ErrInvalidInput, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.health[name] = doc
	return nil
}
