package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
	_ "modernc.org/sqlite"             // registers "sqlite"

	"github.com/leadcalls/leadcalls/callhistory"
	"github.com/leadcalls/leadcalls/callyzer"
	"github.com/leadcalls/leadcalls/callyzer/callyzertest"
	"github.com/leadcalls/leadcalls/callyzer/pacing"
	"github.com/leadcalls/leadcalls/storage/memstore"
	"github.com/leadcalls/leadcalls/storage/sqlstore"
)

// Window rules of the Callyzer contract, as the client applies them by
// default (callyzer.WithPageSize, WithMaxWindow).
const (
	pageSize     = 100
	maxWindowDur = 180 * 24 * time.Hour
	maxWindow    = int64(maxWindowDur / time.Second)
	months       = 6
)

// The client's default timings (callyzer.WithAttemptTimeout,
// WithRetryDelays, WithLimits' maxRetryAfter), which the harness
// compresses like every other duration.
const (
	attemptTimeout = 30 * time.Second
	retryBase      = 500 * time.Millisecond
	retryMax       = 10 * time.Second
	maxRetryAfter  = 30 * time.Second
)

var quiet = slog.New(slog.DiscardHandler)

var admin = &callhistory.Actor{ID: "loadtest", Name: "Load test", Role: callhistory.RoleAdministrator}

// env is what every scenario shares: the data set, its clock, the stores.
type env struct {
	cfg    config
	ds     callyzertest.Dataset
	now    time.Time // the run's "now": the data set ends here, every window is computed from it
	byLead map[string][]int64
	leads  leadBook
	tmp    string // SQLite files
	pg     *sql.DB
	nstore atomic.Int64
}

func newEnv(ctx context.Context, cfg config) (*env, error) {
	now := time.Now().UTC().Truncate(time.Second)
	ds := callyzertest.Generate(cfg.Seed, callyzertest.GenerateConfig{
		End: now, Employees: cfg.Employees, Leads: cfg.Leads, Calls: cfg.Calls,
	})
	e := &env{cfg: cfg, ds: ds, now: now, byLead: map[string][]int64{}, leads: leadBook{}}
	for _, c := range ds.Calls {
		e.byLead[c.ClientE164()] = append(e.byLead[c.ClientE164()], c.StartedAt.Unix())
	}
	for _, l := range ds.Leads {
		e.leads[l.ID] = callhistory.Lead{ID: l.ID, Name: l.Name, Phone: l.Phone, AdvisorID: l.AdvisorCode}
	}
	tmp, err := os.MkdirTemp("", "leadcalls-loadtest-")
	if err != nil {
		return nil, err
	}
	e.tmp = tmp
	if cfg.Postgres != "" {
		db, err := sql.Open("pgx", cfg.Postgres)
		if err == nil {
			err = db.PingContext(ctx)
		}
		if err != nil {
			e.close()
			return nil, fmt.Errorf("PostgreSQL: %w", err)
		}
		e.pg = db
	}
	return e, nil
}

func (e *env) close() {
	if e.pg != nil {
		e.pg.Close()
	}
	os.RemoveAll(e.tmp)
}

// leadBook is the host CRM's leads.
type leadBook map[string]callhistory.Lead

func (b leadBook) Lead(_ context.Context, id string) (callhistory.Lead, error) {
	if l, ok := b[id]; ok {
		return l, nil
	}
	return callhistory.Lead{}, fmt.Errorf("%w: %s", callhistory.ErrLeadNotFound, id)
}

// span is an inclusive window of whole UNIX seconds, as the client sends it.
type span struct{ from, to int64 }

// refreshWindow is the window a refresh at e.now asks for.
func (e *env) refreshWindow() (time.Time, time.Time) {
	return e.now.AddDate(0, -months, 0), e.now
}

// chunksOldestFirst splits [from, to] as callyzer.Client.HistoryPages does.
func chunksOldestFirst(from, to time.Time) []span {
	var out []span
	for f, t := from.Unix(), to.Unix(); ; {
		end := t
		if end-f > maxWindow {
			end = f + maxWindow
		}
		out = append(out, span{f, end})
		if end == t {
			return out
		}
		f = end + 1
	}
}

// chunksNewestFirst splits [from, to] as the Syncer's backfill does.
func chunksNewestFirst(from, to time.Time) []span {
	var out []span
	for t := to.Unix(); ; {
		f := max(t-maxWindow, from.Unix())
		out = append(out, span{f, t})
		if f == from.Unix() {
			return out
		}
		t = f - 1
	}
}

// minPages is the fewest requests that read every call of times (UNIX
// seconds) in chunks: one per started page, at least one per chunk.
func minPages(times []int64, chunks []span) int {
	n := 0
	for _, c := range chunks {
		k := 0
		for _, t := range times {
			if t >= c.from && t <= c.to {
				k++
			}
		}
		n += max(1, (k+pageSize-1)/pageSize)
	}
	return n
}

// leadMinimum is the fewest requests of one refresh of phone.
func (e *env) leadMinimum(phone string) int {
	return minPages(e.byLead[phone], chunksOldestFirst(e.refreshWindow()))
}

// leadCallsInWindow is how many calls a refresh of phone must fetch.
func (e *env) leadCallsInWindow(phone string) int {
	from, to := e.refreshWindow()
	n := 0
	for _, t := range e.byLead[phone] {
		if t >= from.Unix() && t <= to.Unix() {
			n++
		}
	}
	return n
}

// callTimes returns the StartedAt of every call, in UNIX seconds.
func callTimes(calls []callyzertest.Call) []int64 {
	out := make([]int64, len(calls))
	for i, c := range calls {
		out[i] = c.StartedAt.Unix()
	}
	return out
}

// fakeAPI is one fake Callyzer for one scenario, with the HTTP clients that
// talk to it.
type fakeAPI struct {
	srv   *callyzertest.Server
	ours  *http.Client // Retry-After compressed for callyzer.Client
	naive *http.Client // headers untouched: the naive client scales them itself
	tr    *http.Transport
	cfg   config
}

// newFake starts a fake Callyzer with the data set, the compressed pacing
// rule and the compressed, jittered page latency.
func (e *env) newFake(calls []callyzertest.Call) *fakeAPI {
	var mu sync.Mutex
	rng := rand.New(rand.NewPCG(uint64(e.cfg.Seed), 0x6c6f6164))
	lat := e.cfg.scale(e.cfg.Latency)
	jitter := e.cfg.Jitter
	srv := callyzertest.New(callyzertest.Options{
		Calls:     calls,
		Employees: e.ds.Employees,
		Interval:  e.cfg.interval(),
		LatencyFunc: func(callyzertest.Request) time.Duration {
			mu.Lock()
			u := rng.Float64()
			mu.Unlock()
			return time.Duration(float64(lat) * (1 - jitter + 2*jitter*u))
		},
	})
	return newAPI(srv, e.cfg)
}

func newAPI(srv *callyzertest.Server, cfg config) *fakeAPI {
	tr := &http.Transport{MaxIdleConnsPerHost: 128, IdleConnTimeout: time.Minute}
	return &fakeAPI{
		srv:  srv,
		tr:   tr,
		cfg:  cfg,
		ours: &http.Client{Transport: &compressTransport{base: tr, compress: cfg.Compress}, Timeout: time.Minute},
		// A naive client's per-request timeout: the SDK's default attempt
		// timeout, compressed like every other duration.
		naive: &http.Client{Transport: tr, Timeout: cfg.scale(attemptTimeout)},
	}
}

func (f *fakeAPI) close() {
	f.tr.CloseIdleConnections()
	f.srv.Close()
}

// client is our callyzer.Client on this fake, every duration compressed:
// the pacing interval, the retry backoff, the per-attempt timeout and the
// longest Retry-After it accepts.
func (f *fakeAPI) client(extra ...callyzer.Option) (*callyzer.Client, error) {
	opts := []callyzer.Option{
		callyzer.WithBaseURL(f.srv.URL),
		callyzer.WithHTTPClient(f.ours),
		callyzer.WithInterval(f.cfg.interval()),
		callyzer.WithRetryDelays(f.cfg.scale(retryBase), f.cfg.scale(retryMax)),
		callyzer.WithAttemptTimeout(f.cfg.scale(attemptTimeout)),
		callyzer.WithLimits(0, 0, f.cfg.scale(maxRetryAfter)),
		callyzer.WithLogger(quiet),
	}
	return callyzer.NewClient(f.srv.APIKey(), append(opts, extra...)...)
}

// naiveClient is the naive baseline on this fake; with paced, every caller
// of the returned client shares one pacing.New pacer ("naive + pacer").
func (f *fakeAPI) naiveClient(paced bool) *naiveClient {
	c := &naiveClient{hc: f.naive, baseURL: f.srv.URL, apiKey: f.srv.APIKey(), compress: f.cfg.Compress, interval: f.cfg.Interval}
	if paced {
		c.pacer = pacing.New(f.cfg.interval())
	}
	return c
}

// tally counts the fake's recorded requests by outcome.
type tally struct {
	requests, pages, tooMany int
}

func (t tally) retries() int { return t.requests - t.pages }

// add counts one recorded request.
func (t *tally) add(r callyzertest.Request) {
	t.requests++
	switch r.Status {
	case http.StatusOK:
		t.pages++
	case http.StatusTooManyRequests:
		t.tooMany++
	}
}

// compressTransport divides a response's Retry-After (whole seconds) by the
// compression factor, rounding down as the header has no fractions, and
// counts the response bytes read.
type compressTransport struct {
	base     http.RoundTripper
	compress float64
	read     atomic.Int64
}

func (t *compressTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if v := resp.Header.Get("Retry-After"); v != "" {
		if n, err := strconv.Atoi(v); err == nil {
			resp.Header.Set("Retry-After", strconv.Itoa(int(float64(n)/t.compress)))
		}
	}
	resp.Body = &countingBody{ReadCloser: resp.Body, n: &t.read}
	return resp, nil
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

// store is a Store for one scenario, and what closes it.
type store struct {
	callhistory.Store
	name  string
	close func()
}

// newStore returns a fresh store of the run's database: a new SQLite file,
// or new tables on PostgreSQL (dropped by close).
func (e *env) newStore(ctx context.Context) (*store, error) {
	if e.pg != nil {
		return e.newPostgresStore(ctx)
	}
	return e.newSQLiteStore(ctx)
}

// sqliteDSN is the DSN sqlstore documents for SQLite: WAL, a busy timeout
// and foreign keys.
func sqliteDSN(path string) string {
	return "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)"
}

func (e *env) newSQLiteStore(ctx context.Context) (*store, error) {
	path := filepath.Join(e.tmp, fmt.Sprintf("store-%d.db", e.nstore.Add(1)))
	db, err := sql.Open("sqlite", sqliteDSN(path))
	if err != nil {
		return nil, err
	}
	s, err := sqlstore.New(db, sqlstore.SQLite)
	if err == nil {
		err = s.Migrate(ctx)
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("SQLite store: %w", err)
	}
	return &store{Store: s, name: "SQLite", close: func() { db.Close(); os.Remove(path) }}, nil
}

func (e *env) newPostgresStore(ctx context.Context) (*store, error) {
	prefix := fmt.Sprintf("loadtest%d_%d_", os.Getpid()%100000, e.nstore.Add(1))
	s, err := sqlstore.New(e.pg, sqlstore.Postgres, sqlstore.WithTablePrefix(prefix))
	if err == nil {
		err = s.Migrate(ctx)
	}
	drop := func() { dropPrefixed(context.Background(), e.pg, prefix) }
	if err != nil {
		drop()
		return nil, fmt.Errorf("PostgreSQL store: %w", err)
	}
	return &store{Store: s, name: "PostgreSQL", close: drop}, nil
}

// dropPrefixed drops the tables whose names start with prefix.
func dropPrefixed(ctx context.Context, db *sql.DB, prefix string) {
	rows, err := db.QueryContext(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND starts_with(tablename, $1)`, prefix)
	if err != nil {
		return
	}
	var names []string
	for rows.Next() {
		var n string
		if rows.Scan(&n) == nil {
			names = append(names, n)
		}
	}
	rows.Close()
	for _, n := range names {
		_, _ = db.ExecContext(ctx, `DROP TABLE IF EXISTS "`+n+`" CASCADE`)
	}
}

// syncState returns where a Syncer on st keeps its state: st itself when
// it can, else an in-memory store.
func syncState(st callhistory.Store) callhistory.SyncStateStore {
	if s, ok := st.(callhistory.SyncStateStore); ok {
		return s
	}
	return memstore.New()
}

// percentile returns the p-th percentile (0..100) of xs by nearest rank.
func percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	k := int(float64(len(s))*p/100+0.999999) - 1
	return s[min(max(k, 0), len(s)-1)]
}

var errBudget = errors.New("gave up: attempt budget spent")
