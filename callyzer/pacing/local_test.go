package pacing_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadcalls/leadcalls/callyzer/pacing"
	"github.com/leadcalls/leadcalls/callyzer/pacing/internal/rule"
)

func TestPacerOneInFlightAndInterval(t *testing.T) {
	t.Parallel()
	for _, hold := range []time.Duration{500 * time.Millisecond, 3 * time.Second} {
		synctest.Test(t, func(t *testing.T) {
			p := pacing.New(2 * time.Second)
			var (
				mu              sync.Mutex
				inFlight, worst int
				starts          []time.Time
				wg              sync.WaitGroup
			)
			for i := range 6 {
				prio := pacing.Priority(i % 2)
				wg.Go(func() {
					release, err := plain(p, prio)(t.Context())
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					inFlight++
					worst = max(worst, inFlight)
					starts = append(starts, time.Now())
					mu.Unlock()
					time.Sleep(hold) // the request and reading its body
					mu.Lock()
					inFlight--
					mu.Unlock()
					release(time.Time{})
				})
			}
			wg.Wait()
			require.Equal(t, 1, worst, "one request in flight")
			require.Len(t, starts, 6)
			for i := 1; i < len(starts); i++ {
				gap := starts[i].Sub(starts[i-1])
				require.GreaterOrEqual(t, gap, max(2*time.Second, hold), "start %d", i)
			}
		})
	}
}

func TestPacerInteractiveFirstAtEverySlot(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		p := pacing.New(2 * time.Second)
		granted := make(chan string, 10)
		holder := enqueue(t, plain(p, pacing.Background), "holder", granted)
		require.Equal(t, "holder", <-granted)
		b1 := enqueue(t, plain(p, pacing.Background), "b1", granted)
		b2 := enqueue(t, plain(p, pacing.Background), "b2", granted)
		i1 := enqueue(t, plain(p, pacing.Interactive), "i1", granted)

		close(holder.release)
		require.Equal(t, "i1", <-granted, "interactive goes before earlier background waiters")
		// A new interactive caller arrives while i1 holds the slot.
		i2 := enqueue(t, plain(p, pacing.Interactive), "i2", granted)
		close(i1.release)
		require.Equal(t, "i2", <-granted, "and again at the next slot")
		close(i2.release)
		require.Equal(t, "b1", <-granted, "background callers keep their order")
		close(b1.release)
		require.Equal(t, "b2", <-granted)
		close(b2.release)
		synctest.Wait()
		require.Empty(t, granted)
	})
}

// A Background request that has let rule.AgeLimit starts go to
// Interactive ones is served next, before the Interactive one waiting: a
// steady stream of refreshes cannot starve the periodic sync.
func TestPacerBackgroundAgesUnderAStreamOfInteractive(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		p := pacing.New(2 * time.Second)
		granted := make(chan string, 64)
		holder := enqueue(t, plain(p, pacing.Interactive), "i0", granted)
		require.Equal(t, "i0", <-granted)
		bg := enqueue(t, plain(p, pacing.Background), "bg", granted)
		prev := holder
		var order []string
		// Always one Interactive caller waiting when the holder releases.
		for i := 1; ; i++ {
			require.Less(t, i, 40, "the background caller never got the slot: %v", order)
			next := enqueue(t, plain(p, pacing.Interactive), fmt.Sprintf("i%d", i), granted)
			close(prev.release)
			got := <-granted
			order = append(order, got)
			if got == "bg" {
				close(bg.release)
				require.Equal(t, fmt.Sprintf("i%d", i), <-granted, "then the Interactive one waiting")
				close(next.release)
				break
			}
			prev = next
		}
		// i0 started before bg asked; i1..iN after (N = rule.AgeLimit):
		// N starts let go. At iN's release bg became an Interactive request
		// asking then, after iN+1, which was already waiting.
		require.Len(t, order, rule.AgeLimit+2, "order: %v", order)
		synctest.Wait()
	})
}

func TestPacerCancelWhileWaiting(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		p := pacing.New(2 * time.Second)
		granted := make(chan string, 10)
		holder := enqueue(t, plain(p, pacing.Interactive), "holder", granted)
		require.Equal(t, "holder", <-granted)

		ctx, cancel := context.WithCancel(t.Context())
		errc := make(chan error, 1)
		go func() {
			rel, err := plain(p, pacing.Interactive)(ctx)
			if rel != nil {
				t.Error("a cancelled Acquire returned a release func")
			}
			errc <- err
		}()
		synctest.Wait()
		later := enqueue(t, plain(p, pacing.Background), "later", granted)
		cancel()
		require.ErrorIs(t, <-errc, context.Canceled)

		// The cancelled waiter released nothing: the holder still holds the slot.
		synctest.Wait()
		require.Empty(t, granted)
		time.Sleep(time.Minute)
		require.Empty(t, granted)

		close(holder.release)
		require.Equal(t, "later", <-granted, "the next waiter gets the slot once it is freed")
		close(later.release)

		// A deadline while waiting for the interval is the same.
		dctx, dcancel := context.WithTimeout(t.Context(), time.Second)
		defer dcancel()
		_, err := plain(p, pacing.Background)(dctx)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		// Nothing is left waiting: the next slot comes at the interval.
		start := time.Now()
		rel, err := plain(p, pacing.Background)(t.Context())
		require.NoError(t, err)
		rel(time.Time{})
		rel(time.Time{}) // a second call does nothing
		require.Less(t, time.Since(start), 2*time.Second)
	})
}

func TestPacerHold(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		p := pacing.New(0)
		start := time.Now()
		p.Hold(start.Add(10 * time.Second))
		p.Hold(start.Add(time.Second)) // earlier: no change
		rel, err := plain(p, pacing.Interactive)(t.Context())
		require.NoError(t, err)
		rel(time.Time{})
		require.Equal(t, 10*time.Second, time.Since(start))
	})
}

// A hold that outlasts the caller's deadline fails the caller at once
// with an error that says until when (which callyzer reports as ErrRateLimited) instead of
// letting it wait into a timeout; a caller whose deadline lies after the
// hold still waits and gets the slot.
func TestPacerHoldPastDeadlineFailsFast(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		p := pacing.New(time.Second)
		start := time.Now()
		p.Hold(start.Add(30 * time.Second))

		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		_, err := plain(p, pacing.Interactive)(ctx)
		held, ok := errors.AsType[heldError](err)
		require.True(t, ok, "%v", err)
		require.Equal(t, start.Add(30*time.Second), held.HeldUntil())
		require.Equal(t, start, time.Now(), "must fail without waiting")

		ctx2, cancel2 := context.WithTimeout(t.Context(), time.Minute)
		defer cancel2()
		release, err := plain(p, pacing.Interactive)(ctx2)
		require.NoError(t, err)
		release(time.Time{})
		require.Equal(t, 30*time.Second, time.Since(start))
	})
}

// A hold that comes while callers wait refuses at once those whose
// deadline it outlasts, and leaves the others waiting.
func TestPacerHoldRefusesWaiters(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		p := pacing.New(time.Second)
		granted := make(chan string, 10)
		holder := enqueue(t, plain(p, pacing.Background), "holder", granted)
		require.Equal(t, "holder", <-granted)
		short, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		refused := make(chan error, 1)
		go func() {
			_, err := plain(p, pacing.Interactive)(short)
			refused <- err
		}()
		patient := enqueue(t, plain(p, pacing.Background), "patient", granted)
		start := time.Now()
		p.Hold(start.Add(30 * time.Second))
		_, ok := errors.AsType[heldError](<-refused)
		require.True(t, ok)
		require.Equal(t, start, time.Now(), "refused at once")

		close(holder.release)
		require.Equal(t, "patient", <-granted)
		require.Equal(t, 30*time.Second, time.Since(start), "after the hold")
		close(patient.release)
	})
}

// TestLocalSent: the next start is at least the interval after the later
// of the grant and the send passed to release.
func TestLocalSent(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		p := pacing.New(time.Second)
		start := time.Now()
		rel, err := plain(p, pacing.Background)(t.Context())
		require.NoError(t, err)
		time.Sleep(300 * time.Millisecond)
		rel(time.Now())
		rel, err = plain(p, pacing.Background)(t.Context())
		require.NoError(t, err)
		require.Equal(t, 1300*time.Millisecond, time.Since(start), "the interval after the send")

		rel(time.Now().Add(-time.Hour)) // an earlier send changes nothing
		rel, err = plain(p, pacing.Background)(t.Context())
		require.NoError(t, err)
		rel(time.Time{})
		require.Equal(t, 2300*time.Millisecond, time.Since(start), "the interval after the grant")
	})
}
