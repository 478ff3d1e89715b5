package pacing_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"

	"github.com/leadcalls/leadcalls/callyzer/pacing"
)

// The tests of New's pacer run in testing/synctest bubbles, so that they check
// the pacing to the nanosecond without sleeping: one request in flight,
// starts an interval apart (from the send when it is later than the
// grant), Interactive before Background, sequences in the order they
// began, a refresh waiting for at most the request in flight, an abandoned
// sequence holding nobody back past the grace, and holds. The tests of
// internal/rule check the decision function, rule by rule.

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// heldError is the error of an Acquire that a Hold refuses, as callers
// outside the package see it.
type heldError interface {
	error
	HeldUntil() time.Time
}

type acquireFunc func(context.Context) (func(time.Time), error)

// plain acquires a single request, as a client sends one: a sequence of
// its own, begun right before and ended right after its release.
func plain(p pacing.Pacer, prio pacing.Priority) acquireFunc {
	return func(ctx context.Context) (func(time.Time), error) {
		seq := p.Begin(prio)
		release, err := seq.Acquire(ctx)
		if err != nil {
			seq.End()
			return nil, err
		}
		return func(sent time.Time) {
			release(sent)
			seq.End()
		}, nil
	}
}

// queued is a caller started by enqueue; it releases when told on release.
type queued struct {
	release chan struct{}
}

// enqueue starts a goroutine that acquires through acquire and sends its
// name on granted once it holds the slot.
func enqueue(t *testing.T, acquire acquireFunc, name string, granted chan<- string) queued {
	q := queued{release: make(chan struct{})}
	go func() {
		rel, err := acquire(t.Context())
		if err != nil {
			t.Error(err)
			return
		}
		granted <- name
		<-q.release
		rel(time.Time{})
	}()
	synctest.Wait() // it is now waiting (or holding), in this order
	return q
}
