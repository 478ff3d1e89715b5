// Command demo runs a small CRM around the call-history handler, with no
// setup: an SQLite file, a built-in Callyzer simulator seeded with Polish
// leads and calls, and a sign-in page to pick a demo user. With the
// periodic sync on, the Administrator and the Head of department also get
// /admin/phones: each advisor's phone and the closed months' completeness
// (feedhealth); the simulator plays a phone in every state and a month
// that misses a page.
//
//	go run ./examples/demo
//
// Flags:
//
//	-addr               listen address (default 127.0.0.1:8080)
//	-db                 SQLite file, or a postgres:// DSN (default: leadcalls-demo/leadcalls-demo.db
//	                    in the user cache directory, such as ~/.cache; the OS temp dir when there is
//	                    none); a new SQLite file is created readable by its owner only (0600)
//	-seed               JSON file of users and leads replacing the built-in ones (see seed.example.json);
//	                    required with -callyzer-url
//	-refresh-timeout    bound of one refresh (default 30s)
//	-read-timeout       how long a client may take to send a whole request, headers and body
//	                    (default 15s; headers alone at most 5s)
//	-secure-cookies     mark the session and flash cookies Secure and name the session cookie
//	                    __Host-: for a TLS-terminating proxy in front of the demo (default false,
//	                    or LEADCALLS_DEMO_SECURE_COOKIES; over TLS they are secure anyway)
//	-callyzer-interval  least time between Callyzer requests (default 2s, Callyzer's limit)
//	-callyzer-url       a real or external Callyzer base URL instead of the simulator
//	                    (or CALLYZER_BASE_URL; the key is read from CALLYZER_API_KEY);
//	                    needs -seed, since the built-in leads have invented numbers
//	-sim-latency        the simulator's answer time (default 400ms)
//	-sync-interval      how often the periodic sync pulls every employee's calls
//	                    (default 5m with the simulator; off with -callyzer-url unless
//	                    given; 0 turns it off); the first pass, at start, backfills
//	                    six months, later ones read what was uploaded since
//
// The server bounds every request (headers 64 KiB and 5s, the whole request
// -read-timeout, the answer the refresh's time and a margin) and cuts every
// value it logs to 512 bytes.
//
// A real Callyzer's calls are customer data: the default database file is
// in the user's cache directory, readable by its owner only, and the sync,
// which would copy six months of every employee's calls, runs against a
// real Callyzer only when asked for.
package main

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
	_ "modernc.org/sqlite"             // registers "sqlite"

	"github.com/leadcalls/leadcalls/callhistory"
	"github.com/leadcalls/leadcalls/callyzer"
	"github.com/leadcalls/leadcalls/callyzer/callyzertest"
	"github.com/leadcalls/leadcalls/examples/callhistoryhttp"
	"github.com/leadcalls/leadcalls/examples/internal/calreport"
	"github.com/leadcalls/leadcalls/examples/internal/logclip"
	"github.com/leadcalls/leadcalls/feedhealth"
	"github.com/leadcalls/leadcalls/storage/sqlstore"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		// The first signal starts the graceful shutdown; from now on the
		// default handling is back, so a second Ctrl+C ends the process at
		// once, however long the shutdown takes.
		stop()
	}()
	err := run(ctx, os.Args[1:], os.Stdout)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp): // -h: the flags are printed
	default:
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

type config struct {
	addr           string
	db             string
	seedFile       string
	refreshTimeout time.Duration
	interval       time.Duration
	callyzerURL    string
	callyzerKey    string
	simLatency     time.Duration
	syncInterval   time.Duration
	readTimeout    time.Duration
	secureCookies  bool
}

// secureCookiesEnv is the environment variable that gives -secure-cookies
// its default.
const secureCookiesEnv = "LEADCALLS_DEMO_SECURE_COOKIES"

// defaultSyncInterval is how often the demo syncs every employee's calls.
const defaultSyncInterval = 5 * time.Minute

func parseFlags(args []string, out io.Writer) (config, error) {
	var c config
	secureDefault := false
	if v := os.Getenv(secureCookiesEnv); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return c, fmt.Errorf("%s=%q: want true or false", secureCookiesEnv, v)
		}
		secureDefault = b
	}
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8080", "listen address")
	fs.StringVar(&c.db, "db", "", "SQLite file, or a postgres:// DSN (default "+defaultDBPath()+")")
	fs.StringVar(&c.seedFile, "seed", "", "JSON file of users and leads replacing the built-in ones (required with -callyzer-url)")
	fs.DurationVar(&c.refreshTimeout, "refresh-timeout", 30*time.Second, "bound of one refresh")
	fs.DurationVar(&c.interval, "callyzer-interval", 2*time.Second, "least time between Callyzer requests")
	fs.StringVar(&c.callyzerURL, "callyzer-url", os.Getenv("CALLYZER_BASE_URL"), "Callyzer base URL instead of the simulator (key from CALLYZER_API_KEY; needs -seed)")
	fs.DurationVar(&c.simLatency, "sim-latency", 400*time.Millisecond, "the simulator's answer time")
	fs.DurationVar(&c.syncInterval, "sync-interval", defaultSyncInterval, "how often the periodic sync runs (0: off; off with -callyzer-url unless given)")
	fs.DurationVar(&c.readTimeout, "read-timeout", 15*time.Second, "how long a client may take to send a whole request, headers and body")
	fs.BoolVar(&c.secureCookies, "secure-cookies", secureDefault, "Secure cookies, the session's __Host- prefixed: for a TLS-terminating proxy in front (default from "+secureCookiesEnv+")")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if c.syncInterval < 0 {
		return c, fmt.Errorf("-sync-interval %v is negative", c.syncInterval)
	}
	if c.readTimeout <= 0 {
		return c, fmt.Errorf("-read-timeout %v is not positive", c.readTimeout)
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if c.db == "" {
		c.db = defaultDBPath()
	}
	c.callyzerKey = os.Getenv("CALLYZER_API_KEY")
	if c.callyzerURL != "" {
		switch {
		case c.callyzerKey == "":
			return c, errors.New("-callyzer-url needs the API key in CALLYZER_API_KEY")
		case c.seedFile == "":
			return c, errors.New("-callyzer-url needs -seed FILE with your users and leads " +
				"(see examples/demo/seed.example.json): the built-in leads have invented numbers")
		}
		if !given["sync-interval"] {
			// A pass against a real account copies six months of every
			// employee's calls: only when asked for.
			c.syncInterval = 0
		}
	}
	return c, nil
}

// defaultDBPath is the demo's SQLite file when -db is not given: in the
// user's cache directory, or a directory of the user's own in the OS temp
// directory when there is no cache directory.
func defaultDBPath() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = filepath.Join(os.TempDir(), "leadcalls-demo-"+strconv.Itoa(os.Getuid()))
	} else {
		dir = filepath.Join(dir, "leadcalls-demo")
	}
	return filepath.Join(dir, "leadcalls-demo.db")
}

// run starts the demo and serves until ctx ends, then shuts down
// gracefully. It prints the URL to open on stdout, and logs there too.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	cfg, err := parseFlags(args, stdout)
	if err != nil {
		return err
	}
	logger := slog.New(logclip.NewHandler(slog.NewTextHandler(stdout, nil), maxLoggedValue))

	now := time.Now()
	ds := generateDataset(now)
	playPhoneStates(&ds, now)
	seed := builtinSeed(ds)
	if cfg.seedFile != "" {
		if seed, err = loadSeed(cfg.seedFile); err != nil {
			return err
		}
	}

	source, closeSource, err := openCallyzer(cfg, ds, seed, logger, stdout)
	if err != nil {
		return err
	}
	defer closeSource()
	if cfg.callyzerURL != "" {
		calibrate(ctx, source, stdout, logger)
	}

	store, closeStore, err := openStore(ctx, cfg.db, stdout)
	if err != nil {
		return err
	}
	defer closeStore()

	// With the periodic sync, refreshes share its reads: while others are
	// waiting, a refresh is served by one catch-up for all of them
	// (callhistory.Config.Syncer, the adaptive strategy).
	//
	// After every pass that succeeded, the monitor reads the roster (is
	// each advisor's phone uploading?) and compares closed months with
	// Callyzer's totals (feedhealth).
	var syncer *callhistory.Syncer
	var health *feedhealth.Monitor
	if cfg.syncInterval > 0 {
		health, err = feedhealth.New(feedhealth.Config{Source: source, Store: store, Location: warsaw, Logger: logger})
		if err != nil {
			return err
		}
		syncer, err = callhistory.NewSyncer(callhistory.SyncConfig{
			Source: source,
			Store:  store, // *sqlstore.Store keeps the sync state and the feed's health too
			Logger: logger,
			Health: health.Check,
		})
		if err != nil {
			return err
		}
	}
	refresher, err := callhistory.NewRefresher(callhistory.Config{
		Source:         source,
		Store:          store,
		Leads:          newLeadBook(seed),
		Syncer:         syncer,
		RefreshTimeout: cfg.refreshTimeout,
		Logger:         logger,
		// The account's zone: the summary's "today" and "yesterday", and
		// the window's months, are Warsaw's whatever the machine's zone.
		Now: func() time.Time { return time.Now().In(warsaw) },
	})
	if err != nil {
		return err
	}
	// Let the refreshes that outlive their request (they are shared and
	// detached) end before the store and Callyzer close.
	defer refresher.Wait()

	co := http.NewCrossOriginProtection()
	demo := newApp(seed, refresher, co, logger, cfg.secureCookies)
	if syncer != nil {
		stopSync := startSync(ctx, cfg.syncInterval, syncer)
		// Stops the pass under way, if any, and waits for it, before the
		// store and Callyzer close.
		defer stopSync()
		demo.syncer, demo.health = syncer, health
		fmt.Fprintf(stdout, "Sync: a pass now reads every employee's calls (on a new database, six months back,\n"+
			"      one request per %s), then one every %s reads what was uploaded since\n", cfg.interval, cfg.syncInterval)
	} else if cfg.callyzerURL != "" {
		fmt.Fprintln(stdout, "Sync: off; only a lead's refresh calls Callyzer. -sync-interval 5m turns it on:\n"+
			"      its first pass copies six months of every employee's calls into the database")
	} else {
		fmt.Fprintln(stdout, "Sync: off (-sync-interval 0)")
	}
	opts := callhistoryhttp.Options{
		Actor:         demo.actor,
		Header:        demo.header,
		Logger:        logger,
		CrossOrigin:   co,
		SecureCookies: cfg.secureCookies,
		LastSyncPass:  demo.lastSyncPass,
		LeadsURL:      "/",
		FeedNote:      demo.feedNote,
	}
	if cfg.callyzerURL == "" {
		opts.RecordingURL = recordingURL // the simulator's recordings, from the demo
	}
	calls := callhistoryhttp.NewHandler(refresher, opts)

	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return err
	}
	srv := newServer(cfg, demo.routes(calls), logger)
	if cfg.secureCookies {
		fmt.Fprintln(stdout, "Cookies: Secure, the session's __Host- prefixed (-secure-cookies): open the demo through its HTTPS proxy")
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "\nleadcalls demo: open http://%s/ in your browser (Ctrl+C stops)\n\n", ln.Addr())

	select {
	case err := <-serveErr:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cmp.Or(cfg.refreshTimeout, 30*time.Second))
	defer cancel()
	err = srv.Shutdown(shutdownCtx)
	<-serveErr // http.ErrServerClosed
	return err
}

// maxLoggedValue bounds every string the demo logs, in bytes, so that no
// value a request controls makes a long line; the values it logs from a
// request (a lead id, a user id) are cut to 64.
const maxLoggedValue = 512

// maxHeaderBytes bounds a request's line and headers.
const maxHeaderBytes = 64 << 10

// newServer is the demo's HTTP server. Every request is bounded: its
// headers in time and size, the whole request (a trickled body too) by
// cfg.readTimeout, and the answer by the time to read the request, run a
// refresh and write.
func newServer(cfg config, h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: min(5*time.Second, cfg.readTimeout),
		ReadTimeout:       cfg.readTimeout,
		WriteTimeout:      cfg.readTimeout + cfg.refreshTimeout + 10*time.Second,
		IdleTimeout:       time.Minute,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// startSync runs the periodic sync in the background: a pass at once (on a
// new database, the backfill of six months of the simulator's calls) and
// then one every interval. It writes to the refresher's store, which also
// keeps the sync state, through the refresher's client, so both share one
// request budget and a user's refresh goes before the sync's requests. The
// returned stop cancels the sync and waits for it.
func startSync(ctx context.Context, interval time.Duration, syncer *callhistory.Syncer) func() {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = syncer.Run(ctx, interval) // fails only for a non-positive interval
	}()
	return func() { cancel(); <-done }
}

// openCallyzer returns the Callyzer client: against the built-in simulator,
// seeded with the data set's calls, unless cfg names an external Callyzer.
func openCallyzer(cfg config, ds callyzertest.Dataset, seed *Seed, logger *slog.Logger, stdout io.Writer) (*callyzer.Client, func(), error) {
	if cfg.callyzerURL != "" {
		client, err := callyzer.NewClient(cfg.callyzerKey,
			callyzer.WithBaseURL(cfg.callyzerURL),
			callyzer.WithInterval(cfg.interval),
			callyzer.WithLogger(logger))
		if err != nil {
			return nil, nil, err
		}
		fmt.Fprintf(stdout, "Callyzer: %s\n", cfg.callyzerURL)
		return client, func() {}, nil
	}
	calls, err := simulatedCalls(ds, seed)
	if err != nil {
		return nil, nil, err
	}
	sim := callyzertest.New(callyzertest.Options{
		// A little under the client's pace, so that scheduling jitter is
		// not mistaken for a burst.
		Interval:  cfg.interval * 9 / 10,
		Latency:   cfg.simLatency,
		Calls:     calls,
		Employees: ds.Employees,
		Format:    callyzertest.Format{HumanRosterDates: true}, // as Callyzer writes them
	})
	sim.HideFromHistory(missingPage(time.Now()))
	client, err := callyzer.NewClient(sim.APIKey(),
		callyzer.WithBaseURL(sim.URL),
		callyzer.WithInterval(cfg.interval),
		callyzer.WithLogger(logger))
	if err != nil {
		sim.Close()
		return nil, nil, err
	}
	fmt.Fprintf(stdout, "Callyzer: built-in simulator at %s (%d calls, one request per %s)\n", sim.URL, len(calls), cfg.interval)
	return client, sim.Close, nil
}

// calibrate prints what the client's calibration learns of the account
// (what go run ./examples/callyzercheck prints): a few read-only
// requests, at most 25, before the demo serves. A failure is logged: the
// demo goes on, and its refreshes show the error.
func calibrate(ctx context.Context, client *callyzer.Client, stdout io.Writer, logger *slog.Logger) {
	fmt.Fprintln(stdout, "Calibration: how this Callyzer account answers (read-only, at most 25 requests):")
	cal, err := client.Calibrate(ctx)
	if werr := calreport.Write(stdout, cal); werr != nil {
		logger.Warn("writing the calibration", slog.String("error", werr.Error()))
	}
	fmt.Fprintln(stdout)
	if err != nil {
		logger.Warn("calibration failed; the demo goes on", slog.String("error", err.Error()))
	}
}

// openStore opens the SQLite file dsn, or PostgreSQL for a postgres:// DSN,
// and migrates the store's schema.
func openStore(ctx context.Context, dsn string, stdout io.Writer) (*sqlstore.Store, func(), error) {
	driver, dialect, source, shown := "sqlite", sqlstore.SQLite, "", ""
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		driver, dialect, source, shown = "pgx", sqlstore.Postgres, dsn, "PostgreSQL"
	} else {
		if err := createPrivate(dsn); err != nil {
			return nil, nil, fmt.Errorf("database: %w", err)
		}
		// WAL lets pages read while a refresh writes; the busy timeout makes
		// writers wait for each other instead of failing.
		source = "file:" + dsn + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)"
		shown = "SQLite " + dsn
	}
	db, err := sql.Open(driver, source)
	if err != nil {
		return nil, nil, err
	}
	store, err := sqlstore.New(db, dialect)
	if err == nil {
		err = store.Migrate(ctx)
	}
	if err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("database: %w", err)
	}
	fmt.Fprintf(stdout, "Database: %s\n", shown)
	return store, func() { db.Close() }, nil
}

// createPrivate creates the SQLite file path, when it does not exist, and
// its directory, readable by the user only: the file with mode 0600 (set
// explicitly, whatever the umask), which SQLite then gives its -wal and
// -shm files too; a new directory with 0700. An existing file keeps the
// mode its owner gave it.
func createPrivate(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	err = f.Chmod(0o600)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
