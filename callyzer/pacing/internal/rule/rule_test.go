package rule_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/leadcalls/leadcalls/callyzer/pacing/internal/rule"
)

var t0 = time.Date(2026, 5, 20, 12, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

// Claims of the table: r1 began before r2 before r3.
var (
	r1 = rule.Rank{N: 1}
	r2 = rule.Rank{N: 2}
	r3 = rule.Rank{N: 3}

	background  = rule.Claim{Rank: r2}
	interactive = rule.Claim{Interactive: true, Rank: r2}
)

func TestDecide(t *testing.T) {
	t.Parallel()
	free := rule.Slot{Interval: 2 * time.Second, Next: t0}
	for _, tc := range []struct {
		name   string
		slot   rule.Slot
		c      rule.Claim
		others []rule.Claim
		want   rule.Decision
	}{
		// One request in flight; starts spaced by Next.
		{name: "free slot, next start come: start", slot: free, c: background, want: rule.Decision{Start: true}},
		{name: "held slot: wait for the release", slot: rule.Slot{Busy: true, Next: t0}, c: interactive},
		{name: "next start ahead: wait until then", slot: rule.Slot{Next: at(time.Second)}, c: interactive,
			want: rule.Decision{At: at(time.Second)}},

		// Interactive before Background.
		{name: "background waits behind an interactive waiter", slot: free, c: background,
			others: []rule.Claim{{Interactive: true, Rank: r3}}},
		{name: "interactive goes before a background waiter", slot: free, c: interactive,
			others: []rule.Claim{{Rank: r1}}, want: rule.Decision{Start: true}},
		{name: "background waiters in the order they came", slot: free, c: background,
			others: []rule.Claim{{Rank: r1}}},
		{name: "a later background waiter does not block", slot: free, c: background,
			others: []rule.Claim{{Rank: r3}}, want: rule.Decision{Start: true}},

		// Interactive in the order their sequences began.
		{name: "a sequence begun earlier goes first", slot: free, c: interactive,
			others: []rule.Claim{{Interactive: true, Rank: r1}}},
		{name: "a sequence begun later waits", slot: free, c: interactive,
			others: []rule.Claim{{Interactive: true, Rank: r3}}, want: rule.Decision{Start: true}},
		{name: "ties by Began, then N, then Key", slot: free,
			c:      rule.Claim{Interactive: true, Rank: rule.Rank{Began: t0, Key: "b"}},
			others: []rule.Claim{{Interactive: true, Rank: rule.Rank{Began: t0, Key: "a"}}}},
		{name: "its own row is not ahead of it", slot: free, c: interactive,
			others: []rule.Claim{{Interactive: true, Rank: r2, Until: at(time.Second)}}, want: rule.Decision{Start: true}},

		// An open Interactive sequence keeps the slot for its grace.
		{name: "reservation keeps background out until it lapses", slot: free, c: background,
			others: []rule.Claim{{Interactive: true, Rank: r1, Until: at(time.Second)}}, want: rule.Decision{At: at(time.Second)}},
		{name: "reservation keeps a later sequence out", slot: free, c: interactive,
			others: []rule.Claim{{Interactive: true, Rank: r1, Until: at(time.Second)}}, want: rule.Decision{At: at(time.Second)}},
		{name: "reservation of a later sequence does not", slot: free, c: interactive,
			others: []rule.Claim{{Interactive: true, Rank: r3, Until: at(time.Second)}}, want: rule.Decision{Start: true}},
		{name: "lapsed reservation keeps nothing", slot: free, c: background,
			others: []rule.Claim{{Interactive: true, Rank: r1, Until: t0}}, want: rule.Decision{Start: true}},
		{name: "the later of next start and reservation", slot: rule.Slot{Next: at(2 * time.Second)}, c: background,
			others: []rule.Claim{{Interactive: true, Rank: r1, Until: at(time.Second)}}, want: rule.Decision{At: at(2 * time.Second)}},
		{name: "a crashed waiter's row blocks until its lease lapses", slot: free, c: background,
			others: []rule.Claim{{Interactive: true, Rank: r1, Until: at(5 * time.Second)}}, want: rule.Decision{At: at(5 * time.Second)}},

		// A hold past the deadline refuses at once.
		{name: "hold past the deadline: refused", slot: rule.Slot{Next: at(30 * time.Second), Held: at(30 * time.Second)},
			c: rule.Claim{Interactive: true, Deadline: at(10 * time.Second)}, want: rule.Decision{Refused: true}},
		{name: "hold before the deadline: wait it out", slot: rule.Slot{Next: at(30 * time.Second), Held: at(30 * time.Second)},
			c: rule.Claim{Deadline: at(time.Minute)}, want: rule.Decision{At: at(30 * time.Second)}},
		{name: "hold, no deadline: wait it out", slot: rule.Slot{Next: at(30 * time.Second), Held: at(30 * time.Second)},
			c: background, want: rule.Decision{At: at(30 * time.Second)}},
		{name: "refused even while the slot is held", slot: rule.Slot{Busy: true, Held: at(30 * time.Second)},
			c: rule.Claim{Deadline: at(time.Second)}, want: rule.Decision{Refused: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, rule.Decide(tc.slot, tc.c, tc.others, t0))
		})
	}
}

func TestSlotTransitions(t *testing.T) {
	t.Parallel()
	const interval = 2 * time.Second
	for _, tc := range []struct {
		name string
		do   func(*rule.Slot)
		want rule.Slot
	}{
		{name: "start: the next start an interval after the grant",
			do:   func(s *rule.Slot) { s.Start(t0) },
			want: rule.Slot{Interval: interval, Busy: true, Next: at(interval), Starts: 1}},
		{name: "release without a send: the grant counts",
			do:   func(s *rule.Slot) { s.Start(t0); s.Release(time.Time{}) },
			want: rule.Slot{Interval: interval, Next: at(interval), Starts: 1}},
		{name: "release: an interval after the send when it came later",
			do:   func(s *rule.Slot) { s.Start(t0); s.Release(at(600 * time.Millisecond)) },
			want: rule.Slot{Interval: interval, Next: at(interval + 600*time.Millisecond), Starts: 1}},
		{name: "release: an earlier send changes nothing",
			do:   func(s *rule.Slot) { s.Start(t0); s.Release(at(-time.Hour)) },
			want: rule.Slot{Interval: interval, Next: at(interval), Starts: 1}},
		{name: "hold moves the next start",
			do:   func(s *rule.Slot) { s.Hold(at(10 * time.Second)) },
			want: rule.Slot{Interval: interval, Next: at(10 * time.Second), Held: at(10 * time.Second)}},
		{name: "a hold never shortens an earlier one",
			do:   func(s *rule.Slot) { s.Hold(at(10 * time.Second)); s.Hold(at(time.Second)) },
			want: rule.Slot{Interval: interval, Next: at(10 * time.Second), Held: at(10 * time.Second)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := rule.Slot{Interval: interval}
			tc.do(&s)
			require.Empty(t, cmp.Diff(tc.want, s))
		})
	}
}

func TestReservation(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		interval time.Duration
		c        rule.Claim
		want     time.Duration // the grace; 0: none
	}{
		{name: "interactive keeps the slot for the interval", interval: 300 * time.Millisecond, c: interactive, want: 300 * time.Millisecond},
		{name: "for 1s at most", interval: 2 * time.Second, c: interactive, want: rule.MaxGrace},
		{name: "background keeps nothing", interval: 2 * time.Second, c: background},
		{name: "no interval keeps nothing", c: interactive},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, ok := rule.Slot{Interval: tc.interval}.Reservation(tc.c, t0)
			require.Equal(t, tc.want > 0, ok)
			if ok {
				require.Equal(t, rule.Claim{Interactive: true, Rank: tc.c.Rank, Until: at(tc.want)}, r)
			}
		})
	}
}

func TestCompare(t *testing.T) {
	t.Parallel()
	require.Negative(t, rule.Compare(rule.Claim{Interactive: true, Rank: r3}, rule.Claim{Rank: r1}), "interactive first")
	require.Negative(t, rule.Compare(rule.Claim{Rank: r1}, rule.Claim{Rank: r2}), "then by rank")
	require.Negative(t, rule.Rank{Began: t0, N: 9}.Compare(rule.Rank{Began: at(1), N: 1}), "by when it began")
	require.Negative(t, rule.Rank{Began: t0, N: 1, Key: "z"}.Compare(rule.Rank{Began: t0, N: 2, Key: "a"}), "then N")
	require.Zero(t, rule.Compare(interactive, interactive))
}

func TestAged(t *testing.T) {
	t.Parallel()
	s := rule.Slot{Interval: 2 * time.Second}
	s.Start(t0)
	asked := s.Starts
	for range rule.AgeLimit - 1 {
		s.Release(time.Time{})
		s.Start(t0)
	}
	require.False(t, s.Aged(asked), "one start fewer than AgeLimit let go")
	s.Start(t0)
	require.True(t, s.Aged(asked), "AgeLimit starts let go")
	require.False(t, s.Aged(s.Starts), "a request that asks now has let none go")
}
