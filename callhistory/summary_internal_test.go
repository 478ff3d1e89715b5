package callhistory

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/leadcalls/leadcalls/statusmap"
)

var warsawZone = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Warsaw")
	if err != nil {
		panic(err)
	}
	return loc
}()

// sumNow is a Wednesday afternoon in Warsaw (CET, UTC+1).
var (
	sumNow    = time.Date(2026, 11, 25, 15, 0, 0, 0, warsawZone)
	sumWindow = Window{From: time.Date(2026, 5, 25, 13, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC)}
)

// sumCall is a stored call of the summary's tests: times in UTC, as a
// store returns them.
func sumCall(id string, at time.Time, dir statusmap.Direction, st statusmap.Code, seconds int, employee string) Call {
	return Call{CallyzerID: id, Phone: "+48601234567", Direction: dir, Status: st, StartedAt: at.UTC(), DurationSeconds: seconds, EmployeeName: employee}
}

// warsawAt is a time on a November 2026 day in Warsaw.
func warsawAt(day, hour, minute int) time.Time {
	return time.Date(2026, 11, day, hour, minute, 0, 0, warsawZone)
}

func TestSummarize(t *testing.T) {
	t.Parallel()
	var (
		out    = statusmap.Outgoing
		in     = statusmap.Incoming
		unk    = statusmap.UnknownDirection
		ptr    = func(c Call) *Call { return &c }
		called = sumCall("c-10", warsawAt(25, 9, 0), out, statusmap.Connected, 87, "Anna Nowak")
		missed = sumCall("c-09", warsawAt(24, 16, 30), in, statusmap.Missed, 0, "Anna Nowak")
	)
	tests := []struct {
		name  string
		calls []Call
		now   time.Time
		limit int
		want  Summary
	}{
		{
			name: "no calls",
			want: Summary{Window: sumWindow},
		},
		{
			name: "counts by outcome; talk time of the connected calls only",
			calls: []Call{
				sumCall("c-6", warsawAt(25, 11, 0), unk, statusmap.Unknown, 40, "Piotr Wiśniewski"),
				sumCall("c-5", warsawAt(25, 10, 0), out, statusmap.NotPickedUp, 0, "Anna Nowak"),
				sumCall("c-4", warsawAt(24, 10, 0), in, statusmap.Rejected, 0, "Anna Nowak"),
				sumCall("c-3", warsawAt(23, 10, 0), in, statusmap.Missed, 0, "Anna Nowak"),
				sumCall("c-2", warsawAt(20, 10, 0), in, statusmap.Answered, 125, "Piotr Wiśniewski"),
				sumCall("c-1", warsawAt(19, 10, 0), out, statusmap.Connected, 60, "Anna Nowak"),
			},
			want: Summary{
				Window: sumWindow, Calls: 6, Connected: 2, NotPickedUp: 1, Missed: 1, Rejected: 1, TalkSeconds: 185,
				LastContact:   ptr(sumCall("c-6", warsawAt(25, 11, 0), unk, statusmap.Unknown, 40, "Piotr Wiśniewski")),
				LastConnected: ptr(sumCall("c-2", warsawAt(20, 10, 0), in, statusmap.Answered, 125, "Piotr Wiśniewski")),
				LastMissed:    ptr(sumCall("c-4", warsawAt(24, 10, 0), in, statusmap.Rejected, 0, "Anna Nowak")),
				CalledBack:    ptr(sumCall("c-5", warsawAt(25, 10, 0), out, statusmap.NotPickedUp, 0, "Anna Nowak")),
			},
		},
		{
			name: "only calls in the window count",
			calls: []Call{
				sumCall("c-future", sumWindow.To.Add(time.Second), out, statusmap.Connected, 30, "Anna Nowak"),
				sumCall("c-to", sumWindow.To, out, statusmap.Connected, 10, "Anna Nowak"),
				sumCall("c-from", sumWindow.From, in, statusmap.Missed, 0, "Anna Nowak"),
				sumCall("c-old", sumWindow.From.Add(-time.Second), in, statusmap.Answered, 99, "Anna Nowak"),
			},
			want: Summary{
				Window: sumWindow, Calls: 2, Connected: 1, Missed: 1, TalkSeconds: 10,
				LastContact:   ptr(sumCall("c-to", sumWindow.To, out, statusmap.Connected, 10, "Anna Nowak")),
				LastConnected: ptr(sumCall("c-to", sumWindow.To, out, statusmap.Connected, 10, "Anna Nowak")),
				LastMissed:    ptr(sumCall("c-from", sumWindow.From, in, statusmap.Missed, 0, "Anna Nowak")),
				CalledBack:    ptr(sumCall("c-to", sumWindow.To, out, statusmap.Connected, 10, "Anna Nowak")),
			},
		},
		{
			name:  "a missed call called back: the first outgoing call after it",
			calls: []Call{called, sumCall("c-11", warsawAt(25, 12, 0), out, statusmap.Connected, 30, "Anna Nowak"), missed},
			want: Summary{
				Window: sumWindow, Calls: 3, Connected: 2, Missed: 1, TalkSeconds: 117,
				LastContact:   ptr(sumCall("c-11", warsawAt(25, 12, 0), out, statusmap.Connected, 30, "Anna Nowak")),
				LastConnected: ptr(sumCall("c-11", warsawAt(25, 12, 0), out, statusmap.Connected, 30, "Anna Nowak")),
				LastMissed:    ptr(missed),
				CalledBack:    ptr(called),
			},
		},
		{
			name: "a callback the client did not pick up still counts",
			calls: []Call{
				sumCall("c-10", warsawAt(25, 9, 0), out, statusmap.NotPickedUp, 0, "Anna Nowak"),
				missed,
			},
			want: Summary{
				Window: sumWindow, Calls: 2, NotPickedUp: 1, Missed: 1,
				LastContact: ptr(sumCall("c-10", warsawAt(25, 9, 0), out, statusmap.NotPickedUp, 0, "Anna Nowak")),
				LastMissed:  ptr(missed),
				CalledBack:  ptr(sumCall("c-10", warsawAt(25, 9, 0), out, statusmap.NotPickedUp, 0, "Anna Nowak")),
			},
		},
		{
			name: "the client got through: an answered incoming call after the missed one",
			calls: []Call{
				sumCall("c-10", warsawAt(25, 8, 0), in, statusmap.Answered, 200, "Piotr Wiśniewski"),
				missed,
			},
			want: Summary{
				Window: sumWindow, Calls: 2, Connected: 1, Missed: 1, TalkSeconds: 200,
				LastContact:   ptr(sumCall("c-10", warsawAt(25, 8, 0), in, statusmap.Answered, 200, "Piotr Wiśniewski")),
				LastConnected: ptr(sumCall("c-10", warsawAt(25, 8, 0), in, statusmap.Answered, 200, "Piotr Wiśniewski")),
				LastMissed:    ptr(missed),
				CalledBack:    ptr(sumCall("c-10", warsawAt(25, 8, 0), in, statusmap.Answered, 200, "Piotr Wiśniewski")),
			},
		},
		{
			name: "not called back: the client's second missed call is the one that counts, overdue since yesterday",
			calls: []Call{
				missed,
				sumCall("c-08", warsawAt(24, 9, 0), out, statusmap.Connected, 50, "Anna Nowak"), // before: no callback
				sumCall("c-07", warsawAt(23, 9, 0), in, statusmap.Missed, 0, "Anna Nowak"),
			},
			want: Summary{
				Window: sumWindow, Calls: 3, Connected: 1, Missed: 2, TalkSeconds: 50,
				LastContact: ptr(missed), LastContactDays: 1,
				LastConnected:   ptr(sumCall("c-08", warsawAt(24, 9, 0), out, statusmap.Connected, 50, "Anna Nowak")),
				LastMissed:      ptr(missed),
				CallbackOverdue: true,
			},
		},
		{
			name:  "not called back yet, the same day: not overdue",
			calls: []Call{sumCall("c-12", warsawAt(25, 14, 0), in, statusmap.Rejected, 0, "Anna Nowak")},
			want: Summary{
				Window: sumWindow, Calls: 1, Rejected: 1,
				LastContact: ptr(sumCall("c-12", warsawAt(25, 14, 0), in, statusmap.Rejected, 0, "Anna Nowak")),
				LastMissed:  ptr(sumCall("c-12", warsawAt(25, 14, 0), in, statusmap.Rejected, 0, "Anna Nowak")),
			},
		},
		{
			name:  "an unanswered call of unknown direction is no missed call",
			calls: []Call{sumCall("c-1", warsawAt(20, 9, 0), unk, statusmap.Unknown, 0, "Anna Nowak")},
			want: Summary{
				Window: sumWindow, Calls: 1,
				LastContact: ptr(sumCall("c-1", warsawAt(20, 9, 0), unk, statusmap.Unknown, 0, "Anna Nowak")), LastContactDays: 5,
			},
		},
		{
			name: "calls at the same second: the list's first is the newest",
			calls: []Call{
				sumCall("c-a", warsawAt(24, 9, 0), out, statusmap.Connected, 10, "Anna Nowak"),
				sumCall("c-b", warsawAt(24, 9, 0), in, statusmap.Missed, 0, "Anna Nowak"),
			},
			want: Summary{
				Window: sumWindow, Calls: 2, Connected: 1, Missed: 1, TalkSeconds: 10,
				LastContact: ptr(sumCall("c-a", warsawAt(24, 9, 0), out, statusmap.Connected, 10, "Anna Nowak")), LastContactDays: 1,
				LastConnected: ptr(sumCall("c-a", warsawAt(24, 9, 0), out, statusmap.Connected, 10, "Anna Nowak")),
				LastMissed:    ptr(sumCall("c-b", warsawAt(24, 9, 0), in, statusmap.Missed, 0, "Anna Nowak")),
				CalledBack:    ptr(sumCall("c-a", warsawAt(24, 9, 0), out, statusmap.Connected, 10, "Anna Nowak")),
			},
		},
		{
			name:  "the list cut at the limit inside the window: partial",
			calls: []Call{called, missed},
			limit: 2,
			want: Summary{
				Window: sumWindow, Calls: 2, Connected: 1, Missed: 1, TalkSeconds: 87,
				LastContact: ptr(called), LastConnected: ptr(called), LastMissed: ptr(missed), CalledBack: ptr(called),
				Partial: true,
			},
		},
		{
			name:  "the list cut at the limit outside the window: complete",
			calls: []Call{called, sumCall("c-old", sumWindow.From.Add(-time.Hour), in, statusmap.Missed, 0, "Anna Nowak")},
			limit: 2,
			want: Summary{
				Window: sumWindow, Calls: 1, Connected: 1, TalkSeconds: 87,
				LastContact: ptr(called), LastConnected: ptr(called),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			now := tt.now
			if now.IsZero() {
				now = sumNow
			}
			got := summarize(tt.calls, sumWindow, now, tt.limit)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("summary (-want +got):\n%s", diff)
			}
			// The order of the list does not matter.
			shuffled := append([]Call(nil), tt.calls...)
			rand.New(rand.NewPCG(1, 2)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
			if diff := cmp.Diff(got, summarize(shuffled, sumWindow, now, tt.limit)); diff != "" {
				t.Errorf("summary of the shuffled list (-ordered +shuffled):\n%s", diff)
			}
		})
	}
}

// TestSummarizeDaysAreTheAccountZones: "today", "yesterday" and whether a
// missed call's day is over are calendar days of the account's zone (now's
// location), not of UTC: around midnight in Warsaw the two disagree.
func TestSummarizeDaysAreTheAccountZones(t *testing.T) {
	t.Parallel()
	lateMissed := sumCall("c-1", time.Date(2026, 11, 24, 23, 30, 0, 0, warsawZone), statusmap.Incoming, statusmap.Missed, 0, "Anna Nowak")   // 22:30 UTC
	justAfterMidnight := time.Date(2026, 11, 25, 0, 30, 0, 0, warsawZone)                                                                    // 23:30 UTC on the 24th
	earlyCall := sumCall("c-2", time.Date(2026, 11, 25, 0, 20, 0, 0, warsawZone), statusmap.Outgoing, statusmap.Connected, 10, "Anna Nowak") // 23:20 UTC on the 24th
	newYork, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		calls       []Call
		now         time.Time
		wantDays    int
		wantOverdue bool
	}{
		{"in Warsaw the missed call was yesterday: overdue", []Call{lateMissed}, justAfterMidnight, 1, true},
		{"in UTC it is still the same day: not overdue", []Call{lateMissed}, justAfterMidnight.UTC(), 0, false},
		{"in New York too", []Call{lateMissed}, justAfterMidnight.In(newYork), 0, false},
		{"a call after midnight in Warsaw is today's", []Call{earlyCall}, time.Date(2026, 11, 25, 23, 59, 0, 0, warsawZone), 0, false},
		{"in UTC the same call was yesterday's", []Call{earlyCall}, time.Date(2026, 11, 25, 23, 59, 0, 0, warsawZone).UTC(), 1, false},
		{"across the change to summer time, whole days", []Call{
			sumCall("c-3", time.Date(2026, 3, 28, 12, 0, 0, 0, warsawZone), statusmap.Incoming, statusmap.Answered, 60, "Anna Nowak"),
		}, time.Date(2026, 3, 30, 0, 10, 0, 0, warsawZone), 2, false},
		{"across the change to winter time, whole days", []Call{
			sumCall("c-4", time.Date(2026, 10, 24, 23, 50, 0, 0, warsawZone), statusmap.Incoming, statusmap.Missed, 0, "Anna Nowak"),
		}, time.Date(2026, 10, 25, 23, 50, 0, 0, warsawZone), 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := Window{From: tt.now.AddDate(0, -6, 0).UTC(), To: tt.now.UTC()}
			got := summarize(tt.calls, w, tt.now, 0)
			if got.LastContact == nil {
				t.Fatal("no last contact")
			}
			if got.LastContactDays != tt.wantDays {
				t.Errorf("LastContactDays = %d, want %d", got.LastContactDays, tt.wantDays)
			}
			if got.CallbackOverdue != tt.wantOverdue {
				t.Errorf("CallbackOverdue = %v, want %v", got.CallbackOverdue, tt.wantOverdue)
			}
		})
	}
}

// TestSummarizeCopies: the calls of a Summary are copies, so a caller that
// changes Result.Calls does not change its Summary, nor the reverse.
func TestSummarizeCopies(t *testing.T) {
	t.Parallel()
	calls := []Call{sumCall("c-1", warsawAt(25, 9, 0), statusmap.Outgoing, statusmap.Connected, 87, "Anna Nowak")}
	s := summarize(calls, sumWindow, sumNow, 0)
	s.LastContact.Note = "changed"
	calls[0].EmployeeName = "someone else"
	if calls[0].Note != "" || s.LastConnected.Note != "" || s.LastConnected.EmployeeName != "Anna Nowak" {
		t.Errorf("the summary shares its calls with the list: %+v, %+v", calls[0], s.LastConnected)
	}
}
