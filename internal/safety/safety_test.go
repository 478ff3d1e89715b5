package safety

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/leadcalls/leadcalls/callhistory"
	"github.com/leadcalls/leadcalls/callyzer"
	"github.com/leadcalls/leadcalls/callyzer/callyzertest"
	"github.com/leadcalls/leadcalls/internal/testdb"
	"github.com/leadcalls/leadcalls/storage/memstore"
	"github.com/leadcalls/leadcalls/storage/sqlstore"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	leadID    = "L-1"
	leadPhone = "+48601234567"
	other     = "+48601234999"
)

var (
	now   = time.Date(2026, 11, 25, 15, 0, 0, 0, time.UTC)
	admin = &callhistory.Actor{ID: "u-admin", Role: callhistory.RoleAdministrator}
)

// store is what every backend gives: calls and sync states.
type store interface {
	callhistory.Store
	callhistory.SyncStateStore
}

// forEachStore runs f on a fresh store of every backend, in parallel.
func forEachStore(t *testing.T, f func(t *testing.T, st store)) {
	t.Helper()
	for _, name := range []string{"memory", testdb.SQLiteName, testdb.PostgresName, testdb.MySQLName} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if name == "memory" {
				f(t, memstore.New())
				return
			}
			dialect := map[string]sqlstore.Dialect{testdb.SQLiteName: sqlstore.SQLite,
				testdb.PostgresName: sqlstore.Postgres, testdb.MySQLName: sqlstore.MySQL}[name]
			s, err := sqlstore.New(testdb.Open(t, name), dialect)
			require.NoError(t, err)
			require.NoError(t, s.Migrate(t.Context()))
			f(t, s)
		})
	}
}

type leads struct{}

func (leads) Lead(_ context.Context, id string) (callhistory.Lead, error) {
	if id != leadID {
		return callhistory.Lead{}, callhistory.ErrLeadNotFound
	}
	return callhistory.Lead{ID: leadID, Name: "Jan Kowalski", Phone: "601 234 567"}, nil
}

// logs collects log lines from several goroutines.
type logs struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// side is a fake Callyzer with a client of it, and a Refresher and a
// Syncer on st, at a clock the test moves.
type side struct {
	srv  *callyzertest.Server
	r    *callhistory.Refresher
	sync *callhistory.Syncer
	logs *logs
	mu   sync.Mutex
	at   time.Time
}

func (s *side) now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.at
}

func (s *side) advance(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.at = s.at.Add(d)
}

// newSide starts a fake with opts and a client paging by 2, without
// pacing or retries.
func newSide(t *testing.T, st store, opts callyzertest.Options, configure func(*callhistory.Config)) *side {
	t.Helper()
	opts.Now = func() time.Time { return now }
	srv := callyzertest.NewServer(t, opts)
	s := &side{srv: srv, logs: &logs{}, at: now}
	logger := slog.New(slog.NewTextHandler(s.logs, nil))
	client, err := callyzer.NewClient(srv.APIKey(), callyzer.WithBaseURL(srv.URL), callyzer.WithInterval(0),
		callyzer.WithRetryDelays(0, 0), callyzer.WithMaxRetries(0), callyzer.WithPageSize(2), callyzer.WithLogger(logger))
	require.NoError(t, err)
	cfg := callhistory.Config{Source: client, Store: st, Leads: leads{}, Now: s.now, Logger: logger}
	if configure != nil {
		configure(&cfg)
	}
	s.r, err = callhistory.NewRefresher(cfg)
	require.NoError(t, err)
	t.Cleanup(s.r.Wait)
	s.sync, err = callhistory.NewSyncer(callhistory.SyncConfig{Source: client, Store: st, Now: s.now, Logger: logger})
	require.NoError(t, err)
	return s
}

// leadCalls returns n calls of the lead, an hour apart before now.
func leadCalls(prefix string, n int) []callyzertest.Call {
	out := make([]callyzertest.Call, n)
	for i := range out {
		out[i] = callyzertest.NewCall(fmt.Sprintf("%s%02d", prefix, i), leadPhone, now.Add(-time.Duration(i+1)*time.Hour))
	}
	return out
}

func ids(calls []callhistory.Call) []string {
	out := make([]string, len(calls))
	for i, c := range calls {
		out[i] = c.CallyzerID
	}
	slices.Sort(out)
	return out
}

func fakeIDs(calls []callyzertest.Call) []string {
	out := make([]string, len(calls))
	for i, c := range calls {
		out[i] = c.ID
	}
	slices.Sort(out)
	return out
}

func listed(t *testing.T, st store, phone string) []callhistory.Call {
	t.Helper()
	calls, err := st.Calls(t.Context(), phone, 0)
	require.NoError(t, err)
	return calls
}

func rows(calls []callhistory.Call) map[string]int64 {
	m := map[string]int64{}
	for _, c := range calls {
		m[c.CallyzerID] = c.RowID
	}
	return m
}

// Finding 1: an empty answer (the account matches another client_numbers
// form) used to wipe the lead: 40 of 40 calls deleted. The default guard
// refuses it and changes nothing; with the guard off the calls only leave
// the list and come back, under their rows, with the next answer that
// holds them.
func TestEmptyAnswerForAnotherNumberForm(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, st store) {
		calls := leadCalls("c-", 40)
		good := newSide(t, st, callyzertest.Options{Calls: calls}, nil)
		_, err := good.r.Refresh(t.Context(), admin, leadID)
		require.NoError(t, err)
		before := listed(t, st, leadPhone)
		require.Len(t, before, 40)

		national := newSide(t, st, callyzertest.Options{Calls: calls, ClientNumberForms: callyzertest.FormNational}, nil)
		national.advance(time.Hour)
		_, err = national.r.Refresh(t.Context(), admin, leadID)
		require.ErrorIs(t, err, callhistory.ErrSuspiciousAnswer)
		require.ErrorIs(t, err, callhistory.ErrUpstream)
		require.Equal(t, "Wystąpił błąd podczas aktualizacji historii połączeń", callhistory.Message(err, "pl"))
		require.Equal(t, before, listed(t, st, leadPhone), "a refused answer changes nothing")
		require.Contains(t, national.logs.String(), "client_numbers form")

		unguarded := newSide(t, st, callyzertest.Options{Calls: calls, ClientNumberForms: callyzertest.FormNational},
			func(c *callhistory.Config) { c.Guard = &callhistory.RemovalGuard{} })
		unguarded.advance(time.Hour)
		res, err := unguarded.r.Refresh(t.Context(), admin, leadID)
		require.NoError(t, err)
		require.Equal(t, 40, res.Report.Deleted)
		require.Empty(t, listed(t, st, leadPhone), "the list is what Callyzer answered")
		good.advance(2 * time.Hour)
		res, err = good.r.Refresh(t.Context(), admin, leadID)
		require.NoError(t, err)
		require.Equal(t, 40, res.Report.Updated, "every call comes back")
		require.Equal(t, rows(before), rows(listed(t, st, leadPhone)), "under its own row: nothing was lost")
	})
}

// Finding 2: calls Callyzer holds without a country code, stored by the
// sync under the lead's number, used to be deleted for good by every
// refresh (its filter, by country code and number, never returns them).
func TestCallsWithoutCountryCode(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, st store) {
		calls := leadCalls("cc-", 3)
		for _, c := range leadCalls("bare-", 2) {
			c.ClientCountryCode = ""
			calls = append(calls, c)
		}
		s := newSide(t, st, callyzertest.Options{Calls: calls, ClientNumberForms: callyzertest.FormDashed | callyzertest.FormNational}, nil)
		_, err := s.sync.Backfill(t.Context())
		require.NoError(t, err)
		require.Equal(t, fakeIDs(calls), ids(listed(t, st, leadPhone)), "the sync stores all five under the lead's number")

		for range 2 {
			s.advance(time.Hour)
			res, err := s.r.Refresh(t.Context(), admin, leadID)
			require.NoError(t, err)
			require.Equal(t, 3, res.Report.Fetched, "the refresh's query returns the calls with a country code")
			require.Zero(t, res.Report.Deleted+res.Report.Purged)
			require.Equal(t, fakeIDs(calls), ids(res.Calls), "the calls it cannot see stay")
		}
	})
}

// Finding 3a: between pages 1 and 2 one call is deleted at Callyzer and an
// older one added, so total_records stays the same and a call Callyzer
// still holds is skipped. The refresh cannot tell; the skipped call only
// leaves the list, and the next refresh lists it again under its row.
func TestShiftingPages(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, st store) {
		s := newSide(t, st, callyzertest.Options{Calls: leadCalls("s-", 6)}, nil)
		_, err := s.r.Refresh(t.Context(), admin, leadID)
		require.NoError(t, err)
		before := rows(listed(t, st, leadPhone))

		s.srv.Inject(callyzertest.Fault{Kind: callyzertest.FaultShiftRows, Page: 2})
		s.advance(time.Hour)
		_, err = s.r.Refresh(t.Context(), admin, leadID)
		require.NoError(t, err)

		s.srv.ClearFaults()
		s.advance(time.Hour)
		res, err := s.r.Refresh(t.Context(), admin, leadID)
		require.NoError(t, err)
		held := s.srv.Calls()
		require.Equal(t, fakeIDs(held), ids(res.Calls), "the list is what Callyzer holds")
		for _, c := range res.Calls {
			if r, ok := before[c.CallyzerID]; ok {
				require.Equal(t, r, c.RowID, "call %s kept its row: it was never deleted", c.CallyzerID)
			}
		}
	})
}

// A call that comes while a refresh reads the pages (the advisor on the
// phone with the lead right now) changes total_records between them: the
// refresh reads that chunk again from its first page instead of failing,
// and fails, with nothing written, only when it shifts on every reading
// (three).
func TestTotalChangedWhileReading(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, st store) {
		calls := leadCalls("t-", 6)
		s := newSide(t, st, callyzertest.Options{Calls: calls}, nil)
		res, err := s.r.Refresh(t.Context(), admin, leadID)
		require.NoError(t, err)
		one := res.Report.Requests
		before := listed(t, st, leadPhone)

		s.srv.ResetRequests()
		s.srv.Inject(callyzertest.Fault{Kind: callyzertest.FaultWrongTotal, Page: 2})
		s.advance(time.Hour)
		res, err = s.r.Refresh(t.Context(), admin, leadID)
		require.NoError(t, err)
		require.Len(t, s.srv.Requests(), res.Report.Requests, "every request counted, the shifted reading's too")
		require.Equal(t, one+2, res.Report.Requests, "the newer chunk shifted at its second page and is read again from its first: 2 requests more than a reading")
		require.Zero(t, res.Report.Deleted)
		require.Equal(t, fakeIDs(calls), ids(res.Calls))

		s.srv.Inject(callyzertest.Fault{Kind: callyzertest.FaultWrongTotal, Page: 2, Always: true})
		s.advance(time.Hour)
		_, err = s.r.Refresh(t.Context(), admin, leadID)
		require.ErrorIs(t, err, callhistory.ErrUpstream)
		require.ErrorIs(t, err, callyzer.ErrShifted)
		require.Equal(t, rows(before), rows(listed(t, st, leadPhone)), "nothing written")
	})
}

// Finding 3b: page 2 repeats page 1's last row and skips one, with the
// same total: 5 distinct calls for a total of 6 used to delete the skipped
// call. The client reads the chunk again; nothing leaves the list.
func TestRepeatedAndSkippedRow(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, st store) {
		calls := leadCalls("r-", 6)
		s := newSide(t, st, callyzertest.Options{Calls: calls}, nil)
		_, err := s.r.Refresh(t.Context(), admin, leadID)
		require.NoError(t, err)
		s.srv.Inject(callyzertest.Fault{Kind: callyzertest.FaultRepeatSkipRow, Page: 2})
		s.advance(time.Hour)
		res, err := s.r.Refresh(t.Context(), admin, leadID)
		require.NoError(t, err)
		require.Zero(t, res.Report.Deleted)
		require.Equal(t, fakeIDs(calls), ids(res.Calls))
	})
}

// Finding 4: an account that ignores the client_numbers filter answers
// with calls of other numbers, which used to fail every refresh. They are
// left out, counted and logged once; the lead's own calls are stored.
func TestCallsOfOtherNumbers(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, st store) {
		calls := leadCalls("own-", 4)
		for i := range 3 {
			calls = append(calls, callyzertest.NewCall(fmt.Sprintf("other-%d", i), other, now.Add(-time.Duration(i+1)*time.Minute)))
		}
		s := newSide(t, st, callyzertest.Options{Calls: calls, IgnoreClientNumbers: true}, nil)
		res, err := s.r.Refresh(t.Context(), admin, leadID)
		require.NoError(t, err)
		require.Equal(t, 3, res.Report.Foreign)
		require.Equal(t, []string{"own-00", "own-01", "own-02", "own-03"}, ids(res.Calls))
		require.Empty(t, listed(t, st, other), "nothing is stored under the other number")
		require.Equal(t, 1, bytes.Count([]byte(s.logs.String()), []byte("left out calls of other numbers")))
	})
}

// Finding 5: a redirect used to be followed (the token to another port, a
// 302 turned into a GET whose empty answer was zero calls). Now it fails
// the refresh, which changes nothing.
func TestRedirect(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, st store) {
		s := newSide(t, st, callyzertest.Options{Calls: leadCalls("d-", 4)}, nil)
		_, err := s.r.Refresh(t.Context(), admin, leadID)
		require.NoError(t, err)
		before := listed(t, st, leadPhone)
		for _, status := range []int{302, 307, 308} {
			s.srv.ResetRequests()
			s.srv.Inject(callyzertest.Fault{Kind: callyzertest.FaultRedirect, Status: status, Always: true})
			s.advance(time.Hour)
			_, err := s.r.Refresh(t.Context(), admin, leadID)
			require.ErrorIs(t, err, callhistory.ErrUpstream, "HTTP %d", status)
			require.Len(t, s.srv.Requests(), 1, "HTTP %d: not followed", status)
			require.Equal(t, before, listed(t, st, leadPhone))
			s.srv.ClearFaults()
		}
	})
}

// Finding 7: a call dated 2099 used to be stored by the sync and sit first
// in the lead's list forever; a recording link that is not https used to
// be stored and served as it came.
func TestFutureCallsAndRecordingLinks(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, st store) {
		calls := leadCalls("f-", 3)
		future := callyzertest.NewCall("f-2099", leadPhone, time.Date(2099, 1, 1, 12, 0, 0, 0, time.UTC))
		// Uploaded within the minute the first pass's incremental read
		// covers (before it, the backfill by call time reads them).
		future.SyncedAt = now.Add(-30 * time.Second)
		calls[0].RecordingURL = "http://recordings.example/f-00.mp3"
		calls[1].RecordingURL = "javascript:alert(1)"
		calls[2].RecordingURL = "https://recordings.example/f-02.mp3"
		for i := range calls {
			calls[i].SyncedAt = now.Add(-time.Duration(10+i) * time.Second)
		}
		s := newSide(t, st, callyzertest.Options{Calls: append(calls, future)}, nil)
		rep, err := s.sync.Backfill(t.Context())
		require.NoError(t, err)
		require.Equal(t, 1, rep.Incremental.Skipped, "the call dated 2099 is skipped")
		require.Equal(t, 2, rep.Incremental.DroppedRecordings)
		got := listed(t, st, leadPhone)
		require.Equal(t, []string{"f-00", "f-01", "f-02"}, ids(got))
		for _, c := range got {
			want := ""
			if c.CallyzerID == "f-02" {
				want = "https://recordings.example/f-02.mp3"
			}
			require.Equal(t, want, c.RecordingURL, c.CallyzerID)
		}
		res, err := s.r.Refresh(t.Context(), admin, leadID)
		require.NoError(t, err)
		require.Equal(t, 2, res.Report.DroppedRecordings)
	})
}

// Finding 7: a pass that could not save its end left status "running"
// with no error; it reads as interrupted.
func TestStaleRunningState(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, st store) {
		s := newSide(t, st, callyzertest.Options{}, nil)
		require.NoError(t, st.SaveSyncState(t.Context(), "default",
			callhistory.SyncState{Status: callhistory.SyncRunning, RunningSince: now}))
		state, err := s.sync.State(t.Context())
		require.NoError(t, err)
		require.Equal(t, callhistory.SyncIdle, state.Status)
		require.Contains(t, state.LastError, "interrupted")
	})
}
