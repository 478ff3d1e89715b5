package main

import (
	"bytes"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/leadcalls/leadcalls/callyzer/callyzertest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// check runs the command in-process with env as its environment.
func check(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(t.Context(), args, &out, &errOut, func(k string) string { return env[k] })
	return code, out.String(), errOut.String()
}

// TestSimulate: -simulate runs the calibration against the fake playing
// the quirks given, and prints the findings and the options they call for.
func TestSimulate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		quirks string
		want   string // the output after the first line
	}{
		{"form=national,multi=first-only,window=90d,pagesize=50", `key: accepted
client_numbers form: national
several client_numbers: first-only
widest window: 90d
page size: 50
employee paging: either
time zone: Europe/Warsaw (its rows agree: UTC+0X:00 now)
calls without country code: 0 (of 50 rows read)
requests: 10

// Set on the client:
client, err := callyzer.NewClient(apiKey,
	callyzer.WithClientNumberForm("national"),
	callyzer.WithMaxWindow(90*24*time.Hour),
	callyzer.WithPageSize(50),
)
`},
		{"form=e164,multi=first-only,paging=query", `key: accepted
client_numbers form: e164
several client_numbers: first-only
widest window: 180d
page size: 100
employee paging: query
time zone: Europe/Warsaw (its rows agree: UTC+0X:00 now)
calls without country code: 0 (of 100 rows read)
requests: 12

// Set on the client:
client, err := callyzer.NewClient(apiKey,
	callyzer.WithClientNumberForm("e164"),
	callyzer.WithEmployeePagingInQuery(),
)
`},
		{"multi=ignored,pagesize=40", `key: accepted
client_numbers form: unknown (the filter is ignored: asked for one number, calls of others came back)
several client_numbers: ignored
widest window: 180d
page size: 40
employee paging: either
time zone: Europe/Warsaw (its rows agree: UTC+0X:00 now)
calls without country code: 0 (of 40 rows read)
requests: 8

// Set on the client:
client, err := callyzer.NewClient(apiKey,
	callyzer.WithPageSize(40),
)
`},
		{"form=digits,window=30d,paging=body,nocc=4,tz=Asia/Tokyo", `key: accepted
client_numbers form: digits
several client_numbers: all
widest window: 30d
page size: 100
employee paging: body
time zone: UTC+09:00 in its rows, not Europe/Warsaw (UTC+0X:00 now)
calls without country code: 4 (of 100 rows read)
requests: 19

// Set on the client:
client, err := callyzer.NewClient(apiKey,
	callyzer.WithClientNumberForm("digits"),
	callyzer.WithMaxWindow(30*24*time.Hour),
	callyzer.WithLocation(time.FixedZone("UTC+09:00", 32400)), // the offset its rows show; better the account's named zone (time.LoadLocation)
)
`},
		{"calls=0", `key: accepted
client_numbers form: unknown (no call with a country code among the 0 rows uploaded in the last 180d)
several client_numbers: unknown (the client_numbers form is unknown)
widest window: 180d
page size: unknown (only 0 calls uploaded in the last 180d, fewer than a page of 100)
employee paging: either
time zone: unknown (no row with synced_at among the 0 rows read)
calls without country code: unknown (no call uploaded in the last 180d)
requests: 6

// The defaults fit: no option to set.
`},
	}
	for _, tt := range tests {
		t.Run(tt.quirks, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := check(t, nil, "-simulate", tt.quirks)
			require.Equal(t, 0, code, errOut)
			first, rest, _ := strings.Cut(out, "\n")
			require.True(t, strings.HasPrefix(first, "Callyzer: built-in fake playing "+tt.quirks), first)
			// Warsaw's offset depends on the date the test runs.
			rest = strings.NewReplacer("UTC+01:00 now", "UTC+0X:00 now", "UTC+02:00 now", "UTC+0X:00 now").Replace(rest)
			if strings.Contains(tt.quirks, "tz=") {
				// The zone's search halves a range clipped to the last
				// hours' uploads, placed relative to the wall clock: a
				// request more or less from run to run.
				n := requestsLine.FindStringSubmatch(rest)
				require.NotNil(t, n, rest)
				got, _ := strconv.Atoi(n[1])
				want, _ := strconv.Atoi(requestsLine.FindStringSubmatch(tt.want)[1])
				require.InDelta(t, want, got, 1, "requests")
				rest = requestsLine.ReplaceAllString(rest, requestsLine.FindString(tt.want))
			}
			require.Equal(t, tt.want, rest)
		})
	}
}

var requestsLine = regexp.MustCompile(`(?m)^requests: (\d+)$`)

// TestAgainstURL: with -url the key comes from CALLYZER_API_KEY; a key
// refused prints what is known and exits 1.
func TestAgainstURL(t *testing.T) {
	t.Parallel()
	ds := callyzertest.Generate(3, callyzertest.GenerateConfig{Calls: 300})
	srv := callyzertest.NewServer(t, callyzertest.Options{Calls: ds.Calls, Employees: ds.Employees, PageSizeCap: 40})

	code, out, errOut := check(t, map[string]string{"CALLYZER_API_KEY": srv.APIKey(), "CALLYZER_BASE_URL": srv.URL}, "-interval", "0")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "Callyzer: "+srv.URL+"\nkey: accepted\n")
	require.Contains(t, out, "\npage size: 40\n")
	require.Contains(t, out, "\tcallyzer.WithPageSize(40),\n")

	code, out, errOut = check(t, map[string]string{"CALLYZER_API_KEY": "revoked"}, "-url", srv.URL, "-interval", "0")
	require.Equal(t, 1, code)
	require.Contains(t, out, "key: refused (unauthorized (HTTP 401): Unauthenticated.)\n")
	require.Contains(t, errOut, "unauthorized")
	require.NotContains(t, out+errOut, "revoked", "the key is never printed")
}

// TestUsage: a command line that cannot run exits 2 and says why, before
// any request.
func TestUsage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"nothing to check", nil, nil, "give -url (or CALLYZER_BASE_URL)"},
		{"no key", nil, []string{"-url", "https://api1.callyzer.co/api/v2.1"}, "-url needs the API key in CALLYZER_API_KEY"},
		{"key as a flag", nil, []string{"-key", "k"}, "flag provided but not defined: -key"},
		{"both", map[string]string{"CALLYZER_BASE_URL": "https://api1.callyzer.co/api/v2.1"}, []string{"-simulate", "form=national"}, "exclude each other"},
		{"unknown quirk", nil, []string{"-simulate", "form=national,speed=fast"}, `unknown quirk "speed"`},
		{"bad form", nil, []string{"-simulate", "form=international"}, "form=international: want dashed, national, e164 or digits"},
		{"bad window", nil, []string{"-simulate", "window=90"}, "window=90: want days, such as 90d"},
		{"bad multi", nil, []string{"-simulate", "multi=some"}, "multi=some: want all, first-only or ignored"},
		{"page size over 100", nil, []string{"-simulate", "pagesize=500"}, "pagesize=500: want a whole number from 1 to 100"},
		{"unknown zone", nil, []string{"-simulate", "tz=Mars/Olympus"}, "tz=Mars/Olympus"},
		{"not key=value", nil, []string{"-simulate", "national"}, `"national": want key=value`},
		{"plain http to a remote host", map[string]string{"CALLYZER_API_KEY": "k"}, []string{"-url", "http://api1.callyzer.co/api/v2.1"}, "plain http only for a loopback host"},
		{"arguments", nil, []string{"-simulate", "form=national", "extra"}, "unexpected arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := check(t, tt.env, tt.args...)
			require.Equal(t, 2, code)
			require.Empty(t, out)
			require.Contains(t, errOut, tt.want)
		})
	}
}

// TestREADMESimulate runs the README's -simulate example ("## Before you
// go live") and checks that it prints what the README shows.
func TestREADMESimulate(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	block := regexp.MustCompile("(?s)\n## Before you go live\n.*?```sh\n\\$ go run ./examples/callyzercheck (-simulate \\S+)\n(.*?)```").FindSubmatch(readme)
	require.NotNil(t, block, "the README shows a -simulate run")
	args := strings.Fields(string(block[1]))
	code, out, errOut := check(t, nil, args...)
	require.Equal(t, 0, code, errOut)
	warsaw := strings.NewReplacer("UTC+01:00 now", "UTC+0X:00 now", "UTC+02:00 now", "UTC+0X:00 now")
	require.Equal(t, warsaw.Replace(string(block[2])), warsaw.Replace(out))
}
