package callhistory_test

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/leadcalls/leadcalls/callhistory"
	"github.com/leadcalls/leadcalls/callyzer"
	"github.com/leadcalls/leadcalls/callyzer/callyzertest"
	"github.com/leadcalls/leadcalls/storage/memstore"
)

// scriptedSource is a real client on a scripted Callyzer whose incremental
// reads find nothing and whose backfill pages come from pages: the newest
// chunk's page pageNo, or an empty page of total 0 (every older chunk is
// empty). The client asks for 10 rows a page; page 1's 5 rows (of 12)
// teach it that Callyzer serves 5, so it asks for 5 from then on, and a
// page of 8 is malformed.
type scriptedSource struct {
	*callyzer.Client
	mu    sync.Mutex
	pages func(pageNo int) (calls []callyzer.Call, total int)
	asked []int // the newest chunk's pages asked for, in order
}

func newScriptedSource(t *testing.T) *scriptedSource {
	s := &scriptedSource{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var q struct {
			CallTo *int64 `json:"call_to"`
			PageNo int    `json:"page_no"`
		}
		if err := json.NewDecoder(r.Body).Decode(&q); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var calls []callyzer.Call
		total := 0
		if q.CallTo != nil && *q.CallTo == syncNow.Unix() {
			s.mu.Lock()
			s.asked = append(s.asked, q.PageNo)
			calls, total = s.pages(q.PageNo)
			s.mu.Unlock()
		}
		rows := make([]map[string]any, len(calls))
		for i, c := range calls {
			rows[i] = map[string]any{"id": c.ID, "client_number": c.ClientNumber, "call_type": string(c.Type),
				"duration": c.Duration, "call_date": c.StartedAt.UTC().Format(time.DateOnly),
				"call_time": c.StartedAt.UTC().Format(time.TimeOnly)}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"message": "Success", "total_records": total, "result": rows})
	}))
	t.Cleanup(srv.Close)
	c, err := callyzer.NewClient("scripted-key", callyzer.WithBaseURL(srv.URL), callyzer.WithInterval(0),
		callyzer.WithRetryDelays(0, 0), callyzer.WithMaxRetries(0), callyzer.WithPageSize(10),
		callyzer.WithLocation(time.UTC), callyzer.WithLogger(slog.New(slog.DiscardHandler)))
	require.NoError(t, err)
	s.Client = c
	return s
}

func (s *scriptedSource) set(pages func(int) ([]callyzer.Call, int)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pages, s.asked = pages, nil
}

func (s *scriptedSource) askedPages() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.asked)
}

// chunkCalls are the newest backfill chunk's 12 calls, an hour apart.
func chunkCalls() []callyzer.Call {
	out := make([]callyzer.Call, 12)
	for i := range out {
		out[i] = callyzer.Call{ID: fmt.Sprintf("k-%02d", i), ClientNumber: syncPhones[i%len(syncPhones)],
			Type: callyzer.Outgoing, Duration: 60, StartedAt: syncNow.Add(-time.Duration(i+1) * time.Hour)}
	}
	return out
}

// healthyPages pages chunkCalls by 5, with the right total.
func healthyPages(pageNo int) ([]callyzer.Call, int) {
	all := chunkCalls()
	from := min((pageNo-1)*5, len(all))
	return all[from:min(from+5, len(all))], len(all)
}

// TestSyncBackfillChecksEveryChunkPage: the client checks the pages of a
// chunk against each other (from the saved cursor, when resuming). A page
// that fails them is not committed, the pass fails, and the next pass picks
// the chunk up where no row can have been missed.
func TestSyncBackfillChecksEveryChunkPage(t *testing.T) {
	t.Parallel()
	extra := callyzer.Call{ID: "extra", ClientNumber: syncPhones[0], Type: callyzer.Incoming, StartedAt: syncNow.Add(-30 * time.Minute)}
	for _, tc := range []struct {
		name     string
		badPage  int
		bad      func() ([]callyzer.Call, int) // what the bad page answers
		problem  string
		kind     error // what the error matches besides ErrUpstream; nil: ErrIncompleteResponse
		wantNext int   // the saved progress: the next page, rows seen, the total
		wantSeen int
		wantTot  int
		resume   []int // the pages the next pass reads
	}{
		{
			name: "EmptyPageBeforeTheTotal", badPage: 2,
			bad:     func() ([]callyzer.Call, int) { return nil, 12 },
			problem: "empty page after 5 of 12 rows", wantNext: 2, wantSeen: 5, wantTot: 12, resume: []int{2, 3},
		},
		{
			name: "EmptyLastPage", badPage: 3,
			bad:     func() ([]callyzer.Call, int) { return nil, 12 },
			problem: "empty page after 10 of 12 rows", wantNext: 3, wantSeen: 10, wantTot: 12, resume: []int{3},
		},
		{
			name: "TooManyRows", badPage: 2,
			bad: func() ([]callyzer.Call, int) {
				c, _ := healthyPages(2)
				return append(c, extra, extra, extra), 12 // 8 rows, 7 remain
			},
			problem: "8 rows on a page of 5", kind: callyzer.ErrMalformedResponse, wantNext: 2, wantSeen: 5, wantTot: 12, resume: []int{2, 3},
		},
		{
			name: "TooManyRowsOnTheLastPage", badPage: 3,
			bad: func() ([]callyzer.Call, int) {
				c, _ := healthyPages(3)
				return append(c, extra), 12
			},
			problem: "3 rows after 10 seen, more than total_records 12", wantNext: 3, wantSeen: 10, wantTot: 12, resume: []int{3},
		},
		{
			// The pages read may have shifted: the chunk is read again.
			name: "TotalGrew", badPage: 2,
			bad: func() ([]callyzer.Call, int) {
				c, _ := healthyPages(2)
				return c, 13
			},
			problem: "total_records changed from 12 to 13", wantNext: 1, resume: []int{1, 2, 3},
		},
		{
			name: "TotalShrankOnTheLastPage", badPage: 3,
			bad: func() ([]callyzer.Call, int) {
				c, _ := healthyPages(3)
				return c[:1], 11
			},
			problem: "total_records changed from 12 to 11", wantNext: 1, resume: []int{1, 2, 3},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			src := newScriptedSource(t)
			src.set(func(pageNo int) ([]callyzer.Call, int) {
				if pageNo == tc.badPage {
					return tc.bad()
				}
				return healthyPages(pageNo)
			})
			store := memstore.New()
			clock := &syncClock{now: syncNow}
			s, err := callhistory.NewSyncer(callhistory.SyncConfig{Source: src, Store: store, Now: clock.Now,
				Logger: slog.New(slog.DiscardHandler)})
			require.NoError(t, err)

			rep, err := s.RunOnce(t.Context())
			require.ErrorIs(t, err, callhistory.ErrUpstream)
			kind := tc.kind
			if kind == nil {
				kind = callyzer.ErrIncompleteResponse
			}
			require.ErrorIs(t, err, kind)
			require.ErrorContains(t, err, tc.problem)
			require.Equal(t, msgFailed, callhistory.Message(err, "pl"))
			committed := (tc.badPage - 1) * 5
			require.Equal(t, committed, rep.Backfill.Inserted, "the bad page is not committed")
			stored, err := store.Calls(t.Context(), syncPhones[0], 0)
			require.NoError(t, err)
			for _, c := range stored {
				require.NotEqual(t, "extra", c.CallyzerID, "no row of the bad page is stored")
			}

			st, err := s.State(t.Context())
			require.NoError(t, err)
			require.Equal(t, callhistory.SyncFailedOther, st.Status)
			require.Equal(t, 1, st.ConsecutiveFailures)
			require.Contains(t, st.LastError, tc.problem)
			require.True(t, st.Cursor.Equal(syncNow))
			require.True(t, !st.Backfill.To.IsZero() && !st.Backfill.Done)
			require.True(t, st.Backfill.ChunkTo.Equal(syncNow), "still the newest chunk")
			got := []int{st.Backfill.NextPage, st.Backfill.Seen, st.Backfill.Total}
			require.Equal(t, []int{tc.wantNext, tc.wantSeen, tc.wantTot}, got, "next page, seen, total")

			// Callyzer answers consistently again.
			src.set(healthyPages)
			clock.Set(syncNow.Add(10 * time.Minute))
			rep, err = s.RunOnce(t.Context())
			require.NoError(t, err)
			require.Equal(t, tc.resume, src.askedPages())
			require.Equal(t, 12-committed, rep.Backfill.Inserted)
			var ids []string
			for _, p := range syncPhones {
				calls, err := store.Calls(t.Context(), p, 0)
				require.NoError(t, err)
				for _, c := range calls {
					ids = append(ids, c.CallyzerID)
				}
			}
			slices.Sort(ids)
			var want []string
			for _, c := range chunkCalls() {
				want = append(want, c.ID)
			}
			require.Equal(t, want, ids, "every call of the chunk once, nothing else")
			st, err = s.State(t.Context())
			require.NoError(t, err)
			require.True(t, st.Backfill.Done)
			require.Equal(t, callhistory.SyncIdle, st.Status)
		})
	}
}

// TestSyncBackfillResumesProgressSavedWithoutTotal: a progress saved before
// BackfillProgress.Total existed resumes, taking the total of the page it
// reads.
func TestSyncBackfillResumesProgressSavedWithoutTotal(t *testing.T) {
	t.Parallel()
	src := newScriptedSource(t)
	src.set(healthyPages)
	store := memstore.New()
	s, err := callhistory.NewSyncer(callhistory.SyncConfig{Source: src, Store: store,
		Now: func() time.Time { return syncNow }, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	bf := callhistory.BackfillProgress{From: syncNow.AddDate(0, -6, 0), To: syncNow, Cursor: callyzer.Cursor{ChunkFrom: syncNow.Add(-180 * 24 * time.Hour), ChunkTo: syncNow, NextPage: 2, Seen: 5}}
	require.NoError(t, store.SaveSyncState(t.Context(), "default",
		callhistory.SyncState{Cursor: syncNow, Backfill: bf}))

	rep, err := s.RunOnce(t.Context())
	require.NoError(t, err)
	require.Equal(t, []int{2, 3}, src.askedPages())
	require.Equal(t, 7, rep.Backfill.Inserted)
}

// TestSyncBackfillWrongTotalFromTheServer runs the check with the real
// client: the fake reports one more row on the chunk's second page.
func TestSyncBackfillWrongTotalFromTheServer(t *testing.T) {
	t.Parallel()
	env := newSyncEnv(t, syncOptions{server: callyzertest.Options{
		Calls: spreadCalls("w-", 12, syncNow.Add(-3*time.Hour), 24*time.Hour),
	}})
	// Request 1 is the incremental read; the backfill's page 2 is request 3.
	env.srv.Inject(callyzertest.Fault{Kind: callyzertest.FaultWrongTotal, Request: 3})
	rep, err := env.syncer.RunOnce(t.Context())
	require.ErrorIs(t, err, callyzer.ErrIncompleteResponse)
	require.ErrorIs(t, err, callhistory.ErrUpstream)
	require.Equal(t, 5, rep.Backfill.Inserted, "only the first page is committed")
	st := env.state(t)
	require.Equal(t, callhistory.SyncFailedOther, st.Status)
	require.Equal(t, 1, st.Backfill.NextPage, "a changed total reads the chunk again")

	env.srv.ResetRequests()
	env.clock.Set(syncNow.Add(time.Minute))
	rep, err = env.syncer.RunOnce(t.Context())
	require.NoError(t, err)
	require.Equal(t, callhistory.SyncCounts{Pages: 4, Requests: 4, Seen: 12, Inserted: 7, Unchanged: 5}, rep.Backfill)
	require.Len(t, env.stored(t, syncPhones...), 12)
	env.requireClean(t)
}

// TestSyncV22SweepsEveryCallVariant: under API v2.2 with two variants a
// backfill page must name one; the backfill reads each chunk once per
// variant and saves the variant with the page.
func TestSyncV22SweepsEveryCallVariant(t *testing.T) {
	t.Parallel()
	phoneCalls := spreadCalls("p-", 7, syncNow.Add(-3*time.Hour), 5*24*time.Hour)
	waCalls := spreadCalls("wa-", 6, syncNow.Add(-4*time.Hour), 7*24*time.Hour)
	for i := range waCalls {
		waCalls[i].CallMethod = callyzertest.WhatsAppCall
	}
	voice := callyzer.CallVariant{Method: "PhoneCall", Mode: "Voice"}
	whatsApp := callyzer.CallVariant{Method: "WhatsAppCall", Mode: "Voice"}
	env := newSyncEnv(t, syncOptions{
		server: callyzertest.Options{Version: callyzertest.V22, Calls: append(slices.Clone(phoneCalls), waCalls...)},
		client: []callyzer.Option{callyzer.WithCallVariants(voice, whatsApp)},
	})

	// Requests 1-2: the incremental read (one per variant); 3-4: the
	// newest chunk's PhoneCall pages; 5-6 its WhatsApp pages. Page 2 of
	// the WhatsApp sweep fails.
	env.srv.Inject(callyzertest.Fault{Kind: callyzertest.FaultStatus, Status: 500, Request: 6})
	rep, err := env.syncer.RunOnce(t.Context())
	require.ErrorIs(t, err, callhistory.ErrUpstream)
	require.Equal(t, 12, rep.Backfill.Inserted, "both PhoneCall pages and the first WhatsApp page are committed")
	st := env.state(t)
	want := callhistory.BackfillProgress{From: syncNow.AddDate(0, -6, 0), To: syncNow, Cursor: callyzer.Cursor{ChunkFrom: syncNow.Add(-180 * 24 * time.Hour), ChunkTo: syncNow, Variant: 1, NextPage: 2, Seen: 5, Total: 6}}
	require.Empty(t, cmp.Diff(want, st.Backfill), "the progress points at the WhatsApp sweep's page 2")
	variants := func(reqs []callyzertest.Request) []string {
		var out []string
		for _, r := range reqs {
			out = append(out, fmt.Sprintf("%v/%v p%d", r.Body["call_method"], r.Body["call_mode"], r.PageNo))
		}
		return out
	}
	require.Equal(t, []string{"PhoneCall/Voice p1", "PhoneCall/Voice p2", "WhatsAppCall/Voice p1", "WhatsAppCall/Voice p2"},
		variants(backfillRequests(env.srv.Requests())))

	env.srv.ResetRequests()
	env.clock.Set(syncNow.Add(time.Minute))
	rep, err = env.syncer.RunOnce(t.Context())
	require.NoError(t, err)
	require.Equal(t, 1, rep.Backfill.Inserted)
	// The resumed pass reads the failed WhatsApp page, then the older
	// chunk once per variant.
	require.Equal(t, []string{"WhatsAppCall/Voice p2", "PhoneCall/Voice p1", "WhatsAppCall/Voice p1"},
		variants(backfillRequests(env.srv.Requests())))
	require.Len(t, env.stored(t, syncPhones...), 13)
	st = env.state(t)
	require.True(t, st.Backfill.Done)
	require.Equal(t, callhistory.SyncIdle, st.Status)
	env.requireClean(t)
}

// TestSyncBackfillVariantsChangedSinceSaved: a saved variant index the
// source no longer has reads the chunk again from its first variant.
func TestSyncBackfillVariantsChangedSinceSaved(t *testing.T) {
	t.Parallel()
	src := newScriptedSource(t)
	src.set(healthyPages)
	store := memstore.New()
	s, err := callhistory.NewSyncer(callhistory.SyncConfig{Source: src, Store: store,
		Now: func() time.Time { return syncNow }, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	bf := callhistory.BackfillProgress{From: syncNow.AddDate(0, -6, 0), To: syncNow, Cursor: callyzer.Cursor{ChunkFrom: syncNow.Add(-180 * 24 * time.Hour), ChunkTo: syncNow, Variant: 1, NextPage: 2, Seen: 5, Total: 6}}
	require.NoError(t, store.SaveSyncState(t.Context(), "default",
		callhistory.SyncState{Cursor: syncNow, Backfill: bf}))
	rep, err := s.RunOnce(t.Context())
	require.NoError(t, err)
	require.Equal(t, []int{1, 2, 3}, src.askedPages())
	require.Equal(t, 12, rep.Backfill.Inserted)
}

func TestSyncNormalisesClientNumbers(t *testing.T) {
	t.Parallel()
	bare := syncCall("bare", 0, syncNow.Add(-5*time.Hour))
	bare.ClientCountryCode = "" // the client sends "601200301"
	doubled := syncCall("doubled", 1, syncNow.Add(-6*time.Hour))
	doubled.ClientNumber = "48" + doubled.ClientNumber // the client sends "+4848601200302"
	normal := syncCall("normal", 2, syncNow.Add(-7*time.Hour))
	env := newSyncEnv(t, syncOptions{server: callyzertest.Options{Calls: []callyzertest.Call{bare, doubled, normal}}})

	rep, err := env.syncer.RunOnce(t.Context())
	require.NoError(t, err)
	require.Equal(t, callhistory.SyncCounts{Pages: 2, Requests: 2, Seen: 3, Skipped: 1, Inserted: 2}, rep.Backfill)
	stored := env.stored(t, syncPhones...)
	require.Contains(t, stored, "bare")
	require.Equal(t, syncPhones[0], stored["bare"].Phone, "stored under the lead's E.164 number")
	require.Contains(t, stored, "normal")
	require.NotContains(t, stored, "doubled")
	for _, key := range []string{"601200301", "+4848601200302"} {
		calls, err := env.store.Calls(t.Context(), key, 0)
		require.NoError(t, err)
		require.Empty(t, calls, "nothing stored under %s", key)
	}
	logs := env.logs.String()
	require.Contains(t, logs, "sync skipped a call whose client number is not a valid phone number")
	require.Contains(t, logs, "call=doubled")
	require.Contains(t, logs, `number="+48 486 *** 302"`)
	require.NotContains(t, logs, "4848601200302")
	env.requireClean(t)
}

// TestSyncReadsBareNumbersInItsRegion: SyncConfig.DefaultRegion reads a
// number Callyzer sends without a country code.
func TestSyncReadsBareNumbersInItsRegion(t *testing.T) {
	t.Parallel()
	src := newScriptedSource(t)
	src.set(func(int) ([]callyzer.Call, int) {
		return []callyzer.Call{{ID: "berlin", ClientNumber: "030123456", Type: callyzer.Incoming, StartedAt: syncNow.Add(-time.Hour)}}, 1
	})
	store := memstore.New()
	s, err := callhistory.NewSyncer(callhistory.SyncConfig{Source: src, Store: store, DefaultRegion: "DE",
		Now: func() time.Time { return syncNow }, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	_, err = s.RunOnce(t.Context())
	require.NoError(t, err)
	calls, err := store.Calls(t.Context(), "+4930123456", 0)
	require.NoError(t, err)
	require.Len(t, calls, 1)
}
