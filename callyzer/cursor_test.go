package callyzer_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadcalls/leadcalls/callyzer"
)

// chunkServer answers a call-window request by its chunk: the newer chunk
// of windowFrom..windowTo (two chunks at 180 days) has 5 rows, paged by 2;
// the older one none. total adds to the newer chunk's total_records.
func chunkServer(t *testing.T, total *int) *apiServer {
	return newAPIServer(t, func(_ int, r sentRequest, w http.ResponseWriter) {
		var b struct {
			CallTo int64 `json:"call_to"`
			PageNo int   `json:"page_no"`
		}
		require.NoError(t, json.Unmarshal(r.Body, &b))
		if b.CallTo != windowTo.Unix() {
			writeJSON(w, http.StatusOK, page(0))
			return
		}
		ids := []string{"r1", "r2", "r3", "r4", "r5"}
		from := min((b.PageNo-1)*2, len(ids))
		writeJSON(w, http.StatusOK, page(len(ids)+*total, ids[from:min(from+2, len(ids))]...))
	})
}

func sentPages(s *apiServer, t *testing.T) (out [][2]int64) {
	for _, r := range s.requests() {
		var b struct {
			CallTo int64 `json:"call_to"`
			PageNo int64 `json:"page_no"`
		}
		require.NoError(t, json.Unmarshal(r.Body, &b))
		out = append(out, [2]int64{b.CallTo, b.PageNo})
	}
	return out
}

// TestCursorResumesWherePagingStopped: every page says where paging goes
// on; a query resumed there reads exactly the pages not read yet, newest
// chunk first, and ends with a Done cursor.
func TestCursorResumesWherePagingStopped(t *testing.T) {
	t.Parallel()
	extra := 0
	srv := chunkServer(t, &extra)
	c := newClient(t, srv.URL, callyzer.WithPageSize(2))
	q := historyQuery()
	q.NewestFirst = true

	var next callyzer.Cursor
	for pg, err := range c.HistoryPages(t.Context(), q) {
		require.NoError(t, err)
		next = pg.Next
		break // stop after the first page, as a pass that is interrupted
	}
	require.Equal(t, 2, next.NextPage)
	require.Equal(t, 2, next.Seen)
	require.Equal(t, 5, next.Total)
	require.True(t, next.ChunkTo.Equal(windowTo), "the newest chunk first")

	raw, err := json.Marshal(next)
	require.NoError(t, err)
	var saved callyzer.Cursor
	require.NoError(t, json.Unmarshal(raw, &saved))
	require.Equal(t, next, saved, "a cursor survives JSON")

	q.After = saved
	var ids []string
	var last callyzer.Cursor
	for pg, err := range c.HistoryPages(t.Context(), q) {
		require.NoError(t, err)
		for _, call := range pg.Calls {
			ids = append(ids, call.ID)
		}
		last = pg.Next
	}
	require.Equal(t, []string{"r3", "r4", "r5"}, ids)
	require.Equal(t, callyzer.Cursor{Done: true}, last)
	newer, older := windowTo.Unix(), windowTo.Unix()-180*24*3600-1
	require.Equal(t, [][2]int64{{newer, 1}, {newer, 2}, {newer, 3}, {older, 1}}, sentPages(srv, t),
		"page 1, then pages 2 and 3 and the older chunk")

	q.After = last
	for range c.HistoryPages(t.Context(), q) {
		t.Fatal("a Done cursor yields nothing")
	}
	require.Len(t, srv.requests(), 4)
}

// TestCursorTotalChangedSinceSaved: the chunk's total changed since the
// cursor was saved: the pages read may have shifted (ErrShifted, also an
// ErrIncompleteResponse), and nothing of the page is yielded.
func TestCursorTotalChangedSinceSaved(t *testing.T) {
	t.Parallel()
	extra := 1
	srv := chunkServer(t, &extra)
	c := newClient(t, srv.URL, callyzer.WithPageSize(2))
	q := historyQuery()
	q.NewestFirst = true
	from := windowTo.Add(-180 * 24 * time.Hour)
	q.After = callyzer.Cursor{ChunkFrom: from, ChunkTo: windowTo, NextPage: 2, Seen: 2, Total: 5}
	pages, err := collect(t, c, q)
	require.Empty(t, pages)
	require.ErrorIs(t, err, callyzer.ErrShifted)
	require.ErrorIs(t, err, callyzer.ErrIncompleteResponse)
	require.ErrorContains(t, err, "total_records changed from 5 to 6")
}

func TestCursorRefusesOneOfAnotherWindow(t *testing.T) {
	t.Parallel()
	c := newClient(t, "http://127.0.0.1:1")
	q := historyQuery()
	for name, cur := range map[string]callyzer.Cursor{
		"outside":        {ChunkFrom: windowFrom.Add(-time.Hour), ChunkTo: windowFrom.Add(time.Hour), NextPage: 1},
		"too wide":       {ChunkFrom: windowFrom, ChunkTo: windowTo, NextPage: 1},
		"not whole":      {ChunkFrom: windowFrom.Add(time.Millisecond), ChunkTo: windowFrom.Add(time.Hour), NextPage: 1},
		"negative total": {ChunkFrom: windowFrom, ChunkTo: windowFrom.Add(time.Hour), NextPage: 2, Total: -1},
	} {
		q.After = cur
		_, err := collect(t, c, q)
		require.ErrorIs(t, err, callyzer.ErrInvalidQuery, name)
	}
}
