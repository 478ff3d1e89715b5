package callhistory_test

import "context"

// lockFunc adapts a function to callhistory.PassLock.
type lockFunc func(ctx context.Context, name string) (func() error, bool, error)

func (f lockFunc) TryLock(ctx context.Context, name string) (func() error, bool, error) {
	return f(ctx, name)
}
