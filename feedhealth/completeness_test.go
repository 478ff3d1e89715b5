package feedhealth_test

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadcalls/leadcalls/callhistory"
	"github.com/leadcalls/leadcalls/callyzer"
	"github.com/leadcalls/leadcalls/callyzer/callyzertest"
	"github.com/leadcalls/leadcalls/callyzer/pacing"
	"github.com/leadcalls/leadcalls/feedhealth"
	"github.com/leadcalls/leadcalls/internal/testdb"
	"github.com/leadcalls/leadcalls/storage/memstore"
	"github.com/leadcalls/leadcalls/storage/sqlstore"
)

// store is what the scenario needs of a store.
type store interface {
	callhistory.Store
	callhistory.SyncStateStore
	feedhealth.Store
}

// stores returns a fresh store of every kind: memory, then each SQL
// backend (PostgreSQL and MariaDB skip, or fail under
// LEADCALLS_REQUIRE_ALL, when not configured).
func stores() map[string]func(t *testing.T) store {
	out := map[string]func(t *testing.T) store{"memory": func(*testing.T) store { return memstore.New() }}
	dialects := map[string]sqlstore.Dialect{testdb.SQLiteName: sqlstore.SQLite, testdb.PostgresName: sqlstore.Postgres, testdb.MySQLName: sqlstore.MySQL}
	for _, name := range testdb.Names {
		out[name] = func(t *testing.T) store {
			s, err := sqlstore.New(testdb.Open(t, name), dialects[name])
			require.NoError(t, err)
			require.NoError(t, s.Migrate(t.Context()))
			return s
		}
	}
	return out
}

// TestCompleteness plays a sync with feed health on every store: the first
// pass's backfill misses calls of February (a page Callyzer never served),
// which the re-read cannot repair, so February stays flagged; once
// Callyzer serves them, the next day's check repairs February. Months are
// those of Europe/Warsaw (March changes the clock), the running month is
// never compared, and the cost per pass is counted from the fake's log.
func TestCompleteness(t *testing.T) {
	t.Parallel()
	for name, newStore := range stores() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			testCompleteness(t, newStore(t))
		})
	}
}

func testCompleteness(t *testing.T, st store) {
	now := time.Date(2026, 5, 10, 12, 0, 0, 0, warsaw)
	clock := now
	nowFunc := func() time.Time { return clock }

	// Calls from 1 November 2025 to May 2026, one every 23 hours, with
	// each type; plus calls at Warsaw's month edges around the March
	// clock change.
	var calls []callyzertest.Call
	types := []string{callyzertest.Incoming, callyzertest.Outgoing, callyzertest.Missed, callyzertest.Rejected}
	for i, at := 0, time.Date(2025, 11, 1, 8, 0, 0, 0, warsaw); at.Before(now.Add(-time.Hour)); i, at = i+1, at.Add(23*time.Hour) {
		c := callyzertest.NewCall(fmt.Sprintf("c-%04d", i), fmt.Sprintf("+4860100%04d", i%50), at)
		c.CallType = types[i%len(types)]
		calls = append(calls, c)
	}
	for id, at := range map[string]time.Time{
		"edge-march-first": time.Date(2026, 3, 1, 0, 0, 0, 0, warsaw),     // 28 February 23:00 UTC
		"edge-march-last":  time.Date(2026, 3, 31, 23, 59, 59, 0, warsaw), // CEST
		"edge-april-first": time.Date(2026, 4, 1, 0, 0, 0, 0, warsaw),     // 31 March 22:00 UTC
	} {
		calls = append(calls, callyzertest.NewCall(id, "+48601999999", at))
	}
	srv := callyzertest.NewServer(t, callyzertest.Options{Calls: calls, Employees: []callyzertest.Employee{
		{Name: "Anna", CountryCode: "48", Number: "511222333", LastSyncReqAt: now.Add(-time.Hour), CallRecordingActive: true},
		{Name: "Piotr", CountryCode: "48", Number: "511222444", LastSyncReqAt: now.Add(-3 * 24 * time.Hour), CallRecordingActive: true},
	}, Location: warsaw, Now: nowFunc, Format: callyzertest.Format{HumanRosterDates: true}})
	february := func(c callyzertest.Call) bool {
		return c.StartedAt.In(warsaw).Month() == time.February && c.StartedAt.In(warsaw).Day() <= 10
	}
	srv.HideFromHistory(february)

	client, err := callyzer.NewClient(srv.APIKey(), callyzer.WithBaseURL(srv.URL), callyzer.WithHTTPClient(srv.Client()),
		callyzer.WithLocation(warsaw), callyzer.WithInterval(0), callyzer.WithPacer(pacing.New(0)), callyzer.WithRetryDelays(0, 0),
		callyzer.WithLogger(slog.New(slog.DiscardHandler)))
	require.NoError(t, err)
	mon, err := feedhealth.New(feedhealth.Config{Source: client, Store: st, Location: warsaw, Now: nowFunc,
		Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	syncer, err := callhistory.NewSyncer(callhistory.SyncConfig{Source: client, Store: st, Now: nowFunc, Health: mon.Check,
		Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)

	pass := func() (*callhistory.SyncReport, map[string]int) {
		t.Helper()
		srv.ResetRequests()
		rep, err := syncer.RunOnce(t.Context())
		require.NoError(t, err)
		byPath := map[string]int{}
		for _, r := range srv.Requests() {
			byPath[r.Path]++
		}
		return rep, byPath
	}

	// Pass 1: the backfill, then every closed month inside the window is
	// compared; February differs, its re-read cannot repair it.
	rep, byPath := pass()
	require.Equal(t, 1, byPath[callyzertest.PathEmployees], "one roster page")
	// The window starts on 10 November 2025: December to April are inside
	// and closed; November is not wholly inside, May is running.
	require.Equal(t, 5, byPath[callyzertest.PathSummary], "one summary per closed month")
	require.Equal(t, rep.Requests, byPath[callyzertest.PathHistory], "history requests: the sync's, the re-read's included")
	require.Positive(t, rep.Health.Pages, "February was re-read")
	h, err := mon.State(t.Context())
	require.NoError(t, err)
	require.Equal(t, []string{"2026-04", "2026-03", "2026-02", "2026-01", "2025-12"}, monthLabels(h))
	requireSummaryWindows(t, srv.Requests(), h)
	feb := monthOf(t, h, "2026-02")
	require.False(t, feb.Complete())
	require.Equal(t, feb.Theirs.Calls-countIf(calls, february), feb.Ours.Calls, "the hidden calls are what is missing")
	require.False(t, feb.RereadAt.IsZero())
	for _, label := range []string{"2025-12", "2026-01", "2026-03", "2026-04"} {
		mo := monthOf(t, h, label)
		require.True(t, mo.Complete(), "%s: %+v", label, mo)
		require.True(t, mo.RereadAt.IsZero(), label)
	}
	// The edges: 1 March 00:00 and 31 March 23:59:59 are March in Warsaw, 1
	// April 00:00 (22:00 UTC the day before) is April.
	march, april := monthOf(t, h, "2026-03"), monthOf(t, h, "2026-04")
	require.True(t, march.Start.Equal(time.Date(2026, 2, 28, 23, 0, 0, 0, time.UTC)))
	require.True(t, april.Start.Equal(time.Date(2026, 3, 31, 22, 0, 0, 0, time.UTC)))
	require.Equal(t, countMonth(calls, 2026, time.March), march.Ours.Calls)
	require.Equal(t, countMonth(calls, 2026, time.April), april.Ours.Calls)
	problems := h.Problems()
	require.Equal(t, []string{"incomplete_month 2026-02", "offline +48511222444"}, problemLabels(problems))

	// Pass 2, an hour on, Callyzer now serves February: no month is due,
	// so the pass costs the sync's requests and one roster page.
	srv.HideFromHistory(nil)
	clock = now.Add(time.Hour)
	rep, byPath = pass()
	require.Equal(t, map[string]int{callyzertest.PathEmployees: 1, callyzertest.PathHistory: rep.Requests}, byPath)
	require.Zero(t, rep.Health.Requests)
	h, err = mon.State(t.Context())
	require.NoError(t, err)
	require.Equal(t, problemLabels(problems), problemLabels(h.Problems()), "nothing new to alert on")

	// Pass 3, a day after the checks: every month is compared again;
	// February's re-read repairs it.
	clock = now.Add(25 * time.Hour)
	emps := srv.Employees()
	emps[0].LastSyncReqAt = clock.Add(-time.Minute) // Anna's phone checked in; Piotr's stays silent
	srv.SetEmployees(emps...)
	rep, byPath = pass()
	require.Equal(t, 1, byPath[callyzertest.PathEmployees])
	require.Equal(t, 5, byPath[callyzertest.PathSummary])
	require.Positive(t, rep.Health.Pages)
	h, err = mon.State(t.Context())
	require.NoError(t, err)
	feb = monthOf(t, h, "2026-02")
	require.True(t, feb.Complete(), "%+v", feb)
	require.True(t, feb.RereadAt.Equal(clock))
	require.Equal(t, []string{"offline +48511222444"}, problemLabels(h.Problems()))
	t.Logf("cost per pass: %d roster page(s) + %d summaries (a day after the last check) or 0 (within the day), plus the re-read of a month that differs",
		byPath[callyzertest.PathEmployees], byPath[callyzertest.PathSummary])
}

// requireSummaryWindows checks that every summary asked for exactly one
// month of h, first to last second in Warsaw, and never the running one.
func requireSummaryWindows(t *testing.T, reqs []callyzertest.Request, h feedhealth.State) {
	t.Helper()
	want := map[string]bool{}
	for _, mo := range h.Months {
		end := mo.Start.In(warsaw).AddDate(0, 1, 0) // read back with a fixed offset: the zone's rules give the end
		want[fmt.Sprint(mo.Start.Unix(), "-", end.Add(-time.Second).Unix())] = true
	}
	for _, r := range reqs {
		if r.Path != callyzertest.PathSummary {
			continue
		}
		key := fmt.Sprint(int64(r.Body["call_from"].(float64)), "-", int64(r.Body["call_to"].(float64)))
		require.True(t, want[key], "a summary of a window that is not a checked closed month: %s", key)
	}
}

func monthOf(t *testing.T, h feedhealth.State, label string) feedhealth.Month {
	t.Helper()
	for _, mo := range h.Months {
		if mo.Start.In(warsaw).Format("2006-01") == label {
			return mo
		}
	}
	t.Fatalf("no month %s in %v", label, monthLabels(h))
	return feedhealth.Month{}
}

func monthLabels(h feedhealth.State) []string {
	var out []string
	for _, mo := range h.Months {
		out = append(out, mo.Start.In(warsaw).Format("2006-01"))
	}
	return out
}

func problemLabels(ps []feedhealth.Problem) []string {
	var out []string
	for _, p := range ps {
		out = append(out, strings.TrimSpace(p.Kind+" "+p.Number+p.Month))
	}
	return out
}

func countIf(calls []callyzertest.Call, f func(callyzertest.Call) bool) int {
	n := 0
	for _, c := range calls {
		if f(c) {
			n++
		}
	}
	return n
}

func countMonth(calls []callyzertest.Call, year int, month time.Month) int {
	return countIf(calls, func(c callyzertest.Call) bool {
		y, m, _ := c.StartedAt.In(warsaw).Date()
		return y == year && m == month
	})
}
