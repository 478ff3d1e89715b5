package memstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/leadcalls/leadcalls/callhistory"
)

// ErrInvalidInput is wrapped by the error of SaveSyncState with an empty
// name, and of a Tx used after its Update returned.
var ErrInvalidInput = errors.New("memstore: invalid input")

// Store is a callhistory.Store in memory. It is safe for concurrent use; the
// zero value is not usable, call New.
//
// An Update holds the lock of each of its numbers (writers of one number
// take turns, writers of different numbers run in parallel), collects the
// transaction's writes and applies them in one short critical section, so
// nothing is visible before the commit and an error, a cancelled context
// or a panic leaves the store as it was.
type Store struct {
	locks phoneLocks

	// withoutPhoneLock disables the per-number lock. Only the test that
	// shows the conformance suite catches a missing lock sets it.
	withoutPhoneLock bool

	mu         sync.RWMutex // guards the fields below
	lastRowID  int64
	byRow      map[int64]callhistory.Call
	byID       map[string]int64                 // CallyzerID -> RowID
	byPhone    map[string]map[int64]bool        // phone -> RowIDs
	lastSynced map[string]time.Time             //
	syncStates map[string]callhistory.SyncState // by sync name; values hold no references
	health     map[string][]byte                // feedhealth.State as JSON, by name
}

var (
	_ callhistory.Store          = (*Store)(nil)
	_ callhistory.SyncStateStore = (*Store)(nil)
)

// New returns an empty Store.
func New() *Store {
	return &Store{
		locks:      phoneLocks{m: map[string]*phoneLock{}},
		byRow:      map[int64]callhistory.Call{},
		byID:       map[string]int64{},
		byPhone:    map[string]map[int64]bool{},
		lastSynced: map[string]time.Time{},
		syncStates: map[string]callhistory.SyncState{},
		health:     map[string][]byte{},
	}
}

// maxConflicts bounds how often Update runs fn again after a conflict.
const maxConflicts = 5

// Update implements callhistory.Store.
func (s *Store) Update(ctx context.Context, phones []string, fn func(callhistory.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memstore: update: %w", err)
	}
	phones = slices.Clone(phones)
	slices.Sort(phones)
	unlock, err := s.lock(ctx, slices.Compact(phones))
	if err != nil {
		return fmt.Errorf("memstore: update: %w", err)
	}
	defer unlock()
	for attempt := 1; ; attempt++ {
		t := &tx{s: s}
		err := fn(t)
		t.done = true
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("memstore: update: %w", err)
		}
		err = s.commit(t)
		if !errors.Is(err, errConflict) || attempt == maxConflicts {
			return err
		}
	}
}

// Calls implements callhistory.Store.
func (s *Store) Calls(ctx context.Context, phone string, limit int) ([]callhistory.Call, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("memstore: calls: %w", err)
	}
	s.mu.RLock()
	out := s.callsOfLocked(phone, func(c callhistory.Call) bool { return c.MissingSince.IsZero() })
	s.mu.RUnlock()
	slices.SortFunc(out, newestFirst)
	if limit > 0 && len(out) > limit {
		out = slices.Clip(out[:limit])
	}
	return out, nil
}

// LastSynced implements callhistory.Store.
func (s *Store) LastSynced(ctx context.Context, phone string) (time.Time, error) {
	if err := ctx.Err(); err != nil {
		return time.Time{}, fmt.Errorf("memstore: last synced: %w", err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.lastSynced[phone], nil
}

// newestFirst orders calls as Store.Calls returns them.
func newestFirst(a, b callhistory.Call) int {
	if c := b.StartedAt.Compare(a.StartedAt); c != 0 {
		return c
	}
	return strings.Compare(a.CallyzerID, b.CallyzerID)
}

func (s *Store) callsOfLocked(phone string, keep func(callhistory.Call) bool) []callhistory.Call {
	rows := s.byPhone[phone]
	out := make([]callhistory.Call, 0, len(rows))
	for id := range rows {
		if c := s.byRow[id]; keep(c) {
			out = append(out, c)
		}
	}
	return out
}

// errConflict: the state changed under a transaction in a way its locks do
// not cover (another writer inserted one of its CallyzerIDs): run it again.
var errConflict = errors.New("memstore: conflicting write")

// commit applies t's writes, or none of them and errConflict.
func (s *Store) commit(t *tx) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range t.deletes {
		if _, ok := s.byRow[id]; !ok {
			return errConflict
		}
	}
	for _, c := range t.puts {
		row, taken := s.byID[c.CallyzerID]
		if (c.RowID == 0 && taken) || (c.RowID != 0 && row != c.RowID) {
			return errConflict
		}
	}
	for _, id := range t.deletes {
		s.removeLocked(id)
	}
	for _, c := range t.puts {
		if c.RowID == 0 {
			s.lastRowID++
			c.RowID = s.lastRowID
		} else {
			s.removeLocked(c.RowID)
		}
		s.addLocked(c)
	}
	for phone, at := range t.synced {
		s.lastSynced[phone] = at
	}
	return nil
}

func (s *Store) addLocked(c callhistory.Call) {
	s.byRow[c.RowID] = c
	s.byID[c.CallyzerID] = c.RowID
	rows := s.byPhone[c.Phone]
	if rows == nil {
		rows = map[int64]bool{}
		s.byPhone[c.Phone] = rows
	}
	rows[c.RowID] = true
}

func (s *Store) removeLocked(id int64) {
	c, ok := s.byRow[id]
	if !ok {
		return
	}
	delete(s.byRow, id)
	delete(s.byID, c.CallyzerID)
	rows := s.byPhone[c.Phone]
	delete(rows, id)
	if len(rows) == 0 {
		delete(s.byPhone, c.Phone)
	}
}

// tx is the Store's callhistory.Tx: reads go to the committed state, writes
// are collected for commit.
type tx struct {
	s       *Store
	done    bool
	deletes []int64
	puts    []callhistory.Call
	synced  map[string]time.Time
}

var errTxDone = fmt.Errorf("%w: the transaction has ended", ErrInvalidInput)

func (t *tx) check(ctx context.Context) error {
	if t.done {
		return errTxDone
	}
	return ctx.Err()
}

func (t *tx) CallsInWindow(ctx context.Context, phone string, w callhistory.Window) ([]callhistory.Call, error) {
	if err := t.check(ctx); err != nil {
		return nil, err
	}
	t.s.mu.RLock()
	defer t.s.mu.RUnlock()
	return t.s.callsOfLocked(phone, func(c callhistory.Call) bool { return !c.StartedAt.Before(w.From) && !c.StartedAt.After(w.To) }), nil
}

func (t *tx) CallsByID(ctx context.Context, ids []string) ([]callhistory.Call, error) {
	if err := t.check(ctx); err != nil {
		return nil, err
	}
	t.s.mu.RLock()
	defer t.s.mu.RUnlock()
	var out []callhistory.Call
	for _, id := range ids {
		if row, ok := t.s.byID[id]; ok {
			out = append(out, t.s.byRow[row])
		}
	}
	return out, nil
}

func (t *tx) LastSynced(ctx context.Context, phones []string) (map[string]time.Time, error) {
	if err := t.check(ctx); err != nil {
		return nil, err
	}
	t.s.mu.RLock()
	defer t.s.mu.RUnlock()
	out := make(map[string]time.Time, len(phones))
	for _, p := range phones {
		if at, ok := t.s.lastSynced[p]; ok {
			out[p] = at
		}
	}
	return out, nil
}

func (t *tx) Delete(ctx context.Context, rowIDs []int64) error {
	if err := t.check(ctx); err != nil {
		return err
	}
	t.deletes = append(t.deletes, rowIDs...)
	return nil
}

func (t *tx) Put(ctx context.Context, calls []callhistory.Call) error {
	if err := t.check(ctx); err != nil {
		return err
	}
	t.puts = append(t.puts, calls...)
	return nil
}

func (t *tx) SetLastSynced(ctx context.Context, dates map[string]time.Time) error {
	if err := t.check(ctx); err != nil {
		return err
	}
	if t.synced == nil {
		t.synced = make(map[string]time.Time, len(dates))
	}
	for p, at := range dates {
		t.synced[p] = at
	}
	return nil
}
