package callyzertest_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nyaruka/phonenumbers"
	"github.com/stretchr/testify/require"

	"github.com/leadcalls/leadcalls/callyzer/callyzertest"
	"github.com/leadcalls/leadcalls/internal/phone"
)

func TestGenerateDeterministic(t *testing.T) {
	t.Parallel()
	cfg := callyzertest.GenerateConfig{End: now, Calls: 200, Quirks: true}
	a, b := callyzertest.Generate(42, cfg), callyzertest.Generate(42, cfg)
	if diff := cmp.Diff(a, b); diff != "" {
		t.Fatalf("same seed, different data (-a +b):\n%s", diff)
	}
	c := callyzertest.Generate(43, cfg)
	require.NotEqual(t, a.Calls[0].ClientNumber, c.Calls[0].ClientNumber)
}

func TestGenerateRealistic(t *testing.T) {
	t.Parallel()
	cfg := callyzertest.GenerateConfig{End: now, Employees: 10, Leads: 60, Calls: 1000, Quirks: true}
	ds := callyzertest.Generate(1, cfg)
	require.Len(t, ds.Employees, 10)
	require.Len(t, ds.Leads, 60)
	require.Len(t, ds.Calls, 1000)

	prefixes := []string{"50", "51", "53", "57", "60", "66", "69", "72", "73", "78", "79", "88"}
	checked := map[string]bool{}
	checkMobile := func(cc, national string) {
		t.Helper()
		if checked[cc+national] {
			return
		}
		checked[cc+national] = true
		require.Equal(t, "48", cc)
		require.Len(t, national, 9)
		require.Contains(t, prefixes, national[:2])
		n, err := phonenumbers.Parse("+48"+national, "")
		require.NoError(t, err)
		require.True(t, phonenumbers.IsValidNumber(n), national)
		require.Equal(t, phonenumbers.MOBILE, phonenumbers.GetNumberType(n), national)
	}
	phones := map[string]bool{}
	for _, e := range ds.Employees {
		checkMobile(e.CountryCode, e.Number)
		require.Equal(t, "BIK", e.Tags[0])
		require.False(t, phones[e.Number], "distinct numbers")
		phones[e.Number] = true
	}
	leadCalls := map[string]int{}
	for _, l := range ds.Leads {
		cc, nat, ok := phone.Split(l.Phone)
		require.True(t, ok, l.Phone)
		checkMobile(cc, nat)
		require.Len(t, strings.Fields(l.Name), 2)
		leadCalls[nat] = 0
	}

	types := map[string]int{}
	ids := map[string]bool{}
	start := now.Add(-183 * 24 * time.Hour)
	var quirks, suffix, null int
	for i, c := range ds.Calls {
		require.False(t, ids[c.ID], "unique ids")
		ids[c.ID] = true
		checkMobile(c.ClientCountryCode, c.ClientNumber)
		if _, ok := leadCalls[c.ClientNumber]; ok {
			leadCalls[c.ClientNumber]++
		}
		types[c.CallType]++
		require.False(t, c.StartedAt.Before(start) || c.StartedAt.After(now), "in the span: %v", c.StartedAt)
		local := c.StartedAt.In(warsaw)
		require.NotEqual(t, time.Sunday, local.Weekday())
		require.True(t, local.Hour() >= 8 && local.Hour() < 19, "working hours: %v", local)
		require.False(t, c.SyncedAt.Before(c.StartedAt))
		require.False(t, c.ModifiedAt.Before(c.SyncedAt))
		if i > 0 {
			require.False(t, c.StartedAt.Before(ds.Calls[i-1].StartedAt), "oldest first")
		}
		switch c.CallType {
		case callyzertest.Missed, callyzertest.Rejected:
			require.Zero(t, c.Duration)
			require.Empty(t, c.RecordingURL)
		case callyzertest.Incoming:
			require.Positive(t, c.Duration)
		}
		require.LessOrEqual(t, c.Duration, 3600)
		if c.DurationAsString {
			quirks++
		}
		if c.ZoneSuffix {
			suffix++
		}
		if c.NullEmpty {
			null++
		}
	}
	// A plausible mix: outgoing about half, incoming about a quarter.
	require.InDelta(t, 500, types[callyzertest.Outgoing], 80)
	require.InDelta(t, 250, types[callyzertest.Incoming], 60)
	require.Positive(t, types[callyzertest.Missed])
	require.Positive(t, types[callyzertest.Rejected])
	require.Positive(t, quirks)
	require.Positive(t, suffix)
	require.Positive(t, null)

	withCalls := 0
	for _, l := range ds.Leads {
		require.Equal(t, l.Calls, leadCalls[l.Phone[3:]], "Lead.Calls counts the lead's calls")
		if l.Calls > 0 {
			withCalls++
		}
	}
	require.Greater(t, withCalls, 40, "most leads have calls")
}

func TestGenerateServes(t *testing.T) {
	t.Parallel()
	ds := callyzertest.Generate(3, callyzertest.GenerateConfig{End: now})
	srv := callyzertest.NewServer(t, callyzertest.Options{Calls: ds.Calls, Employees: ds.Employees})
	var lead callyzertest.Lead
	for _, l := range ds.Leads {
		if l.Calls > lead.Calls {
			lead = l
		}
	}
	r := history(t.Context(), srv, now.AddDate(0, 0, -180), now, map[string]any{
		"client_numbers": []string{"48-" + lead.Phone[3:]}, "page_size": 100,
	})
	require.Equal(t, 200, r.Status, "%s", r.Raw)
	inWindow := 0
	for _, c := range ds.Calls {
		if c.ClientE164() == lead.Phone && !c.StartedAt.Before(now.AddDate(0, 0, -180)) {
			inWindow++
		}
	}
	require.Equal(t, inWindow, r.total(t))
}
