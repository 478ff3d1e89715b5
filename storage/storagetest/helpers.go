package storagetest

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/leadcalls/leadcalls/callhistory"
	"github.com/leadcalls/leadcalls/statusmap"
)

// The numbers most subtests write; DifferentNumbers and OlderCopy use
// numbers of their own (+48602..., +48603...).
const (
	phoneA = "+48601000001"
	phoneB = "+48601000002"
	phoneC = "+48601000003"
)

// allPhones are the numbers every "unchanged" snapshot covers.
var allPhones = []string{phoneA, phoneB, phoneC}

// base is a whole second in UTC; the window starts there.
var base = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// window is the refreshed window of the suite: 30 days from base.
var window = callhistory.Window{From: base, To: base.Add(30 * 24 * time.Hour)}

// syncAt returns the i-th sync date: distinct, increasing, after every call.
func (s *suite) syncAt(i int) time.Time {
	return s.at(window.To.Add(time.Duration(i)*time.Hour + 123456789*time.Nanosecond))
}

// at truncates t to the store's precision.
func (s *suite) at(t time.Time) time.Time { return t.Truncate(s.cfg.precision) }

// in returns a time in the window, offset from its start.
func (s *suite) in(offset time.Duration) time.Time {
	return s.at(window.From.Add(offset + 250*time.Millisecond + 4321*time.Nanosecond))
}

// call returns a call of phone with every field set.
func (s *suite) call(phone, id string, startedAt time.Time) callhistory.Call {
	return callhistory.Call{
		CallyzerID:      id,
		Phone:           phone,
		Direction:       statusmap.Outgoing,
		Status:          statusmap.Answered,
		StartedAt:       startedAt,
		DurationSeconds: 95,
		EmployeeName:    "Łukasz Wójcik",
		EmployeeCode:    "EMP-7",
		EmployeePhone:   "+48501000100",
		ClientName:      "Klient " + id,
		RecordingURL:    "https://recordings.example/" + id + ".mp3",
		Note:            "rozmowa " + id,
		RawCallType:     "Outgoing",
		CRMStatus:       "zainteresowany",
		CallyzerLeadID:  "lead-" + id,
		SyncedAt:        s.at(startedAt.Add(3*time.Minute + 500*time.Millisecond)),
		ModifiedAt:      s.at(startedAt.Add(7*time.Minute + 250*time.Millisecond)),
	}
}

// calls returns n calls of phone with ids prefix0000.., an hour apart from
// the start of the window plus offset.
func (s *suite) calls(phone, prefix string, n int, offset time.Duration) []callhistory.Call {
	out := make([]callhistory.Call, n)
	for i := range out {
		out[i] = s.call(phone, fmt.Sprintf("%s%04d", prefix, i), s.in(offset+time.Duration(i)*time.Hour))
	}
	return out
}

// sortCalls orders calls as Store.Calls must: StartedAt descending, then
// CallyzerID ascending.
func sortCalls(calls []callhistory.Call) {
	slices.SortStableFunc(calls, func(a, b callhistory.Call) int {
		if c := b.StartedAt.Compare(a.StartedAt); c != 0 {
			return c
		}
		return strings.Compare(a.CallyzerID, b.CallyzerID)
	})
}

var ignoreRowID = cmpopts.IgnoreFields(callhistory.Call{}, "RowID")

// sameCalls reports whether got and want hold the same calls, ignoring
// RowID, the order of want and the location of times. It is the fast check
// of the concurrency subtests; requireCalls prints a diff.
func sameCalls(got, want []callhistory.Call) bool {
	if len(got) != len(want) {
		return false
	}
	want = slices.Clone(want)
	sortCalls(want)
	for i := range got {
		if plainCall(got[i]) != plainCall(want[i]) {
			return false
		}
	}
	return true
}

// plainCall returns c without RowID and with its times in UTC, so that ==
// compares instants.
func plainCall(c callhistory.Call) callhistory.Call {
	c.RowID = 0
	c.StartedAt, c.SyncedAt, c.ModifiedAt = c.StartedAt.UTC(), c.SyncedAt.UTC(), c.ModifiedAt.UTC()
	return c
}

func (s *suite) replace(t *testing.T, st callhistory.Store, phone string, calls []callhistory.Call, syncedAt time.Time) callhistory.WriteResult {
	t.Helper()
	res, err := callhistory.ReplaceWindow(t.Context(), st, phone, window, slices.Clone(calls), syncedAt)
	if err != nil {
		t.Fatalf("ReplaceWindow(%s, %d calls): %v", phone, len(calls), err)
	}
	return res
}

func (s *suite) upsert(t *testing.T, st callhistory.Store, calls []callhistory.Call, syncedAt time.Time) callhistory.WriteResult {
	t.Helper()
	res, err := callhistory.UpsertCalls(t.Context(), st, slices.Clone(calls), syncedAt)
	if err != nil {
		t.Fatalf("UpsertCalls(%d calls): %v", len(calls), err)
	}
	return res
}

func requireResult(t *testing.T, what string, got, want callhistory.WriteResult) {
	t.Helper()
	if got != want {
		t.Fatalf("%s: WriteResult mismatch (-want +got):\n%s", what, gocmp.Diff(want, got))
	}
}

// storedCalls returns every stored call of phone.
func storedCalls(t *testing.T, st callhistory.Store, phone string) []callhistory.Call {
	t.Helper()
	got, err := st.Calls(t.Context(), phone, 0)
	if err != nil {
		t.Fatalf("Calls(%s): %v", phone, err)
	}
	if got == nil {
		t.Fatalf("Calls(%s) returned a nil slice; the contract asks for an empty one", phone)
	}
	return got
}

// requireCalls checks that the stored calls of phone are want (ignoring
// RowID; want in any order), in the contract's order, with non-zero, unique
// RowIDs. It returns the stored calls.
func requireCalls(t *testing.T, st callhistory.Store, phone string, want []callhistory.Call) []callhistory.Call {
	t.Helper()
	got := storedCalls(t, st, phone)
	if sameCalls(got, want) {
		requireRowIDs(t, got)
		return got
	}
	want = slices.Clone(want)
	sortCalls(want)
	if diff := gocmp.Diff(want, got, ignoreRowID, cmpopts.EquateEmpty()); diff != "" {
		t.Fatalf("stored calls of %s differ (-want +got):\n%s", phone, diff)
	}
	requireRowIDs(t, got)
	return got
}

// requireRowIDs checks that every call has a non-zero RowID and that no two
// share one.
func requireRowIDs(t *testing.T, calls []callhistory.Call) {
	t.Helper()
	seen := make(map[int64]string, len(calls))
	for _, c := range calls {
		if c.RowID == 0 {
			t.Fatalf("call %s has RowID 0; stores assign non-zero RowIDs", c.CallyzerID)
		}
		if other, dup := seen[c.RowID]; dup {
			t.Fatalf("calls %s and %s share RowID %d", other, c.CallyzerID, c.RowID)
		}
		seen[c.RowID] = c.CallyzerID
	}
}

// rowIDs maps CallyzerID to RowID.
func rowIDs(calls []callhistory.Call) map[string]int64 {
	m := make(map[string]int64, len(calls))
	for _, c := range calls {
		m[c.CallyzerID] = c.RowID
	}
	return m
}

// requireKeptRowIDs checks that every call of got that was in before kept
// its RowID, and that the others got RowIDs none of the survivors had.
func requireKeptRowIDs(t *testing.T, before, got []callhistory.Call) {
	t.Helper()
	old := rowIDs(before)
	taken := make(map[int64]bool)
	for _, c := range got {
		if id, ok := old[c.CallyzerID]; ok {
			if c.RowID != id {
				t.Fatalf("call %s changed RowID from %d to %d; an updated row keeps its identity", c.CallyzerID, id, c.RowID)
			}
			taken[id] = true
		}
	}
	for _, c := range got {
		if _, ok := old[c.CallyzerID]; !ok && taken[c.RowID] {
			t.Fatalf("new call %s got RowID %d, which a surviving call already has", c.CallyzerID, c.RowID)
		}
	}
}

func requireLastSynced(t *testing.T, st callhistory.Store, phone string, want time.Time) {
	t.Helper()
	got, err := st.LastSynced(t.Context(), phone)
	if err != nil {
		t.Fatalf("LastSynced(%s): %v", phone, err)
	}
	if !got.Equal(want) {
		t.Fatalf("LastSynced(%s) = %v, want %v", phone, got, want)
	}
}

// State is what a store holds for some numbers: their calls, as Calls
// returns them (RowIDs included), and their last-sync dates. Compare two
// States with Diff.
type State struct {
	Calls      map[string][]callhistory.Call
	LastSynced map[string]time.Time
}

// Snapshot reads the State of phones from st, failing t on a read error.
// Take one before an operation that must not change anything and compare
// it with one taken after.
func Snapshot(t testing.TB, st callhistory.Store, phones ...string) State {
	t.Helper()
	// A context of its own: the snapshot must work after a test cancelled its own.
	ctx := context.WithoutCancel(t.Context())
	state := State{Calls: map[string][]callhistory.Call{}, LastSynced: map[string]time.Time{}}
	for _, p := range phones {
		calls, err := st.Calls(ctx, p, 0)
		if err != nil {
			t.Fatalf("storagetest.Snapshot: Calls(%s): %v", p, err)
		}
		last, err := st.LastSynced(ctx, p)
		if err != nil {
			t.Fatalf("storagetest.Snapshot: LastSynced(%s): %v", p, err)
		}
		state.Calls[p] = calls
		state.LastSynced[p] = last
	}
	return state
}

// Diff returns a human-readable difference between two States (-s +other),
// or "" when they are equal: the same calls, every column, RowIDs included,
// in the same order, and the same last-sync dates. Times compare with
// time.Time.Equal.
func (s State) Diff(other State) string {
	return gocmp.Diff(s, other, cmpopts.EquateEmpty())
}

// requireUnchanged fails t when st no longer holds before.
func requireUnchanged(t *testing.T, st callhistory.Store, before State, what string) {
	t.Helper()
	phones := make([]string, 0, len(before.Calls))
	for p := range before.Calls {
		phones = append(phones, p)
	}
	slices.Sort(phones)
	if diff := before.Diff(Snapshot(t, st, phones...)); diff != "" {
		t.Fatalf("%s changed the store, which must be left exactly as it was (-before +after):\n%s", what, diff)
	}
}

// polish is a non-ASCII text, with a 4-byte UTF-8 character.
const polish = "Zażółć gęślą jaźń — ŁÓDŹ, Świętokrzyska 7 📞"

// longNote returns a note of n runes.
func longNote(n int) string {
	r := []rune(strings.Repeat("Pan Żółkiewski oddzwoni w środę. ", n/30+1))
	return string(r[:n])
}

// callsWithin returns the calls of calls whose StartedAt lies in w.
func callsWithin(calls []callhistory.Call, w callhistory.Window) []callhistory.Call {
	var out []callhistory.Call
	for _, c := range calls {
		if !c.StartedAt.Before(w.From) && !c.StartedAt.After(w.To) {
			out = append(out, c)
		}
	}
	return out
}

// checkNoDuplicates reports duplicate CallyzerIDs or RowIDs in calls.
func checkNoDuplicates(calls []callhistory.Call) error {
	ids := make(map[string]bool, len(calls))
	rows := make(map[int64]bool, len(calls))
	for _, c := range calls {
		if ids[c.CallyzerID] {
			return fmt.Errorf("CallyzerID %s stored twice", c.CallyzerID)
		}
		if c.RowID == 0 || rows[c.RowID] {
			return fmt.Errorf("RowID %d of %s is zero or shared", c.RowID, c.CallyzerID)
		}
		ids[c.CallyzerID], rows[c.RowID] = true, true
	}
	return nil
}

// isOrdered reports whether calls are in the contract's order.
func isOrdered(calls []callhistory.Call) bool {
	return slices.IsSortedFunc(calls, func(a, b callhistory.Call) int {
		if c := b.StartedAt.Compare(a.StartedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.CallyzerID, b.CallyzerID)
	})
}
