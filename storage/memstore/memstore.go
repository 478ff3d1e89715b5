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

// ErrInvalidInput is wrapped by the error of a write whose input breaks the
// callhistory.Store contract: a call without CallyzerID or Phone, a call of
// another number or outside the window, a CallyzerID twice in one write, an
// empty phone, or a window whose From is after its To.
var ErrInvalidInput = errors.New("memstore: invalid input")

// Option configures a Store.
type Option func(*Store)

// WithHooks makes the store call hooks inside its writes, for fault-injection
// tests. New copies *hooks; nil means no hooks.
func WithHooks(hooks *callhistory.StoreHooks) Option {
	return func(s *Store) {
		if hooks != nil {
			s.hooks = *hooks
		}
	}
}

// Store is a callhistory.Store in memory. It is safe for concurrent use; the
// zero value is not usable, call New.
//
// A write first plans its changes against the current state, holding the
// lock of each number it writes (so writers of one number take turns and
// writers of different numbers plan in parallel), and then applies the plan
// in one short critical section. Nothing is visible before that step, so an
// error, a cancelled context or a panic before it leaves the store as it was.
type Store struct {
	hooks callhistory.StoreHooks
	locks phoneLocks

	// withoutPhoneLock disables the per-number lock. Only the test that
	// shows the conformance suite catches a missing lock sets it.
	withoutPhoneLock bool

	mu         sync.RWMutex // guards the fields below
	lastRowID  int64
	byID       map[string]*callhistory.Call            // CallyzerID -> call; stored calls are never modified
	byPhone    map[string]map[string]*callhistory.Call // phone -> CallyzerID -> call
	lastSynced map[string]time.Time
	syncStates map[string]callhistory.SyncState // by sync name; values hold no references
}

var (
	_ callhistory.Store          = (*Store)(nil)
	_ callhistory.SyncStateStore = (*Store)(nil)
)

// New returns an empty Store.
func New(opts ...Option) *Store {
	s := &Store{
		locks:      phoneLocks{m: map[string]*phoneLock{}},
		byID:       map[string]*callhistory.Call{},
		byPhone:    map[string]map[string]*callhistory.Call{},
		lastSynced: map[string]time.Time{},
		syncStates: map[string]callhistory.SyncState{},
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// ReplaceWindow implements callhistory.Store.
func (s *Store) ReplaceWindow(ctx context.Context, phone string, w callhistory.Window, calls []callhistory.Call, syncedAt time.Time) (callhistory.WriteResult, error) {
	if err := ctx.Err(); err != nil {
		return callhistory.WriteResult{}, fmt.Errorf("memstore: replace window: %w", err)
	}
	in, err := normalizeWindow(phone, w, calls)
	if err != nil {
		return callhistory.WriteResult{}, err
	}
	unlock, err := s.lock(ctx, []string{phone})
	if err != nil {
		return callhistory.WriteResult{}, fmt.Errorf("memstore: replace window: %w", err)
	}
	defer unlock()

	syncedAt = syncedAt.UTC()
	p := s.planReplace(phone, w, in, syncedAt)
	if s.hooks.AfterDelete != nil {
		if err := s.hooks.AfterDelete(); err != nil {
			return callhistory.WriteResult{}, fmt.Errorf("memstore: replace window: %w", err)
		}
	}
	if err := s.commit(ctx, p, []string{phone}, syncedAt); err != nil {
		return callhistory.WriteResult{}, fmt.Errorf("memstore: replace window: %w", err)
	}
	return p.result, nil
}

// UpsertCalls implements callhistory.Store.
func (s *Store) UpsertCalls(ctx context.Context, calls []callhistory.Call, syncedAt time.Time) (callhistory.WriteResult, error) {
	if err := ctx.Err(); err != nil {
		return callhistory.WriteResult{}, fmt.Errorf("memstore: upsert calls: %w", err)
	}
	in, phones, err := normalizeUpsert(calls)
	if err != nil {
		return callhistory.WriteResult{}, err
	}
	if len(in) == 0 {
		return callhistory.WriteResult{}, nil
	}
	unlock, err := s.lock(ctx, phones)
	if err != nil {
		return callhistory.WriteResult{}, fmt.Errorf("memstore: upsert calls: %w", err)
	}
	defer unlock()

	p := s.planUpserts(in)
	if err := s.commit(ctx, p, phones, syncedAt.UTC()); err != nil {
		return callhistory.WriteResult{}, fmt.Errorf("memstore: upsert calls: %w", err)
	}
	return p.result, nil
}

// Calls implements callhistory.Store.
func (s *Store) Calls(ctx context.Context, phone string, limit int) ([]callhistory.Call, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("memstore: calls: %w", err)
	}
	s.mu.RLock()
	stored := s.byPhone[phone]
	out := make([]callhistory.Call, 0, len(stored))
	for _, c := range stored {
		out = append(out, *c)
	}
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

// plan is a write worked out against the current state and not yet applied.
type plan struct {
	deletes []*callhistory.Call // stored calls to remove
	writes  []write             // inserts and updates
	result  callhistory.WriteResult
}

// write is one insert or update.
type write struct {
	in   callhistory.Call  // the caller's call, normalised
	prev *callhistory.Call // the stored call it was planned against; nil for an insert
	next callhistory.Call  // what to store (RowID assigned on apply for an insert)
}

// planReplace plans a ReplaceWindow: the calls of phone in w that the
// answer in lacks and that were uploaded no later than syncedAt (a zero
// SyncedAt counts as early) are deleted; a later upload may come from a
// sync that committed after the answer was read, so it stays.
func (s *Store) planReplace(phone string, w callhistory.Window, in []callhistory.Call, syncedAt time.Time) *plan {
	s.mu.RLock()
	defer s.mu.RUnlock()
	answer := make(map[string]bool, len(in))
	for _, c := range in {
		answer[c.CallyzerID] = true
	}
	p := &plan{}
	for id, c := range s.byPhone[phone] {
		if w.Contains(c.StartedAt) && !answer[id] && !c.SyncedAt.After(syncedAt) {
			p.deletes = append(p.deletes, c)
		}
	}
	p.result.Deleted = len(p.deletes)
	s.planWritesLocked(p, in)
	return p
}

func (s *Store) planUpserts(in []callhistory.Call) *plan {
	s.mu.RLock()
	defer s.mu.RUnlock()
	p := &plan{}
	s.planWritesLocked(p, in)
	return p
}

func (s *Store) planWritesLocked(p *plan, in []callhistory.Call) {
	p.writes = make([]write, 0, len(in))
	for _, c := range in {
		prev := s.byID[c.CallyzerID]
		if prev == nil {
			p.writes = append(p.writes, write{in: c, next: c})
			p.result.Inserted++
			continue
		}
		next, changed := merge(prev, c)
		if !changed {
			p.result.Unchanged++
			continue
		}
		p.writes = append(p.writes, write{in: c, prev: prev, next: next})
		p.result.Updated++
	}
}

// commit runs the write hooks, checks ctx and applies p. The caller holds
// the locks of phones.
func (s *Store) commit(ctx context.Context, p *plan, phones []string, syncedAt time.Time) error {
	if s.hooks.BeforeWrite != nil {
		for k := range len(p.writes) {
			if err := s.hooks.BeforeWrite(k + 1); err != nil {
				return err
			}
		}
	}
	if s.hooks.BeforeCommit != nil {
		if err := s.hooks.BeforeCommit(); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.apply(p, phones, syncedAt)
	return nil
}

// apply makes p visible. It cannot fail. The numbers p writes are locked,
// but a call p moves from another number may have changed since p was
// planned: such a call is merged again with what is stored now (so an older
// copy still loses to the newer stored one), and a delete of it is dropped.
func (s *Store) apply(p *plan, phones []string, syncedAt time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range p.deletes {
		if s.byID[c.CallyzerID] == c {
			s.removeLocked(c)
		} else {
			p.result.Deleted--
		}
	}
	for _, wr := range p.writes {
		cur := s.byID[wr.in.CallyzerID]
		next := wr.next
		if cur != wr.prev {
			// Moved or written by a writer of another number since the
			// plan: merge again with what is stored now.
			countWrite(&p.result, wr.prev == nil, -1)
			next = wr.in
			if cur != nil {
				var changed bool
				if next, changed = merge(cur, wr.in); !changed {
					p.result.Unchanged++
					continue
				}
			}
			countWrite(&p.result, cur == nil, +1)
		}
		if cur == nil {
			s.lastRowID++
			next.RowID = s.lastRowID
		} else {
			s.removeLocked(cur)
		}
		s.addLocked(&next)
	}
	for _, phone := range phones {
		if syncedAt.After(s.lastSynced[phone]) {
			s.lastSynced[phone] = syncedAt
		}
	}
}

// countWrite adds delta to the inserts or the updates of r.
func countWrite(r *callhistory.WriteResult, insert bool, delta int) {
	if insert {
		r.Inserted += delta
	} else {
		r.Updated += delta
	}
}

func (s *Store) addLocked(c *callhistory.Call) {
	s.byID[c.CallyzerID] = c
	calls := s.byPhone[c.Phone]
	if calls == nil {
		calls = map[string]*callhistory.Call{}
		s.byPhone[c.Phone] = calls
	}
	calls[c.CallyzerID] = c
}

func (s *Store) removeLocked(c *callhistory.Call) {
	delete(s.byID, c.CallyzerID)
	calls := s.byPhone[c.Phone]
	delete(calls, c.CallyzerID)
	if len(calls) == 0 {
		delete(s.byPhone, c.Phone)
	}
}

// merge returns in as it would be stored over stored: stored's RowID, and
// stored's recording when in has none; or stored itself when in is an older
// copy (its ModifiedAt is before stored's, both non-zero). changed reports
// whether any column differs from stored.
func merge(stored *callhistory.Call, in callhistory.Call) (next callhistory.Call, changed bool) {
	if !in.ModifiedAt.IsZero() && !stored.ModifiedAt.IsZero() && in.ModifiedAt.Before(stored.ModifiedAt) {
		return *stored, false
	}
	next = in
	next.RowID = stored.RowID
	if next.RecordingURL == "" {
		next.RecordingURL = stored.RecordingURL
	}
	return next, next != *stored
}

// normalizeWindow validates a ReplaceWindow input and returns a copy with
// times in UTC and no RowIDs.
func normalizeWindow(phone string, w callhistory.Window, calls []callhistory.Call) ([]callhistory.Call, error) {
	if phone == "" {
		return nil, fmt.Errorf("%w: empty phone", ErrInvalidInput)
	}
	if w.From.After(w.To) {
		return nil, fmt.Errorf("%w: window starts after it ends", ErrInvalidInput)
	}
	in, err := normalize(calls)
	if err != nil {
		return nil, err
	}
	for i, c := range in {
		if c.Phone != phone {
			return nil, fmt.Errorf("%w: call %d (%s) is of another number", ErrInvalidInput, i, c.CallyzerID)
		}
		if !w.Contains(c.StartedAt) {
			return nil, fmt.Errorf("%w: call %d (%s) started outside the window", ErrInvalidInput, i, c.CallyzerID)
		}
	}
	return in, nil
}

// normalizeUpsert validates an UpsertCalls input and returns a normalised
// copy and its numbers, sorted.
func normalizeUpsert(calls []callhistory.Call) ([]callhistory.Call, []string, error) {
	in, err := normalize(calls)
	if err != nil {
		return nil, nil, err
	}
	var phones []string
	for i, c := range in {
		if c.Phone == "" {
			return nil, nil, fmt.Errorf("%w: call %d (%s) has no phone", ErrInvalidInput, i, c.CallyzerID)
		}
		phones = append(phones, c.Phone)
	}
	slices.Sort(phones)
	return in, slices.Compact(phones), nil
}

func normalize(calls []callhistory.Call) ([]callhistory.Call, error) {
	in := make([]callhistory.Call, len(calls))
	seen := make(map[string]bool, len(calls))
	for i, c := range calls {
		if c.CallyzerID == "" {
			return nil, fmt.Errorf("%w: call %d has no CallyzerID", ErrInvalidInput, i)
		}
		if seen[c.CallyzerID] {
			return nil, fmt.Errorf("%w: CallyzerID %s appears twice", ErrInvalidInput, c.CallyzerID)
		}
		seen[c.CallyzerID] = true
		c.RowID = 0
		// UTC drops the location and the monotonic reading, so equal
		// instants compare equal with ==.
		c.StartedAt, c.SyncedAt, c.ModifiedAt = c.StartedAt.UTC(), c.SyncedAt.UTC(), c.ModifiedAt.UTC()
		in[i] = c
	}
	return in, nil
}
