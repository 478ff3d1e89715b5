package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// tinyArgs run every scenario on a data set small enough for CI: a few
// seconds, with the pacing interval and latency compressed 500×.
var tinyArgs = []string{
	"-compress", "500", "-calls", "1000", "-employees", "20", "-leads", "12",
	"-users", "5", "-samples", "3", "-cost-leads", "10", "-cost-calls", "600",
	"-memory-calls", "3000", "-timeout", "2m",
}

// TestSmoke runs the harness end to end on tiny sizes and checks that the
// table has every row and that its figures are sane.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped in -short mode: runs the whole harness (a few seconds)")
	}
	md := filepath.Join(t.TempDir(), "performance.md")
	var stdout, stderr bytes.Buffer
	code := realMain(append(tinyArgs, "-markdown", md), &stdout, &stderr)
	out := stdout.String()
	require.Equalf(t, 0, code, "exit code; stdout:\n%s\nstderr:\n%s", out, stderr.String())

	for _, want := range []string{
		"one refresh", "5 users, 5 different leads, at once", "5 users, the same lead, at once",
		"6-month backfill, 20 employees", "refresh alone (3 leads", "refresh while a backfill runs (3 leads)",
		"memstore, first refresh", "memstore, refresh again", "SQLite, first refresh", "SQLite, refresh again",
		"6-month backfill of 3,000 calls",
	} {
		require.Containsf(t, out, want, "the table has no %q row", want)
	}
	require.NotContains(t, out, "FAILED")

	// Requests: never below the minimum; for the same lead, ours is one
	// fetch sequence and the naive client's is at least one per user.
	same := requestsRow(t, out, "5 users, the same lead, at once")
	require.Equal(t, same.minimum, same.ours, "50 users on one lead share one fetch")
	require.GreaterOrEqual(t, same.naive, 5*same.minimum, "every naive user fetches on its own")
	for _, sc := range []string{"one refresh", "5 users, 5 different leads, at once", "6-month backfill"} {
		r := requestsRow(t, out, sc)
		require.GreaterOrEqualf(t, r.ours, r.minimum, "%s: ours below the minimum", sc)
		require.GreaterOrEqualf(t, r.naive, r.minimum, "%s: naive below the minimum", sc)
		require.LessOrEqualf(t, r.ours, r.naive+r.incremental, "%s: ours sends more than the naive client", sc)
	}

	data, err := os.ReadFile(md)
	require.NoError(t, err)
	doc := string(data)
	require.Contains(t, doc, "| Part | Scenario | Figure | Ours | Baseline (same run) | Floor / minimum |")
	require.Contains(t, doc, "CPUs")
	require.Contains(t, doc, "-compress=500")
	require.Contains(t, doc, "What the figures mean")
	require.Equal(t, strings.Count(out, "\n1 requests")+strings.Count(out, "\n2 latency")+strings.Count(out, "\n3 our cost")+strings.Count(out, "\n4 memory"),
		strings.Count(doc, "\n| 1 requests")+strings.Count(doc, "\n| 2 latency")+strings.Count(doc, "\n| 3 our cost")+strings.Count(doc, "\n| 4 memory"),
		"the Markdown table has the text table's rows")
}

// requests is a "requests sent" row; incremental is the Syncer's extra read
// by upload time (backfill row only).
type requests struct{ ours, naive, minimum, incremental int }

var incrementalNote = regexp.MustCompile(`incremental read: ([\d,]+)`)

var requestsLine = regexp.MustCompile(`requests sent \(÷ minimum\)\s+([\d,]+) \(.*?naive: ([\d,]+) \(.*?\s{2,}([\d,]+)`)

// requestsRow reads the "requests sent" row of a scenario from the text table.
func requestsRow(t *testing.T, table, scenario string) requests {
	t.Helper()
	for _, line := range strings.Split(table, "\n") {
		if !strings.Contains(line, scenario) || !strings.Contains(line, "requests sent") {
			continue
		}
		m := requestsLine.FindStringSubmatch(line)
		require.NotNilf(t, m, "cannot read the requests row %q", line)
		r := requests{ours: atoi(t, m[1]), naive: atoi(t, m[2]), minimum: atoi(t, m[3])}
		if m := incrementalNote.FindStringSubmatch(line); m != nil {
			r.incremental = atoi(t, m[1])
		}
		return r
	}
	t.Fatalf("no requests row for %q in:\n%s", scenario, table)
	return requests{}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(strings.ReplaceAll(s, ",", ""))
	require.NoError(t, err)
	return n
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
