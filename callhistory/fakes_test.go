package callhistory_test

import (
	"cmp"
	"context"
	"iter"
	"slices"
	"sync"
	"time"

	"github.com/leadcalls/leadcalls/callhistory"
	"github.com/leadcalls/leadcalls/callyzer"
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
func recordingAuthorizer(rec *recorder) callhistory.Authorizer {
	return callhistory.AuthorizerFunc(func(ctx context.Context, a *callhistory.Actor, l *callhistory.Lead) error {
		rec.add("authorize")
		return callhistory.RoleAuthorizer{}.Authorize(ctx, a, l)
	})
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

// fakeStore keeps calls in memory, following the Store contract closely
// enough for the use-case tests; the real stores have their own suite.
type fakeStore struct {
	rec *recorder

	mu         sync.Mutex
	calls      map[string]callhistory.Call // by CallyzerID
	lastSynced map[string]time.Time
	nextRow    int64
	windows    []callhistory.Window

	replaceErr, callsErr, lastErr error
	replacePanic                  bool
}

func newFakeStore(rec *recorder) *fakeStore {
	return &fakeStore{rec: rec, calls: map[string]callhistory.Call{}, lastSynced: map[string]time.Time{}}
}

func (s *fakeStore) ReplaceWindow(ctx context.Context, phone string, w callhistory.Window, calls []callhistory.Call, syncedAt time.Time) (callhistory.WriteResult, error) {
	s.rec.add("replace")
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.replacePanic {
		panic("fake store: boom")
	}
	if s.replaceErr != nil {
		return callhistory.WriteResult{}, s.replaceErr
	}
	s.windows = append(s.windows, w)
	var res callhistory.WriteResult
	keep := map[string]bool{}
	for _, c := range calls {
		keep[c.CallyzerID] = true
		old, ok := s.calls[c.CallyzerID]
		switch {
		case !ok:
			s.nextRow++
			c.RowID = s.nextRow
			res.Inserted++
		default:
			c.RowID = old.RowID
			if c.RecordingURL == "" {
				c.RecordingURL = old.RecordingURL
			}
			if c == old {
				res.Unchanged++
			} else {
				res.Updated++
			}
		}
		s.calls[c.CallyzerID] = c
	}
	for id, c := range s.calls {
		if c.Phone == phone && w.Contains(c.StartedAt) && !keep[id] {
			delete(s.calls, id)
			res.Deleted++
		}
	}
	if syncedAt.After(s.lastSynced[phone]) {
		s.lastSynced[phone] = syncedAt
	}
	return res, nil
}

func (s *fakeStore) UpsertCalls(ctx context.Context, calls []callhistory.Call, syncedAt time.Time) (callhistory.WriteResult, error) {
	panic("not used by the refresh")
}

func (s *fakeStore) Calls(ctx context.Context, phone string, limit int) ([]callhistory.Call, error) {
	s.rec.add("calls")
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.callsErr != nil {
		return nil, s.callsErr
	}
	out := []callhistory.Call{}
	for _, c := range s.calls {
		if c.Phone == phone {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b callhistory.Call) int {
		if c := b.StartedAt.Compare(a.StartedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.CallyzerID, b.CallyzerID)
	})
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (s *fakeStore) LastSynced(ctx context.Context, phone string) (time.Time, error) {
	s.rec.add("lastsynced")
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lastErr != nil {
		return time.Time{}, s.lastErr
	}
	return s.lastSynced[phone], nil
}

func (s *fakeStore) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls)
}
