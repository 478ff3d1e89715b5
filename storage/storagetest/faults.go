package storagetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/leadcalls/leadcalls/callhistory"
)

func (s *suite) contextTests() []subtest {
	return []subtest{
		{"CancelledBeforeWrite", func(t *testing.T) {
			st := s.store(t)
			s.replace(t, st, phoneA, s.calls(phoneA, "a", 3, 0), s.syncAt(1))
			before := Snapshot(t, st, allPhones...)
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			next := s.calls(phoneA, "n", 2, 0)
			res, err := callhistory.ReplaceWindow(ctx, st, phoneA, window, next, s.syncAt(2))
			requireCanceled(t, "ReplaceWindow", res, err)
			res, err = callhistory.UpsertCalls(ctx, st, append(next, s.calls(phoneB, "b", 1, 0)...), s.syncAt(2))
			requireCanceled(t, "UpsertCalls", res, err)
			requireUnchanged(t, st, before, "a write with a cancelled context")
		}},
		{"CancelledRead", func(t *testing.T) {
			st := s.store(t)
			s.replace(t, st, phoneA, s.calls(phoneA, "a", 3, 0), s.syncAt(1))
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			if _, err := st.Calls(ctx, phoneA, 0); !errors.Is(err, context.Canceled) {
				t.Fatalf("Calls with a cancelled context: err = %v, want one wrapping context.Canceled", err)
			}
			if _, err := st.LastSynced(ctx, phoneA); !errors.Is(err, context.Canceled) {
				t.Fatalf("LastSynced with a cancelled context: err = %v, want one wrapping context.Canceled", err)
			}
		}},
	}
}

func requireCanceled(t *testing.T, what string, res callhistory.WriteResult, err error) {
	t.Helper()
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("%s with a cancelled context: err = %v, want one wrapping context.Canceled", what, err)
	}
	requireResult(t, what+" with a cancelled context", res, callhistory.WriteResult{})
}

// fault is where a fault-injection subtest strikes.
type fault struct {
	name    string
	at      string // "delete", "write", "commit"
	k       int    // for "write": the k-th insert or update
	panics  bool   // panic instead of returning an error
	cancels bool   // cancel the write's context and return nil
}

// recorder is a set of hooks that records every call and, once armed,
// injects one fault.
type recorder struct {
	mu     sync.Mutex
	armed  bool
	f      fault
	cancel context.CancelFunc
	events []string
}

var errInjected = errors.New("storagetest: injected fault")

func (r *recorder) hooks() *Hooks {
	return &Hooks{
		AfterDelete:  func() error { return r.event("delete", 0) },
		BeforeWrite:  func(k int) error { return r.event("write", k) },
		BeforeCommit: func() error { return r.event("commit", 0) },
	}
}

func (r *recorder) event(at string, k int) error {
	r.mu.Lock()
	name := at
	if at == "write" {
		name = fmt.Sprintf("write %d", k)
	}
	r.events = append(r.events, name)
	strike := r.armed && r.f.at == at && (at != "write" || r.f.k == k)
	f, cancel := r.f, r.cancel
	r.mu.Unlock()
	switch {
	case !strike:
		return nil
	case f.panics:
		panic(fmt.Sprintf("storagetest: injected panic (%s)", f.name))
	case f.cancels:
		cancel()
		return nil
	default:
		return fmt.Errorf("%s: %w", f.name, errInjected)
	}
}

// arm sets the fault to inject (armed) or only records (disarmed), and
// clears the recorded events.
func (r *recorder) arm(armed bool, f fault, cancel context.CancelFunc) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.armed, r.f, r.cancel, r.events = armed, f, cancel, nil
}

func (r *recorder) recorded() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

// callWrite runs write, turning a panic into its value.
func callWrite(write func() (callhistory.WriteResult, error)) (res callhistory.WriteResult, err error, panicked any) {
	defer func() { panicked = recover() }()
	res, err = write()
	return res, err, nil
}

func (s *suite) faultTests() []subtest {
	replaceFaults := []fault{
		{name: "ErrorAfterDelete", at: "delete"},
		{name: "ErrorOnFirstWrite", at: "write", k: 1},
		{name: "ErrorOnMiddleWrite", at: "write", k: 4},
		{name: "ErrorOnLastWrite", at: "write", k: 8},
		{name: "ErrorOnCommit", at: "commit"},
		{name: "PanicAfterDelete", at: "delete", panics: true},
		{name: "PanicOnMiddleWrite", at: "write", k: 4, panics: true},
		{name: "PanicOnCommit", at: "commit", panics: true},
		{name: "CancelOnMiddleWrite", at: "write", k: 4, cancels: true},
		{name: "CancelBeforeCommit", at: "commit", cancels: true},
	}
	upsertFaults := []fault{
		{name: "ErrorOnFirstWrite", at: "write", k: 1},
		{name: "ErrorOnMiddleWrite", at: "write", k: 5},
		{name: "ErrorOnLastWrite", at: "write", k: 9},
		{name: "ErrorOnCommit", at: "commit"},
		{name: "PanicOnMiddleWrite", at: "write", k: 5, panics: true},
		{name: "CancelBeforeCommit", at: "commit", cancels: true},
	}
	var tests []subtest
	for _, f := range replaceFaults {
		tests = append(tests, subtest{"ReplaceWindow/" + f.name, func(t *testing.T) { s.faultTest(t, f, true) }})
	}
	for _, f := range upsertFaults {
		tests = append(tests, subtest{"UpsertCalls/" + f.name, func(t *testing.T) { s.faultTest(t, f, false) }})
	}
	return tests
}

// faultTest seeds a store, injects f into a write that inserts, updates and
// (for ReplaceWindow) deletes, and checks that the store is exactly as it
// was; then it runs the write again without the fault and checks the hooks
// ran in order and the write succeeds.
func (s *suite) faultTest(t *testing.T, f fault, replace bool) {
	rec := &recorder{}
	st := s.hookedStore(t, rec.hooks())
	seedA := s.calls(phoneA, "f", 10, 0)
	seedB := s.calls(phoneB, "g", 2, 0)
	s.replace(t, st, phoneA, seedA, s.syncAt(1))
	s.replace(t, st, phoneB, seedB, s.syncAt(1))
	before := Snapshot(t, st, allPhones...)

	// Every input call is a write: 4 updates and 4 inserts for phoneA (and,
	// for UpsertCalls, one update for phoneB). ReplaceWindow deletes 6.
	in := slices.Clone(seedA[:4])
	for i := range in {
		in[i].Note = "po awarii"
	}
	in = append(in, s.calls(phoneA, "h", 4, 30*time.Minute)...)
	want := callhistory.WriteResult{Inserted: 4, Updated: 4, Deleted: 6}
	if !replace {
		b := seedB[0]
		b.DurationSeconds++
		in = append(in, b)
		want = callhistory.WriteResult{Inserted: 4, Updated: 5}
	}
	write := func(ctx context.Context) func() (callhistory.WriteResult, error) {
		return func() (callhistory.WriteResult, error) {
			if replace {
				return callhistory.ReplaceWindow(ctx, st, phoneA, window, slices.Clone(in), s.syncAt(2))
			}
			return callhistory.UpsertCalls(ctx, st, slices.Clone(in), s.syncAt(2))
		}
	}

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	rec.arm(true, f, cancel)
	res, err, panicked := callWrite(write(ctx))
	events := rec.recorded()
	switch {
	case f.panics && panicked == nil && err == nil:
		t.Fatalf("a hook panicked (%s) but the write returned %+v and no error; events: %v", f.name, res, events)
	case f.panics && panicked != nil:
		// The recommended behaviour: the panic propagates.
	case panicked != nil:
		t.Fatalf("the write panicked without an injected panic: %v", panicked)
	case f.cancels && !errors.Is(err, context.Canceled):
		t.Fatalf("the context was cancelled inside the write (%s): err = %v, want one wrapping context.Canceled; events: %v", f.name, err, events)
	case !f.panics && !f.cancels && !errors.Is(err, errInjected):
		t.Fatalf("a hook failed (%s): err = %v, want one wrapping the hook's error; events: %v", f.name, err, events)
	}
	requireResult(t, "a failed write", res, callhistory.WriteResult{})
	requireUnchanged(t, st, before, "a write that failed ("+f.name+")")

	// The store must still work (its locks released, no transaction left
	// open), and call the hooks in order.
	rec.arm(false, fault{}, nil)
	res, err = write(t.Context())()
	if err != nil {
		t.Fatalf("the same write without the fault: %v", err)
	}
	requireResult(t, "the same write without the fault", res, want)
	requireHookOrder(t, rec.recorded(), replace, want.Inserted+want.Updated)
	requireLastSynced(t, st, phoneA, s.syncAt(2))
}

// requireHookOrder checks the recorded hook calls of one successful write:
// AfterDelete once first (ReplaceWindow only), then BeforeWrite with k = 1,
// 2, ... at least writes times, then BeforeCommit once.
func requireHookOrder(t *testing.T, events []string, replace bool, writes int) {
	t.Helper()
	rest := events
	if replace {
		if len(rest) == 0 || rest[0] != "delete" {
			t.Fatalf("ReplaceWindow must call AfterDelete once, before any BeforeWrite; hooks called: %v", events)
		}
		rest = rest[1:]
	}
	k := 0
	for len(rest) > 0 && rest[0] == fmt.Sprintf("write %d", k+1) {
		k++
		rest = rest[1:]
	}
	if k < writes {
		t.Fatalf("BeforeWrite must run for each of the %d inserts and updates, with k = 1, 2, ...; hooks called: %v", writes, events)
	}
	if len(rest) != 1 || rest[0] != "commit" {
		t.Fatalf("BeforeCommit must run once, after the last BeforeWrite; hooks called: %v", events)
	}
}
