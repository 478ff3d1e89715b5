package callhistory

import "context"

// gate counts work under way and gives whoever waits for a lull a channel
// closed when the count drops to zero. Its owner's lock guards it.
type gate struct {
	n    int
	done chan struct{} // closed when n drops to 0; nil while n is 0
}

func (g *gate) enter() {
	if g.n == 0 {
		g.done = make(chan struct{})
	}
	g.n++
}

func (g *gate) leave() {
	g.n--
	if g.n == 0 {
		close(g.done)
		g.done = nil
	}
}

// idle returns a channel closed once the work under way now is done, or
// nil when none is.
func (g *gate) idle() <-chan struct{} { return g.done }

// waitIdle blocks until idle is closed (a nil one at once) or ctx ends,
// and reports whether it was closed.
func waitIdle(ctx context.Context, idle <-chan struct{}) bool {
	if idle == nil {
		return true
	}
	select {
	case <-idle:
		return true
	case <-ctx.Done():
		return false
	}
}
