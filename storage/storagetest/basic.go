package storagetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/leadcalls/leadcalls/callhistory"
	"github.com/leadcalls/leadcalls/statusmap"
)

func (s *suite) roundTripTests() []subtest {
	return []subtest{
		{"EveryField", func(t *testing.T) {
			st := s.store(t)
			warsaw := time.FixedZone("CEST", 2*60*60)
			full := s.call(phoneA, "rt-full", s.in(49*time.Hour+17*time.Minute))
			full.StartedAt = full.StartedAt.In(warsaw) // any location in, the same instant out
			full.Direction, full.Status = statusmap.Incoming, statusmap.Missed
			full.DurationSeconds = 86399
			full.EmployeeName = "Grzegorz Brzęczyszczykiewicz"
			full.ClientName = polish
			full.Note = longNote(5000)
			full.RawCallType = "Missed"
			full.CRMStatus = "oddzwonić"
			full.SyncedAt = full.SyncedAt.In(warsaw)
			full.NoCountryCode = true
			full.RowID = 424242 // ignored: the store assigns RowIDs

			sparse := callhistory.Call{ // only what a call must have; zero times stay zero
				CallyzerID: "rt-sparse",
				Phone:      phoneA,
				Direction:  statusmap.UnknownDirection,
				Status:     statusmap.Unknown,
				StartedAt:  s.in(3 * time.Hour),
				RowID:      424242,
			}
			in := []callhistory.Call{full, sparse}
			inCopy := slices.Clone(in)
			res, err := callhistory.ReplaceWindow(t.Context(), st, phoneA, window, in, s.syncAt(1).In(warsaw))
			if err != nil {
				t.Fatalf("ReplaceWindow: %v", err)
			}
			requireResult(t, "ReplaceWindow", res, callhistory.WriteResult{Inserted: 2})
			if !slices.Equal(in, inCopy) {
				t.Fatal("ReplaceWindow modified the caller's slice")
			}
			got := requireCalls(t, st, phoneA, in)
			for _, c := range got {
				if c.CallyzerID == "rt-sparse" && (!c.SyncedAt.IsZero() || !c.ModifiedAt.IsZero()) {
					t.Fatalf("zero SyncedAt/ModifiedAt came back as %v/%v; they must stay zero", c.SyncedAt, c.ModifiedAt)
				}
				if c.CallyzerID == "rt-full" && len([]rune(c.Note)) != 5000 {
					t.Fatalf("the 5,000-rune note came back with %d runes", len([]rune(c.Note)))
				}
			}
			requireLastSynced(t, st, phoneA, s.syncAt(1))
		}},
		{"EmptyStore", func(t *testing.T) {
			st := s.store(t)
			if got := storedCalls(t, st, phoneA); len(got) != 0 {
				t.Fatalf("a fresh store returned calls: %v", got)
			}
			requireLastSynced(t, st, phoneA, time.Time{})
		}},
		{"NoAliasing", func(t *testing.T) {
			st := s.store(t)
			in := s.calls(phoneA, "al", 3, 0)
			want := slices.Clone(in)
			if _, err := callhistory.ReplaceWindow(t.Context(), st, phoneA, window, in, s.syncAt(1)); err != nil {
				t.Fatalf("ReplaceWindow: %v", err)
			}
			in[0].Note, in[1].CallyzerID = "changed by the caller", "al-x"
			got := requireCalls(t, st, phoneA, want)
			got[0].Note = "changed by the reader"
			requireCalls(t, st, phoneA, want)
			up := []callhistory.Call{s.call(phoneB, "al-b", s.in(time.Hour))}
			wantB := slices.Clone(up)
			if _, err := callhistory.UpsertCalls(t.Context(), st, up, s.syncAt(1)); err != nil {
				t.Fatalf("UpsertCalls: %v", err)
			}
			up[0].Note = "changed by the caller"
			requireCalls(t, st, phoneB, wantB)
		}},
	}
}

// slicesOf returns the CallyzerIDs of calls.
func slicesOf(calls []callhistory.Call) []string {
	ids := make([]string, len(calls))
	for i, c := range calls {
		ids[i] = c.CallyzerID
	}
	return ids
}

func (s *suite) replaceWindowTests() []subtest {
	return []subtest{
		{"InsertIntoEmpty", func(t *testing.T) {
			st := s.store(t)
			in := s.calls(phoneA, "c", 5, 0)
			requireResult(t, "ReplaceWindow", s.replace(t, st, phoneA, in, s.syncAt(1)), callhistory.WriteResult{Inserted: 5})
			requireCalls(t, st, phoneA, in)
			requireLastSynced(t, st, phoneA, s.syncAt(1))
		}},
		{"UpsertAndDeleteMissing", func(t *testing.T) {
			st := s.store(t)
			old := s.calls(phoneA, "c", 6, 0)
			s.replace(t, st, phoneA, old, s.syncAt(1))
			before := storedCalls(t, st, phoneA)

			next := []callhistory.Call{old[0], old[1], old[2], old[5]}
			next[1].Note = "nowa notatka"                                    // updated
			next[2].StartedAt = s.in(20*24*time.Hour + 1)                    // updated: moved inside the window
			next[3].RowID = 999999                                           // unchanged: an input RowID is ignored
			next = append(next, s.calls(phoneA, "n", 2, 10*24*time.Hour)...) // inserted
			res := s.replace(t, st, phoneA, next, s.syncAt(2))
			requireResult(t, "ReplaceWindow", res, callhistory.WriteResult{Inserted: 2, Updated: 2, Deleted: 2, Unchanged: 2})
			got := requireCalls(t, st, phoneA, next)
			requireKeptRowIDs(t, before, got)
			requireLastSynced(t, st, phoneA, s.syncAt(2))
		}},
		{"WindowEdges", func(t *testing.T) {
			st := s.store(t)
			p := s.cfg.precision
			at := func(id string, when time.Time) callhistory.Call { return s.call(phoneA, id, when) }
			atFrom, atTo := at("e-at-from", window.From), at("e-at-to", window.To)
			mid := at("e-mid", s.in(24*time.Hour))
			outside := []callhistory.Call{
				at("e-from-minus-step", window.From.Add(-p)),
				at("e-to-plus-step", window.To.Add(p)),
				at("e-from-minus-1s", window.From.Add(-time.Second)),
				at("e-to-plus-1s", window.To.Add(time.Second)),
				at("e-newer", window.To.Add(48*time.Hour)),
				at("e-older", window.From.Add(-90*24*time.Hour)),
			}
			s.upsert(t, st, append([]callhistory.Call{atFrom, atTo, mid}, outside...), s.syncAt(1))
			stored := storedCalls(t, st, phoneA)
			keep := rowIDs(stored)

			atFrom.Note = "odświeżona"
			fresh := at("e-fresh-at-to", window.To)
			res := s.replace(t, st, phoneA, []callhistory.Call{atFrom, fresh}, s.syncAt(2))
			requireResult(t, "ReplaceWindow", res, callhistory.WriteResult{Inserted: 1, Updated: 1, Deleted: 2})
			got := requireCalls(t, st, phoneA, append([]callhistory.Call{atFrom, fresh}, outside...))
			for _, c := range got {
				if c.CallyzerID != fresh.CallyzerID && c.RowID != keep[c.CallyzerID] {
					t.Fatalf("call %s changed RowID from %d to %d", c.CallyzerID, keep[c.CallyzerID], c.RowID)
				}
			}
		}},
		{"OtherNumbersUntouched", func(t *testing.T) {
			st := s.store(t)
			s.replace(t, st, phoneA, s.calls(phoneA, "a", 4, 0), s.syncAt(1))
			s.replace(t, st, phoneB, s.calls(phoneB, "b", 4, 0), s.syncAt(2))
			before := Snapshot(t, st, phoneB, phoneC)
			res := s.replace(t, st, phoneA, s.calls(phoneA, "a2-", 2, 0), s.syncAt(3))
			requireResult(t, "ReplaceWindow", res, callhistory.WriteResult{Inserted: 2, Deleted: 4})
			requireUnchanged(t, st, before, "ReplaceWindow of another number")
		}},
		{"EmptyAnswer", func(t *testing.T) {
			st := s.store(t)
			older := s.call(phoneA, "old", window.From.Add(-time.Hour))
			s.upsert(t, st, append(s.calls(phoneA, "c", 3, 0), older), s.syncAt(1))
			s.replace(t, st, phoneB, s.calls(phoneB, "b", 2, 0), s.syncAt(1))
			before := Snapshot(t, st, phoneB)
			wantOld := Snapshot(t, st, phoneA).Calls[phoneA][3:] // the older call, last in order
			res := s.replace(t, st, phoneA, nil, s.syncAt(2))
			requireResult(t, "ReplaceWindow with no calls", res, callhistory.WriteResult{Deleted: 3})
			if diff := gocmp.Diff(wantOld, storedCalls(t, st, phoneA)); diff != "" {
				t.Fatalf("an empty answer must delete the window's calls and nothing else (-want +got):\n%s", diff)
			}
			requireLastSynced(t, st, phoneA, s.syncAt(2))
			requireUnchanged(t, st, before, "an empty answer for another number")
			res = s.replace(t, st, phoneA, []callhistory.Call{}, s.syncAt(3))
			requireResult(t, "ReplaceWindow with no calls, an hour later: the missing calls go for good", res, callhistory.WriteResult{Purged: 3})
			requireLastSynced(t, st, phoneA, s.syncAt(3))
		}},
		{"LateUploadsSurvive", func(t *testing.T) {
			st := s.store(t)
			p := s.cfg.precision
			answeredAt := s.syncAt(2) // when the refresh's fetch began
			uploaded := func(id string, offset time.Duration, syncedAt time.Time) callhistory.Call {
				c := s.call(phoneA, id, s.in(offset))
				c.SyncedAt = syncedAt
				return c
			}
			kept := uploaded("kept", time.Hour, answeredAt.Add(time.Hour)) // in the answer
			early := uploaded("early", 2*time.Hour, answeredAt.Add(-p))
			atBound := uploaded("at-bound", 3*time.Hour, answeredAt)
			noUpload := uploaded("no-upload", 4*time.Hour, time.Time{})
			late := uploaded("late", 5*time.Hour, answeredAt.Add(p))
			later := uploaded("later", 6*time.Hour, answeredAt.Add(time.Hour))
			// The periodic sync stored them all; the refresh's answer,
			// read from answeredAt on, has only kept.
			s.upsert(t, st, []callhistory.Call{kept, early, atBound, noUpload, late, later}, s.syncAt(1))
			before := storedCalls(t, st, phoneA)
			res := s.replace(t, st, phoneA, []callhistory.Call{kept}, answeredAt)
			requireResult(t, "ReplaceWindow with calls uploaded after syncedAt missing", res, callhistory.WriteResult{Unchanged: 1, Deleted: 3})
			got := requireCalls(t, st, phoneA, []callhistory.Call{kept, late, later})
			requireKeptRowIDs(t, before, got)
			requireLastSynced(t, st, phoneA, answeredAt)

			// A refresh that began after those uploads takes them out; an
			// hour after the first, it also deletes for good the three the
			// first took out.
			res = s.replace(t, st, phoneA, nil, later.SyncedAt)
			requireResult(t, "ReplaceWindow begun at the latest upload", res, callhistory.WriteResult{Deleted: 3, Purged: 3})
			requireCalls(t, st, phoneA, nil)
		}},
		{"ZeroSyncedAtDeletesOnlyCallsWithoutUpload", func(t *testing.T) {
			st := s.store(t)
			noUpload, uploaded := s.call(phoneA, "no-upload", s.in(time.Hour)), s.call(phoneA, "uploaded", s.in(2*time.Hour))
			noUpload.SyncedAt = time.Time{}
			s.upsert(t, st, []callhistory.Call{noUpload, uploaded}, time.Time{})
			res := s.replace(t, st, phoneA, nil, time.Time{})
			requireResult(t, "an empty ReplaceWindow with a zero syncedAt", res, callhistory.WriteResult{Deleted: 1})
			requireCalls(t, st, phoneA, []callhistory.Call{uploaded})
			requireLastSynced(t, st, phoneA, time.Time{})
		}},
		{"OlderCopy", func(t *testing.T) { s.olderCopyTest(t, true) }},
		{"MissingLeaveTheListAndComeBack", s.missingTest},
		{"NoCountryCodeNeverRemoved", func(t *testing.T) {
			st := s.store(t)
			bare := s.call(phoneA, "bare", s.in(time.Hour))
			bare.NoCountryCode = true
			kept := s.call(phoneA, "kept", s.in(2*time.Hour))
			s.upsert(t, st, []callhistory.Call{bare, kept}, s.syncAt(1))
			res := s.replace(t, st, phoneA, []callhistory.Call{kept}, s.syncAt(2))
			requireResult(t, "an answer by country code without the call held without one", res, callhistory.WriteResult{Unchanged: 1})
			requireCalls(t, st, phoneA, []callhistory.Call{bare, kept})
		}},
		{"Idempotent", func(t *testing.T) {
			st := s.store(t)
			in := s.calls(phoneA, "c", 20, 0)
			in[3].RecordingURL = ""
			s.replace(t, st, phoneA, in, s.syncAt(1))
			before := Snapshot(t, st, allPhones...)
			res := s.replace(t, st, phoneA, in, s.syncAt(1))
			requireResult(t, "the same ReplaceWindow again", res, callhistory.WriteResult{Unchanged: 20})
			requireUnchanged(t, st, before, "the same ReplaceWindow again")
			res = s.replace(t, st, phoneA, in, s.syncAt(2))
			requireResult(t, "the same calls, a later sync", res, callhistory.WriteResult{Unchanged: 20})
			requireLastSynced(t, st, phoneA, s.syncAt(2))
		}},
		{"RecordingURL", func(t *testing.T) { s.recordingURLTest(t, true) }},
		{"NumberChanged", func(t *testing.T) {
			st := s.store(t)
			moved := s.call(phoneB, "moved", s.in(5*time.Hour))
			stay := s.call(phoneB, "stays", s.in(6*time.Hour))
			s.upsert(t, st, []callhistory.Call{moved, stay}, s.syncAt(1))
			rowID := rowIDs(storedCalls(t, st, phoneB))["moved"]

			moved.Phone, moved.RecordingURL = phoneA, ""
			res := s.replace(t, st, phoneA, []callhistory.Call{moved}, s.syncAt(2))
			requireResult(t, "ReplaceWindow taking a call from another number", res, callhistory.WriteResult{Updated: 1})
			moved.RecordingURL = s.call(phoneB, "moved", moved.StartedAt).RecordingURL
			got := requireCalls(t, st, phoneA, []callhistory.Call{moved})
			if got[0].RowID != rowID {
				t.Fatalf("the moved call changed RowID from %d to %d", rowID, got[0].RowID)
			}
			requireCalls(t, st, phoneB, []callhistory.Call{stay})
			requireLastSynced(t, st, phoneB, s.syncAt(1))
		}},
		{"InvalidInput", func(t *testing.T) { s.invalidReplaceTest(t) }},
		{"LargeWindow", func(t *testing.T) {
			st := s.store(t)
			const n = 1000
			first := make([]callhistory.Call, n)
			for i := range first {
				first[i] = s.call(phoneA, fmt.Sprintf("l%05d", i), s.in(time.Duration(i)*40*time.Minute))
			}
			requireResult(t, "1,000 new calls", s.replace(t, st, phoneA, first, s.syncAt(1)), callhistory.WriteResult{Inserted: n})
			before := requireCalls(t, st, phoneA, first)

			// Drop the first 200, update the next 300, keep 500, add 200.
			second := slices.Clone(first[200:])
			for i := range 300 {
				second[i].Note = fmt.Sprintf("zmieniona %d", i)
			}
			for i := range 200 {
				second = append(second, s.call(phoneA, fmt.Sprintf("m%05d", i), s.in(time.Duration(i)*40*time.Minute+time.Minute)))
			}
			res := s.replace(t, st, phoneA, second, s.syncAt(2))
			requireResult(t, "1,000 calls again", res, callhistory.WriteResult{Inserted: 200, Updated: 300, Deleted: 200, Unchanged: 500})
			got := requireCalls(t, st, phoneA, second)
			requireKeptRowIDs(t, before, got)
			limited, err := st.Calls(t.Context(), phoneA, 25)
			if err != nil {
				t.Fatalf("Calls(limit 25): %v", err)
			}
			if diff := gocmp.Diff(got[:25], limited); diff != "" {
				t.Fatalf("Calls with limit 25 is not the first 25 calls (-want +got):\n%s", diff)
			}
		}},
	}
}

// missingTest: a call an answer lacks leaves the list at once but keeps its
// row; a sync or an answer that brings it back lists it again under the
// same row, with its recording; an answer at least ten minutes after the
// first that lacked it, still lacking it, deletes it for good.
func (s *suite) missingTest(t *testing.T) {
	st := s.store(t)
	calls := s.calls(phoneA, "m", 3, 0)
	s.replace(t, st, phoneA, calls, s.syncAt(1))
	rows := rowIDs(storedCalls(t, st, phoneA))
	lacked := s.syncAt(2)
	res := s.replace(t, st, phoneA, calls[:2], lacked)
	requireResult(t, "an answer lacking a call", res, callhistory.WriteResult{Unchanged: 2, Deleted: 1})
	requireCalls(t, st, phoneA, calls[:2])

	back := calls[2]
	back.RecordingURL = "" // a sync without the recording
	res = s.upsert(t, st, []callhistory.Call{back}, s.syncAt(3))
	requireResult(t, "a sync bringing it back", res, callhistory.WriteResult{Updated: 1})
	got := requireCalls(t, st, phoneA, calls)
	if r := rowIDs(got)[back.CallyzerID]; r != rows[back.CallyzerID] {
		t.Fatalf("the call came back under row %d, not its own %d", r, rows[back.CallyzerID])
	}

	res = s.replace(t, st, phoneA, calls[:2], s.syncAt(4))
	requireResult(t, "lacked again", res, callhistory.WriteResult{Unchanged: 2, Deleted: 1})
	res = s.replace(t, st, phoneA, calls[:2], s.at(s.syncAt(4).Add(9*time.Minute)))
	requireResult(t, "still lacked 9 minutes later: kept", res, callhistory.WriteResult{Unchanged: 2})
	res = s.replace(t, st, phoneA, calls, s.at(s.syncAt(4).Add(9*time.Minute+time.Second)))
	requireResult(t, "an answer holding it again", res, callhistory.WriteResult{Unchanged: 2, Updated: 1})
	requireCalls(t, st, phoneA, calls)
	s.replace(t, st, phoneA, calls[:2], s.syncAt(5))
	res = s.replace(t, st, phoneA, calls[:2], s.syncAt(6))
	requireResult(t, "still lacked an hour later: gone", res, callhistory.WriteResult{Unchanged: 2, Purged: 1})
	res = s.upsert(t, st, []callhistory.Call{calls[2]}, s.syncAt(7))
	requireResult(t, "the same id after it was deleted", res, callhistory.WriteResult{Inserted: 1})
	if r := rowIDs(storedCalls(t, st, phoneA))[back.CallyzerID]; r == rows[back.CallyzerID] {
		t.Fatalf("a deleted call came back under its old row %d", r)
	}
}

// recordingURLTest checks that an empty RecordingURL never erases a stored
// one, through ReplaceWindow (replace) or UpsertCalls.
func (s *suite) recordingURLTest(t *testing.T, replace bool) {
	const url, url2 = "https://recordings.example/r.mp3", "https://recordings.example/r2.mp3"
	tests := []struct {
		name          string
		stored, input string
		changeNote    bool
		wantURL       string
		want          callhistory.WriteResult
	}{
		{"EmptyKeepsStored", url, "", false, url, callhistory.WriteResult{Unchanged: 1}},
		{"EmptyKeepsStoredOnUpdate", url, "", true, url, callhistory.WriteResult{Updated: 1}},
		{"NewReplacesStored", url, url2, false, url2, callhistory.WriteResult{Updated: 1}},
		{"SameIsUnchanged", url, url, false, url, callhistory.WriteResult{Unchanged: 1}},
		{"EmptyOverEmpty", "", "", false, "", callhistory.WriteResult{Unchanged: 1}},
		{"FirstRecording", "", url, false, url, callhistory.WriteResult{Updated: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if s.cfg.parallel {
				t.Parallel()
			}
			st := s.store(t)
			c := s.call(phoneA, "rec", s.in(time.Hour))
			c.RecordingURL = tc.stored
			s.replace(t, st, phoneA, []callhistory.Call{c}, s.syncAt(1))
			c.RecordingURL = tc.input
			if tc.changeNote {
				c.Note = "po aktualizacji"
			}
			var res callhistory.WriteResult
			if replace {
				res = s.replace(t, st, phoneA, []callhistory.Call{c}, s.syncAt(2))
			} else {
				res = s.upsert(t, st, []callhistory.Call{c}, s.syncAt(2))
			}
			requireResult(t, "the second write", res, tc.want)
			c.RecordingURL = tc.wantURL
			requireCalls(t, st, phoneA, []callhistory.Call{c})
		})
	}
}

// olderCopyTest checks the ModifiedAt rule, through ReplaceWindow (replace)
// or UpsertCalls: an incoming call modified before the stored one (both
// times non-zero) leaves the stored call as it is, counts as Unchanged, and
// in ReplaceWindow counts as in the answer (it is not deleted); otherwise
// the incoming call is written as before. The incoming copy differs in
// several fields and has no recording. The cases share one store (a fresh
// database namespace costs more than the case), each with numbers of its
// own.
func (s *suite) olderCopyTest(t *testing.T, replace bool) {
	p := s.cfg.precision
	tests := []struct {
		name                  string
		stored, input         time.Duration // ModifiedAt offsets
		zeroStored, zeroInput bool          // a zero ModifiedAt instead
		move                  bool          // stored under the case's other number
		older                 bool          // the stored call must stay
		want                  callhistory.WriteResult
	}{
		{name: "OneStepOlderIsIgnored", input: -p, older: true, want: callhistory.WriteResult{Unchanged: 1}},
		{name: "AnHourOlderIsIgnored", input: -time.Hour, older: true, want: callhistory.WriteResult{Unchanged: 1}},
		{name: "OlderCopyDoesNotMoveACall", input: -p, move: true, older: true, want: callhistory.WriteResult{Unchanged: 1}},
		{name: "SameModifiedAtUpdates", want: callhistory.WriteResult{Updated: 1}},
		{name: "NewerUpdates", input: p, want: callhistory.WriteResult{Updated: 1}},
		{name: "InputWithoutModifiedAtUpdates", zeroInput: true, want: callhistory.WriteResult{Updated: 1}},
		{name: "StoredWithoutModifiedAtUpdates", zeroStored: true, input: -time.Hour, want: callhistory.WriteResult{Updated: 1}},
	}
	st := s.store(t)
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if s.cfg.parallel {
				t.Parallel()
			}
			phone, other := fmt.Sprintf("+48603%06d", 2*i), fmt.Sprintf("+48603%06d", 2*i+1)
			c := s.call(phone, fmt.Sprintf("copy-%d", i), s.in(time.Hour))
			stored, in := c, c
			stored.ModifiedAt, in.ModifiedAt = c.ModifiedAt.Add(tc.stored), c.ModifiedAt.Add(tc.input)
			if tc.zeroStored {
				stored.ModifiedAt = time.Time{}
			}
			if tc.zeroInput {
				in.ModifiedAt = time.Time{}
			}
			if tc.move {
				stored.Phone = other
			}
			s.upsert(t, st, []callhistory.Call{stored}, s.syncAt(1))
			in.Note, in.Status, in.CRMStatus, in.RecordingURL = "starsza notatka", statusmap.Missed, "oddzwonić", ""
			var res callhistory.WriteResult
			if replace {
				res = s.replace(t, st, phone, []callhistory.Call{in}, s.syncAt(2))
			} else {
				res = s.upsert(t, st, []callhistory.Call{in}, s.syncAt(2))
			}
			requireResult(t, "the second write", res, tc.want)
			want := in
			want.RecordingURL = stored.RecordingURL
			switch {
			case tc.move:
				requireCalls(t, st, phone, nil)
				requireCalls(t, st, other, []callhistory.Call{stored})
			case tc.older:
				requireCalls(t, st, phone, []callhistory.Call{stored})
			default:
				requireCalls(t, st, phone, []callhistory.Call{want})
			}
			requireLastSynced(t, st, phone, s.syncAt(2))
		})
	}
}

func (s *suite) invalidReplaceTest(t *testing.T) {
	p := s.cfg.precision
	valid := func() []callhistory.Call { return s.calls(phoneA, "v", 3, 0) }
	with := func(edit func(cs []callhistory.Call) []callhistory.Call) []callhistory.Call { return edit(valid()) }
	tests := []struct {
		name  string
		phone string
		w     callhistory.Window
		calls []callhistory.Call
	}{
		{"CallOfAnotherNumber", phoneA, window, with(func(cs []callhistory.Call) []callhistory.Call { cs[1].Phone = phoneB; return cs })},
		{"CallWithoutNumber", phoneA, window, with(func(cs []callhistory.Call) []callhistory.Call { cs[1].Phone = ""; return cs })},
		{"CallBeforeFrom", phoneA, window, with(func(cs []callhistory.Call) []callhistory.Call { cs[2].StartedAt = window.From.Add(-p); return cs })},
		{"CallAfterTo", phoneA, window, with(func(cs []callhistory.Call) []callhistory.Call { cs[0].StartedAt = window.To.Add(p); return cs })},
		{"CallWithoutCallyzerID", phoneA, window, with(func(cs []callhistory.Call) []callhistory.Call { cs[1].CallyzerID = ""; return cs })},
		{"DuplicateCallyzerID", phoneA, window, with(func(cs []callhistory.Call) []callhistory.Call { return append(cs, cs[0]) })},
		{"DuplicateCallyzerIDDifferentData", phoneA, window, with(func(cs []callhistory.Call) []callhistory.Call {
			d := cs[0]
			d.Note, d.StartedAt = "inna", s.in(9*time.Hour)
			return append(cs, d)
		})},
		{"EmptyPhone", "", window, nil},
		{"FromAfterTo", phoneA, callhistory.Window{From: window.To, To: window.From}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if s.cfg.parallel {
				t.Parallel()
			}
			st := s.store(t)
			s.replace(t, st, phoneA, s.calls(phoneA, "v", 5, 30*time.Minute), s.syncAt(1))
			s.replace(t, st, phoneB, s.calls(phoneB, "b", 2, 0), s.syncAt(1))
			before := Snapshot(t, st, allPhones...)
			res, err := callhistory.ReplaceWindow(t.Context(), st, tc.phone, tc.w, tc.calls, s.syncAt(2))
			if err == nil {
				t.Fatalf("ReplaceWindow accepted invalid input (%s) and returned %+v", tc.name, res)
			}
			requireResult(t, "a failed ReplaceWindow", res, callhistory.WriteResult{})
			requireUnchanged(t, st, before, "a rejected ReplaceWindow")
		})
	}
}

func (s *suite) upsertCallsTests() []subtest {
	return []subtest{
		{"InsertUpdateNeverDelete", func(t *testing.T) {
			st := s.store(t)
			a := s.calls(phoneA, "a", 3, 0)
			requireResult(t, "UpsertCalls", s.upsert(t, st, a, s.syncAt(1)), callhistory.WriteResult{Inserted: 3})
			s.replace(t, st, phoneC, s.calls(phoneC, "c", 1, 0), s.syncAt(1))
			beforeA := storedCalls(t, st, phoneA)
			beforeC := Snapshot(t, st, phoneC)

			a1 := a[1]
			a1.Note = "zmieniona"
			newA := s.call(phoneA, "a-new", s.in(50*time.Hour))
			b := s.call(phoneB, "b0", s.in(time.Hour))
			res := s.upsert(t, st, []callhistory.Call{a[0], a1, newA, b}, s.syncAt(2))
			requireResult(t, "UpsertCalls", res, callhistory.WriteResult{Inserted: 2, Updated: 1, Unchanged: 1})
			got := requireCalls(t, st, phoneA, []callhistory.Call{a[0], a1, a[2], newA})
			requireKeptRowIDs(t, beforeA, got)
			requireCalls(t, st, phoneB, []callhistory.Call{b})
			requireLastSynced(t, st, phoneA, s.syncAt(2))
			requireLastSynced(t, st, phoneB, s.syncAt(2))
			requireUnchanged(t, st, beforeC, "UpsertCalls of other numbers")
		}},
		{"NoCalls", func(t *testing.T) {
			st := s.store(t)
			s.upsert(t, st, s.calls(phoneA, "a", 2, 0), s.syncAt(1))
			before := Snapshot(t, st, allPhones...)
			requireResult(t, "UpsertCalls(nil)", s.upsert(t, st, nil, s.syncAt(2)), callhistory.WriteResult{})
			requireResult(t, "UpsertCalls(empty)", s.upsert(t, st, []callhistory.Call{}, s.syncAt(2)), callhistory.WriteResult{})
			requireUnchanged(t, st, before, "UpsertCalls with no calls")
		}},
		{"RecordingURL", func(t *testing.T) { s.recordingURLTest(t, false) }},
		{"OlderCopy", func(t *testing.T) { s.olderCopyTest(t, false) }},
		{"NumberChanged", func(t *testing.T) {
			st := s.store(t)
			moved := s.call(phoneB, "moved", s.in(5*time.Hour))
			s.upsert(t, st, []callhistory.Call{moved}, s.syncAt(1))
			rowID := storedCalls(t, st, phoneB)[0].RowID
			moved.Phone = phoneA
			res := s.upsert(t, st, []callhistory.Call{moved}, s.syncAt(2))
			requireResult(t, "UpsertCalls moving a call to another number", res, callhistory.WriteResult{Updated: 1})
			got := requireCalls(t, st, phoneA, []callhistory.Call{moved})
			if got[0].RowID != rowID {
				t.Fatalf("the moved call changed RowID from %d to %d", rowID, got[0].RowID)
			}
			requireCalls(t, st, phoneB, nil)
			requireLastSynced(t, st, phoneB, s.syncAt(1))
			requireLastSynced(t, st, phoneA, s.syncAt(2))
		}},
		{"InvalidInput", func(t *testing.T) {
			tests := []struct {
				name string
				edit func(cs []callhistory.Call) []callhistory.Call
			}{
				{"CallWithoutCallyzerID", func(cs []callhistory.Call) []callhistory.Call { cs[2].CallyzerID = ""; return cs }},
				{"CallWithoutNumber", func(cs []callhistory.Call) []callhistory.Call { cs[2].Phone = ""; return cs }},
				{"DuplicateCallyzerID", func(cs []callhistory.Call) []callhistory.Call { return append(cs, cs[0]) }},
				{"DuplicateCallyzerIDOtherNumber", func(cs []callhistory.Call) []callhistory.Call {
					d := cs[0]
					d.Phone = phoneB
					return append(cs, d)
				}},
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					if s.cfg.parallel {
						t.Parallel()
					}
					st := s.store(t)
					s.upsert(t, st, s.calls(phoneA, "u", 4, 0), s.syncAt(1))
					before := Snapshot(t, st, allPhones...)
					in := tc.edit(append(s.calls(phoneA, "u", 2, 0), s.calls(phoneB, "w", 2, 0)...))
					for i := range in[:2] {
						in[i].Note = "zmieniona"
					}
					res, err := callhistory.UpsertCalls(t.Context(), st, in, s.syncAt(2))
					if err == nil {
						t.Fatalf("UpsertCalls accepted invalid input (%s) and returned %+v", tc.name, res)
					}
					requireResult(t, "a failed UpsertCalls", res, callhistory.WriteResult{})
					requireUnchanged(t, st, before, "a rejected UpsertCalls")
				})
			}
		}},
	}
}

func (s *suite) callsTests() []subtest {
	return []subtest{
		{"Order", func(t *testing.T) {
			st := s.store(t)
			tie := s.in(10 * time.Hour)
			// Written out of order; ties at one instant sort by CallyzerID.
			in := []callhistory.Call{
				s.call(phoneA, "312", tie),
				s.call(phoneA, "900", s.in(2*time.Hour)),
				s.call(phoneA, "310", tie),
				s.call(phoneA, "100", s.in(20*time.Hour)),
				s.call(phoneA, "311", tie),
				s.call(phoneA, "050", s.in(10*time.Hour+s.cfg.precision)),
			}
			s.replace(t, st, phoneA, in, s.syncAt(1))
			got := storedCalls(t, st, phoneA)
			want := []string{"100", "050", "310", "311", "312", "900"}
			if diff := gocmp.Diff(want, slicesOf(got)); diff != "" {
				t.Fatalf("Calls order: want StartedAt descending, then CallyzerID ascending (-want +got):\n%s", diff)
			}
			if !isOrdered(got) {
				t.Fatal("Calls is not in the contract's order")
			}
		}},
		{"Limit", func(t *testing.T) {
			st := s.store(t)
			in := s.calls(phoneA, "c", 5, 0)
			s.replace(t, st, phoneA, in, s.syncAt(1))
			all := storedCalls(t, st, phoneA)
			for _, tc := range []struct{ limit, want int }{{0, 5}, {-1, 5}, {1, 1}, {3, 3}, {5, 5}, {6, 5}, {1000, 5}} {
				got, err := st.Calls(t.Context(), phoneA, tc.limit)
				if err != nil {
					t.Fatalf("Calls(limit %d): %v", tc.limit, err)
				}
				if diff := gocmp.Diff(all[:tc.want], got); diff != "" {
					t.Fatalf("Calls(limit %d): want the newest %d calls (-want +got):\n%s", tc.limit, tc.want, diff)
				}
			}
		}},
		{"UnknownNumber", func(t *testing.T) {
			st := s.store(t)
			s.replace(t, st, phoneA, s.calls(phoneA, "c", 2, 0), s.syncAt(1))
			if got := storedCalls(t, st, phoneB); len(got) != 0 {
				t.Fatalf("Calls of a number never written returned %d calls", len(got))
			}
			got, err := st.Calls(t.Context(), phoneB, 10)
			if err != nil || got == nil || len(got) != 0 {
				t.Fatalf("Calls(limit 10) of an unknown number = %v, %v; want an empty slice and nil", got, err)
			}
		}},
	}
}

func (s *suite) lastSyncedTests() []subtest {
	return []subtest{
		{"NeverSynced", func(t *testing.T) {
			st := s.store(t)
			s.replace(t, st, phoneA, nil, s.syncAt(1))
			requireLastSynced(t, st, phoneB, time.Time{})
		}},
		{"NeverBackwards", func(t *testing.T) {
			st := s.store(t)
			s.replace(t, st, phoneA, s.calls(phoneA, "a", 2, 0), s.syncAt(5))
			requireLastSynced(t, st, phoneA, s.syncAt(5))
			s.replace(t, st, phoneA, s.calls(phoneA, "a", 2, 0), s.syncAt(3))
			requireLastSynced(t, st, phoneA, s.syncAt(5))
			s.upsert(t, st, s.calls(phoneA, "a", 1, 0), s.syncAt(4))
			requireLastSynced(t, st, phoneA, s.syncAt(5))
			s.replace(t, st, phoneA, nil, time.Time{})
			requireLastSynced(t, st, phoneA, s.syncAt(5))
			s.upsert(t, st, s.calls(phoneA, "a", 1, 0), s.syncAt(6))
			requireLastSynced(t, st, phoneA, s.syncAt(6))
			s.replace(t, st, phoneA, nil, s.syncAt(7))
			requireLastSynced(t, st, phoneA, s.syncAt(7))
		}},
		{"PerNumber", func(t *testing.T) {
			st := s.store(t)
			s.replace(t, st, phoneA, nil, s.syncAt(2))
			s.replace(t, st, phoneB, s.calls(phoneB, "b", 1, 0), s.syncAt(1))
			requireLastSynced(t, st, phoneA, s.syncAt(2))
			requireLastSynced(t, st, phoneB, s.syncAt(1))
			requireLastSynced(t, st, phoneC, time.Time{})
			s.upsert(t, st, s.calls(phoneC, "c", 1, 0), s.syncAt(3))
			requireLastSynced(t, st, phoneA, s.syncAt(2))
			requireLastSynced(t, st, phoneB, s.syncAt(1))
			requireLastSynced(t, st, phoneC, s.syncAt(3))
		}},
		{"NotMovedByFailure", func(t *testing.T) {
			st := s.store(t)
			s.replace(t, st, phoneA, nil, s.syncAt(1))
			bad := s.calls(phoneA, "x", 2, 0)
			bad[1].Phone = phoneB
			if _, err := callhistory.ReplaceWindow(t.Context(), st, phoneA, window, bad, s.syncAt(2)); err == nil {
				t.Fatal("ReplaceWindow accepted a call of another number")
			}
			if _, err := callhistory.UpsertCalls(t.Context(), st, append(bad, bad[0]), s.syncAt(2)); err == nil {
				t.Fatal("UpsertCalls accepted a duplicate CallyzerID")
			}
			requireLastSynced(t, st, phoneA, s.syncAt(1))
			requireLastSynced(t, st, phoneB, time.Time{})
		}},
	}
}
