package callyzer_test

import (
	"encoding/json"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/leadcalls/leadcalls/callyzer"
)

// pageNos lists the page_no of every request s got.
func pageNos(t *testing.T, s *apiServer) []int {
	t.Helper()
	var out []int
	for _, r := range s.requests() {
		var b struct {
			PageNo int `json:"page_no"`
		}
		require.NoError(t, json.Unmarshal(r.Body, &b))
		out = append(out, b.PageNo)
	}
	return out
}

// TestHistoryChunkDistinctIDs: when a chunk's rows reach total_records but
// its distinct call ids do not (a row repeated, another skipped), the
// chunk is read once more from page 1, both readings yielded; a second
// such reading ends with ErrIncompleteResponse.
func TestHistoryChunkDistinctIDs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		pages   [][]byte
		wantErr string // "": the iteration succeeds
		wantIDs []string
		pageNos []int
	}{
		{
			name:    "repeat and skip, whole on the second reading",
			pages:   [][]byte{page(4, "a", "b"), page(4, "b", "d"), page(4, "a", "b"), page(4, "c", "d")},
			wantIDs: []string{"a", "b", "b", "d", "a", "b", "c", "d"},
			pageNos: []int{1, 2, 1, 2},
		},
		{
			name:    "repeat and skip on both readings",
			pages:   [][]byte{page(4, "a", "b"), page(4, "b", "d"), page(4, "a", "b"), page(4, "b", "d")},
			wantErr: "3 distinct call ids for total_records 4, on two readings",
			wantIDs: []string{"a", "b", "b", "d", "a", "b"}, // the failing page is not yielded
			pageNos: []int{1, 2, 1, 2},
		},
		{
			name:    "a repeated row counted in the total",
			pages:   [][]byte{page(3, "a", "b"), page(3, "b"), page(2, "a", "b")},
			wantIDs: []string{"a", "b", "b", "a", "b"},
			pageNos: []int{1, 2, 1},
		},
		{
			name:    "the same id twice on one page, twice",
			pages:   [][]byte{page(2, "a", "a")},
			wantErr: "1 distinct call ids for total_records 2, on two readings",
			wantIDs: []string{"a", "a"},
			pageNos: []int{1, 1},
		},
		{
			name:    "distinct ids add up",
			pages:   [][]byte{page(3, "a", "b"), page(3, "c")},
			wantIDs: []string{"a", "b", "c"},
			pageNos: []int{1, 2},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := newAPIServer(t, serveFixtures(tc.pages...))
			c := newClient(t, srv.URL, callyzer.WithPageSize(2))
			q := historyQuery()
			q.CallFrom = windowTo.AddDate(0, -1, 0)
			pages, err := collect(t, c, q)
			var ids []string
			for _, pg := range pages {
				for _, call := range pg.Calls {
					ids = append(ids, call.ID)
				}
			}
			require.Equal(t, tc.wantIDs, ids)
			require.Equal(t, tc.pageNos, pageNos(t, srv), "requests by page_no")
			if tc.wantErr == "" {
				require.NoError(t, err)
				require.Equal(t, callyzer.Cursor{Done: true}, pages[len(pages)-1].Next)
				return
			}
			require.ErrorIs(t, err, callyzer.ErrIncompleteResponse)
			require.NotErrorIs(t, err, callyzer.ErrShifted)
			require.ErrorContains(t, err, tc.wantErr)
			var e *callyzer.Error
			require.ErrorAs(t, err, &e)
			require.Equal(t, tc.pageNos[len(tc.pageNos)-1], e.PageNo)
		})
	}
}

// TestHistoryChunkRereadCursor: the last page of an incomplete first
// reading points back at page 1 of its chunk, so a caller that stops there
// and resumes reads the chunk again, checked.
func TestHistoryChunkRereadCursor(t *testing.T) {
	t.Parallel()
	srv := newAPIServer(t, serveFixtures(page(4, "a", "b"), page(4, "b", "d"), page(4, "a", "b"), page(4, "c", "d")))
	c := newClient(t, srv.URL, callyzer.WithPageSize(2))
	q := historyQuery()
	q.CallFrom = windowTo.AddDate(0, -1, 0)
	var next []callyzer.Cursor
	for pg, err := range c.HistoryPages(t.Context(), q) {
		require.NoError(t, err)
		next = append(next, pg.Next)
	}
	from, to := q.CallFrom.UTC(), q.CallTo.UTC()
	require.Equal(t, []callyzer.Cursor{
		{ChunkFrom: from, ChunkTo: to, NextPage: 2, Seen: 2, Total: 4},
		{ChunkFrom: from, ChunkTo: to, NextPage: 1}, // read the chunk again
		{ChunkFrom: from, ChunkTo: to, NextPage: 2, Seen: 2, Total: 4},
		{Done: true},
	}, next)
}

// TestHistoryChunkResumedCursor: a reading resumed past page 1 (Seen > 0)
// cannot know the ids before it and is not checked; one resumed at page 1
// is.
func TestHistoryChunkResumedCursor(t *testing.T) {
	t.Parallel()
	from := windowTo.AddDate(0, -1, 0).UTC()
	q := historyQuery()
	q.CallFrom = from

	srv := newAPIServer(t, serveFixtures(page(4, "b", "d")))
	c := newClient(t, srv.URL, callyzer.WithPageSize(2))
	q.After = callyzer.Cursor{ChunkFrom: from, ChunkTo: windowTo, NextPage: 2, Seen: 2, Total: 4}
	pages, err := collect(t, c, q)
	require.NoError(t, err)
	require.Len(t, pages, 1)
	require.Equal(t, []int{2}, pageNos(t, srv))

	srv = newAPIServer(t, serveFixtures(page(4, "a", "b"), page(4, "b", "d"), page(4, "a", "b"), page(4, "c", "d")))
	c = newClient(t, srv.URL, callyzer.WithPageSize(2))
	q.After = callyzer.Cursor{ChunkFrom: from, ChunkTo: windowTo, NextPage: 1}
	pages, err = collect(t, c, q)
	require.NoError(t, err)
	require.Len(t, pages, 4)
	require.Equal(t, []int{1, 2, 1, 2}, pageNos(t, srv))
}

// TestHistoryChunkRereadPerChunkAndVariant: only the chunk (and v2.2
// variant) whose ids fall short is read again; the others once.
func TestHistoryChunkRereadPerChunkAndVariant(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	readings := map[string]int{} // page-1 requests per chunk and mode
	srv := newAPIServer(t, func(_ int, r sentRequest, w http.ResponseWriter) {
		var b struct {
			CallTo   int64  `json:"call_to"`
			PageNo   int    `json:"page_no"`
			CallMode string `json:"call_mode"`
		}
		require.NoError(t, json.Unmarshal(r.Body, &b))
		mu.Lock()
		key := b.CallMode
		if b.CallTo == windowTo.Unix() {
			key += " newer"
		}
		if b.PageNo == 1 {
			readings[key]++
		}
		n := readings[key]
		mu.Unlock()
		switch {
		case key != "Video newer":
			writeJSON(w, http.StatusOK, page(1, key))
		case b.PageNo == 1:
			writeJSON(w, http.StatusOK, page(4, "a", "b"))
		case n == 1:
			writeJSON(w, http.StatusOK, page(4, "b", "d")) // "c" skipped
		default:
			writeJSON(w, http.StatusOK, page(4, "c", "d"))
		}
	})
	c := newClient(t, srv.URL, callyzer.WithPageSize(2), callyzer.WithCallVariants(
		callyzer.CallVariant{Method: "PhoneCall", Mode: "Voice"},
		callyzer.CallVariant{Method: "WhatsAppCall", Mode: "Video"},
	))
	pages, err := collect(t, c, historyQuery())
	require.NoError(t, err)
	// Older chunk: Voice 1, Video 1; newer chunk: Voice 1, Video 1 2 1 2.
	require.Equal(t, []int{1, 1, 1, 1, 2, 1, 2}, pageNos(t, srv))
	require.Len(t, pages, 7)
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, map[string]int{"Voice": 1, "Video": 1, "Voice newer": 1, "Video newer": 2}, readings)
}
