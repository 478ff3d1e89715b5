package callyzer_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadcalls/leadcalls/callyzer"
)

// account is a scripted Callyzer account for the adaptive window and page
// size: one call every day at midnight over the six-month window, ids
// "c000" (oldest) on, answered newest first.
type account struct {
	maxSpan int64  // the widest call_to - call_from it accepts; 0: any
	refuse  string // the body of its 400 for a wider window
	perPage int    // the most rows it serves a page; 0: as asked
	// stride is where page n starts, (n-1)*stride: 0 pages by the rows it
	// serves (perPage when capped); -1 by the page_size asked; another
	// value by that many rows whatever was asked.
	stride int
	calls  []int64 // call times, oldest first
}

func newAccount() *account {
	a := &account{refuse: `{"message":"The date range should not be greater than 31 days."}`}
	for at := windowFrom; !at.After(windowTo); at = at.AddDate(0, 0, 1) {
		a.calls = append(a.calls, at.Unix())
	}
	return a
}

// sentHistory is what a history request carried.
type sentHistory struct {
	From, To         int64
	PageNo, PageSize int
}

func (h sentHistory) span() int64 { return h.To - h.From }

func decodeHistory(t testing.TB, r sentRequest) sentHistory {
	t.Helper()
	var b struct {
		CallFrom int64 `json:"call_from"`
		CallTo   int64 `json:"call_to"`
		PageNo   int   `json:"page_no"`
		PageSize int   `json:"page_size"`
	}
	require.NoError(t, json.Unmarshal(r.Body, &b))
	return sentHistory{b.CallFrom, b.CallTo, b.PageNo, b.PageSize}
}

func (a *account) serve(t testing.TB) func(int, sentRequest, http.ResponseWriter) {
	return func(_ int, r sentRequest, w http.ResponseWriter) {
		h := decodeHistory(t, r)
		if a.maxSpan > 0 && h.span() > a.maxSpan {
			writeJSON(w, http.StatusBadRequest, []byte(a.refuse))
			return
		}
		var ids []string // newest first
		for i := len(a.calls) - 1; i >= 0; i-- {
			if at := a.calls[i]; at >= h.From && at <= h.To {
				ids = append(ids, fmt.Sprintf("c%03d", i))
			}
		}
		per := h.PageSize
		if a.perPage > 0 {
			per = min(per, a.perPage)
		}
		stride := per
		switch {
		case a.stride < 0:
			stride = h.PageSize
		case a.stride > 0:
			stride = a.stride
		}
		from := min((h.PageNo-1)*stride, len(ids))
		writeJSON(w, http.StatusOK, page(len(ids), ids[from:min(from+per, len(ids))]...))
	}
}

func sentHistories(t testing.TB, s *apiServer) []sentHistory {
	var out []sentHistory
	for _, r := range s.requests() {
		out = append(out, decodeHistory(t, r))
	}
	return out
}

// infoLog records the Info lines of a client.
type infoLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *infoLog) Enabled(_ context.Context, lv slog.Level) bool { return lv >= slog.LevelInfo }
func (l *infoLog) WithAttrs([]slog.Attr) slog.Handler            { return l }
func (l *infoLog) WithGroup(string) slog.Handler                 { return l }
func (l *infoLog) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	line := r.Message
	r.Attrs(func(a slog.Attr) bool {
		line += " " + a.String()
		return true
	})
	l.lines = append(l.lines, line)
	return nil
}

func (l *infoLog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.lines)
}

const day = 24 * 3600

// readAll drains HistoryPages and returns the distinct ids, the requests
// the pages say they took, and the error.
func readAll(t testing.TB, c *callyzer.Client, q callyzer.HistoryQuery) (ids []string, attempts int, err error) {
	t.Helper()
	seen := map[string]bool{}
	for pg, err := range c.HistoryPages(t.Context(), q) {
		if err != nil {
			if e, ok := err.(*callyzer.Error); ok {
				attempts += e.Attempts
			}
			return ids, attempts, err
		}
		attempts += pg.Attempts
		for _, call := range pg.Calls {
			if !seen[call.ID] {
				seen[call.ID] = true
				ids = append(ids, call.ID)
			}
		}
	}
	return ids, attempts, nil
}

// TestAdaptiveWindow: an account that refuses windows over 31 days. The
// first chunk (180 days) is refused, then 90 and 45 days; 22.5 days is
// answered and kept: the 184-day window takes 3 refused requests and 9
// chunks of 22.5 days, one page each, 12 requests in all, every one
// counted in the pages' Attempts; the client logs the window once, and
// its next query asks 22.5 days at once (9 requests, none refused).
func TestAdaptiveWindow(t *testing.T) {
	t.Parallel()
	a := newAccount()
	a.maxSpan = 31 * day
	srv := newAPIServer(t, a.serve(t))
	log := &infoLog{}
	c := newClient(t, srv.URL, callyzer.WithLogger(slog.New(log)))

	ids, attempts, err := readAll(t, c, historyQuery())
	require.NoError(t, err)
	require.Len(t, ids, len(a.calls), "every call of the window")
	sent := sentHistories(t, srv)
	require.Len(t, sent, 12)
	require.Equal(t, 12, attempts, "each 400 is a request, counted on the next page")
	var spans []int64
	for _, h := range sent[:4] {
		spans = append(spans, h.span())
	}
	require.Equal(t, []int64{180 * day, 90 * day, 45 * day, 45 * day / 2}, spans, "halved from the same end")
	for _, h := range sent[:4] {
		require.Equal(t, windowFrom.Unix(), h.From, "oldest first: every try starts at the window's start")
	}
	for i, h := range sent[3:] {
		require.LessOrEqual(t, h.span(), int64(45*day/2))
		require.Equal(t, 1, h.PageNo)
		if i > 0 {
			require.Equal(t, sent[3+i-1].To+1, h.From, "contiguous chunks")
		}
	}
	require.Equal(t, windowTo.Unix(), sent[len(sent)-1].To)
	require.Len(t, log.all(), 1)
	require.Contains(t, log.all()[0], "max_window=540h0m0s")

	srv.reset()
	q := historyQuery()
	q.NewestFirst = true
	ids, attempts, err = readAll(t, c, q)
	require.NoError(t, err)
	require.Len(t, ids, len(a.calls))
	require.Equal(t, 9, attempts)
	for _, h := range sentHistories(t, srv) {
		require.LessOrEqual(t, h.span(), int64(45*day/2), "the learned width, from the first request")
	}
	require.Len(t, log.all(), 1, "logged once")
}

// TestAdaptiveWindowBounded: a 400 that persists is halved down to one
// day (9 requests for 180 days: 180, 90, 45, 22.5, 11.25, 5.625, 2.8125,
// 1.40625, 1) and then is ErrBadRequest, with every request in Attempts;
// nothing is learned. A one-day window is not halved (1 request); a 400
// whose body is a server-side exception is retried once, not halved (2
// requests); a 400 once a page of the chunk was answered is an error at
// once.
func TestAdaptiveWindowBounded(t *testing.T) {
	t.Parallel()
	t.Run("persists", func(t *testing.T) {
		t.Parallel()
		a := newAccount()
		a.maxSpan = day / 2
		srv := newAPIServer(t, a.serve(t))
		c := newClient(t, srv.URL)
		_, attempts, err := readAll(t, c, historyQuery())
		require.ErrorIs(t, err, callyzer.ErrBadRequest)
		require.ErrorContains(t, err, "refused at every window tried, from 180d down to 1d")
		require.Equal(t, 9, attempts)
		sent := sentHistories(t, srv)
		require.Len(t, sent, 9)
		var spans []int64
		for _, h := range sent {
			spans = append(spans, h.span())
		}
		require.Equal(t, []int64{15552000, 7776000, 3888000, 1944000, 972000, 486000, 243000, 121500, day}, spans)

		srv.reset()
		_, _, err = readAll(t, c, historyQuery())
		require.ErrorIs(t, err, callyzer.ErrBadRequest)
		require.Equal(t, int64(180*day), sentHistories(t, srv)[0].span(), "nothing learned")
	})
	t.Run("one day", func(t *testing.T) {
		t.Parallel()
		a := newAccount()
		a.maxSpan = day / 2
		srv := newAPIServer(t, a.serve(t))
		q := historyQuery()
		q.CallFrom = windowTo.Add(-day * time.Second)
		_, attempts, err := readAll(t, newClient(t, srv.URL), q)
		require.ErrorIs(t, err, callyzer.ErrBadRequest)
		require.NotContains(t, err.Error(), "refused at every window")
		require.Equal(t, 1, attempts)
		require.Len(t, srv.requests(), 1)
	})
	t.Run("server exception", func(t *testing.T) {
		t.Parallel()
		a := newAccount()
		a.maxSpan = 31 * day
		a.refuse = `{"message":"SQLSTATE[40001]: Serialization failure: 1213 Deadlock found"}`
		srv := newAPIServer(t, a.serve(t))
		_, attempts, err := readAll(t, newClient(t, srv.URL), historyQuery())
		require.ErrorIs(t, err, callyzer.ErrBadRequest)
		require.Equal(t, 2, attempts)
		sent := sentHistories(t, srv)
		require.Len(t, sent, 2)
		require.Equal(t, sent[0], sent[1], "retried as it was")
	})
	t.Run("after an answered page", func(t *testing.T) {
		t.Parallel()
		srv := newAPIServer(t, func(n int, _ sentRequest, w http.ResponseWriter) {
			if n == 1 {
				writeJSON(w, http.StatusOK, page(3, "a", "b"))
				return
			}
			writeJSON(w, http.StatusBadRequest, []byte(`{"message":"The page_no is invalid."}`))
		})
		_, _, err := readAll(t, newClient(t, srv.URL, callyzer.WithPageSize(2)), historyQuery())
		require.ErrorIs(t, err, callyzer.ErrBadRequest)
		require.Len(t, srv.requests(), 2)
	})
}

// TestAdaptiveWindowCursor: a cursor saved for a chunk wider than the
// client now reads (here: the newest 180-day chunk, at page 2) re-reads
// that chunk's range in chunks of the learned 22.5 days, each from page
// 1, then the rest of the window; a client that has not learned the
// window yet, resuming a cursor of a narrower chunk (saved by one that
// had), reads that chunk as it is, then halves the next one on its 400.
func TestAdaptiveWindowCursor(t *testing.T) {
	t.Parallel()
	a := newAccount()
	a.maxSpan = 31 * day
	srv := newAPIServer(t, a.serve(t))
	q := historyQuery()
	q.NewestFirst = true

	learned := newClient(t, srv.URL)
	_, _, err := readAll(t, learned, q)
	require.NoError(t, err)
	srv.reset()
	q.After = callyzer.Cursor{ChunkFrom: windowTo.Add(-180 * day * time.Second), ChunkTo: windowTo, NextPage: 2, Seen: 100, Total: 181}
	ids, attempts, err := readAll(t, learned, q)
	require.NoError(t, err)
	require.Len(t, ids, len(a.calls), "the wide chunk's range again, and the rest")
	sent := sentHistories(t, srv)
	require.Len(t, sent, 9)
	require.Equal(t, 9, attempts)
	require.Equal(t, windowTo.Unix(), sent[0].To)
	for i, h := range sent {
		require.Equal(t, 1, h.PageNo)
		require.LessOrEqual(t, h.span(), int64(45*day/2))
		if i > 0 {
			require.Equal(t, sent[i-1].From-1, h.To, "newest first, contiguous")
		}
	}
	require.Equal(t, windowFrom.Unix(), sent[8].From)

	// A fresh client resumes the cursor of a page of a narrower chunk.
	var cur callyzer.Cursor
	n := 0
	q.After = callyzer.Cursor{}
	for pg, err := range learned.HistoryPages(t.Context(), q) {
		require.NoError(t, err)
		if n++; n == 2 {
			cur = pg.Next // the third chunk, page 1
			break
		}
	}
	require.Equal(t, int64(45*day/2), cur.ChunkTo.Unix()-cur.ChunkFrom.Unix())
	srv.reset()
	q.After = cur
	ids, attempts, err = readAll(t, newClient(t, srv.URL), q)
	require.NoError(t, err)
	require.Len(t, ids, a.count(windowFrom.Unix(), cur.ChunkTo.Unix()), "the cursor's chunk and every older one")
	sent = sentHistories(t, srv)
	require.Equal(t, len(sent), attempts)
	require.Equal(t, sentHistory{cur.ChunkFrom.Unix(), cur.ChunkTo.Unix(), 1, 100}, sent[0], "the cursor's chunk as it is")
	// Then the rest (116.5 days, under the configured 180), refused twice
	// and halved to 29.125 days.
	rest := cur.ChunkFrom.Unix() - 1 - windowFrom.Unix()
	for i, want := range []int64{rest, rest / 2, rest / 4} {
		require.Equal(t, want, sent[1+i].span(), "the rest of the window, halved")
		require.Equal(t, cur.ChunkFrom.Unix()-1, sent[1+i].To)
	}
	require.Equal(t, int64(116*day+day/2-3), rest, "184 days less three chunks of 22.5 days and a second each")
}

// count returns how many calls lie in [from, to].
func (a *account) count(from, to int64) int {
	n := 0
	for _, at := range a.calls {
		if at >= from && at <= to {
			n++
		}
	}
	return n
}

func (s *apiServer) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reqs = nil
}

// lastDays is a query of the newest n calls of the account (one a day).
func lastDays(n int) callyzer.HistoryQuery {
	q := historyQuery()
	q.CallFrom = windowTo.AddDate(0, 0, 1-n)
	return q
}

func pagesSent(t testing.TB, s *apiServer) (out [][2]int) {
	for _, h := range sentHistories(t, s) {
		out = append(out, [2]int{h.PageNo, h.PageSize})
	}
	return out
}

// TestLearnedPageSize: an account that serves 3 rows a page whatever is
// asked. The client asks for 10, gets 3 of 8 on page 1, and pages on by 3
// from the rows seen: 3 requests, every row, the size logged once and
// asked from the first page of the next query. The same holds for an
// account whose pages start where the size asked says (it serves the
// first 3 rows of each): from page 2 on the client asks for 3, where the
// two agree.
func TestLearnedPageSize(t *testing.T) {
	t.Parallel()
	for name, stride := range map[string]int{"pages by what it serves": 0, "pages by the size asked": -1} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			a := newAccount()
			a.perPage, a.stride = 3, stride
			srv := newAPIServer(t, a.serve(t))
			log := &infoLog{}
			c := newClient(t, srv.URL, callyzer.WithPageSize(10), callyzer.WithLogger(slog.New(log)))

			ids, attempts, err := readAll(t, c, lastDays(8))
			require.NoError(t, err)
			require.Equal(t, []string{"c184", "c183", "c182", "c181", "c180", "c179", "c178", "c177"}, ids)
			require.Equal(t, 3, attempts)
			require.Equal(t, [][2]int{{1, 10}, {2, 3}, {3, 3}}, pagesSent(t, srv))
			require.Equal(t, []string{"callyzer: Callyzer served fewer rows than asked; this client now asks for pages of that size page_size=3 configured=10"}, log.all())

			srv.reset()
			ids, _, err = readAll(t, c, lastDays(8))
			require.NoError(t, err)
			require.Len(t, ids, 8)
			require.Equal(t, [][2]int{{1, 3}, {2, 3}, {3, 3}}, pagesSent(t, srv))
			require.Len(t, log.all(), 1, "logged once")
		})
	}
}

// TestLearnedPageSizeCursors: a cursor saved at page 2 of pages of 10
// (10 rows seen), resumed by a client that learned 3, goes on at page 4
// of pages of 3 and leaves out row 10, already seen (6 requests for the
// 15 rows left); one saved at pages of 3 (page 3, 6 rows seen), resumed
// by a client that has learned nothing, goes on at pages of 3 (7
// requests).
func TestLearnedPageSizeCursors(t *testing.T) {
	t.Parallel()
	a := newAccount()
	a.perPage = 3
	srv := newAPIServer(t, a.serve(t))
	q := lastDays(25)
	chunk := func(cur callyzer.Cursor) callyzer.Cursor {
		cur.ChunkFrom, cur.ChunkTo = q.CallFrom, q.CallTo
		return cur
	}
	want := func(from int) []string {
		var out []string
		for i := 184 - from; i >= 160; i-- {
			out = append(out, fmt.Sprintf("c%03d", i))
		}
		return out
	}

	learned := newClient(t, srv.URL, callyzer.WithPageSize(10))
	_, _, err := readAll(t, learned, lastDays(8))
	require.NoError(t, err)
	srv.reset()
	q.After = chunk(callyzer.Cursor{NextPage: 2, Seen: 10, Total: 25})
	ids, _, err := readAll(t, learned, q)
	require.NoError(t, err)
	require.Equal(t, want(10), ids)
	require.Equal(t, [][2]int{{4, 3}, {5, 3}, {6, 3}, {7, 3}, {8, 3}, {9, 3}}, pagesSent(t, srv))

	srv.reset()
	q.After = chunk(callyzer.Cursor{NextPage: 3, Seen: 6, Total: 25})
	ids, _, err = readAll(t, newClient(t, srv.URL, callyzer.WithPageSize(10)), q)
	require.NoError(t, err)
	require.Equal(t, want(6), ids)
	require.Equal(t, [][2]int{{3, 3}, {4, 3}, {5, 3}, {6, 3}, {7, 3}, {8, 3}, {9, 3}}, pagesSent(t, srv))
}

// TestShortPageOnAResumedChunk: a cursor saved at page 2 of pages of 10,
// resumed by a client that has learned nothing, against an account that
// now serves 3 rows a page: the short page 2 may hold other rows than
// asked (an account paging by its own 3 answers rows 3-5), and the reading
// counts no ids, so the page's Next goes back to page 1 and the chunk is
// read again from page 1 by 3, counting ids: 1 + 9 requests, every row.
func TestShortPageOnAResumedChunk(t *testing.T) {
	t.Parallel()
	for name, stride := range map[string]int{"pages by what it serves": 0, "pages by the size asked": -1} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			a := newAccount()
			a.perPage, a.stride = 3, stride
			srv := newAPIServer(t, a.serve(t))
			q := lastDays(25)
			q.After = callyzer.Cursor{ChunkFrom: q.CallFrom, ChunkTo: q.CallTo, NextPage: 2, Seen: 10, Total: 25}
			var nexts []int
			seen := map[string]bool{}
			for pg, err := range newClient(t, srv.URL, callyzer.WithPageSize(10)).HistoryPages(t.Context(), q) {
				require.NoError(t, err)
				nexts = append(nexts, pg.Next.NextPage)
				for _, c := range pg.Calls {
					seen[c.ID] = true
				}
			}
			require.Len(t, seen, 25)
			require.Equal(t, [][2]int{{2, 10}, {1, 3}, {2, 3}, {3, 3}, {4, 3}, {5, 3}, {6, 3}, {7, 3}, {8, 3}, {9, 3}}, pagesSent(t, srv))
			require.Equal(t, 1, nexts[0], "back to page 1")
		})
	}
}

// TestPagingThatSkipsRows: an account whose pages start every 10 rows
// whatever size is asked, and that serves 5 of them: the client learns 5
// and asks page 2 by 5 (rows 5-9) but gets rows 10-14, then 20-24, then an
// empty page before total_records: ErrIncompleteResponse after 4
// requests. The rows it never got end the iteration in an error, never in
// a quiet success.
func TestPagingThatSkipsRows(t *testing.T) {
	t.Parallel()
	a := newAccount()
	a.perPage, a.stride = 5, 10
	srv := newAPIServer(t, a.serve(t))
	_, _, err := readAll(t, newClient(t, srv.URL, callyzer.WithPageSize(10)), lastDays(25))
	require.ErrorIs(t, err, callyzer.ErrIncompleteResponse)
	require.ErrorContains(t, err, "empty page after 15 of 25 rows")
	require.Equal(t, [][2]int{{1, 10}, {2, 5}, {3, 5}, {4, 5}}, pagesSent(t, srv))
}
