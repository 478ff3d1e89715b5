package pacing_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/leadcalls/leadcalls/callyzer/pacing"
)

// A refresh of two pages: one sequence, one slot per page, each released
// with the time its request was written.
func Example() {
	p := pacing.New(10 * time.Millisecond)
	seq := p.Begin(pacing.Interactive)
	defer seq.End()
	for page := 1; page <= 2; page++ {
		release, err := seq.Acquire(context.Background())
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println("sending page", page)
		release(time.Now()) // after reading the answer: when the request was written
	}
	// Output:
	// sending page 1
	// sending page 2
}

// After a 429, Hold keeps every caller back; one that cannot wait that
// long is told at once.
func ExamplePacer_Hold() {
	p := pacing.New(0)
	p.Hold(time.Now().Add(time.Minute)) // Retry-After: 60

	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	seq := p.Begin(pacing.Interactive)
	defer seq.End()
	_, err := seq.Acquire(ctx)
	var held interface{ HeldUntil() time.Time }
	fmt.Println(errors.As(err, &held), time.Until(held.HeldUntil()).Round(time.Minute))
	// Output:
	// true 1m0s
}
