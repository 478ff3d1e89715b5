// Command callyzercheck learns how a Callyzer account treats the SDK's
// requests (callyzer.Client.Calibrate) and prints one finding a line, then
// the client options to set. It only reads, at most 25 requests, and
// writes nothing anywhere.
//
// Against your account (the key only from the environment, never a flag:
// it would land in the shell history):
//
//	CALLYZER_API_KEY=... go run ./examples/callyzercheck -url https://api1.callyzer.co/api/v2.1
//
// Against the built-in fake, playing the quirks given:
//
//	go run ./examples/callyzercheck -simulate form=national,multi=first-only,window=90d,pagesize=50
//
// Quirks: form=dashed|national|e164|digits (the client_numbers form the
// account matches), multi=all|first-only|ignored (what it does with several
// numbers), window=Nd (the widest window it answers), pagesize=N (the most
// rows it serves a page), paging=either|body|query (where /employee/get
// reads its paging), nocc=N (the newest N calls held without a country
// code), tz=ZONE (the zone its rows are written in, such as Asia/Tokyo),
// calls=N (the calls of the generated account, 2000 by default).
//
// Exit status: 0 when it ran, 1 when the key was refused or Callyzer could
// not be reached, 2 for a usage error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // Europe/Warsaw and the -simulate tz= zones on machines without a zone database

	"github.com/leadcalls/leadcalls/callyzer"
	"github.com/leadcalls/leadcalls/callyzer/callyzertest"
	"github.com/leadcalls/leadcalls/callyzer/pacing"
	"github.com/leadcalls/leadcalls/examples/internal/calreport"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
}

// simulatedInterval paces the fake and its client under -simulate, so a
// run takes a second rather than the real 2 s a request.
const simulatedInterval = 40 * time.Millisecond

// errUsage marks an error of the command line: exit status 2.
var errUsage = errors.New("usage")

// run is the command: it returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	fs := flag.NewFlagSet("callyzercheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	baseURL := fs.String("url", getenv("CALLYZER_BASE_URL"), "Callyzer base URL, version path included (default from CALLYZER_BASE_URL); the key comes from CALLYZER_API_KEY")
	simulate := fs.String("simulate", "", "run against the built-in fake playing these quirks, such as form=national,multi=first-only,window=90d,pagesize=50")
	interval := fs.Duration("interval", 2*time.Second, "least time between requests to -url (Callyzer allows one per 2s)")
	timeout := fs.Duration("timeout", 3*time.Minute, "bound of the whole check")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: CALLYZER_API_KEY=... callyzercheck -url URL\n       callyzercheck -simulate QUIRKS")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	client, closeFake, err := setup(fs, *baseURL, *simulate, *interval, getenv, stdout, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "callyzercheck:", err)
		if errors.Is(err, errUsage) {
			fs.Usage()
			return 2
		}
		return 1
	}
	defer closeFake()
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	cal, err := client.Calibrate(ctx)
	if werr := calreport.Write(stdout, cal); werr != nil {
		fmt.Fprintln(stderr, "callyzercheck:", werr)
		return 1
	}
	if err != nil {
		fmt.Fprintln(stderr, "callyzercheck:", err)
		return 1
	}
	return 0
}

// setup returns the client to calibrate: of the fake playing quirks, or of
// the account at baseURL.
func setup(fs *flag.FlagSet, baseURL, quirks string, interval time.Duration, getenv func(string) string,
	stdout, stderr io.Writer) (*callyzer.Client, func(), error) {
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	switch {
	case fs.NArg() > 0:
		return nil, nil, fmt.Errorf("%w: unexpected arguments %q", errUsage, fs.Args())
	case quirks != "" && baseURL != "":
		return nil, nil, fmt.Errorf("%w: -simulate and -url (or CALLYZER_BASE_URL) exclude each other", errUsage)
	case quirks != "":
		opts, err := parseQuirks(quirks)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: -simulate: %v", errUsage, err)
		}
		// Half the client's pace: the fake measures from arrival, and under
		// load (tests run with -race on 2 cores) one request may reach it
		// several milliseconds late and the next on time.
		opts.Interval = simulatedInterval / 2
		fake := callyzertest.New(opts)
		client, err := callyzer.NewClient(fake.APIKey(), callyzer.WithBaseURL(fake.URL), callyzer.WithInterval(simulatedInterval),
			callyzer.WithPacer(pacing.New(simulatedInterval)), callyzer.WithLogger(logger))
		if err != nil {
			fake.Close()
			return nil, nil, err
		}
		fmt.Fprintf(stdout, "Callyzer: built-in fake playing %s (%d calls, %d employees)\n", quirks, len(opts.Calls), len(opts.Employees))
		return client, fake.Close, nil
	case baseURL == "":
		return nil, nil, fmt.Errorf("%w: give -url (or CALLYZER_BASE_URL) with the key in CALLYZER_API_KEY, or -simulate QUIRKS", errUsage)
	}
	key := getenv("CALLYZER_API_KEY")
	if key == "" {
		return nil, nil, fmt.Errorf("%w: -url needs the API key in CALLYZER_API_KEY", errUsage)
	}
	if interval < 0 {
		return nil, nil, fmt.Errorf("%w: -interval %v is negative", errUsage, interval)
	}
	client, err := callyzer.NewClient(key, callyzer.WithBaseURL(baseURL), callyzer.WithInterval(interval), callyzer.WithLogger(logger))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", errUsage, err)
	}
	fmt.Fprintf(stdout, "Callyzer: %s\n", baseURL)
	return client, func() {}, nil
}

// parseQuirks turns "form=national,multi=first-only,..." into the fake's
// options, over a generated account.
func parseQuirks(s string) (callyzertest.Options, error) {
	var opts callyzertest.Options
	calls, nocc := 2000, 0
	loc := (*time.Location)(nil)
	seen := map[string]bool{}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok || v == "" {
			return opts, fmt.Errorf("%q: want key=value", kv)
		}
		if seen[k] {
			return opts, fmt.Errorf("%s given twice", k)
		}
		seen[k] = true
		var err error
		switch k {
		case "form":
			forms := map[string]callyzertest.NumberForms{"dashed": callyzertest.FormDashed, "national": callyzertest.FormNational,
				"e164": callyzertest.FormE164, "digits": callyzertest.FormDigits}
			if opts.ClientNumberForms, ok = forms[v]; !ok {
				err = errors.New("want dashed, national, e164 or digits")
			}
		case "multi":
			switch v {
			case "all":
			case "first-only":
				opts.FirstClientNumberOnly = true
			case "ignored":
				opts.IgnoreClientNumbers = true
			default:
				err = errors.New("want all, first-only or ignored")
			}
		case "window":
			var n int
			n, err = count(strings.TrimSuffix(v, "d"), 1, 3650)
			if err == nil && !strings.HasSuffix(v, "d") {
				err = errors.New("want days, such as 90d")
			}
			opts.MaxWindow = time.Duration(n) * 24 * time.Hour
		case "pagesize":
			opts.PageSizeCap, err = count(v, 1, callyzertest.MaxPageSize)
		case "paging":
			pagings := map[string]callyzertest.Paging{"either": callyzertest.PagingAnywhere,
				"body": callyzertest.PagingInBody, "query": callyzertest.PagingInQuery}
			if opts.EmployeePaging, ok = pagings[v]; !ok {
				err = errors.New("want either, body or query")
			}
		case "nocc":
			nocc, err = count(v, 0, 1_000_000)
		case "tz":
			loc, err = time.LoadLocation(v)
		case "calls":
			calls, err = count(v, 0, 1_000_000)
		default:
			return opts, fmt.Errorf("unknown quirk %q (known: form, multi, window, pagesize, paging, nocc, tz, calls)", k)
		}
		if err != nil {
			return opts, fmt.Errorf("%s=%s: %v", k, v, err)
		}
	}
	if nocc > calls {
		return opts, fmt.Errorf("nocc=%d: more than the %d calls", nocc, calls)
	}
	cfg := callyzertest.GenerateConfig{End: time.Now(), Calls: calls, Employees: 12, Location: loc}
	if calls == 0 {
		cfg.Calls, cfg.Leads = 1, 1 // Generate's zero means its default
	}
	ds := callyzertest.Generate(1, cfg)
	if calls == 0 {
		ds.Calls = nil
	}
	for i := len(ds.Calls) - nocc; i < len(ds.Calls); i++ {
		ds.Calls[i].ClientCountryCode = "" // the newest, so the check's first page shows them
	}
	opts.Calls, opts.Employees, opts.Location = ds.Calls, ds.Employees, loc
	return opts, nil
}

// count reads an integer in [lo, hi].
func count(s string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("want a whole number from %d to %d", lo, hi)
	}
	return n, nil
}
