package storagetest

import (
	"context"
	"errors"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/leadcalls/leadcalls/callhistory"
	"github.com/leadcalls/leadcalls/feedhealth"
)

// feedHealthGroup runs the FeedHealth group of Run, or skips it, saying
// so, when the store does not implement feedhealth.Store.
func (s *suite) feedHealthGroup(t *testing.T) {
	t.Helper()
	if _, ok := s.newStore(t).(feedhealth.Store); !ok {
		t.Run("FeedHealth", func(t *testing.T) {
			t.Skip("skipped: the store does not implement feedhealth.Store")
		})
		return
	}
	s.group(t, "FeedHealth", s.feedHealthTests())
}

// The months of Europe/Warsaw around the 2026 clock changes, as UTC
// instants: March (CET to CEST on the 29th) and October (back on the 25th).
var (
	warsawMarch    = time.Date(2026, 2, 28, 23, 0, 0, 0, time.UTC) // 1 March 00:00 CET
	warsawApril    = time.Date(2026, 3, 31, 22, 0, 0, 0, time.UTC) // 1 April 00:00 CEST
	warsawOctober  = time.Date(2026, 9, 30, 22, 0, 0, 0, time.UTC) // 1 October 00:00 CEST
	warsawNovember = time.Date(2026, 10, 31, 23, 0, 0, 0, time.UTC)
)

func (s *suite) feedHealthTests() []subtest {
	store := func(t *testing.T) (callhistory.Store, feedhealth.Store) {
		st := s.store(t)
		return st, st.(feedhealth.Store)
	}
	return []subtest{
		{"CountCallsByMonthAndType", func(t *testing.T) {
			st, fh := store(t)
			ctx := t.Context()
			precision := s.cfg.precision
			mk := func(phone, id, typ string, at time.Time) callhistory.Call {
				c := s.call(phone, id, s.at(at))
				c.RawCallType = typ
				return c
			}
			calls := []callhistory.Call{
				mk("+48601000001", "first", "Incoming", warsawMarch),                                          // the first instant of March
				mk("+48601000001", "last", "Missed", warsawApril.Add(-precision)),                             // the last
				mk("+48601000002", "after-change", "Outgoing", time.Date(2026, 3, 29, 1, 30, 0, 0, time.UTC)), // after the clock change
				mk("+48601000002", "rejected", "Rejected", time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)),
				mk("+48601000003", "odd", "Voicemail", time.Date(2026, 3, 11, 12, 0, 0, 0, time.UTC)),     // a type Callyzer may add
				mk("+48601000001", "april", "Incoming", warsawApril),                                      // 1 April, Warsaw: not March
				mk("+48601000001", "february", "Incoming", warsawMarch.Add(-precision)),                   // 28 February
				mk("+48601000003", "october", "Outgoing", time.Date(2026, 10, 25, 1, 30, 0, 0, time.UTC)), // the night the clock goes back
				mk("+48601000003", "october-end", "Outgoing", warsawNovember.Add(-precision)),
				mk("+48601000003", "november", "Outgoing", warsawNovember),
			}
			if _, err := callhistory.UpsertCalls(ctx, st, calls, s.syncAt(0)); err != nil {
				t.Fatal(err)
			}
			want := map[string]int{"Incoming": 1, "Missed": 1, "Outgoing": 1, "Rejected": 1, "Voicemail": 1}
			requireCounts(t, fh, warsawMarch, warsawApril, want)
			requireCounts(t, fh, warsawOctober, warsawNovember, map[string]int{"Outgoing": 2})
			requireCounts(t, fh, time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC), map[string]int{})

			// A call an answer lacked (missing) is out of the count.
			w := callhistory.Window{From: warsawMarch, To: warsawApril.Add(-precision)}
			var keep []callhistory.Call
			for _, c := range calls {
				if c.Phone == "+48601000002" && c.CallyzerID != "rejected" && !c.StartedAt.Before(w.From) && !c.StartedAt.After(w.To) {
					keep = append(keep, c)
				}
			}
			if _, err := callhistory.ReplaceWindow(ctx, st, "+48601000002", w, keep, s.syncAt(1)); err != nil {
				t.Fatal(err)
			}
			delete(want, "Rejected")
			requireCounts(t, fh, warsawMarch, warsawApril, want)
		}},
		{"StateRoundTrip", func(t *testing.T) {
			_, fh := store(t)
			ctx := t.Context()
			got, err := fh.FeedHealth(ctx, "never-saved")
			if err != nil || !gocmp.Equal(got, feedhealth.State{}) {
				t.Fatalf("a name never saved: got %+v, %v; want the zero state", got, err)
			}
			full := s.fullFeedHealth()
			if err := fh.SaveFeedHealth(ctx, "a", full); err != nil {
				t.Fatal(err)
			}
			if err := fh.SaveFeedHealth(ctx, "b", feedhealth.State{LastError: "b"}); err != nil {
				t.Fatal(err)
			}
			requireFeedHealth(t, fh, "a", full)
			full.Phones = full.Phones[:1]
			full.Months = nil
			if err := fh.SaveFeedHealth(ctx, "a", full); err != nil {
				t.Fatal(err)
			}
			requireFeedHealth(t, fh, "a", full)
			requireFeedHealth(t, fh, "b", feedhealth.State{LastError: "b"})
			if err := fh.SaveFeedHealth(ctx, "", full); err == nil {
				t.Fatal("SaveFeedHealth with an empty name: no error")
			}
		}},
		{"DoneContext", func(t *testing.T) {
			_, fh := store(t)
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			if _, err := fh.CountCalls(ctx, warsawMarch, warsawApril); !errors.Is(err, context.Canceled) {
				t.Errorf("CountCalls with a done context: %v, want context.Canceled", err)
			}
			if err := fh.SaveFeedHealth(ctx, "a", feedhealth.State{}); !errors.Is(err, context.Canceled) {
				t.Errorf("SaveFeedHealth with a done context: %v, want context.Canceled", err)
			}
		}},
	}
}

// fullFeedHealth returns a state with every field set, at the store's
// precision, with text that needs UTF-8.
func (s *suite) fullFeedHealth() feedhealth.State {
	at := func(d time.Duration) time.Time { return s.at(base.Add(d + 123456789*time.Nanosecond)) }
	counts := feedhealth.Counts{Calls: 398, Incoming: 120, Outgoing: 200, Missed: 70, Rejected: 8}
	return feedhealth.State{
		CheckedAt: at(0),
		Phones: []feedhealth.Phone{
			{Name: "Łukasz Wójcik", Code: "EMP-7", Number: "+48501000100", LastCheckIn: at(-30 * time.Hour), LastCall: at(-31 * time.Hour),
				RegisteredAt: at(-400 * 24 * time.Hour), RecordingActive: true, AppVersion: "3.2.1", DeviceModel: "Pixel 8",
				AndroidVersion: "14", Status: feedhealth.Offline, Since: at(-30 * time.Hour)},
			{Name: "Anna", Number: "+48501000200", AppUninstalled: true, Status: feedhealth.Uninstalled, Since: at(-time.Hour)},
		},
		Months: []feedhealth.Month{
			{Start: warsawApril, Theirs: counts, Ours: counts, CheckedAt: at(-time.Minute)},
			{Start: warsawMarch, Theirs: counts, Ours: feedhealth.Counts{Calls: 396, Incoming: 118}, CheckedAt: at(-2 * time.Minute), RereadAt: at(-time.Minute)},
		},
		LastError: "błąd: żółć 🚀",
	}
}

func requireCounts(t *testing.T, fh feedhealth.Store, from, to time.Time, want map[string]int) {
	t.Helper()
	got, err := fh.CountCalls(t.Context(), from, to)
	if err != nil {
		t.Fatal(err)
	}
	if got == nil {
		t.Fatalf("CountCalls(%v, %v) returned a nil map", from, to)
	}
	if diff := gocmp.Diff(want, got); diff != "" {
		t.Fatalf("CountCalls(%v, %v) (-want +got):\n%s", from, to, diff)
	}
}

func requireFeedHealth(t *testing.T, fh feedhealth.Store, name string, want feedhealth.State) {
	t.Helper()
	got, err := fh.FeedHealth(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	if diff := gocmp.Diff(want, got, gocmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
		t.Fatalf("FeedHealth(%q) (-want +got):\n%s", name, diff)
	}
}
