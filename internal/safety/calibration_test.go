package safety

import (
	"cmp"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadcalls/leadcalls/callhistory"
	"github.com/leadcalls/leadcalls/callyzer"
	"github.com/leadcalls/leadcalls/callyzer/callyzertest"
	"github.com/leadcalls/leadcalls/storage/memstore"
)

// account is a fake Callyzer of a generated account of 1,000 calls at
// the real time (Calibrate reads the clock), with n calls of the lead in
// it: one an hour ago, the others spread back over five months.
func account(t *testing.T, n int, quirks func(*callyzertest.Options)) (*callyzertest.Server, []callyzertest.Call, time.Time) {
	t.Helper()
	at := time.Now().Truncate(time.Second)
	ds := callyzertest.Generate(11, callyzertest.GenerateConfig{End: at, Calls: 1000, Employees: 12})
	lead := make([]callyzertest.Call, n)
	for i := range lead {
		lead[i] = callyzertest.NewCall(fmt.Sprintf("lead-%03d", i), leadPhone, at.Add(-time.Hour-time.Duration(i)*150*24*time.Hour/time.Duration(n)))
	}
	opts := callyzertest.Options{Calls: append(ds.Calls, lead...), Employees: ds.Employees}
	quirks(&opts)
	return callyzertest.NewServer(t, opts), lead, at
}

// client returns a client of srv that never waits, logging to l.
func client(t *testing.T, srv *callyzertest.Server, l *logs, opts ...callyzer.Option) *callyzer.Client {
	t.Helper()
	c, err := callyzer.NewClient(srv.APIKey(), append([]callyzer.Option{callyzer.WithBaseURL(srv.URL), callyzer.WithInterval(0),
		callyzer.WithRetryDelays(0, 0), callyzer.WithMaxRetries(0), callyzer.WithLogger(slog.New(slog.NewTextHandler(l, nil)))}, opts...)...)
	require.NoError(t, err)
	return c
}

// refresher returns a Refresher of c on st, at the clock at.
func refresher(t *testing.T, c *callyzer.Client, st callhistory.Store, l *logs, at time.Time) *callhistory.Refresher {
	t.Helper()
	r, err := callhistory.NewRefresher(callhistory.Config{Source: c, Store: st, Leads: leads{}, Logger: slog.New(slog.NewTextHandler(l, nil)),
		Now: func() time.Time { return at }})
	require.NoError(t, err)
	t.Cleanup(r.Wait)
	return r
}

// calibratedOptions are the options cal calls for.
func calibratedOptions(cal *callyzer.Calibration) []callyzer.Option {
	var opts []callyzer.Option
	if cal.ClientNumberForm != "" {
		opts = append(opts, callyzer.WithClientNumberForm(cal.ClientNumberForm))
	}
	if cal.MaxWindow > 0 && cal.MaxWindow < 180*24*time.Hour {
		opts = append(opts, callyzer.WithMaxWindow(cal.MaxWindow))
	}
	if cal.PageSize > 0 && cal.PageSize < 100 {
		opts = append(opts, callyzer.WithPageSize(cal.PageSize))
	}
	if cal.EmployeePaging == "query" {
		opts = append(opts, callyzer.WithEmployeePagingInQuery())
	}
	if cal.TimeZone != nil {
		opts = append(opts, callyzer.WithLocation(cal.TimeZone))
	}
	return opts
}

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	require.NoError(t, err)
	return loc
}

// TestCalibratedClientRefreshes: for each quirk the fake plays, the
// calibration reports it within 25 requests; a client set as it says
// refreshes the lead exactly (every call, at its true time) without
// having to adapt, and lists every employee; a client set otherwise fails
// in a way a host can diagnose (an error or a warning that names the
// cause), or adapts and logs it, and never loses a stored call.
func TestCalibratedClientRefreshes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		leadN   int // the lead's calls; 8 when 0
		quirks  func(*callyzertest.Options)
		finding string // a "name: value" line of the calibration
		wrong   []callyzer.Option
		// failed checks what the wrongly set client's refresh did; it
		// runs after a correct refresh stored the lead's calls.
		failed func(t *testing.T, err error, l *logs)
	}{
		{"form national", 0, func(o *callyzertest.Options) { o.ClientNumberForms = callyzertest.FormNational },
			"client_numbers form: national", nil, suspiciousAnswer},
		{"form e164", 0, func(o *callyzertest.Options) { o.ClientNumberForms = callyzertest.FormE164 },
			"client_numbers form: e164", nil, suspiciousAnswer},
		{"form digits", 0, func(o *callyzertest.Options) { o.ClientNumberForms = callyzertest.FormDigits },
			"client_numbers form: digits", nil, suspiciousAnswer},
		{"form dashed", 0, func(*callyzertest.Options) {}, "client_numbers form: dashed",
			[]callyzer.Option{callyzer.WithClientNumberForm("national")}, func(t *testing.T, err error, _ *logs) {
				require.ErrorIs(t, err, callhistory.ErrUpstream)
				require.ErrorIs(t, err, callyzer.ErrBadRequest)
				require.Contains(t, err.Error(), "use country code, hyphen, number (48-", "the answer names the form")
			}},
		{"multi first-only", 0, func(o *callyzertest.Options) { o.FirstClientNumberOnly = true },
			"several client_numbers: first-only", nil, nil}, // a refresh asks for one number: nothing to set wrongly
		{"multi all", 0, func(*callyzertest.Options) {}, "several client_numbers: all", nil, nil},
		{"multi ignored", 0, func(o *callyzertest.Options) { o.IgnoreClientNumbers = true },
			"several client_numbers: ignored", nil, func(t *testing.T, err error, l *logs) {
				require.NoError(t, err, "calls of other numbers are left out")
				require.Contains(t, l.String(), "may ignore the client_numbers filter")
			}},
		{"window 90d", 0, func(o *callyzertest.Options) { o.MaxWindow = 90 * 24 * time.Hour },
			"widest window: 90d", nil, adapted("refused a wider window")},
		{"window 30d", 0, func(o *callyzertest.Options) { o.MaxWindow = 30 * 24 * time.Hour },
			"widest window: 30d", nil, adapted("refused a wider window")},
		{"page size 50", 120, func(o *callyzertest.Options) { o.PageSizeCap = 50 },
			"page size: 50", nil, adapted("served fewer rows than asked")},
		{"employee paging query", 0, func(o *callyzertest.Options) { o.EmployeePaging = callyzertest.PagingInQuery },
			"employee paging: query", nil, nil},
		{"employee paging body", 0, func(o *callyzertest.Options) { o.EmployeePaging = callyzertest.PagingInBody },
			"employee paging: body", []callyzer.Option{callyzer.WithEmployeePagingInQuery()}, nil},
		{"calls without country code", 0, func(o *callyzertest.Options) {
			for i := len(o.Calls) - 9; i < len(o.Calls)-8; i++ { // the newest generated call
				o.Calls[i].ClientCountryCode = ""
			}
		}, "calls without country code: 1 (of 100 rows read)", nil, nil},
		{"time zone Asia/Tokyo", 0, func(o *callyzertest.Options) { o.Location = mustZone(t, "Asia/Tokyo") },
			"time zone: UTC+09:00 in its rows, not Europe/Warsaw", nil, func(t *testing.T, err error, _ *logs) {
				require.ErrorIs(t, err, callhistory.ErrUpstream)
				require.Contains(t, err.Error(), "lies outside the window")
				require.Contains(t, err.Error(), "time zone", "the error names the cause")
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, lead, at := account(t, cmp.Or(tt.leadN, 8), tt.quirks)
			l := &logs{}
			cal, err := client(t, srv, l).Calibrate(t.Context())
			require.NoError(t, err)
			require.Contains(t, strings.Join(cal.Findings, "\n")+"\n", tt.finding)
			require.LessOrEqual(t, cal.Requests, 25)
			require.Len(t, srv.Requests(), cal.Requests)

			// Set as the calibration says: exact, and nothing to adapt.
			st := memstore.New()
			good := client(t, srv, l, calibratedOptions(cal)...)
			res, err := refresher(t, good, st, l, at).Refresh(t.Context(), admin, leadID)
			require.NoError(t, err)
			require.Equal(t, fakeIDs(lead), ids(res.Calls))
			for _, c := range res.Calls {
				for _, want := range lead {
					if want.ID == c.CallyzerID {
						require.True(t, want.StartedAt.Equal(c.StartedAt), "%s at its true time: %s, want %s", c.CallyzerID, c.StartedAt, want.StartedAt)
					}
				}
			}
			require.NotContains(t, l.String(), "refused a wider window")
			require.NotContains(t, l.String(), "served fewer rows than asked")
			emps, err := good.Employees(t.Context(), callyzer.EmployeesQuery{})
			require.NoError(t, err)
			require.Len(t, emps, 12)

			// Set otherwise: the defaults, or the wrong option given.
			before := listed(t, st, leadPhone)
			wl := &logs{}
			bad := client(t, srv, wl, tt.wrong...)
			if strings.HasPrefix(tt.name, "employee paging") {
				_, err := bad.Employees(t.Context(), callyzer.EmployeesQuery{})
				require.ErrorIs(t, err, callyzer.ErrIncompleteResponse)
				require.Contains(t, err.Error(), "Callyzer may ignore paging in the")
				return
			}
			if tt.failed == nil {
				return
			}
			_, err = refresher(t, bad, st, wl, at.Add(time.Minute)).Refresh(t.Context(), admin, leadID)
			tt.failed(t, err, wl)
			after := listed(t, st, leadPhone)
			require.Equal(t, ids(before), ids(after), "no stored call lost")
			require.Equal(t, rows(before), rows(after), "every call under its row")
		})
	}
}

// suspiciousAnswer: the account matches another client_numbers form, so
// the lead's refresh came back empty: refused, and the log says why.
func suspiciousAnswer(t *testing.T, err error, l *logs) {
	t.Helper()
	require.ErrorIs(t, err, callhistory.ErrSuspiciousAnswer)
	require.Contains(t, l.String(), "check the client_numbers form the account matches")
}

// adapted: the client adapted to the account, refreshed, and logged what
// it learned.
func adapted(logged string) func(*testing.T, error, *logs) {
	return func(t *testing.T, err error, l *logs) {
		t.Helper()
		require.NoError(t, err)
		require.Contains(t, l.String(), logged)
	}
}
