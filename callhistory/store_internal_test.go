package callhistory

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var ruleDay = time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)

func ruleCall(id string) Call {
	return Call{
		CallyzerID: id, Phone: "+48601000001", StartedAt: ruleDay, RecordingURL: "https://r/" + id,
		Note: "n", SyncedAt: ruleDay.Add(time.Minute), ModifiedAt: ruleDay.Add(2 * time.Minute), RowID: 7,
	}
}

// TestMerge is the one table of the rules a stored call and an incoming
// copy of it follow, in every store.
func TestMerge(t *testing.T) {
	t.Parallel()
	prev := ruleCall("c")
	in := prev
	in.RowID = 0
	tests := []struct {
		name    string
		edit    func(prev, in *Call)
		changed bool
		want    func(prev, in Call) Call
	}{
		{"SameIsUnchanged", func(_, _ *Call) {}, false, func(p, _ Call) Call { return p }},
		{"AnyFieldIsAChange", func(_, in *Call) { in.DurationSeconds = 9 }, true, func(p, in Call) Call { in.RowID = p.RowID; return in }},
		{"EmptyRecordingKeepsStored", func(_, in *Call) { in.RecordingURL = "" }, false, func(p, _ Call) Call { return p }},
		{"EmptyRecordingOnUpdate", func(_, in *Call) { in.RecordingURL, in.Note = "", "x" }, true,
			func(p, in Call) Call { in.RowID, in.RecordingURL = p.RowID, p.RecordingURL; return in }},
		{"NewRecordingReplaces", func(_, in *Call) { in.RecordingURL = "https://r/2" }, true, func(p, in Call) Call { in.RowID = p.RowID; return in }},
		{"OlderCopyChangesNothing", func(_, in *Call) { in.ModifiedAt = in.ModifiedAt.Add(-time.Microsecond); in.Note = "old" }, false,
			func(p, _ Call) Call { return p }},
		{"OlderCopyDoesNotMove", func(_, in *Call) { in.ModifiedAt = in.ModifiedAt.Add(-time.Hour); in.Phone = "+48601000002" }, false,
			func(p, _ Call) Call { return p }},
		{"SameModifiedAtUpdates", func(_, in *Call) { in.Note = "x" }, true, func(p, in Call) Call { in.RowID = p.RowID; return in }},
		{"IncomingWithoutModifiedAt", func(_, in *Call) { in.ModifiedAt = time.Time{}; in.Note = "x" }, true,
			func(p, in Call) Call { in.RowID = p.RowID; return in }},
		{"StoredWithoutModifiedAt", func(p, in *Call) { p.ModifiedAt = time.Time{}; in.ModifiedAt = ruleDay; in.Note = "x" }, true,
			func(p, in Call) Call { in.RowID = p.RowID; return in }},
		{"MovesToTheNewNumber", func(_, in *Call) { in.Phone = "+48601000002" }, true, func(p, in Call) Call { in.RowID = p.RowID; return in }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, i := prev, in
			tc.edit(&p, &i)
			got, changed := merge(canonicalCall(p), canonicalCall(i))
			if changed != tc.changed {
				t.Fatalf("changed = %v, want %v", changed, tc.changed)
			}
			if diff := cmp.Diff(tc.want(p, i), got); diff != "" {
				t.Fatalf("merged call (-want +got):\n%s", diff)
			}
		})
	}
}

// TestPlanReplace: which stored calls of the window a replacement takes
// out of the list (marks missing), and which it leaves.
func TestPlanReplace(t *testing.T) {
	t.Parallel()
	answeredAt := ruleDay.Add(time.Hour)
	uploaded := func(id string, at time.Time, row int64) Call {
		c := ruleCall(id)
		c.SyncedAt, c.RowID = at, row
		return c
	}
	kept := uploaded("kept", answeredAt.Add(time.Hour), 1)
	bare := uploaded("bare", time.Time{}, 6)
	bare.NoCountryCode = true
	inWindow := []Call{
		kept,
		uploaded("early", answeredAt.Add(-time.Microsecond), 2),
		uploaded("at-bound", answeredAt, 3),
		uploaded("no-upload", time.Time{}, 4),
		uploaded("late", answeredAt.Add(time.Microsecond), 5),
		bare,
	}
	stored := map[string]*Call{}
	for i := range inWindow {
		stored[inWindow[i].CallyzerID] = &inWindow[i]
	}
	older := kept
	older.ModifiedAt, older.Note, older.RowID = older.ModifiedAt.Add(-time.Second), "older", 0
	p, err := planReplace(kept.Phone, inWindow, stored, []Call{older}, map[string]bool{older.CallyzerID: true}, answeredAt, removal{after: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	var marked []string
	for _, c := range p.puts {
		if !c.MissingSince.Equal(answeredAt) {
			t.Fatalf("%s put without being marked missing at the answer's time: %v", c.CallyzerID, c.MissingSince)
		}
		marked = append(marked, c.CallyzerID)
	}
	// An older copy counts as in the answer; a late upload stays; a call
	// held without a country code is out of the query's reach.
	if diff := cmp.Diff([]string{"early", "at-bound", "no-upload"}, marked); diff != "" {
		t.Fatalf("marked missing (-want +got):\n%s", diff)
	}
	if len(p.deletes) != 0 || p.result != (WriteResult{Unchanged: 1, Deleted: 3}) {
		t.Fatalf("deletes %v, result %+v", p.deletes, p.result)
	}
	if got := p.lastSynced[kept.Phone]; !got.Equal(answeredAt) {
		t.Fatalf("last-sync date planned %v, want %v", got, answeredAt)
	}
	// A zero syncedAt takes out only calls without an upload time, and
	// moves no date.
	p, err = planReplace(kept.Phone, inWindow, stored, nil, nil, time.Time{}, removal{after: time.Minute})
	if err != nil || len(p.puts) != 1 || p.puts[0].CallyzerID != "no-upload" || len(p.lastSynced) != 0 {
		t.Fatalf("zero syncedAt: puts %v, dates %v, %v", p.puts, p.lastSynced, err)
	}
}

// TestPlanReplaceConfirmsBeforeDeleting: a missing call is deleted only by
// an answer at least RemoveAfter later that still lacks it; an answer or a
// sync that brings it back lists it again.
func TestPlanReplaceConfirmsBeforeDeleting(t *testing.T) {
	t.Parallel()
	firstLacked := ruleDay.Add(time.Hour)
	missing := ruleCall("m")
	missing.SyncedAt, missing.MissingSince = ruleDay, firstLacked
	stored := func() ([]Call, map[string]*Call) {
		in := []Call{missing}
		return in, map[string]*Call{"m": &in[0]}
	}
	rm := removal{after: 10 * time.Minute}

	inWindow, st := stored()
	p, _ := planReplace(missing.Phone, inWindow, st, nil, nil, firstLacked.Add(9*time.Minute), rm)
	if len(p.deletes)+len(p.puts) != 0 || p.result != (WriteResult{}) {
		t.Fatalf("an answer 9 minutes later: deletes %v, puts %v, %+v", p.deletes, p.puts, p.result)
	}
	inWindow, st = stored()
	p, _ = planReplace(missing.Phone, inWindow, st, nil, nil, firstLacked.Add(10*time.Minute), rm)
	if len(p.deletes) != 1 || p.result != (WriteResult{Purged: 1}) {
		t.Fatalf("an answer 10 minutes later: deletes %v, %+v", p.deletes, p.result)
	}
	back := missing
	back.MissingSince, back.RowID, back.Note = time.Time{}, 0, "back"
	for _, older := range []bool{false, true} {
		in := back
		if older {
			in.ModifiedAt = in.ModifiedAt.Add(-time.Hour) // even an older copy
		}
		inWindow, st = stored()
		p, _ = planReplace(missing.Phone, inWindow, st, []Call{in}, map[string]bool{"m": true}, firstLacked.Add(time.Hour), rm)
		if len(p.puts) != 1 || !p.puts[0].MissingSince.IsZero() || p.result != (WriteResult{Updated: 1}) {
			t.Fatalf("the answer brings it back (older copy %v): puts %v, %+v", older, p.puts, p.result)
		}
	}
	_, st = stored()
	if q := planWrites(st, []Call{back}); len(q.puts) != 1 || !q.puts[0].MissingSince.IsZero() {
		t.Fatalf("a sync brings it back: puts %v", q.puts)
	}
}

// TestRemovalGuard: an answer that would take more than Share and at least
// Min of the listed calls out is refused; the zero guard is off.
func TestRemovalGuard(t *testing.T) {
	t.Parallel()
	g := RemovalGuard{Share: 0.5, Min: 5}
	for _, tc := range []struct {
		removed, listed int
		refused         bool
	}{
		{40, 40, true}, {5, 9, true}, {5, 10, false}, {4, 4, false}, {6, 10, true}, {0, 0, false}, {3, 100, false},
	} {
		if got := g.refuses(tc.removed, tc.listed); got != tc.refused {
			t.Errorf("%d of %d: refused %v, want %v", tc.removed, tc.listed, got, tc.refused)
		}
	}
	if (RemovalGuard{}).refuses(40, 40) {
		t.Error("the zero guard refused")
	}
	var calls []Call
	stored := map[string]*Call{}
	for i := range 40 {
		c := ruleCall(string(rune('a' + i)))
		c.RowID = int64(i + 1)
		calls = append(calls, c)
	}
	for i := range calls {
		stored[calls[i].CallyzerID] = &calls[i]
	}
	_, err := planReplace(calls[0].Phone, calls, stored, nil, nil, ruleDay.Add(time.Hour), removal{after: time.Minute, guard: g})
	if !errors.Is(err, ErrSuspiciousAnswer) || !errors.Is(err, ErrUpstream) {
		t.Fatalf("an empty answer for 40 listed calls: %v", err)
	}
}

// TestPlanLocksEveryNumberItChanges: a call moving from another number
// needs that number's lock too.
func TestPlanLocksEveryNumberItChanges(t *testing.T) {
	t.Parallel()
	prev := ruleCall("m")
	prev.Phone = "+48601000009"
	in := ruleCall("m")
	in.RowID, in.Note = 0, "moved"
	stored := canonicalCall(prev)
	p := planWrites(map[string]*Call{"m": &stored}, []Call{canonicalCall(in)})
	if diff := cmp.Diff([]string{"+48601000009"}, p.unlocked([]string{in.Phone})); diff != "" {
		t.Fatalf("unlocked (-want +got):\n%s", diff)
	}
	if got := p.unlocked([]string{in.Phone, prev.Phone}); len(got) != 0 {
		t.Fatalf("with both numbers locked, still wants %v", got)
	}
}

func TestHTTPSOnly(t *testing.T) {
	for u, want := range map[string]bool{
		"https://rec.example/a.mp3": true, "HTTPS://rec.example/a.mp3": true, "https://rec.example": true,
		"http://rec.example/a.mp3": false, "javascript:alert(1)": false, "data:audio/mp3;base64,AAA": false,
		"/relative.mp3": false, "https://": false, "https:///path": false, "https://rec.example/a b.mp3": false,
		"https://rec.example/\n": false, "": false, "https://?x": false, "https://%zz": false,
	} {
		if got := httpsOnly(u) == u && u != ""; got != want {
			t.Errorf("httpsOnly(%q) kept %v, want %v", u, got, want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { httpsOnly("https://rec.example/a.mp3") }); n > 1 && testing.CoverMode() == "" {
		t.Errorf("httpsOnly allocates %v times", n)
	}
}
