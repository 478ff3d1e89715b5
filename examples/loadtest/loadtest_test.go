package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// What the tests of this package cover:
//
// loadtest_test.go runs the whole harness on tiny sizes (a few seconds) and
// checks that the Markdown table has every row and both baselines, that
// requests are never below the minimum of what was served, that N users on
// one lead make at most one fetch sequence, that wasted requests are at
// most those sent, that succeeded + timed out + failed is every refresh,
// and that the report has the summary, the machine and the flags. Another
// test makes pages too slow for the deadline and checks that the timeouts
// are counted as such on every side, with their requests as wasted; unit
// tests cover the minimum, the percentiles, the latency counts and the
// naive client's wait after a 429. goleak checks that no goroutine
// outlives a test.

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// tinyArgs run every scenario on a data set small enough for CI: a few
// seconds, with time compressed as in the default run, so that the refresh
// deadline leaves as much room for our own (uncompressed) CPU time.
var tinyArgs = []string{
	"-compress", "200", "-calls", "1000", "-employees", "20", "-leads", "12",
	"-users", "5", "-samples", "3", "-cost-leads", "10", "-cost-calls", "600",
	"-memory-calls", "3000", "-advisors", "4", "-floor-minutes", "3", "-floor-leads", "12", "-timeout", "2m",
}

// TestSmoke runs the harness end to end on tiny sizes and checks that the
// table has every row, both baselines and the counts, and that its figures
// are sane.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped in -short mode: runs the whole harness (a few seconds)")
	}
	md := filepath.Join(t.TempDir(), "performance.md")
	var stdout, stderr bytes.Buffer
	code := realMain(append(tinyArgs, "-markdown", md), &stdout, &stderr)
	out := stdout.String()
	require.Equalf(t, 0, code, "exit code; stdout:\n%s\nstderr:\n%s", out, stderr.String())
	require.NotContains(t, out, "FAILED")

	data, err := os.ReadFile(md)
	require.NoError(t, err)
	doc := string(data)
	require.Contains(t, doc, "| Part | Scenario | Figure | Ours | Baseline (same run) | Naive + pacer (same run) | Floor / minimum |")
	require.Contains(t, doc, "CPUs")
	require.Contains(t, doc, "-calls=1000")
	require.Contains(t, doc, "What the figures mean")
	require.Contains(t, doc, "**Summary** (computed from this run).")
	require.Contains(t, out, "summary: ")
	rows := markdownRows(t, doc)
	require.Equal(t, strings.Count(out, "\n1 requests")+strings.Count(out, "\n2 latency")+strings.Count(out, "\n3 our cost")+strings.Count(out, "\n4 memory")+strings.Count(out, "\n5 sales floor"),
		len(rows), "the Markdown table has the text table's rows")

	for _, want := range []string{
		"one refresh", "5 users, 5 different leads, at once", "5 users, the same lead, at once",
		"6-month backfill, 20 employees", "refresh alone (3 leads", "refresh while a backfill runs (3 leads)",
		"memstore, first refresh", "memstore, refresh again", "SQLite, first refresh", "SQLite, refresh again",
		"6-month backfill of 3,000 calls",
	} {
		require.Containsf(t, out, want, "the text table has no %q row", want)
		require.NotEmptyf(t, find(rows, want, ""), "the Markdown table has no %q row", want)
	}

	// Requests: every side has a figure; ours never below the minimum of
	// what it served; for the same lead, ours is one fetch sequence.
	for _, sc := range []string{"one refresh", "5 users, 5 different leads", "5 users, the same lead", "6-month backfill, 20"} {
		r := requestsOf(t, rows, sc)
		require.GreaterOrEqualf(t, r.ours, r.minimum, "%s: ours below the minimum", sc)
		require.Positivef(t, r.naive, "%s: no naive figure", sc)
		require.Positivef(t, r.paced, "%s: no naive + pacer figure", sc)
	}
	same := requestsOf(t, rows, "5 users, the same lead")
	require.LessOrEqual(t, same.ours, same.all, "the users of one lead share one fetch sequence")
	if same.minimum > 0 {
		require.Equal(t, same.minimum, same.ours, "the users of one lead share one fetch")
	}

	// Wasted requests, for the concurrent scenarios: at most what was sent.
	for _, sc := range []string{"5 users, 5 different leads", "5 users, the same lead"} {
		sent := requestsOf(t, rows, sc)
		w := find(rows, sc, "requests wasted")
		require.Lenf(t, w, 1, "%s: no wasted-requests row", sc)
		for i, cell := range []string{w[0].Ours, strings.TrimPrefix(w[0].Baseline, "naive: "), w[0].Paced} {
			all, pages := pair(t, cell)
			require.LessOrEqualf(t, pages, all, "%s: wasted pages above wasted requests", sc)
			require.LessOrEqualf(t, all, []int{sent.ours, sent.naive, sent.paced}[i], "%s: more wasted than sent", sc)
		}
	}

	// Latency: succeeded + timed out + failed is every refresh of the row
	// ("while a backfill runs" may leave some out), and ours never fail.
	for sc, n := range map[string]int{"refresh alone": 3, "refresh while a backfill runs": 3, "5 users, 5 different leads": 5, "5 users, the same lead": 5} {
		c := find(rows, sc, "refreshes: succeeded / timed out / failed")
		require.Lenf(t, c, 1, "%s: no counts row", sc)
		for i, cell := range []string{c[0].Ours, strings.TrimPrefix(c[0].Baseline, "naive: "), c[0].Paced} {
			ok, timedOut, failed := triple(t, cell)
			if strings.HasPrefix(sc, "refresh while") {
				require.LessOrEqualf(t, ok+timedOut+failed, n, "%s: %q", sc, cell)
			} else {
				require.Equalf(t, n, ok+timedOut+failed, "%s: %q", sc, cell)
			}
			if i == 0 {
				require.Zerof(t, failed, "%s: our refreshes failed", sc)
			}
		}
	}

	// Part 5: both strategies on every load and the burst; every list a
	// refresh returned, and every store after the drain, agree with the
	// fake's ground truth (a mismatch also fails the run).
	for _, sc := range []string{"sales floor: 4 advisors", "12 users refreshing 12 different leads at once"} {
		c := find(rows, sc, "refreshes: served / timed out / failed")
		require.Lenf(t, c, 1, "%s: no counts row", sc)
		for _, cell := range []string{c[0].Ours, strings.TrimPrefix(c[0].Baseline, "spec's path: ")} {
			_, _, failed := triple(t, cell)
			require.Zerof(t, failed, "%s: %q", sc, cell)
		}
		o := find(rows, sc, "oracle:")
		require.Lenf(t, o, 1, "%s: no oracle row", sc)
		require.Equal(t, "0 / 0", o[0].Ours, sc)
		require.Equal(t, "spec's path: 0 / 0", o[0].Baseline, sc)
	}
	// How many of the burst are served within the deadline is a figure of
	// the harness (wall-clock time, compressed), not an assertion here: on
	// a loaded machine under -race a 150 ms deadline proves nothing. That a
	// catch-up serves every refresh waiting for it is tested on a fake
	// clock in package callhistory (TestCatchUpServesEveryRefreshWaitingForIt).
}

// markdownRows parses the table of the Markdown report.
func markdownRows(t *testing.T, doc string) []row {
	t.Helper()
	var rows []row
	for _, line := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(line, "| ") || strings.HasPrefix(line, "| Part ") || strings.HasPrefix(line, "| ---") {
			continue
		}
		c := strings.Split(strings.TrimSuffix(strings.TrimPrefix(line, "| "), " |"), " | ")
		require.Lenf(t, c, 7, "a table line with other than 7 cells: %q", line)
		rows = append(rows, row{Part: c[0], Scenario: c[1], Figure: c[2], Ours: c[3], Baseline: c[4], Paced: c[5], Floor: c[6]})
	}
	require.NotEmpty(t, rows, "no table in the Markdown report")
	return rows
}

// find returns the rows whose scenario starts with scenario and whose
// figure starts with figure.
func find(rows []row, scenario, figure string) []row {
	var out []row
	for _, r := range rows {
		if strings.HasPrefix(r.Scenario, scenario) && strings.HasPrefix(r.Figure, figure) {
			out = append(out, r)
		}
	}
	return out
}

// requests is a "requests sent" row: each side's count, the minimum of the
// whole work, and the minimum of what ours served.
type requests struct{ ours, naive, paced, all, minimum int }

var (
	leadingCount = regexp.MustCompile(`^(?:naive: )?([\d,]+)[ ;:(]`)
	oursServed   = regexp.MustCompile(`for what each served: ours ([\d,]+)`)
)

// requestsOf reads the "requests sent" row of a scenario.
func requestsOf(t *testing.T, rows []row, scenario string) requests {
	t.Helper()
	rs := find(rows, scenario, "requests sent")
	require.Lenf(t, rs, 1, "no single requests row for %q", scenario)
	r := rs[0]
	num := func(cell string) int {
		m := leadingCount.FindStringSubmatch(cell)
		require.NotNilf(t, m, "cannot read the count of %q", cell)
		return atoi(t, m[1])
	}
	all := num(r.Floor)
	minimum := all
	if m := oursServed.FindStringSubmatch(r.Floor); m != nil {
		minimum = atoi(t, m[1])
	}
	return requests{ours: num(r.Ours), naive: num(r.Baseline), paced: num(r.Paced), all: all, minimum: minimum}
}

// pair reads "a / b".
func pair(t *testing.T, cell string) (int, int) {
	t.Helper()
	a, b, ok := strings.Cut(cell, " / ")
	require.Truef(t, ok, "not a pair: %q", cell)
	return atoi(t, a), atoi(t, b)
}

// triple reads "a / b / c".
func triple(t *testing.T, cell string) (int, int, int) {
	t.Helper()
	a, rest, ok := strings.Cut(cell, " / ")
	require.Truef(t, ok, "not a triple: %q", cell)
	b, c := pair(t, rest)
	return atoi(t, a), b, c
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(strings.ReplaceAll(s, ",", ""))
	require.NoError(t, err)
	return n
}

// TestTimeoutsAreCounted runs 12 users on 12 different leads at once with
// pages so slow (10 s for a 30 s deadline) that the deadline admits at most
// three: most refreshes must time out, and be counted as timeouts, not as
// failures, their requests as wasted.
func TestTimeoutsAreCounted(t *testing.T) {
	t.Parallel()
	cfg := defaultConfig()
	cfg.Compress, cfg.Latency, cfg.Jitter = 500, 10*time.Second, 0
	cfg.Employees, cfg.Leads, cfg.Calls, cfg.Users = 5, 12, 300, 12
	e, err := newEnv(t.Context(), cfg)
	require.NoError(t, err)
	defer e.close()
	ids := make([]string, cfg.Users)
	for i := range ids {
		ids[i] = e.ds.Leads[i].ID
	}
	for _, sd := range sides {
		o := e.refreshes(t.Context(), sd, ids, true)
		l := e.latencyOf(o, nil)
		require.Zerof(t, o.failed, "%s: a timeout is not a failure: %v", sd, o.firstErr)
		require.Equalf(t, len(ids), l.ok+l.timedOut, "%s: every refresh succeeded or timed out", sd)
		require.GreaterOrEqualf(t, l.timedOut, len(ids)-3, "%s: each lead needs two pages; the deadline admits three", sd)
		require.Equal(t, o.timedOut, l.timedOut)
		require.Positivef(t, o.wasted.requests, "%s: the timed-out refreshes' requests are wasted", sd)
		require.LessOrEqual(t, o.wasted.requests, o.tally.requests)
		require.LessOrEqual(t, o.wasted.pages, o.wasted.requests)
	}
}

// TestNaiveRetryWait checks that the naive client waits after a 429 what
// real Callyzer would make it wait: at least the pacing interval, in
// compressed time.
func TestNaiveRetryWait(t *testing.T) {
	t.Parallel()
	c := &naiveClient{compress: 100, interval: 2 * time.Second}
	require.Equal(t, 20*time.Millisecond, c.retryWait(1), "Retry-After 1 means the interval (2 s) in real time")
	require.Equal(t, 20*time.Millisecond, c.retryWait(0), "no Retry-After: the interval")
	require.Equal(t, 50*time.Millisecond, c.retryWait(5), "a longer Retry-After is obeyed")
}

// TestLatencyOf checks that percentiles are over the successes only and
// that timeouts and failures are counted apart.
func TestLatencyOf(t *testing.T) {
	t.Parallel()
	e := &env{cfg: defaultConfig()}
	var o outcome
	for _, s := range []refreshStat{
		{took: 10 * time.Millisecond, floor: 10 * time.Millisecond},
		{took: 30 * time.Millisecond, floor: 10 * time.Millisecond},
		{took: 300 * time.Millisecond, floor: 10 * time.Millisecond, err: context.DeadlineExceeded, timedOut: true},
		{took: 5 * time.Millisecond, floor: 10 * time.Millisecond, err: errBudget},
	} {
		o.record(s)
	}
	require.Equal(t, 1, o.timedOut)
	require.Equal(t, 1, o.failed)
	require.ErrorIs(t, o.firstErr, errBudget)
	want := latency{n: 4, ok: 2, timedOut: 1, failed: 1, ratio: [3]float64{1, 3, 3}, real: [3]float64{1, 3, 3}, floor: 1}
	require.Empty(t, cmp.Diff(want, e.latencyOf(o, nil), cmp.AllowUnexported(latency{})))
	require.Equal(t, 2, e.latencyOf(o, func(s refreshStat) bool { return s.err == nil }).n)
}

// TestFlags checks that bad flags exit with 2 and say why.
func TestFlags(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"-compress", "0"},
		{"-users", "500", "-leads", "10"},
		{"-jitter", "2"},
		{"stray"},
	} {
		var stdout, stderr bytes.Buffer
		require.Equalf(t, 2, realMain(args, &stdout, &stderr), "args %v", args)
		require.Contains(t, stderr.String(), "loadtest")
		require.Empty(t, stdout.String())
	}
}

// TestHelp: -h says what the harness does and how long it runs, lists
// the flags, and exits 0; PostgreSQL has one flag.
func TestHelp(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	require.Equal(t, 0, realMain([]string{"-h"}, &stdout, &stderr))
	help := stderr.String()
	for _, want := range []string{"Measures, in-process against the fake Callyzer", "about a minute on 2 cores", "Exit code:", "\n  -db string", "\n  -markdown string", "\n  -timeout duration"} {
		require.Contains(t, help, want)
	}
	require.NotContains(t, help, "-postgres", "one flag for PostgreSQL: -db")
	require.Empty(t, stdout.String())
}

// TestMinPages checks the minimum request count the table compares against.
func TestMinPages(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	from := now.AddDate(0, -6, 0)
	chunks := chunksOldestFirst(from, now)
	require.Len(t, chunks, 2, "six months need two chunks of at most 180 days")
	require.Equal(t, from.Unix(), chunks[0].from)
	require.Equal(t, now.Unix(), chunks[1].to)
	require.Equal(t, chunks[0].to+1, chunks[1].from)
	newest := chunksNewestFirst(from, now)
	require.Len(t, newest, 2)
	require.Equal(t, now.Unix()-maxWindow, newest[0].from)

	var times []int64
	for i := range 250 { // 250 calls in the first chunk, none in the second
		times = append(times, chunks[0].from+int64(i))
	}
	require.Equal(t, 3+1, minPages(times, chunks), "⌈250/100⌉ pages, and one for the empty chunk")
	require.Equal(t, 2, minPages(nil, chunks), "an empty window still costs a request per chunk")
}

// TestPercentile checks the nearest-rank percentiles of the latency rows.
func TestPercentile(t *testing.T) {
	t.Parallel()
	xs := []float64{5, 1, 4, 2, 3}
	require.Equal(t, 3.0, percentile(xs, 50))
	require.Equal(t, 5.0, percentile(xs, 95))
	require.Equal(t, 5.0, percentile(xs, 100))
	require.Equal(t, 0.0, percentile(nil, 50))
	require.Equal(t, []float64{5, 1, 4, 2, 3}, xs, "percentile must not reorder its input")
}
