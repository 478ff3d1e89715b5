package callhistory_test

import (
	"context"
	"iter"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/leadcalls/leadcalls/callhistory"
	"github.com/leadcalls/leadcalls/callyzer"
	"github.com/leadcalls/leadcalls/storage/memstore"
)

// recorder records the order in which the fakes are called.
type recorder struct {
	mu     sync.Mutex
	events []string
}

func (r *recorder) add(e string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func (r *recorder) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

// fakeLeads serves leads from a map; err, when set, is returned for every id.
type fakeLeads struct {
	rec   *recorder
	leads map[string]callhistory.Lead
	err   error
}

func (l *fakeLeads) Lead(ctx context.Context, id string) (callhistory.Lead, error) {
	l.rec.add("leads")
	if l.err != nil {
		return callhistory.Lead{}, l.err
	}
	lead, ok := l.leads[id]
	if !ok {
		return callhistory.Lead{}, callhistory.ErrLeadNotFound
	}
	return lead, nil
}

// recordingAuthorizer records the call and delegates to RoleAuthorizer.
type recordingAuthorizer struct{ rec *recorder }

func (a recordingAuthorizer) Authorize(ctx context.Context, actor *callhistory.Actor, l *callhistory.Lead) error {
	a.rec.add("authorize")
	return callhistory.RoleAuthorizer{}.Authorize(ctx, actor, l)
}

// fakeSource yields pages, then err (if set) in place of page errAt.
type fakeSource struct {
	rec     *recorder
	pages   []*callyzer.HistoryPage
	err     error
	errAt   int             // index of the page replaced by err
	hold    <-chan struct{} // when set, the first page waits for it (or ctx)
	panicAt int             // 1-based page index that panics; 0: never
	panicV  any             // the panic's value; default "fake source: boom"

	mu      sync.Mutex
	queries []callyzer.HistoryQuery
}

func (s *fakeSource) HistoryPages(ctx context.Context, q callyzer.HistoryQuery) iter.Seq2[*callyzer.HistoryPage, error] {
	return func(yield func(*callyzer.HistoryPage, error) bool) {
		s.rec.add("source")
		s.mu.Lock()
		s.queries = append(s.queries, q)
		s.mu.Unlock()
		if s.hold != nil {
			select {
			case <-s.hold:
			case <-ctx.Done():
				yield(nil, ctx.Err())
				return
			}
		}
		for i, p := range s.pages {
			if s.panicAt == i+1 {
				if s.panicV != nil {
					panic(s.panicV)
				}
				panic("fake source: boom")
			}
			if s.err != nil && i == s.errAt {
				yield(nil, s.err)
				return
			}
			if !yield(p, nil) {
				return
			}
		}
		if s.err != nil && s.errAt >= len(s.pages) {
			yield(nil, s.err)
		}
	}
}

func (s *fakeSource) queryList() []callyzer.HistoryQuery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.queries)
}

// fakeStore is a memstore that records the order of its use and fails or
// panics on demand; the real stores have their own suite.
type fakeStore struct {
	rec *recorder
	mem *memstore.Store

	mu      sync.Mutex
	phones  map[string]bool // every number a call was written under
	windows []callhistory.Window

	replaceErr, callsErr, lastErr error
	replacePanic                  bool
}

func newFakeStore(rec *recorder) *fakeStore {
	return &fakeStore{rec: rec, mem: memstore.New(), phones: map[string]bool{}}
}

func (s *fakeStore) Update(ctx context.Context, phones []string, fn func(callhistory.Tx) error) error {
	s.rec.add("replace")
	s.mu.Lock()
	replacePanic, replaceErr := s.replacePanic, s.replaceErr
	s.mu.Unlock()
	if replacePanic {
		panic("fake store: boom")
	}
	if replaceErr != nil {
		return replaceErr
	}
	return s.mem.Update(ctx, phones, func(tx callhistory.Tx) error { return fn(fakeTx{tx, s}) })
}

type fakeTx struct {
	callhistory.Tx
	s *fakeStore
}

func (t fakeTx) CallsInWindow(ctx context.Context, phone string, w callhistory.Window) ([]callhistory.Call, error) {
	t.s.mu.Lock()
	t.s.windows = append(t.s.windows, w)
	t.s.mu.Unlock()
	return t.Tx.CallsInWindow(ctx, phone, w)
}

func (t fakeTx) Put(ctx context.Context, calls []callhistory.Call) error {
	t.s.mu.Lock()
	for _, c := range calls {
		t.s.phones[c.Phone] = true
	}
	t.s.mu.Unlock()
	return t.Tx.Put(ctx, calls)
}

func (s *fakeStore) Calls(ctx context.Context, phone string, limit int) ([]callhistory.Call, error) {
	s.rec.add("calls")
	s.mu.Lock()
	err := s.callsErr
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return s.mem.Calls(ctx, phone, limit)
}

func (s *fakeStore) LastSynced(ctx context.Context, phone string) (time.Time, error) {
	s.rec.add("lastsynced")
	s.mu.Lock()
	err := s.lastErr
	s.mu.Unlock()
	if err != nil {
		return time.Time{}, err
	}
	return s.mem.LastSynced(ctx, phone)
}

// count returns how many calls are stored.
func (s *fakeStore) count() int {
	s.mu.Lock()
	phones := slices.Collect(maps.Keys(s.phones))
	s.mu.Unlock()
	n := 0
	for _, p := range phones {
		calls, _ := s.mem.Calls(context.Background(), p, 0)
		n += len(calls)
	}
	return n
}
