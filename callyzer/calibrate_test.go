package callyzer_test

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadcalls/leadcalls/callyzer"
	"github.com/leadcalls/leadcalls/callyzer/callyzertest"
)

// calibrationData is a generated account of 2,000 calls over six months,
// the newest nocc of them held without a country code.
func calibrationData(nocc int) callyzertest.Dataset {
	ds := callyzertest.Generate(7, callyzertest.GenerateConfig{End: time.Now(), Calls: 2000, Employees: 12})
	for i := len(ds.Calls) - nocc; i < len(ds.Calls); i++ {
		ds.Calls[i].ClientCountryCode = ""
	}
	return ds
}

// calibrate runs Calibrate against a fake playing opts and checks the
// budget's rules on the fake's request log: at most 25 requests, each one
// counted, one at a time, none that writes.
func calibrate(t *testing.T, opts callyzertest.Options, clientOpts ...callyzer.Option) (*callyzer.Calibration, error) {
	t.Helper()
	opts.APIKey = testKey
	srv := callyzertest.NewServer(t, opts)
	c := newClient(t, srv.URL, clientOpts...)
	cal, err := calibrateWith(t, c, srv)
	return cal, err
}

func calibrateWith(t *testing.T, c *callyzer.Client, srv *callyzertest.Server) (*callyzer.Calibration, error) {
	t.Helper()
	srv.ResetRequests()
	cal, err := c.Calibrate(t.Context())
	require.NotNil(t, cal)
	reqs := srv.Requests()
	require.LessOrEqual(t, len(reqs), 25, "at most 25 requests")
	require.Equal(t, len(reqs), cal.Requests, "every request counted")
	require.LessOrEqual(t, srv.MaxInFlight(), 1, "one request in flight")
	for _, r := range reqs {
		read := r.Path == callyzertest.PathHistory && r.Method == http.MethodPost ||
			r.Path == callyzertest.PathEmployees && r.Method == http.MethodGet
		require.True(t, read, "a read-only request: %s %s", r.Method, r.Path)
	}
	require.Contains(t, cal.Findings, "requests: "+strconv.Itoa(cal.Requests))
	t.Logf("%d requests", cal.Requests)
	return cal, err
}

func zone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	require.NoError(t, err)
	return loc
}

// finding returns the value of the named line of cal.Findings.
func finding(t *testing.T, cal *callyzer.Calibration, name string) string {
	t.Helper()
	for _, l := range cal.Findings {
		if v, ok := strings.CutPrefix(l, name+": "); ok {
			return v
		}
	}
	t.Fatalf("no finding %q in %q", name, cal.Findings)
	return ""
}

// TestCalibrateQuirks: for each quirk the fake plays, the calibration
// reports it, and the options it calls for, within 25 requests.
func TestCalibrateQuirks(t *testing.T) {
	t.Parallel()
	ds := calibrationData(0)
	base := callyzertest.Options{Calls: ds.Calls, Employees: ds.Employees}
	with := func(f func(*callyzertest.Options)) callyzertest.Options {
		o := base
		f(&o)
		return o
	}
	tests := []struct {
		name    string
		opts    callyzertest.Options
		want    map[string]string // findings, by name
		options []string
		// requests: exact, except for the time zones: the search for the
		// offset halves a range clipped to the last hours' uploads, whose
		// calls the generator places relative to the wall clock, so it
		// takes a request more or less from run to run: a bound there.
		requests int
	}{
		{"defaults", base, map[string]string{
			"key": "accepted", "client_numbers form": "dashed", "several client_numbers": "all",
			"widest window": "180d", "page size": "100", "employee paging": "either",
			"time zone": "Europe/Warsaw (its rows agree", "calls without country code": "0 (of 100 rows read)",
		}, nil, 10},
		{"form national", with(func(o *callyzertest.Options) { o.ClientNumberForms = callyzertest.FormNational }),
			map[string]string{"client_numbers form": "national", "several client_numbers": "all"},
			[]string{`callyzer.WithClientNumberForm("national")`}, 11},
		{"form e164", with(func(o *callyzertest.Options) { o.ClientNumberForms = callyzertest.FormE164 }),
			map[string]string{"client_numbers form": "e164"}, []string{`callyzer.WithClientNumberForm("e164")`}, 12},
		{"form digits", with(func(o *callyzertest.Options) { o.ClientNumberForms = callyzertest.FormDigits }),
			map[string]string{"client_numbers form": "digits"}, []string{`callyzer.WithClientNumberForm("digits")`}, 13},
		{"form dashed or national", with(func(o *callyzertest.Options) {
			o.ClientNumberForms = callyzertest.FormDashed | callyzertest.FormNational
		}), map[string]string{"client_numbers form": "dashed"}, nil, 10},
		{"multi first-only", with(func(o *callyzertest.Options) { o.FirstClientNumberOnly = true }),
			map[string]string{"several client_numbers": "first-only", "client_numbers form": "dashed"}, nil, 10},
		{"multi ignored", with(func(o *callyzertest.Options) { o.IgnoreClientNumbers = true }),
			map[string]string{"several client_numbers": "ignored",
				"client_numbers form": "unknown (the filter is ignored: asked for one number, calls of others came back)"}, nil, 9},
		{"window 90d", with(func(o *callyzertest.Options) { o.MaxWindow = 90 * 24 * time.Hour }),
			map[string]string{"widest window": "90d"}, []string{"callyzer.WithMaxWindow(90*24*time.Hour)"}, 10},
		{"window 30d", with(func(o *callyzertest.Options) { o.MaxWindow = 30 * 24 * time.Hour }),
			map[string]string{"widest window": "30d", "page size": "100"}, []string{"callyzer.WithMaxWindow(30*24*time.Hour)"}, 10},
		{"window 181d", with(func(o *callyzertest.Options) { o.MaxWindow = 200 * 24 * time.Hour }),
			map[string]string{"widest window": "181d or more"}, nil, 10},
		{"page size 50", with(func(o *callyzertest.Options) { o.PageSizeCap = 50 }),
			map[string]string{"page size": "50", "calls without country code": "0 (of 50 rows read)"},
			[]string{"callyzer.WithPageSize(50)"}, 9},
		{"employee paging in the query", with(func(o *callyzertest.Options) { o.EmployeePaging = callyzertest.PagingInQuery }),
			map[string]string{"employee paging": "query"}, []string{"callyzer.WithEmployeePagingInQuery()"}, 10},
		{"employee paging in the body", with(func(o *callyzertest.Options) { o.EmployeePaging = callyzertest.PagingInBody }),
			map[string]string{"employee paging": "body"}, nil, 10},
		{"time zone Asia/Tokyo", with(func(o *callyzertest.Options) { o.Location = zone(t, "Asia/Tokyo") }),
			map[string]string{"time zone": "UTC+09:00 in its rows, not Europe/Warsaw"},
			[]string{`callyzer.WithLocation(time.FixedZone("UTC+09:00", 32400)) // the offset its rows show; better the account's named zone (time.LoadLocation)`}, 17},
		{"time zone Asia/Kolkata", with(func(o *callyzertest.Options) { o.Location = zone(t, "Asia/Kolkata") }),
			map[string]string{"time zone": "UTC+05:30 in its rows, not Europe/Warsaw"},
			[]string{`callyzer.WithLocation(time.FixedZone("UTC+05:30", 19800)) // the offset its rows show; better the account's named zone (time.LoadLocation)`}, 17},
		{"several quirks", with(func(o *callyzertest.Options) {
			o.ClientNumberForms, o.FirstClientNumberOnly = callyzertest.FormNational, true
			o.MaxWindow, o.PageSizeCap, o.EmployeePaging = 90*24*time.Hour, 50, callyzertest.PagingInQuery
		}), map[string]string{"client_numbers form": "national", "several client_numbers": "first-only",
			"widest window": "90d", "page size": "50", "employee paging": "query"},
			[]string{`callyzer.WithClientNumberForm("national")`, "callyzer.WithMaxWindow(90*24*time.Hour)",
				"callyzer.WithPageSize(50)", "callyzer.WithEmployeePagingInQuery()"}, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cal, err := calibrate(t, tt.opts)
			require.NoError(t, err)
			for name, want := range tt.want {
				require.True(t, strings.HasPrefix(finding(t, cal, name), want), "%s: got %q, want %q...", name, finding(t, cal, name), want)
			}
			require.Equal(t, tt.options, cal.GoOptions)
			if strings.HasPrefix(tt.name, "time zone") {
				require.LessOrEqual(t, cal.Requests, tt.requests)
				require.Greater(t, cal.Requests, 11, "the zone's own requests after the first lookup")
				return
			}
			require.Equal(t, tt.requests, cal.Requests)
		})
	}
}

// TestCalibrateWindowHalving: a 400 for 180 days that names no width
// makes the calibration halve it.
func TestCalibrateWindowHalving(t *testing.T) {
	t.Parallel()
	ds := calibrationData(0)
	srv := callyzertest.NewServer(t, callyzertest.Options{APIKey: testKey, Calls: ds.Calls, Employees: ds.Employees,
		MaxWindow: 60 * 24 * time.Hour})
	srv.Inject(callyzertest.Fault{Kind: callyzertest.FaultStatus, Status: http.StatusBadRequest,
		Body: `{"message":"Invalid date range."}`, Request: 2})
	cal, err := calibrateWith(t, newClient(t, srv.URL), srv)
	require.NoError(t, err)
	require.Equal(t, 45*24*time.Hour, cal.MaxWindow, "180d refused, 90d refused, 45d answered")
	require.Equal(t, "45d", finding(t, cal, "widest window"))
	require.Contains(t, cal.GoOptions, "callyzer.WithMaxWindow(45*24*time.Hour)")
}

// TestCalibrateCallsWithoutCountryCode: the newest calls, held without a
// country code, are counted, and the form is learned from a call that has
// one.
func TestCalibrateCallsWithoutCountryCode(t *testing.T) {
	t.Parallel()
	ds := calibrationData(3)
	cal, err := calibrate(t, callyzertest.Options{Calls: ds.Calls, Employees: ds.Employees,
		ClientNumberForms: callyzertest.FormNational})
	require.NoError(t, err)
	require.Equal(t, 3, cal.NoCountryCode)
	require.Equal(t, "3 (of 100 rows read)", finding(t, cal, "calls without country code"))
	require.Equal(t, "national", cal.ClientNumberForm)
}

// TestCalibrateConfiguredZone: a client set to the account's zone is
// confirmed in one request, and the snippet names the zone.
func TestCalibrateConfiguredZone(t *testing.T) {
	t.Parallel()
	ds := calibrationData(0)
	tokyo := zone(t, "Asia/Tokyo")
	cal, err := calibrate(t, callyzertest.Options{Calls: ds.Calls, Employees: ds.Employees, Location: tokyo},
		callyzer.WithLocation(tokyo))
	require.NoError(t, err)
	require.Same(t, tokyo, cal.TimeZone)
	require.Equal(t, "Asia/Tokyo (its rows agree: UTC+09:00 now)", finding(t, cal, "time zone"))
	require.Equal(t, []string{`callyzer.WithLocation(loc) // loc, err := time.LoadLocation("Asia/Tokyo")`}, cal.GoOptions)
}

// TestCalibrateUnknowns: what an empty account, a roster of one and a key
// refused leave unknown, and why.
func TestCalibrateUnknowns(t *testing.T) {
	t.Parallel()
	t.Run("empty account", func(t *testing.T) {
		t.Parallel()
		cal, err := calibrate(t, callyzertest.Options{Employees: []callyzertest.Employee{callyzertest.DefaultEmployee}})
		require.NoError(t, err)
		require.Equal(t, []string{
			"key: accepted",
			"client_numbers form: unknown (no call with a country code among the 0 rows uploaded in the last 180d)",
			"several client_numbers: unknown (the client_numbers form is unknown)",
			"widest window: 180d",
			"page size: unknown (only 0 calls uploaded in the last 180d, fewer than a page of 100)",
			"employee paging: unknown (the roster has 1 employee(s); two are needed)",
			"time zone: unknown (no row with synced_at among the 0 rows read)",
			"calls without country code: unknown (no call uploaded in the last 180d)",
			"requests: 5",
		}, cal.Findings)
		require.Empty(t, cal.GoOptions)
	})
	t.Run("account-wide page failed", func(t *testing.T) {
		t.Parallel()
		ds := calibrationData(0)
		srv := callyzertest.NewServer(t, callyzertest.Options{APIKey: testKey, Calls: ds.Calls, Employees: ds.Employees})
		srv.Inject(callyzertest.Fault{Kind: callyzertest.FaultStatus, Status: http.StatusServiceUnavailable, Request: 4})
		cal, err := calibrateWith(t, newClient(t, srv.URL), srv)
		require.NoError(t, err, "a failed request leaves its findings unknown")
		require.Equal(t, "page size: unknown (upstream failure (HTTP 503): Service Unavailable)", cal.Findings[4])
		require.Equal(t, "client_numbers form: unknown (the account-wide page by upload time failed: upstream failure (HTTP 503): Service Unavailable)", cal.Findings[1])
		require.True(t, strings.HasPrefix(finding(t, cal, "time zone"), "unknown (the account-wide page by upload time failed"))
		require.Equal(t, "either", cal.EmployeePaging, "the steps that need no page still run")
	})
	t.Run("key refused", func(t *testing.T) {
		t.Parallel()
		srv := callyzertest.NewServer(t, callyzertest.Options{})
		c, err := callyzer.NewClient("wrong-key", append(quickOptions(), callyzer.WithBaseURL(srv.URL))...)
		require.NoError(t, err)
		cal, err := calibrateWith(t, c, srv)
		require.ErrorIs(t, err, callyzer.ErrUnauthorized)
		require.False(t, cal.KeyAccepted)
		require.Equal(t, 1, cal.Requests)
		require.Equal(t, "key: refused (unauthorized (HTTP 401): Unauthenticated.)", cal.Findings[0])
		require.True(t, slices.Contains(cal.Findings, "widest window: unknown (the key's first request failed)"))
	})
}
