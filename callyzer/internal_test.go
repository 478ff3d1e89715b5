package callyzer

import (
	"crypto/rand"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/leadcalls/leadcalls/callyzer/pacing"
)

func TestDecideRetry(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	base := retryInput{retryable: true, maxRetries: 3, maxRetryAfter: time.Minute, backoff: time.Second, now: now}
	with := func(f func(*retryInput)) retryInput { in := base; f(&in); return in }
	tests := []struct {
		name string
		in   retryInput
		want retryDecision
	}{
		{"retryable waits the backoff", base, retryDecision{retry: true, wait: time.Second}},
		{"not retryable", with(func(in *retryInput) { in.retryable = false }), retryDecision{}},
		{"retries used up", with(func(in *retryInput) { in.retriesDone = 3 }), retryDecision{}},
		{"exception 400 first time", with(func(in *retryInput) { in.exception = true }), retryDecision{retry: true, wait: time.Second}},
		{"exception 400 second time", with(func(in *retryInput) { in.exception, in.exceptionRetried = true, true }), retryDecision{}},
		{"429 waits its Retry-After", with(func(in *retryInput) { in.rateLimited, in.hasRetryAfter, in.retryAfter = true, true, 7*time.Second }),
			retryDecision{retry: true, wait: 7 * time.Second}},
		{"429 without Retry-After waits the backoff", with(func(in *retryInput) { in.rateLimited = true }), retryDecision{retry: true, wait: time.Second}},
		{"429 over the cap", with(func(in *retryInput) { in.rateLimited, in.hasRetryAfter, in.retryAfter = true, true, 2*time.Minute }),
			retryDecision{reason: "Retry-After 2m0s is over the 1m0s cap"}},
		{"429 past the deadline", with(func(in *retryInput) {
			in.rateLimited, in.hasRetryAfter, in.retryAfter = true, true, 10*time.Second
			in.hasDeadline, in.deadline = true, now.Add(5*time.Second)
		}), retryDecision{reason: "waiting 10s would pass the deadline"}},
		{"backoff past the deadline", with(func(in *retryInput) { in.hasDeadline, in.deadline = true, now.Add(time.Second) }),
			retryDecision{reason: "waiting 1s would pass the deadline"}},
		{"backoff within the deadline", with(func(in *retryInput) { in.hasDeadline, in.deadline = true, now.Add(time.Minute) }),
			retryDecision{retry: true, wait: time.Second}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Empty(t, cmp.Diff(tc.want, decideRetry(tc.in), cmp.AllowUnexported(retryDecision{})))
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in     string
		want   time.Duration
		wantOK bool
	}{
		{"", 0, false},
		{"0", 0, true},
		{" 5 ", 5 * time.Second, true},
		{"120", 2 * time.Minute, true},
		{"99999999999999999999999", maxRetryAfterValue, true},
		{"-1", 0, false},
		{"1.5", 0, false},
		{"5s", 0, false},
		{"soon", 0, false},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{"Friday, 20-Nov-26 12:00:30 GMT", 30 * time.Second, true}, // RFC 850
		{"Fri Nov 20 12:01:00 2026", time.Minute, true},            // ANSI C
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
		{now.AddDate(5, 0, 0).Format(http.TimeFormat), maxRetryAfterValue, true},
	}
	for _, tc := range tests {
		got, ok := parseRetryAfter(tc.in, now)
		require.Equal(t, tc.wantOK, ok, "%q", tc.in)
		require.Equal(t, tc.want, got, "%q", tc.in)
	}
}

// chunks splits s into the chunks an iteration reads, in its order.
func chunks(s span, maxSpan int64, newestFirst bool) []span {
	var out []span
	for rest, more := s, true; more; {
		c := firstChunk(rest, maxSpan, newestFirst)
		out = append(out, c)
		rest, more = restAfter(rest, c, newestFirst)
	}
	return out
}

func TestChunks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		s       span
		maxSpan int64
		want    []span
	}{
		{span{0, 0}, 10, []span{{0, 0}}},
		{span{0, 10}, 10, []span{{0, 10}}},
		{span{0, 11}, 10, []span{{0, 10}, {11, 11}}},
		{span{5, 40}, 10, []span{{5, 15}, {16, 26}, {27, 37}, {38, 40}}},
	}
	for _, tc := range tests {
		require.Equal(t, tc.want, chunks(tc.s, tc.maxSpan, false))
	}
	// Newest first: each chunk ends a second before the previous began.
	require.Equal(t, []span{{30, 40}, {19, 29}, {8, 18}, {5, 7}}, chunks(span{5, 40}, 10, true))
	// Property: contiguous, no overlap, each within the limit, exact cover.
	for from := int64(0); from < 50; from += 7 {
		for to := from; to < from+200; to += 13 {
			for _, m := range []int64{1, 3, 50} {
				cs := chunks(span{from, to}, m, false)
				require.Equal(t, from, cs[0].from)
				require.Equal(t, to, cs[len(cs)-1].to)
				for i, c := range cs {
					require.LessOrEqual(t, c.to-c.from, m)
					require.LessOrEqual(t, c.from, c.to)
					if i > 0 {
						require.Equal(t, cs[i-1].to+1, c.from)
					}
				}
				rev := chunks(span{from, to}, m, true)
				require.Equal(t, to, rev[0].to)
				require.Equal(t, from, rev[len(rev)-1].from)
				for i, c := range rev {
					require.LessOrEqual(t, c.to-c.from, m)
					require.LessOrEqual(t, c.from, c.to)
					if i > 0 {
						require.Equal(t, rev[i-1].from-1, c.to)
					}
				}
			}
		}
	}
}

// TestNumberForms: the phone rules are tested in internal/phone; here,
// each form of WithClientNumberForm, and that a number Callyzer's filter
// cannot take is an invalid query that does not quote it.
func TestNumberForms(t *testing.T) {
	t.Parallel()
	for form, want := range map[string][]string{
		"dashed":   {"48-601234567", "39-0612345678"},
		"national": {"601234567", "0612345678"},
		"e164":     {"+48601234567", "+390612345678"},
		"digits":   {"48601234567", "390612345678"},
	} {
		got, err := inForm([]string{"+48601234567", "+390612345678"}, numberForms[form])
		require.NoError(t, err)
		require.Equal(t, want, got, form)
		require.Equal(t, form, numberForms[form].String())
	}
	for _, bad := range []string{"", "48601234567", "+48 601 234 567", "+0123456789", "+999123456789", "+48", "+4860123456789012"} {
		_, err := inForm([]string{"+48601234567", bad}, formDashed)
		require.ErrorIs(t, err, ErrInvalidQuery, bad)
		if len(bad) > 6 {
			require.NotContains(t, err.Error(), bad[len(bad)-7:], "numbers are masked in errors")
		}
	}
	require.Equal(t, []string{"+48 601 *** 567", "***567"}, maskPhones([]string{"+48601234567", "601234567"}))
}

func TestParseStamp(t *testing.T) {
	t.Parallel()
	loc, err := time.LoadLocation("Asia/Kolkata")
	require.NoError(t, err)
	ok := []struct {
		in   string
		want time.Time
	}{
		{"", time.Time{}},
		{"0000-00-00 00:00:00", time.Time{}},
		{"2026-11-20 14:32:10", time.Date(2026, 11, 20, 14, 32, 10, 0, loc)},
		{"2026-11-20 14:32:10 IST", time.Date(2026, 11, 20, 14, 32, 10, 0, loc)},
		{"2026-11-20 14:32:10 CET", time.Date(2026, 11, 20, 14, 32, 10, 0, loc)},
		{"2026-11-20 14:32:10 UTC", time.Date(2026, 11, 20, 14, 32, 10, 0, time.UTC)},
		{"2026-11-20 14:32:10 -03", time.Date(2026, 11, 20, 17, 32, 10, 0, time.UTC)},
		{"2026-11-20T14:32:10", time.Date(2026, 11, 20, 14, 32, 10, 0, loc)},
	}
	for _, tc := range ok {
		got, err := parseStamp(tc.in, loc)
		require.NoError(t, err, tc.in)
		require.True(t, tc.want.Equal(got), "%q: got %v want %v", tc.in, got, tc.want)
	}
	for _, bad := range []string{"2026-11-20", "20.11.2026 14:32:10", "2026-11-20 14:32:10 Europe/Warsaw", "2026-11-20 14:32:10 +99:00", "2026-13-20 14:32:10"} {
		_, err := parseStamp(bad, loc)
		require.Error(t, err, bad)
	}
}

func TestDefaultHTTPClient(t *testing.T) {
	t.Parallel()
	c, err := NewClient("k")
	require.NoError(t, err)
	require.NotSame(t, http.DefaultClient, c.hc)
	require.Equal(t, defaultAttemptTimeout, c.hc.Timeout)
	require.Equal(t, "Europe/Warsaw", c.cfg.loc.String())
	require.Equal(t, defaultBaseURL, c.cfg.baseURL)
	require.Equal(t, defaultPageSize, c.cfg.pageSize)
	require.Equal(t, defaultMaxWindow, c.cfg.maxWindow)
	require.Nil(t, c.cfg.variants, "API v2.1 unless WithCallVariants")
	// The default pacer is the process-wide one of the key and host.
	d, err := NewClient("k")
	require.NoError(t, err)
	require.Same(t, c.pacer, d.pacer)
	e, err := NewClient("other")
	require.NoError(t, err)
	require.NotSame(t, c.pacer, e.pacer)
}

// TestSharedPacerByKeyAndHost: Clients of one key and host share a pacer
// whatever intervals they ask for, and the pacer keeps the largest (and
// its grace, min(interval, 1s)). In a bubble, under a key of its own, so
// that the pacer belongs to the bubble.
func TestSharedPacerByKeyAndHost(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		key := "shared-interval-key-" + rand.Text()
		base := WithBaseURL("https://shared-interval.test/api/v2.1")
		fast, err := NewClient(key, base, WithInterval(100*time.Millisecond))
		require.NoError(t, err)
		slow, err := NewClient(key, base, WithInterval(3*time.Second))
		require.NoError(t, err)
		faster, err := NewClient(key, base, WithInterval(0))
		require.NoError(t, err)
		require.Same(t, fast.pacer, slow.pacer, "one key and host: one pacer, one request in flight")
		require.Same(t, fast.pacer, faster.pacer)

		acquire := func(c *Client, prio pacing.Priority) (pacing.Sequence, func(time.Time)) {
			seq := c.pacer.Begin(prio)
			release, err := seq.Acquire(t.Context())
			require.NoError(t, err)
			return seq, release
		}
		start := time.Now()
		seq, release := acquire(faster, pacing.Background)
		release(time.Time{})
		seq.End()
		seq, release = acquire(fast, pacing.Interactive)
		require.Equal(t, 3*time.Second, time.Since(start), "the largest interval asked for holds")

		time.Sleep(4 * time.Second) // past the interval: only the grace keeps the slot
		release(time.Time{})
		released := time.Now()
		bg, bgRelease := acquire(faster, pacing.Background)
		require.Equal(t, time.Second, time.Since(released), "the grace of the largest interval, 1s at most")
		bgRelease(time.Time{})
		bg.End()
		seq.End()
	})

	other, err := NewClient("shared-interval-key", WithBaseURL("https://other-host.test/api/v2.1"), WithInterval(3*time.Second))
	require.NoError(t, err)
	same, err := NewClient("shared-interval-key", WithBaseURL("https://shared-interval.test/api/v2.1"), WithInterval(3*time.Second))
	require.NoError(t, err)
	require.NotSame(t, same.pacer, other.pacer, "another host is another budget")
}
