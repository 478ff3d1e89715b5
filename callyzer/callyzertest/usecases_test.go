package callyzertest_test

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadcalls/leadcalls/callhistory"
	"github.com/leadcalls/leadcalls/callyzer"
	"github.com/leadcalls/leadcalls/callyzer/callyzertest"
	"github.com/leadcalls/leadcalls/storage/memstore"
)

// The use cases over a client set for a quirky account, or learning it:
// an account that matches national numbers only, refuses windows over 90
// days and serves at most 30 rows a page. The window of both is six
// calendar months back from now: 184 days.

const leadNumber = "+48601234567"

type oneLead struct{}

func (oneLead) Lead(_ context.Context, id string) (callhistory.Lead, error) {
	if id != "lead-1" {
		return callhistory.Lead{}, callhistory.ErrLeadNotFound
	}
	return callhistory.Lead{ID: id, Name: "Jan Kowalski", Phone: leadNumber}, nil
}

var admin = &callhistory.Actor{ID: "a", Role: callhistory.RoleAdministrator}

// quirkyAccount is the account's options with calls.
func quirkyAccount(calls []callyzertest.Call) callyzertest.Options {
	return callyzertest.Options{
		Calls:             calls,
		Now:               func() time.Time { return now },
		ClientNumberForms: callyzertest.FormNational,
		MaxWindow:         90 * 24 * time.Hour,
		PageSizeCap:       30,
	}
}

// spread returns n calls of number, every step from start going back.
func spread(prefix, number string, n int, start time.Time, step time.Duration) []callyzertest.Call {
	out := make([]callyzertest.Call, n)
	for i := range out {
		out[i] = callyzertest.NewCall(fmt.Sprintf("%s%03d", prefix, i), number, start.Add(-time.Duration(i)*step))
	}
	return out
}

// quietClient is newClient with a client of its own per account (the
// tests' servers differ) that logs nothing.
func quietClient(t *testing.T, srv *callyzertest.Server, opts ...callyzer.Option) *callyzer.Client {
	return newClient(t, srv, append([]callyzer.Option{callyzer.WithPageSize(100), callyzer.WithLogger(slog.New(slog.DiscardHandler))}, opts...)...)
}

// TestRefresherOnAQuirkyAccount: the refresh reads the 184-day window
// oldest first. The lead has 35 calls in the first 90 days, 34 in the
// next 90 and 6 in the last four. A client set as the calibration says
// (national, 90 days, 30 rows) reads it in 2 + 2 + 1 = 5 requests; one
// set only to the form learns the rest: its first 180-day chunk is
// refused, and its first page of 100 holds 30 rows, so 6 requests, the
// refused one counted in Report.Requests. A new client left on the dashed
// form finds nothing (4 requests: the account accepts the form but
// matches nothing; the first chunk is refused for its width), and the
// refresh refuses the empty answer (ErrSuspiciousAnswer): nothing stored
// is lost.
func TestRefresherOnAQuirkyAccount(t *testing.T) {
	t.Parallel()
	from := now.AddDate(0, -6, 0)
	require.Equal(t, 184*24*time.Hour, now.Sub(from))
	calls := append(append(
		spread("a", leadNumber, 35, from.Add(66*24*time.Hour), 40*time.Hour),
		spread("b", leadNumber, 34, from.Add(155*24*time.Hour), 40*time.Hour)...),
		spread("c", leadNumber, 6, now.Add(-time.Hour), 12*time.Hour)...)
	account := append(slices.Clone(calls), callyzertest.NewCall("other", "+48502000111", now.Add(-5*time.Hour)))

	for _, tc := range []struct {
		name     string
		opts     []callyzer.Option
		requests int
	}{
		{"set right", []callyzer.Option{callyzer.WithClientNumberForm("national"), callyzer.WithMaxWindow(90 * 24 * time.Hour), callyzer.WithPageSize(30)}, 5},
		{"form set, window and page learned", []callyzer.Option{callyzer.WithClientNumberForm("national")}, 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := callyzertest.NewServer(t, quirkyAccount(account))
			store := memstore.New()
			refresher := func(c *callyzer.Client) *callhistory.Refresher {
				r, err := callhistory.NewRefresher(callhistory.Config{Source: c, Store: store, Leads: oneLead{},
					Now: func() time.Time { return now }, Logger: slog.New(slog.DiscardHandler)})
				require.NoError(t, err)
				t.Cleanup(r.Wait)
				return r
			}
			res, err := refresher(quietClient(t, srv, tc.opts...)).Refresh(t.Context(), admin, "lead-1")
			require.NoError(t, err)
			require.Len(t, res.Calls, len(calls))
			require.Equal(t, len(calls), res.Report.Inserted)
			require.Equal(t, tc.requests, res.Report.Requests)
			require.Equal(t, tc.requests, srv.RequestCount())
			for _, r := range srv.Requests() {
				require.Equal(t, []any{"601234567"}, r.Body["client_numbers"])
			}

			srv.ResetRequests()
			_, err = refresher(quietClient(t, srv)).Refresh(t.Context(), admin, "lead-1")
			require.ErrorIs(t, err, callhistory.ErrSuspiciousAnswer)
			require.Len(t, srv.Requests(), 4, "the 180-day chunk refused, then three chunks, all empty")
			stored, err := store.Calls(t.Context(), leadNumber, 0)
			require.NoError(t, err)
			require.Len(t, stored, len(calls), "nothing lost")
		})
	}
}

// TestSyncerBackfillOnAQuirkyAccount: the backfill reads the 184 days
// newest first: 45 calls in the newest 90 days, 40 in the 90 before, 5 in
// the oldest four; the incremental read before it (the last 2 hours by
// upload time) finds nothing, in one request.
//   - Set right (90 days, 30 rows): 2 + 2 + 1 = 5 backfill requests.
//   - Learning: the 180-day chunk is refused, the first page of 100 holds
//     30 rows: 6 requests.
//   - A cursor saved for a wider chunk: the account accepted 180 days when
//     a pass stopped on page 2 of the newest 180-day chunk (30 rows
//     committed); the next pass, by a new client of an account that now
//     refuses over 90 days, resumes there, is refused, and reads the range
//     again in 90-day chunks from their first page: 1 refused + 5 pages,
//     every call stored once.
func TestSyncerBackfillOnAQuirkyAccount(t *testing.T) {
	t.Parallel()
	calls := append(append(
		spread("a", leadNumber, 45, now.Add(-3*time.Hour), 40*time.Hour),
		spread("b", "+48502000111", 40, now.Add(-100*24*time.Hour), 40*time.Hour)...),
		spread("c", "+48731000222", 5, now.Add(-181*24*time.Hour), 12*time.Hour)...)
	numbers := []string{leadNumber, "+48502000111", "+48731000222"}
	storedIDs := func(t *testing.T, store *memstore.Store) int {
		n := 0
		for _, p := range numbers {
			got, err := store.Calls(t.Context(), p, 0)
			require.NoError(t, err)
			n += len(got)
		}
		return n
	}
	syncer := func(t *testing.T, c *callyzer.Client, store *memstore.Store, at time.Time) *callhistory.Syncer {
		s, err := callhistory.NewSyncer(callhistory.SyncConfig{Source: c, Store: store,
			Now: func() time.Time { return at }, Logger: slog.New(slog.DiscardHandler)})
		require.NoError(t, err)
		return s
	}

	for _, tc := range []struct {
		name     string
		opts     []callyzer.Option
		requests int
	}{
		{"set right", []callyzer.Option{callyzer.WithMaxWindow(90 * 24 * time.Hour), callyzer.WithPageSize(30)}, 5},
		{"learned", nil, 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := callyzertest.NewServer(t, quirkyAccount(calls))
			store := memstore.New()
			rep, err := syncer(t, quietClient(t, srv, tc.opts...), store, now).RunOnce(t.Context())
			require.NoError(t, err)
			require.Equal(t, callhistory.SyncCounts{Pages: 1, Requests: 1}, rep.Incremental)
			require.Equal(t, tc.requests, rep.Backfill.Requests)
			require.Equal(t, 5, rep.Backfill.Pages)
			require.Equal(t, len(calls), rep.Backfill.Inserted)
			require.Equal(t, 1+tc.requests, srv.RequestCount())
			require.Equal(t, len(calls), storedIDs(t, store))
		})
	}

	t.Run("cursor saved for a wider chunk", func(t *testing.T) {
		t.Parallel()
		store := memstore.New()
		wide := quirkyAccount(calls)
		wide.MaxWindow = 0 // 180 days
		old := callyzertest.NewServer(t, wide)
		old.Inject(callyzertest.Fault{Kind: callyzertest.FaultStatus, Status: 500, Page: 2, Always: true})
		rep, err := syncer(t, quietClient(t, old), store, now).RunOnce(t.Context())
		require.ErrorIs(t, err, callhistory.ErrUpstream)
		require.Equal(t, 30, rep.Backfill.Inserted)
		st, err := store.SyncState(t.Context(), "default")
		require.NoError(t, err)
		cur := st.Backfill.Cursor
		require.Equal(t, 180*24*time.Hour, cur.ChunkTo.Sub(cur.ChunkFrom))
		require.Equal(t, []int{2, 30, 85}, []int{cur.NextPage, cur.Seen, cur.Total})

		srv := callyzertest.NewServer(t, quirkyAccount(calls))
		later := now.Add(time.Minute)
		rep, err = syncer(t, quietClient(t, srv), store, later).RunOnce(t.Context())
		require.NoError(t, err)
		require.Equal(t, 6, rep.Backfill.Requests, "the refused page 2, then 2 + 2 + 1 pages")
		require.Equal(t, 5, rep.Backfill.Pages)
		require.Equal(t, len(calls)-30, rep.Backfill.Inserted)
		require.Equal(t, 30, rep.Backfill.Unchanged)
		require.Equal(t, 2, rep.Incremental.Requests, "the uploads Overlap old, then the new ones")
		reqs := srv.Requests()
		require.Len(t, reqs, 2+6)
		resumed := reqs[2]
		require.Equal(t, 2, resumed.PageNo)
		require.Equal(t, float64(30), resumed.Body["page_size"], "at the cursor's page size")
		require.Equal(t, 400, resumed.Status)
		require.Equal(t, 1, reqs[3].PageNo, "the narrower chunk from its first page")
		require.Equal(t, float64(90*24*3600), reqs[3].Body["call_to"].(float64)-reqs[3].Body["call_from"].(float64))
		require.Equal(t, len(calls), storedIDs(t, store), "every call once")
		st, err = store.SyncState(t.Context(), "default")
		require.NoError(t, err)
		require.True(t, st.Backfill.Done)
	})
}
