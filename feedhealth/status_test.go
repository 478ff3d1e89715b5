package feedhealth_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadcalls/leadcalls/callhistory"
	"github.com/leadcalls/leadcalls/callyzer"
	"github.com/leadcalls/leadcalls/feedhealth"
	"github.com/leadcalls/leadcalls/storage/memstore"
)

// roster is a feedhealth.Source with a fixed roster and no calls.
type roster struct{ emps []callyzer.Employee }

func (r *roster) Employees(context.Context, callyzer.EmployeesQuery) ([]callyzer.Employee, error) {
	return slices.Clone(r.emps), nil
}

func (r *roster) Summary(context.Context, callyzer.HistoryQuery) (callyzer.Totals, error) {
	return callyzer.Totals{}, nil
}

func TestStatuses(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 7, 28, 18, 0, 0, 0, warsaw)
	ok := func(number string, checkIn time.Time) callyzer.Employee {
		return callyzer.Employee{Name: "E " + number, Number: number, LastSyncRequestAt: checkIn, CallRecordingActive: true,
			RegisteredAt: now.AddDate(-1, 0, 0)}
	}
	tests := []struct {
		name      string
		emp       callyzer.Employee
		want      feedhealth.Status
		wantSince time.Time
	}{
		{"checked in a minute ago", ok("+48500000001", now.Add(-time.Minute)), feedhealth.OK, now},
		{"silent 5h59m", ok("+48500000002", now.Add(-6*time.Hour+time.Minute)), feedhealth.OK, now},
		{"silent 6h: stale", ok("+48500000003", now.Add(-6*time.Hour)), feedhealth.Stale, now.Add(-6 * time.Hour)},
		{"silent 24h: offline", ok("+48500000004", now.Add(-24*time.Hour)), feedhealth.Offline, now.Add(-24 * time.Hour)},
		{"recording off", func() callyzer.Employee {
			e := ok("+48500000005", now.Add(-time.Minute))
			e.CallRecordingActive = false
			return e
		}(), feedhealth.RecordingOff, now},
		{"recording off and stale: recording off", func() callyzer.Employee {
			e := ok("+48500000006", now.Add(-7*time.Hour))
			e.CallRecordingActive = false
			return e
		}(), feedhealth.RecordingOff, now},
		{"recording off and offline: offline", func() callyzer.Employee {
			e := ok("+48500000007", now.Add(-72*time.Hour))
			e.CallRecordingActive = false
			return e
		}(), feedhealth.Offline, now.Add(-72 * time.Hour)},
		{"uninstalled and offline: uninstalled", func() callyzer.Employee {
			e := ok("+48500000008", now.Add(-72*time.Hour))
			e.AppUninstalled = true
			return e
		}(), feedhealth.Uninstalled, now},
		{"never checked in, registered 2 days ago: offline since registration", callyzer.Employee{
			Number: "+48500000009", RegisteredAt: now.Add(-48 * time.Hour), CallRecordingActive: true,
		}, feedhealth.Offline, now.Add(-48 * time.Hour)},
	}
	r := &roster{}
	for _, tc := range tests {
		r.emps = append(r.emps, tc.emp)
	}
	store := memstore.New()
	clock := now
	m, err := feedhealth.New(feedhealth.Config{Source: r, Store: store, Location: warsaw, Now: func() time.Time { return clock }})
	require.NoError(t, err)
	require.NoError(t, m.Check(t.Context(), callhistory.SyncState{}, nil))
	st, err := m.State(t.Context())
	require.NoError(t, err)
	require.Len(t, st.Phones, len(tests))
	for _, tc := range tests {
		p, found := st.Phone(tc.emp.Number)
		require.True(t, found, tc.name)
		require.Equal(t, tc.want, p.Status, tc.name)
		require.True(t, tc.wantSince.Equal(p.Since), "%s: since %v, want %v", tc.name, p.Since, tc.wantSince)
	}
	first := st.Problems()
	var kinds []string
	for _, p := range first {
		kinds = append(kinds, p.Kind+" "+p.Number)
	}
	require.Equal(t, []string{
		"offline +48500000004", "offline +48500000007", "offline +48500000009",
		"recording_off +48500000005", "recording_off +48500000006", "uninstalled +48500000008",
	}, kinds, "sorted by kind, then number; stale and ok are not problems")

	// An hour on, nothing changed: the same list (since of recording off
	// and uninstalled carries over), so a host alerts on nothing.
	clock = now.Add(time.Hour)
	require.NoError(t, m.Check(t.Context(), callhistory.SyncState{}, nil))
	st, err = m.State(t.Context())
	require.NoError(t, err)
	require.True(t, slices.EqualFunc(first, st.Problems(), sameProblem), "%v\n%v", first, st.Problems())
	p, _ := st.Phone("+48500000001")
	require.True(t, p.Since.Equal(now), "ok since the first read")

	// The recording switched on: the list changes.
	r.emps[4].CallRecordingActive = true
	require.NoError(t, m.Check(t.Context(), callhistory.SyncState{}, nil))
	st, err = m.State(t.Context())
	require.NoError(t, err)
	require.Len(t, st.Problems(), len(first)-1)
}

// sameProblem compares two problems, their times as instants (a state read
// back from JSON keeps the offset, not the location).
func sameProblem(a, b feedhealth.Problem) bool {
	at, bt := a.Since, b.Since
	a.Since, b.Since = time.Time{}, time.Time{}
	return a == b && at.Equal(bt)
}

func TestConfigChecks(t *testing.T) {
	t.Parallel()
	base := feedhealth.Config{Source: &roster{}, Store: memstore.New(), Location: warsaw}
	for name, mod := range map[string]func(*feedhealth.Config){
		"no source":        func(c *feedhealth.Config) { c.Source = nil },
		"no store":         func(c *feedhealth.Config) { c.Store = nil },
		"no location":      func(c *feedhealth.Config) { c.Location = nil },
		"negative months":  func(c *feedhealth.Config) { c.Months = -1 },
		"stale after offl": func(c *feedhealth.Config) { c.StaleAfter = 48 * time.Hour },
	} {
		cfg := base
		mod(&cfg)
		_, err := feedhealth.New(cfg)
		require.Error(t, err, name)
	}
	_, err := feedhealth.New(base)
	require.NoError(t, err)
}

func TestNote(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 7, 28, 18, 0, 0, 0, warsaw)
	st := feedhealth.State{Phones: []feedhealth.Phone{
		{Number: "+48500000001", Status: feedhealth.Offline, Since: now.Add(-3*24*time.Hour - time.Hour)},
		{Number: "+48500000002", Status: feedhealth.Uninstalled, Since: time.Date(2026, 7, 20, 9, 0, 0, 0, warsaw)},
		{Number: "+48500000003", Status: feedhealth.RecordingOff, Since: time.Date(2026, 7, 1, 9, 0, 0, 0, warsaw)},
		{Number: "+48500000004", Status: feedhealth.Stale, Since: now.Add(-7 * time.Hour)},
		{Number: "+48500000005", Status: feedhealth.Offline, Since: now.Add(-25 * time.Hour)},
		{Number: "+48500000006", Status: feedhealth.Offline, Since: now.Add(-22 * 24 * time.Hour)},
	}}
	tests := []struct{ number, lang, want string }{
		{"+48500000001", "pl", "Telefon doradcy nie przesyła połączeń od 3 dni — historia może być niepełna"},
		{"+48500000001", "en", "The advisor's phone has not uploaded calls for 3 days — the history may be incomplete"},
		{"+48500000005", "pl", "Telefon doradcy nie przesyła połączeń od 1 dnia — historia może być niepełna"},
		{"+48500000005", "en", "The advisor's phone has not uploaded calls for 1 day — the history may be incomplete"},
		{"+48500000006", "", "Telefon doradcy nie przesyła połączeń od 22 dni — historia może być niepełna"},
		{"+48500000002", "pl", "Aplikacja Callyzer została odinstalowana z telefonu doradcy (stwierdzono 20.07.2026) — historia może być niepełna"},
		{"+48500000002", "en", "The Callyzer app was uninstalled from the advisor's phone (seen on 20.07.2026) — the history may be incomplete"},
		{"+48500000003", "pl", "Nagrywanie rozmów na telefonie doradcy jest wyłączone (od 01.07.2026) — nagrań może brakować"},
		{"+48500000003", "en", "Call recording is off on the advisor's phone (since 01.07.2026) — recordings may be missing"},
	}
	for _, tc := range tests {
		n, ok := st.Note(tc.number, tc.lang, now, warsaw)
		require.True(t, ok, tc.number)
		require.Equal(t, tc.want, n.Text)
		p, _ := st.Phone(tc.number)
		require.Equal(t, p.Status, n.Status)
		require.True(t, p.Since.Equal(n.Since))
	}
	for _, number := range []string{"+48500000004", "+48999999999"} {
		_, ok := st.Note(number, "pl", now, warsaw)
		require.False(t, ok, "no note for a stale or unknown phone: %s", number)
	}
}
