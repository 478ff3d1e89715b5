package storagetest

import (
	"runtime"
	"testing"
	"time"

	"github.com/leadcalls/leadcalls/callhistory"
)

// Option adjusts Run.
type Option func(*config)

type config struct {
	writers   int
	rounds    int
	precision time.Duration
	parallel  bool
}

func defaultConfig() config {
	return config{writers: 8, rounds: 10, precision: time.Microsecond}
}

// WithConcurrency sets the concurrency subtests' size: writers goroutines,
// each writing rounds times. Default: 8 writers, 10 rounds. Values below 2
// writers or 1 round are raised to those minimums.
func WithConcurrency(writers, rounds int) Option {
	return func(c *config) {
		c.writers = max(writers, 2)
		c.rounds = max(rounds, 1)
	}
}

// WithTimePrecision declares the finest time the store keeps. Every time the
// suite writes is a multiple of it, and the window-edge subtests place calls
// one precision step outside each bound. Default: time.Microsecond (what
// PostgreSQL and MariaDB DATETIME(6) keep). Values are clamped to
// [time.Nanosecond, time.Second].
func WithTimePrecision(d time.Duration) Option {
	return func(c *config) { c.precision = min(max(d, time.Nanosecond), time.Second) }
}

// Parallel makes the subtests call t.Parallel. Use it only when the stores
// newStore returns are independent of each other (for example, not tables
// shared through one database).
func Parallel() Option { return func(c *config) { c.parallel = true } }

// NewStoreFunc returns a fresh, empty store for one subtest. Release the
// store's resources with t.Cleanup.
type NewStoreFunc = func(t *testing.T) callhistory.Store

// Run runs the conformance suite. newStore returns a fresh, empty store for
// each subtest. The fault-injection subtests wrap it with WithHooks; in the
// concurrency subtests the hooks only yield the processor, to widen race
// windows.
//
// The subtests are grouped as RoundTrip, ReplaceWindow, UpsertCalls, Calls,
// LastSynced, Context, Faults, Concurrency, SyncState and FeedHealth; select
// parts with go test -run, e.g. -run 'TestStore/Faults'. SyncState (see
// RunSyncState) runs when the store also implements
// callhistory.SyncStateStore, and FeedHealth when it implements
// feedhealth.Store; each skips, saying so, when it does not.
func Run(t *testing.T, newStore NewStoreFunc, opts ...Option) {
	t.Helper()
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	s := &suite{cfg: cfg, newStore: newStore}
	s.group(t, "RoundTrip", s.roundTripTests())
	s.group(t, "ReplaceWindow", s.replaceWindowTests())
	s.group(t, "UpsertCalls", s.upsertCallsTests())
	s.group(t, "Calls", s.callsTests())
	s.group(t, "LastSynced", s.lastSyncedTests())
	s.group(t, "Context", s.contextTests())
	s.group(t, "Faults", s.faultTests())
	s.group(t, "Concurrency", s.concurrencyTests())
	s.syncStateGroup(t)
	s.feedHealthGroup(t)
}

type suite struct {
	cfg      config
	newStore NewStoreFunc
}

type subtest struct {
	name string
	run  func(t *testing.T)
}

func (s *suite) group(t *testing.T, name string, tests []subtest) {
	t.Run(name, func(t *testing.T) {
		if s.cfg.parallel {
			t.Parallel()
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				if s.cfg.parallel {
					t.Parallel()
				}
				tc.run(t)
			})
		}
	})
}

// store returns a fresh store.
func (s *suite) store(t *testing.T) callhistory.Store {
	t.Helper()
	st := s.newStore(t)
	if st == nil {
		t.Fatal("storagetest: newStore returned a nil store")
	}
	return st
}

// hookedStore returns a fresh store with hooks.
func (s *suite) hookedStore(t *testing.T, hooks *Hooks) callhistory.Store {
	t.Helper()
	return WithHooks(s.store(t), hooks)
}

// yieldingStore returns a fresh store whose hooks only yield the processor.
func (s *suite) yieldingStore(t *testing.T) callhistory.Store {
	t.Helper()
	yield := func() error { runtime.Gosched(); return nil }
	return s.hookedStore(t, &Hooks{
		AfterDelete:  yield,
		BeforeWrite:  func(int) error { return yield() },
		BeforeCommit: yield,
	})
}
