package storagetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/leadcalls/leadcalls/callhistory"
)

func (s *suite) concurrencyTests() []subtest {
	return []subtest{
		{"OneNumber", s.oneNumberTest},
		{"UpsertAndReplace", s.upsertAndReplaceTest},
		{"DifferentNumbers", s.differentNumbersTest},
	}
}

// answers returns n different answers for phone's window. They share five
// identical calls, share five more ids with different data, and each has
// five calls of its own, so that any mix of two answers shows.
func (s *suite) answers(phone string, n int) [][]callhistory.Call {
	shared := s.calls(phone, "s", 5, 0)
	out := make([][]callhistory.Call, n)
	for g := range out {
		a := slices.Clone(shared)
		for i, c := range s.calls(phone, "v", 5, 5*time.Hour) {
			c.Note = fmt.Sprintf("odpowiedź %d", g)
			c.DurationSeconds = g*10 + i
			a = append(a, c)
		}
		a = append(a, s.calls(phone, fmt.Sprintf("u%02d-", g), 5, time.Duration(10+g*5)*time.Hour)...)
		out[g] = a
	}
	return out
}

// whichAnswer returns the index of the answer calls equals (ignoring
// RowIDs), or an error describing what is wrong.
func whichAnswer(calls []callhistory.Call, answers [][]callhistory.Call) (int, error) {
	if err := checkNoDuplicates(calls); err != nil {
		return -1, err
	}
	if !isOrdered(calls) {
		return -1, fmt.Errorf("calls not in the contract's order: %v", slicesOf(calls))
	}
	for i, a := range answers {
		if sameCalls(calls, a) {
			return i, nil
		}
	}
	return -1, fmt.Errorf("the stored window is none of the %d answers, a mix: %v", len(answers), slicesOf(calls))
}

// oneNumberTest runs writers goroutines that ReplaceWindow one number's
// window, each with its own answer, and checks after every write that the
// window holds exactly one answer.
func (s *suite) oneNumberTest(t *testing.T) {
	st := s.yieldingStore(t)
	w, rounds := s.cfg.writers, s.cfg.rounds
	answers := s.answers(phoneA, w)
	var wg sync.WaitGroup
	for g := range w {
		wg.Go(func() {
			for r := range rounds {
				at := s.syncAt(r*w + g)
				res, err := callhistory.ReplaceWindow(t.Context(), st, phoneA, window, slices.Clone(answers[g]), at)
				if err != nil {
					t.Errorf("writer %d, round %d: ReplaceWindow: %v", g, r, err)
					return
				}
				if n := res.Inserted + res.Updated + res.Unchanged; n != len(answers[g]) {
					t.Errorf("writer %d, round %d: WriteResult %+v accounts for %d calls, not %d", g, r, res, n, len(answers[g]))
				}
				if !s.checkState(t, st, phoneA, answers, at, fmt.Sprintf("writer %d, round %d", g, r)) {
					return
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	s.checkState(t, st, phoneA, answers, s.syncAt(w*rounds-1), "after every writer")
	requireLastSynced(t, st, phoneA, s.syncAt(w*rounds-1))
}

// checkState checks that phone's window holds exactly one of answers and
// that its last-sync date is at least minSync. It reports failures with
// t.Errorf (it runs in goroutines) and returns false after one.
func (s *suite) checkState(t *testing.T, st callhistory.Store, phone string, answers [][]callhistory.Call, minSync time.Time, who string) bool {
	calls, err := st.Calls(t.Context(), phone, 0)
	if err != nil {
		t.Errorf("%s: Calls: %v", who, err)
		return false
	}
	if err := checkNoDuplicates(calls); err != nil {
		t.Errorf("%s: %v", who, err)
		return false
	}
	if _, err := whichAnswer(callsWithin(calls, window), answers); err != nil {
		t.Errorf("%s: %v", who, err)
		return false
	}
	last, err := st.LastSynced(t.Context(), phone)
	if err != nil {
		t.Errorf("%s: LastSynced: %v", who, err)
		return false
	}
	if last.Before(minSync) {
		t.Errorf("%s: LastSynced = %v, before this writer's committed %v: it went backwards", who, last, minSync)
		return false
	}
	return true
}

// upsertAndReplaceTest runs ReplaceWindow writers and UpsertCalls writers
// (the periodic sync) on one number together. The upserts re-send the
// answers' shared calls without their recordings, and add calls older than
// the window, so every serial order ends with the window holding exactly
// one answer and every older call present.
func (s *suite) upsertAndReplaceTest(t *testing.T) {
	st := s.yieldingStore(t)
	w, rounds := s.cfg.writers, s.cfg.rounds
	replacers := max(w/2, 1)
	answers := s.answers(phoneA, replacers)
	s.replace(t, st, phoneA, answers[0], s.syncAt(0))
	shared := slices.Clone(answers[0][:5])
	for i := range shared {
		shared[i].RecordingURL = ""
	}
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		older   []callhistory.Call
		maxSync = s.syncAt(0)
	)
	for g := range w {
		wg.Go(func() {
			for r := range rounds {
				at := s.syncAt(1 + r*w + g)
				who := fmt.Sprintf("writer %d, round %d", g, r)
				var err error
				if g < replacers {
					_, err = callhistory.ReplaceWindow(t.Context(), st, phoneA, window, slices.Clone(answers[g]), at)
				} else {
					old := s.call(phoneA, fmt.Sprintf("o%02d-%03d", g, r), s.at(window.From.Add(-time.Duration(1+g*rounds+r)*time.Minute)))
					_, err = callhistory.UpsertCalls(t.Context(), st, append(slices.Clone(shared), old), at)
					mu.Lock()
					older = append(older, old)
					mu.Unlock()
				}
				if err != nil {
					t.Errorf("%s: %v", who, err)
					return
				}
				mu.Lock()
				if at.After(maxSync) {
					maxSync = at
				}
				mu.Unlock()
				if !s.checkState(t, st, phoneA, answers, at, who) {
					return
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	all := storedCalls(t, st, phoneA)
	if _, err := whichAnswer(callsWithin(all, window), answers); err != nil {
		t.Fatalf("after every writer: %v", err)
	}
	var gotOlder []callhistory.Call
	for _, c := range all {
		if c.StartedAt.Before(window.From) {
			gotOlder = append(gotOlder, c)
		}
	}
	sortCalls(older)
	if diff := gocmp.Diff(older, gotOlder, ignoreRowID); diff != "" {
		t.Fatalf("the upserted calls older than the window (-want +got):\n%s", diff)
	}
	requireLastSynced(t, st, phoneA, maxSync)
}

// differentNumbersTest gives each writer a number of its own and checks
// that each number ends with its writer's last answer.
func (s *suite) differentNumbersTest(t *testing.T) {
	st := s.yieldingStore(t)
	w, rounds := s.cfg.writers, s.cfg.rounds
	phone := func(g int) string { return fmt.Sprintf("+48602%06d", g) }
	var wg sync.WaitGroup
	for g := range w {
		wg.Go(func() {
			p := phone(g)
			var answers [][]callhistory.Call
			for _, a := range s.answers(p, 2) {
				for i := range a {
					a[i].CallyzerID = fmt.Sprintf("n%02d-%s", g, a[i].CallyzerID) // ids of this number only
				}
				answers = append(answers, a)
			}
			for r := range rounds {
				at := s.syncAt(r)
				if _, err := callhistory.ReplaceWindow(t.Context(), st, p, window, slices.Clone(answers[r%2]), at); err != nil {
					t.Errorf("number %d, round %d: ReplaceWindow: %v", g, r, err)
					return
				}
				calls, err := st.Calls(t.Context(), p, 0)
				if err != nil {
					t.Errorf("number %d, round %d: Calls: %v", g, r, err)
					return
				}
				if !sameCalls(calls, answers[r%2]) {
					t.Errorf("number %d, round %d: the stored calls are not this writer's answer: %v", g, r, slicesOf(calls))
					return
				}
			}
		})
	}
	wg.Wait()
	for g := range w {
		requireLastSynced(t, st, phone(g), s.syncAt(rounds-1))
	}
}
