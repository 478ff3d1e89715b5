package callhistory_test

import (
	"context"
	"sync"
)

// testLock is a PassLock the tests share between Syncers and take
// themselves: one holder per name.
type testLock struct {
	mu   sync.Mutex
	held map[string]bool
}

func (l *testLock) TryLock(ctx context.Context, name string) (func() error, bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held[name] {
		return nil, false, nil
	}
	if l.held == nil {
		l.held = map[string]bool{}
	}
	l.held[name] = true
	var once sync.Once
	return func() error {
		once.Do(func() {
			l.mu.Lock()
			delete(l.held, name)
			l.mu.Unlock()
		})
		return nil
	}, true, nil
}

// lockFunc adapts a function to callhistory.PassLock.
type lockFunc func(ctx context.Context, name string) (func() error, bool, error)

func (f lockFunc) TryLock(ctx context.Context, name string) (func() error, bool, error) {
	return f(ctx, name)
}
