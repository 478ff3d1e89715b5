package callhistory

import (
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

// TestPlanReplace: which stored calls of the window a replacement deletes.
func TestPlanReplace(t *testing.T) {
	t.Parallel()
	answeredAt := ruleDay.Add(time.Hour)
	uploaded := func(id string, at time.Time, row int64) Call {
		c := ruleCall(id)
		c.SyncedAt, c.RowID = at, row
		return c
	}
	kept := uploaded("kept", answeredAt.Add(time.Hour), 1)
	inWindow := []Call{
		kept,
		uploaded("early", answeredAt.Add(-time.Microsecond), 2),
		uploaded("at-bound", answeredAt, 3),
		uploaded("no-upload", time.Time{}, 4),
		uploaded("late", answeredAt.Add(time.Microsecond), 5),
	}
	stored := map[string]*Call{}
	for i := range inWindow {
		stored[inWindow[i].CallyzerID] = &inWindow[i]
	}
	older := kept
	older.ModifiedAt, older.Note, older.RowID = older.ModifiedAt.Add(-time.Second), "older", 0
	p := planReplace(kept.Phone, inWindow, stored, []Call{older}, map[string]bool{older.CallyzerID: true}, answeredAt)
	var deleted []string
	for _, c := range p.deletes {
		deleted = append(deleted, c.CallyzerID)
	}
	// An older copy counts as in the answer; a late upload stays.
	if diff := cmp.Diff([]string{"early", "at-bound", "no-upload"}, deleted); diff != "" {
		t.Fatalf("deleted (-want +got):\n%s", diff)
	}
	if len(p.puts) != 0 || p.result != (WriteResult{Unchanged: 1}) {
		t.Fatalf("an older copy wrote %v, result %+v", p.puts, p.result)
	}
	if got := p.lastSynced[kept.Phone]; !got.Equal(answeredAt) {
		t.Fatalf("last-sync date planned %v, want %v", got, answeredAt)
	}
	// A zero syncedAt deletes only calls without an upload time, and moves
	// no date.
	p = planReplace(kept.Phone, inWindow, stored, nil, nil, time.Time{})
	if len(p.deletes) != 1 || p.deletes[0].CallyzerID != "no-upload" || len(p.lastSynced) != 0 {
		t.Fatalf("zero syncedAt: deletes %v, dates %v", p.deletes, p.lastSynced)
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
