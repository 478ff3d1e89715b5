package memstore

import (
	"context"
	"sync"
)

// phoneLocks holds one lock per number, created on first use and dropped
// when nobody holds or waits for it.
type phoneLocks struct {
	mu sync.Mutex
	m  map[string]*phoneLock
}

type phoneLock struct {
	sem  chan struct{} // holds a token while locked; a channel so waiting honours ctx
	refs int           // holders and waiters; guarded by phoneLocks.mu
}

// lock locks phones, which must be sorted and distinct (the order prevents
// deadlocks between writers of several numbers), and returns the function
// that unlocks them. It gives up with ctx's error when ctx ends first.
func (s *Store) lock(ctx context.Context, phones []string) (unlock func(), err error) {
	if s.withoutPhoneLock {
		return func() {}, nil
	}
	l := &s.locks
	for i, p := range phones {
		pl := l.ref(p)
		select {
		case pl.sem <- struct{}{}:
		case <-ctx.Done():
			l.unref(p)
			l.release(phones[:i])
			return nil, ctx.Err()
		}
	}
	return func() { l.release(phones) }, nil
}

func (l *phoneLocks) ref(phone string) *phoneLock {
	l.mu.Lock()
	defer l.mu.Unlock()
	pl := l.m[phone]
	if pl == nil {
		pl = &phoneLock{sem: make(chan struct{}, 1)}
		l.m[phone] = pl
	}
	pl.refs++
	return pl
}

func (l *phoneLocks) unref(phone string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	pl := l.m[phone]
	if pl.refs--; pl.refs == 0 {
		delete(l.m, phone)
	}
}

// release unlocks phones, which the caller holds.
func (l *phoneLocks) release(phones []string) {
	for _, p := range phones {
		l.mu.Lock()
		pl := l.m[p]
		l.mu.Unlock()
		<-pl.sem
		l.unref(p)
	}
}
