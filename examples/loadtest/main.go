package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // the client's and the fake's Europe/Warsaw on machines without a zone database
)

// config is the harness's settings; flags set it, defaults give the README's run.
type config struct {
	Compress float64       // real time ÷ harness time
	Interval time.Duration // Callyzer's pacing interval, real time
	Latency  time.Duration // Callyzer's time to answer a 100-row page, real time
	Jitter   float64       // the latency varies uniformly by ± this fraction
	Seed     int64         // the data set and the latency jitter

	Employees, Leads, Calls int // the data set of parts 1 and 2
	Users                   int // concurrent users of the "at once" scenarios
	Samples                 int // refreshes measured for the latency rows

	CostLeads, CostCalls int // part 3: windows written, calls in them
	MemoryCalls          int // part 4: calls in the backfill

	Advisors     []int   // part 5: the sales floor's loads
	FloorMinutes float64 // part 5: each load's span, real minutes
	FloorLeads   int     // part 5: the leads the advisors refresh

	Postgres string        // PostgreSQL DSN; empty: SQLite only
	Markdown string        // write the Markdown report here
	Timeout  time.Duration // the whole run's deadline
	Verbose  bool          // progress lines on stderr
}

func defaultConfig() config {
	return config{
		Compress:     100,
		Interval:     2 * time.Second,
		Latency:      2700 * time.Millisecond,
		Jitter:       0.2,
		Seed:         1,
		Employees:    100,
		Leads:        200,
		Calls:        12_000,
		Users:        50,
		Samples:      20,
		CostLeads:    100,
		CostCalls:    10_000,
		MemoryCalls:  100_000,
		Advisors:     []int{30, 60, 120},
		FloorMinutes: 15,
		FloorLeads:   300,
		Timeout:      5 * time.Minute,
	}
}

// interval is the pacing interval in harness time.
func (c config) interval() time.Duration { return c.scale(c.Interval) }

// scale turns a real-time duration into harness time.
func (c config) scale(d time.Duration) time.Duration {
	return time.Duration(float64(d) / c.Compress)
}

// real turns a harness-time duration into the real time it stands for.
func (c config) real(d time.Duration) time.Duration {
	return time.Duration(float64(d) * c.Compress)
}

// usage heads -h's list of flags: what the harness does and how long it runs.
const usage = `Usage: go run ./examples/loadtest [flags]

Measures, in-process against the fake Callyzer in compressed time, how
leadcalls spends Callyzer's request budget (one request per 2 s per API
key): the requests a refresh, many refreshes at once and a six-month
backfill send; how long a user waits for a refresh, alone and while a
backfill runs; what our code costs per call on memstore and SQLite; and
the memory of a 100,000-call backfill. Each figure is printed beside its
floor and two baselines measured in the same run (a naive client, and the
same client behind a shared pacer).

With the defaults a run takes about a minute on 2 cores (at most -timeout,
5m). It needs no server: SQLite in a temporary directory, or PostgreSQL
with -db. -markdown writes the report docs/performance.md holds.

Exit code: 0 when every scenario passed, 1 when one failed, 2 for bad flags.

Flags:
`

func parseFlags(args []string, stderr io.Writer) (config, error) {
	cfg := defaultConfig()
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
	}
	fs.Float64Var(&cfg.Compress, "compress", cfg.Compress, "time compression: real durations (interval, latency, Retry-After) are divided by this")
	fs.DurationVar(&cfg.Interval, "interval", cfg.Interval, "Callyzer's pacing interval, real time")
	fs.DurationVar(&cfg.Latency, "latency", cfg.Latency, "Callyzer's time to answer a page, real time")
	fs.Float64Var(&cfg.Jitter, "jitter", cfg.Jitter, "latency jitter, ± this fraction (0..0.9)")
	fs.Int64Var(&cfg.Seed, "seed", cfg.Seed, "seed of the data set and of the jitter")
	fs.IntVar(&cfg.Employees, "employees", cfg.Employees, "employees in the data set")
	fs.IntVar(&cfg.Leads, "leads", cfg.Leads, "leads in the data set")
	fs.IntVar(&cfg.Calls, "calls", cfg.Calls, "calls in the data set (six months)")
	fs.IntVar(&cfg.Users, "users", cfg.Users, "users of the \"at once\" scenarios")
	fs.IntVar(&cfg.Samples, "samples", cfg.Samples, "refreshes measured for each latency row")
	fs.IntVar(&cfg.CostLeads, "cost-leads", cfg.CostLeads, "part 3: lead windows written per pass")
	fs.IntVar(&cfg.CostCalls, "cost-calls", cfg.CostCalls, "part 3: calls written per pass")
	fs.IntVar(&cfg.MemoryCalls, "memory-calls", cfg.MemoryCalls, "part 4: calls in the memory backfill")
	fs.Func("advisors", "part 5: the sales floor's loads, advisors refreshing once a minute each, comma-separated (default 30,60,120)", func(v string) error {
		cfg.Advisors = nil
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 1 {
				return fmt.Errorf("%q is not a positive number", f)
			}
			cfg.Advisors = append(cfg.Advisors, n)
		}
		return nil
	})
	fs.Float64Var(&cfg.FloorMinutes, "floor-minutes", cfg.FloorMinutes, "part 5: each sales-floor load's span, real minutes")
	fs.IntVar(&cfg.FloorLeads, "floor-leads", cfg.FloorLeads, "part 5: leads of the sales floor")
	fs.StringVar(&cfg.Postgres, "db", "", "PostgreSQL DSN (postgres://...): also run the store figures on PostgreSQL and parts 1-2 on it instead of SQLite")
	fs.StringVar(&cfg.Markdown, "markdown", "", "also write the table as Markdown, with the machine and flags, to this file")
	fs.DurationVar(&cfg.Timeout, "timeout", cfg.Timeout, "deadline of the whole run")
	fs.BoolVar(&cfg.Verbose, "v", false, "progress lines on stderr")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	return cfg, cfg.check()
}

func (c config) check() error {
	switch {
	case c.Compress < 1:
		return errors.New("-compress must be at least 1")
	case c.Interval <= 0 || c.Latency < 0:
		return errors.New("-interval must be positive and -latency not negative")
	case c.Jitter < 0 || c.Jitter > 0.9:
		return errors.New("-jitter must be in 0..0.9")
	case c.Employees < 1 || c.Calls < 1:
		return errors.New("-employees and -calls must be positive")
	case c.Users < 1 || c.Samples < 1:
		return errors.New("-users and -samples must be positive")
	case c.Leads < max(c.Users, c.Samples):
		return fmt.Errorf("-leads must be at least -users and -samples (%d)", max(c.Users, c.Samples))
	case c.CostLeads < 1 || c.CostCalls < c.CostLeads:
		return errors.New("-cost-calls must be at least -cost-leads, which must be positive")
	case c.MemoryCalls < 1:
		return errors.New("-memory-calls must be positive")
	case c.FloorMinutes <= 0 || c.FloorLeads < 1:
		return errors.New("-floor-minutes and -floor-leads must be positive")
	case c.Timeout <= 0:
		return errors.New("-timeout must be positive")
	}
	return nil
}

// flagLine lists the flags that differ from the defaults, for the report.
func (c config) flagLine() string {
	d := defaultConfig()
	var parts []string
	add := func(name string, v, def any) {
		if fmt.Sprint(v) != fmt.Sprint(def) {
			parts = append(parts, fmt.Sprintf("-%s=%v", name, v))
		}
	}
	add("compress", c.Compress, d.Compress)
	add("interval", c.Interval, d.Interval)
	add("latency", c.Latency, d.Latency)
	add("jitter", c.Jitter, d.Jitter)
	add("seed", c.Seed, d.Seed)
	add("employees", c.Employees, d.Employees)
	add("leads", c.Leads, d.Leads)
	add("calls", c.Calls, d.Calls)
	add("users", c.Users, d.Users)
	add("samples", c.Samples, d.Samples)
	add("cost-leads", c.CostLeads, d.CostLeads)
	add("cost-calls", c.CostCalls, d.CostCalls)
	add("memory-calls", c.MemoryCalls, d.MemoryCalls)
	add("advisors", strings.Trim(strings.Join(strings.Fields(fmt.Sprint(c.Advisors)), ","), "[]"), strings.Trim(strings.Join(strings.Fields(fmt.Sprint(d.Advisors)), ","), "[]"))
	add("floor-minutes", c.FloorMinutes, d.FloorMinutes)
	add("floor-leads", c.FloorLeads, d.FloorLeads)
	if c.Postgres != "" {
		parts = append(parts, "-db=postgres://…")
	}
	if len(parts) == 0 {
		return "(defaults)"
	}
	return strings.Join(parts, " ")
}

func main() {
	os.Exit(realMain(os.Args[1:], os.Stdout, os.Stderr))
}

// realMain runs the harness and returns the exit code: 0 when every scenario
// passed, 1 when one failed, 2 for bad flags.
func realMain(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "loadtest:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()

	progress := io.Discard
	if cfg.Verbose {
		progress = stderr
	}
	rep := run(ctx, cfg, progress)
	rep.writeText(stdout)
	if cfg.Markdown != "" {
		if err := os.WriteFile(cfg.Markdown, []byte(rep.markdown()), 0o644); err != nil {
			fmt.Fprintln(stderr, "loadtest:", err)
			return 1
		}
	}
	if fails := rep.failures(); len(fails) > 0 {
		for _, f := range fails {
			fmt.Fprintln(stderr, "loadtest: FAILED:", f)
		}
		return 1
	}
	return 0
}
