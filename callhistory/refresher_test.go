package callhistory_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/leadcalls/leadcalls/callhistory"
	"github.com/leadcalls/leadcalls/callyzer"
	"github.com/leadcalls/leadcalls/callyzer/pacing"
	"github.com/leadcalls/leadcalls/statusmap"
)

const (
	leadPhone = "+48601234567"
	leadID    = "L-1"
)

var (
	unitNow = time.Date(2026, 11, 25, 15, 0, 0, 250_000_000, time.UTC)
	admin   = &callhistory.Actor{ID: "u-admin", Role: callhistory.RoleAdministrator}
	advisor = &callhistory.Actor{ID: "u-adv", Role: callhistory.RoleAdvisor}
	other   = &callhistory.Actor{ID: "u-other", Role: callhistory.RoleAdvisor}
)

// unit is a Refresher on fakes that record the order of calls.
type unit struct {
	rec    *recorder
	leads  *fakeLeads
	source *fakeSource
	store  *fakeStore
	logs   *syncBuffer
	r      *callhistory.Refresher
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newUnit(t *testing.T, configure func(*unit, *callhistory.Config)) *unit {
	t.Helper()
	rec := &recorder{}
	u := &unit{
		rec: rec,
		leads: &fakeLeads{rec: rec, leads: map[string]callhistory.Lead{
			leadID:  {ID: leadID, Name: "Jan Kowalski", Phone: "601 234 567", AdvisorID: advisor.ID},
			"L-bad": {ID: "L-bad", Phone: "12"},
		}},
		source: &fakeSource{rec: rec},
		store:  newFakeStore(rec),
		logs:   &syncBuffer{},
	}
	cfg := callhistory.Config{
		Source:     u.source,
		Store:      u.store,
		Leads:      u.leads,
		Authorizer: recordingAuthorizer{rec},
		Now:        func() time.Time { return unitNow },
		Logger:     slog.New(slog.NewTextHandler(u.logs, nil)),
	}
	if configure != nil {
		configure(u, &cfg)
	}
	r, err := callhistory.NewRefresher(cfg)
	require.NoError(t, err)
	u.r = r
	t.Cleanup(r.Wait)
	return u
}

func apiCall(id string, at time.Time, typ callyzer.CallType, dur int) callyzer.Call {
	return callyzer.Call{
		ID: id, ClientNumber: leadPhone, ClientName: "Jan Kowalski",
		EmployeeName: "Anna Nowak", EmployeeCode: "A7", EmployeeNumber: "+48511222333",
		Type: typ, Duration: dur, StartedAt: at,
	}
}

func page(no int, attempts int, calls ...callyzer.Call) *callyzer.HistoryPage {
	return &callyzer.HistoryPage{Calls: calls, PageNo: no, Attempts: attempts}
}

func TestRefreshFollowsTheSpecOrder(t *testing.T) {
	t.Parallel()
	c1 := apiCall("c-1", unitNow.Add(-time.Hour), callyzer.Outgoing, 87)
	c2 := apiCall("c-2", unitNow.Add(-48*time.Hour), callyzer.Missed, 0)
	u := newUnit(t, func(u *unit, _ *callhistory.Config) {
		u.source.pages = []*callyzer.HistoryPage{page(1, 2, c1), page(2, 1, c2)}
	})

	res, err := u.r.Refresh(t.Context(), advisor, leadID)
	require.NoError(t, err)

	if diff := cmp.Diff([]string{"leads", "authorize", "source", "replace", "calls", "lastsynced"}, u.rec.list()); diff != "" {
		t.Errorf("order of calls (-want +got):\n%s", diff)
	}
	window := callhistory.Window{
		From: time.Date(2026, 5, 25, 15, 0, 0, 0, time.UTC),
		To:   time.Date(2026, 11, 25, 15, 0, 0, 0, time.UTC),
	}
	wantQuery := callyzer.HistoryQuery{
		CallFrom: window.From, CallTo: window.To,
		ClientNumbers: []string{leadPhone}, Priority: pacing.Interactive,
	}
	if diff := cmp.Diff([]callyzer.HistoryQuery{wantQuery}, u.source.queryList()); diff != "" {
		t.Errorf("query (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]callhistory.Window{window}, u.store.windows); diff != "" {
		t.Errorf("replaced window (-want +got):\n%s", diff)
	}

	m := statusmap.Default()
	want1, want2 := callhistory.FromCallyzer(m, c1), callhistory.FromCallyzer(m, c2)
	want1.RowID, want2.RowID = 1, 2
	wantRes := &callhistory.Result{
		Lead:         u.leads.leads[leadID],
		Phone:        leadPhone,
		Calls:        []callhistory.Call{want1, want2},
		LastSyncedAt: unitNow,
		Report:       &callhistory.Report{Requests: 3, Fetched: 2, Inserted: 2, Path: "spec"},
	}
	require.NotNil(t, res.Report)
	require.Positive(t, res.Report.Duration)
	res.Report.Duration = 0
	res.Summary = callhistory.Summary{} // summary_test.go checks it
	if diff := cmp.Diff(wantRes, res); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
	require.Equal(t, msgUpdated, callhistory.Message(err, "pl"))

	// A second refresh with the same answer changes nothing.
	res, err = u.r.Refresh(t.Context(), advisor, leadID)
	require.NoError(t, err)
	res.Report.Duration = 0
	if diff := cmp.Diff(&callhistory.Report{Requests: 3, Fetched: 2, Unchanged: 2, Path: "spec"}, res.Report); diff != "" {
		t.Errorf("second report (-want +got):\n%s", diff)
	}
}

func TestRefreshStopsAtTheFirstFailedCheck(t *testing.T) {
	t.Parallel()
	loadErr := errors.New("crm database down")
	tests := []struct {
		name      string
		actor     *callhistory.Actor
		leadID    string
		leadsErr  error
		want      error
		wantCause error
		events    []string
	}{
		{"no actor", nil, leadID, nil, callhistory.ErrForbidden, nil, []string{"leads", "authorize"}},
		{"another advisor", other, leadID, nil, callhistory.ErrForbidden, nil, []string{"leads", "authorize"}},
		{"error loading the lead", admin, leadID, loadErr, callhistory.ErrForbidden, loadErr, []string{"leads"}},
		{"advisor, missing lead", advisor, "nope", nil, callhistory.ErrForbidden, nil, []string{"leads", "authorize"}},
		{"admin, missing lead", admin, "nope", nil, callhistory.ErrLeadNotFound, nil, []string{"leads", "authorize"}},
		{"invalid phone", admin, "L-bad", nil, callhistory.ErrInvalidPhone, nil, []string{"leads", "authorize"}},
	}
	for _, tt := range tests {
		for _, op := range []string{"Refresh", "History"} {
			t.Run(op+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				u := newUnit(t, func(u *unit, _ *callhistory.Config) { u.leads.err = tt.leadsErr })
				call := u.r.Refresh
				if op == "History" {
					call = u.r.History
				}
				res, err := call(t.Context(), tt.actor, tt.leadID)
				require.ErrorIs(t, err, tt.want)
				require.Nil(t, res)
				if tt.wantCause != nil {
					require.ErrorIs(t, err, tt.wantCause)
				}
				if diff := cmp.Diff(tt.events, u.rec.list()); diff != "" {
					t.Errorf("calls made (-want +got):\n%s", diff)
				}
				require.Empty(t, u.source.queryList())
			})
		}
	}
}

func TestHistoryReadsWithoutCallyzer(t *testing.T) {
	t.Parallel()
	u := newUnit(t, func(u *unit, _ *callhistory.Config) {
		u.source.pages = []*callyzer.HistoryPage{page(1, 1, apiCall("c-1", unitNow.Add(-time.Hour), callyzer.Incoming, 5))}
	})
	_, err := u.r.Refresh(t.Context(), admin, leadID)
	require.NoError(t, err)
	before := len(u.rec.list())

	res, err := u.r.History(t.Context(), advisor, leadID)
	require.NoError(t, err)
	if diff := cmp.Diff([]string{"leads", "authorize", "calls", "lastsynced"}, u.rec.list()[before:]); diff != "" {
		t.Errorf("calls made (-want +got):\n%s", diff)
	}
	require.Len(t, res.Calls, 1)
	require.Equal(t, statusmap.Answered, res.Calls[0].Status)
	require.Equal(t, unitNow, res.LastSyncedAt)
	require.Nil(t, res.Report)
	require.Len(t, u.source.queryList(), 1, "History must not call Callyzer")
}

func TestRefreshMapsErrors(t *testing.T) {
	t.Parallel()
	cErr := func(kind error) error { return fmt.Errorf("callyzer: /call-log/history page 2: %w", kind) }
	storeErr := errors.New("disk full")
	tests := []struct {
		name      string
		configure func(*unit)
		want      error
		cause     error
		msg       string
	}{
		{"unauthorized", func(u *unit) { u.source.err = cErr(callyzer.ErrUnauthorized) }, callhistory.ErrCallyzerAuth, callyzer.ErrUnauthorized, msgCallyzerAuth},
		{"callyzer timeout", func(u *unit) { u.source.err = cErr(callyzer.ErrTimeout) }, callhistory.ErrTimeout, callyzer.ErrTimeout, msgTimeout},
		{"deadline", func(u *unit) { u.source.err = cErr(context.DeadlineExceeded) }, callhistory.ErrTimeout, context.DeadlineExceeded, msgTimeout},
		{"rate limited", func(u *unit) { u.source.err = cErr(callyzer.ErrRateLimited) }, callhistory.ErrRateLimited, callyzer.ErrRateLimited, msgRateLimited},
		{"malformed", func(u *unit) { u.source.err = cErr(callyzer.ErrMalformedResponse) }, callhistory.ErrUpstream, callyzer.ErrMalformedResponse, msgFailed},
		{"incomplete", func(u *unit) { u.source.err = cErr(callyzer.ErrIncompleteResponse) }, callhistory.ErrUpstream, callyzer.ErrIncompleteResponse, msgFailed},
		{"5xx", func(u *unit) { u.source.err = cErr(callyzer.ErrUpstream) }, callhistory.ErrUpstream, callyzer.ErrUpstream, msgFailed},
		{"bad request", func(u *unit) { u.source.err = cErr(callyzer.ErrBadRequest) }, callhistory.ErrUpstream, callyzer.ErrBadRequest, msgFailed},
		{"error on the last page", func(u *unit) { u.source.err, u.source.errAt = cErr(callyzer.ErrUpstream), 2 }, callhistory.ErrUpstream, callyzer.ErrUpstream, msgFailed},
		{"nil page", func(u *unit) { u.source.pages = append(u.source.pages, nil) }, callhistory.ErrUpstream, nil, msgFailed},
		{"call after the window", func(u *unit) {
			u.source.pages = append(u.source.pages, page(3, 1, apiCall("c-x", unitNow.Add(time.Second), callyzer.Incoming, 3)))
		}, callhistory.ErrUpstream, nil, msgFailed},
		{"call before the window", func(u *unit) {
			u.source.pages = append(u.source.pages, page(3, 1, apiCall("c-x", unitNow.AddDate(0, -6, 0).Add(-time.Second), callyzer.Incoming, 3)))
		}, callhistory.ErrUpstream, nil, msgFailed},
		{"call without id", func(u *unit) {
			u.source.pages = append(u.source.pages, page(3, 1, apiCall("", unitNow.Add(-time.Hour), callyzer.Incoming, 3)))
		}, callhistory.ErrUpstream, nil, msgFailed},
		{"panic in the source", func(u *unit) { u.source.panicAt = 2 }, callhistory.ErrInternal, nil, msgFailed},
		{"store write fails", func(u *unit) { u.store.replaceErr = storeErr }, callhistory.ErrStore, storeErr, msgFailed},
		{"store write panics", func(u *unit) { u.store.replacePanic = true }, callhistory.ErrInternal, nil, msgFailed},
		{"store read fails", func(u *unit) { u.store.callsErr = storeErr }, callhistory.ErrStore, storeErr, msgFailed},
		{"store last-sync fails", func(u *unit) { u.store.lastErr = storeErr }, callhistory.ErrStore, storeErr, msgFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u := newUnit(t, func(u *unit, _ *callhistory.Config) {
				u.source.pages = []*callyzer.HistoryPage{
					page(1, 1, apiCall("c-1", unitNow.Add(-time.Hour), callyzer.Incoming, 5)),
					page(2, 1, apiCall("c-2", unitNow.Add(-2*time.Hour), callyzer.Incoming, 5)),
				}
				u.source.errAt = 1
				tt.configure(u)
			})
			res, err := u.r.Refresh(t.Context(), admin, leadID)
			require.Nil(t, res)
			require.ErrorIs(t, err, tt.want)
			if tt.cause != nil {
				require.ErrorIs(t, err, tt.cause)
			}
			require.Equal(t, tt.msg, callhistory.Message(err, "pl"))
			for _, s := range []error{callhistory.ErrForbidden, callhistory.ErrLeadNotFound, callhistory.ErrInvalidPhone,
				callhistory.ErrCallyzerAuth, callhistory.ErrTimeout, callhistory.ErrRateLimited,
				callhistory.ErrUpstream, callhistory.ErrStore, callhistory.ErrInternal} {
				if s != tt.want {
					require.NotErrorIs(t, err, s, "an error wraps exactly one sentinel")
				}
			}
			require.NotContains(t, err.Error(), leadPhone)
			if u.store.replaceErr == nil && u.store.callsErr == nil && u.store.lastErr == nil && !u.store.replacePanic {
				require.NotContains(t, u.rec.list(), "replace", "nothing is written after a failed fetch")
			}
		})
	}
}

func TestRefreshDeduplicatesAcrossPages(t *testing.T) {
	t.Parallel()
	first := apiCall("c-1", unitNow.Add(-time.Hour), callyzer.Incoming, 5)
	again := first
	again.Note = "seen again on the next page"
	u := newUnit(t, func(u *unit, _ *callhistory.Config) {
		u.source.pages = []*callyzer.HistoryPage{
			page(1, 1, first, apiCall("c-2", unitNow.Add(-2*time.Hour), callyzer.Missed, 0)),
			page(2, 1, again),
		}
	})
	res, err := u.r.Refresh(t.Context(), admin, leadID)
	require.NoError(t, err)
	require.Equal(t, 2, res.Report.Fetched)
	require.Len(t, res.Calls, 2)
	require.Equal(t, "seen again on the next page", res.Calls[0].Note, "the last copy wins")
}

func TestRefreshWindowAtTheEndOfAMonth(t *testing.T) {
	t.Parallel()
	warsaw, err := time.LoadLocation("Europe/Warsaw")
	require.NoError(t, err)
	tests := []struct {
		now, from time.Time
	}{
		// 31 August - 6 months is "31 February", normalised to 3 March.
		{time.Date(2026, 8, 31, 10, 0, 0, 900, warsaw), time.Date(2026, 3, 3, 10, 0, 0, 0, warsaw)},
		// In a leap year, to 2 March.
		{time.Date(2028, 8, 31, 10, 0, 0, 0, warsaw), time.Date(2028, 3, 2, 10, 0, 0, 0, warsaw)},
		// Across the DST change the wall clock is kept.
		{time.Date(2026, 11, 25, 15, 0, 0, 0, warsaw), time.Date(2026, 5, 25, 15, 0, 0, 0, warsaw)},
	}
	for _, tt := range tests {
		t.Run(tt.now.String(), func(t *testing.T) {
			t.Parallel()
			u := newUnit(t, func(_ *unit, cfg *callhistory.Config) {
				cfg.Now = func() time.Time { return tt.now }
			})
			_, err := u.r.Refresh(t.Context(), admin, leadID)
			require.NoError(t, err)
			want := callhistory.Window{From: tt.from.UTC(), To: tt.now.Truncate(time.Second).UTC()}
			if diff := cmp.Diff([]callhistory.Window{want}, u.store.windows); diff != "" {
				t.Errorf("window (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRefreshDeadline(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		hold := make(chan struct{}) // never closed: Callyzer hangs
		u := newUnit(t, func(u *unit, cfg *callhistory.Config) {
			u.source.hold = hold
			cfg.RefreshTimeout = 5 * time.Second
		})
		start := time.Now()
		_, err := u.r.Refresh(t.Context(), admin, leadID)
		require.ErrorIs(t, err, callhistory.ErrTimeout)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.Equal(t, 5*time.Second, time.Since(start))
		require.Zero(t, u.store.count())
	})
}

func TestRefreshCallerGoneSharedWorkGoesOn(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		hold := make(chan struct{})
		u := newUnit(t, func(u *unit, _ *callhistory.Config) {
			u.source.hold = hold
			u.source.pages = []*callyzer.HistoryPage{page(1, 1, apiCall("c-1", unitNow.Add(-time.Hour), callyzer.Incoming, 5))}
		})
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() {
			_, err := u.r.Refresh(ctx, admin, leadID)
			done <- err
		}()
		synctest.Wait() // the fetch is under way and held
		cancel()
		err := <-done
		require.ErrorIs(t, err, callhistory.ErrTimeout)
		require.ErrorIs(t, err, context.Canceled)
		require.Zero(t, u.store.count(), "the held fetch has not written yet")

		close(hold)
		u.r.Wait()
		require.Equal(t, 1, u.store.count(), "the shared refresh finished for nobody and still stored")
	})
}

func TestRefreshCallerAlreadyGone(t *testing.T) {
	t.Parallel()
	u := newUnit(t, nil)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := u.r.Refresh(ctx, admin, leadID)
	require.ErrorIs(t, err, callhistory.ErrTimeout)
	require.ErrorIs(t, err, context.Canceled)
	require.Empty(t, u.source.queryList())
}

func TestRefreshConcurrentCallersShareOneFetch(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		hold := make(chan struct{})
		u := newUnit(t, func(u *unit, _ *callhistory.Config) {
			u.source.hold = hold
			u.source.pages = []*callyzer.HistoryPage{page(1, 1, apiCall("c-1", unitNow.Add(-time.Hour), callyzer.Incoming, 5))}
		})
		const n = 10
		results := make([]*callhistory.Result, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { results[i], errs[i] = u.r.Refresh(t.Context(), admin, leadID) })
		}
		synctest.Wait() // every caller is waiting on the one held fetch
		close(hold)
		wg.Wait()

		require.Len(t, u.source.queryList(), 1)
		leaders := 0
		for i := range n {
			require.NoError(t, errs[i])
			if !results[i].Report.Shared {
				leaders++
			}
			if diff := cmp.Diff(results[0].Calls, results[i].Calls); diff != "" {
				t.Errorf("caller %d got another list (-first +this):\n%s", i, diff)
			}
		}
		require.Equal(t, 1, leaders, "exactly one caller ran the fetch")
	})
}

func TestRefreshPanicReachesEveryWaiter(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		hold := make(chan struct{})
		u := newUnit(t, func(u *unit, _ *callhistory.Config) {
			u.source.hold = hold
			u.source.pages = []*callyzer.HistoryPage{page(1, 1, apiCall("c-1", unitNow.Add(-time.Hour), callyzer.Incoming, 5))}
			u.source.panicAt = 1
		})
		errs := make([]error, 3)
		var wg sync.WaitGroup
		for i := range errs {
			wg.Go(func() { _, errs[i] = u.r.Refresh(t.Context(), admin, leadID) })
		}
		synctest.Wait()
		close(hold)
		wg.Wait()
		for _, err := range errs {
			require.ErrorIs(t, err, callhistory.ErrInternal)
		}
		require.Zero(t, u.store.count())
		require.Contains(t, u.logs.String(), "fake source: boom")
	})
}

func TestRefreshLogsOneMaskedLine(t *testing.T) {
	t.Parallel()
	u := newUnit(t, func(u *unit, _ *callhistory.Config) {
		u.source.pages = []*callyzer.HistoryPage{page(1, 3, apiCall("c-1", unitNow.Add(-time.Hour), callyzer.Incoming, 5))}
	})
	_, err := u.r.Refresh(t.Context(), admin, leadID)
	require.NoError(t, err)
	logs := u.logs.String()
	require.Equal(t, 1, strings.Count(logs, "\n"), logs)
	for _, want := range []string{"callhistory: refresh done", "phone=\"+48 601 *** 567\"", "lead=L-1", "actor=u-admin", "requests=3", "fetched=1", "inserted=1", "shared=false"} {
		require.Contains(t, logs, want)
	}
	require.NotContains(t, logs, leadPhone)
	require.NotContains(t, logs, "601234567")
}

func TestNewRefresherChecksConfig(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	valid := callhistory.Config{Source: &fakeSource{rec: rec}, Store: newFakeStore(rec), Leads: &fakeLeads{rec: rec}}
	tests := []struct {
		name   string
		change func(*callhistory.Config)
	}{
		{"no source", func(c *callhistory.Config) { c.Source = nil }},
		{"no store", func(c *callhistory.Config) { c.Store = nil }},
		{"no leads", func(c *callhistory.Config) { c.Leads = nil }},
		{"negative timeout", func(c *callhistory.Config) { c.RefreshTimeout = -time.Second }},
		{"negative months", func(c *callhistory.Config) { c.HistoryMonths = -1 }},
		{"negative limit", func(c *callhistory.Config) { c.ListLimit = -1 }},
		{"unknown region", func(c *callhistory.Config) { c.DefaultRegion = "XX" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := valid
			tt.change(&cfg)
			r, err := callhistory.NewRefresher(cfg)
			require.Error(t, err)
			require.Nil(t, r)
		})
	}
	r, err := callhistory.NewRefresher(valid)
	require.NoError(t, err)
	require.NotNil(t, r)
}

// TestRefreshComparesClientNumbersInE164: Callyzer sends bare national
// digits for a number it has no country code for; the refresh reads them
// in Config.DefaultRegion and stores the call under the lead's number. A
// number that does not normalise, or normalises to another number, fails
// the refresh as a bad answer, not as the lead's invalid number.
func TestRefreshComparesClientNumbersInE164(t *testing.T) {
	t.Parallel()
	withNumber := func(id, number string) callyzer.Call {
		c := apiCall(id, unitNow.Add(-time.Hour), callyzer.Incoming, 5)
		c.ClientNumber = number
		return c
	}
	t.Run("BareNationalDigits", func(t *testing.T) {
		t.Parallel()
		u := newUnit(t, func(u *unit, _ *callhistory.Config) {
			u.source.pages = []*callyzer.HistoryPage{page(1, 1, withNumber("bare", "601234567"), withNumber("e164", leadPhone))}
		})
		res, err := u.r.Refresh(t.Context(), admin, leadID)
		require.NoError(t, err)
		require.Len(t, res.Calls, 2)
		for _, c := range res.Calls {
			require.Equal(t, leadPhone, c.Phone, "call %s is stored under the lead's E.164 number", c.CallyzerID)
		}
	})
	// A call of another number (or of no valid number) is left out and
	// counted, with one warning naming the likely cause; the refresh stores
	// the lead's own calls (it used to fail the whole refresh).
	for _, tc := range []struct{ name, number string }{
		{"CountryCodeTwice", "+4848601234567"},
		{"Letters", "601ABC567"},
		{"AnotherNationalNumber", "601234568"},
		{"AnotherE164Number", "+48601234568"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			logs := &syncBuffer{}
			u := newUnit(t, func(u *unit, cfg *callhistory.Config) {
				u.source.pages = []*callyzer.HistoryPage{page(1, 1, withNumber("ok", leadPhone), withNumber("bad", tc.number))}
				cfg.Logger = slog.New(slog.NewTextHandler(logs, nil))
			})
			res, err := u.r.Refresh(t.Context(), admin, leadID)
			require.NoError(t, err)
			require.Len(t, res.Calls, 1)
			require.Equal(t, "ok", res.Calls[0].CallyzerID)
			require.Equal(t, 1, res.Report.Foreign)
			require.Equal(t, 1, res.Report.Fetched)
			require.Equal(t, 1, strings.Count(logs.String(), "left out calls of other numbers"), logs.String())
			require.NotContains(t, logs.String(), tc.number)
		})
	}
}

// TestRefreshLogsMaskNumbersInErrorsAndPanics: a store's error or a
// panic's value may quote a full number; the log line masks it.
func TestRefreshLogsMaskNumbersInErrorsAndPanics(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		configure func(*unit)
		wantErr   error
	}{
		{"StoreError", func(u *unit) {
			u.source.pages = []*callyzer.HistoryPage{page(1, 1, apiCall("c-1", unitNow.Add(-time.Hour), callyzer.Incoming, 5))}
			u.store.replaceErr = fmt.Errorf("duplicate key (phone)=(%s) on 2026-11-25", leadPhone)
		}, callhistory.ErrStore},
		{"Panic", func(u *unit) {
			u.source.pages = []*callyzer.HistoryPage{page(1, 1, apiCall("c-1", unitNow.Add(-time.Hour), callyzer.Incoming, 5))}
			u.source.panicAt = 1
			u.source.panicV = fmt.Errorf("bad row for %s on 2026-11-25", leadPhone)
		}, callhistory.ErrInternal},
		{"LeadsError", func(u *unit) {
			u.leads.err = fmt.Errorf("crm: lookup by phone 601 234 567 on 2026-11-25 failed")
		}, callhistory.ErrForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			u := newUnit(t, func(u *unit, _ *callhistory.Config) { tc.configure(u) })
			_, err := u.r.Refresh(t.Context(), admin, leadID)
			require.ErrorIs(t, err, tc.wantErr)
			logs := u.logs.String()
			require.NotContains(t, logs, leadPhone)
			require.NotContains(t, logs, "601234567")
			require.NotContains(t, logs, "601 234 567")
			require.Contains(t, logs, "2026-11-25", "the rest of the text stays readable")
		})
	}
}

// TestRefreshReadBackFailureComesAfterTheCommit: ErrStore from the
// read-back means the window was replaced; the next History shows it.
func TestRefreshReadBackFailureComesAfterTheCommit(t *testing.T) {
	t.Parallel()
	u := newUnit(t, func(u *unit, _ *callhistory.Config) {
		u.source.pages = []*callyzer.HistoryPage{page(1, 1, apiCall("c-1", unitNow.Add(-time.Hour), callyzer.Incoming, 5))}
		u.store.callsErr = errors.New("read replica down")
	})
	_, err := u.r.Refresh(t.Context(), admin, leadID)
	require.ErrorIs(t, err, callhistory.ErrStore)
	require.Equal(t, 1, u.store.count(), "the replacement committed before the read-back failed")
	u.store.mu.Lock()
	u.store.callsErr = nil
	u.store.mu.Unlock()
	res, err := u.r.History(t.Context(), admin, leadID)
	require.NoError(t, err)
	require.Len(t, res.Calls, 1)
	require.Equal(t, "c-1", res.Calls[0].CallyzerID)
}

// TestRefreshRefusesUnboundedLeadIDs: a lead id over 256 bytes, invalid
// UTF-8 or with a control character is "no such lead" before any lookup,
// authorisation or request, and never makes a long log line; the error
// does not quote the id.
func TestRefreshRefusesUnboundedLeadIDs(t *testing.T) {
	t.Parallel()
	for name, id := range map[string]string{
		"1,000,000 bytes": strings.Repeat("x", 1_000_000),
		"257 bytes":       strings.Repeat("ą", 128) + "x",
		"newline":         "L-1\nforged log line",
		"NUL":             "L-1\x00",
		"invalid UTF-8":   "L-\xff",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			u := newUnit(t, nil)
			for _, call := range []func() error{
				func() error { _, err := u.r.Refresh(t.Context(), admin, id); return err },
				func() error { _, err := u.r.History(t.Context(), advisor, id); return err },
			} {
				err := call()
				require.ErrorIs(t, err, callhistory.ErrLeadNotFound)
				require.Less(t, len(err.Error()), 200, "the error does not quote the id")
			}
			require.Empty(t, u.rec.list(), "no lookup, no authorisation, no request, no write")
			require.Less(t, len(u.logs.String()), 1000, "the log lines stay short: %q", u.logs.String())
			require.NotContains(t, u.logs.String(), "forged log line\n")
		})
	}
	u := newUnit(t, nil)
	_, err := u.r.History(t.Context(), admin, strings.Repeat("a", 256))
	require.ErrorIs(t, err, callhistory.ErrLeadNotFound, "256 bytes is a lookup")
	require.NotEmpty(t, u.rec.list())
}
