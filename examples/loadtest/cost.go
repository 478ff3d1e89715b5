package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/leadcalls/leadcalls/callhistory"
	"github.com/leadcalls/leadcalls/callyzer"
	"github.com/leadcalls/leadcalls/callyzer/callyzertest"
	"github.com/leadcalls/leadcalls/statusmap"
	"github.com/leadcalls/leadcalls/storage/memstore"
)

// Part 3: our own cost from a decoded page to a committed row, and each
// store's write throughput beside a plain bulk insert.

// costReps is how many passes each measurement averages.
const costReps = 3

// leadPages is one lead's window as the client decoded it.
type leadPages struct {
	phone string
	calls []callyzer.Call
}

// writer writes one lead's mapped calls; a backend makes a fresh one per pass.
type writer struct {
	write func(ctx context.Context, phone string, w callhistory.Window, calls []callhistory.Call) error
	close func()
}

// backend is a store under test and its baseline.
type backend struct {
	name     string
	ours     func(ctx context.Context) (*writer, error)
	baseline func(ctx context.Context) (*writer, error)
	baseName string
}

// measurement is the cost of writing every lead's window once, per call.
type measurement struct {
	perCall     time.Duration
	allocs      float64
	bytes       float64
	callsPerSec float64
}

func (m measurement) String() string {
	return fmt.Sprintf("%s/call, %.1f allocs, %s; %s calls/s", micros(m.perCall), m.allocs, bytesize(m.bytes), count(int(m.callsPerSec)))
}

func micros(d time.Duration) string {
	return fmt.Sprintf("%.1f µs", float64(d)/float64(time.Microsecond))
}

func cost(ctx context.Context, e *env, rep *report, progress io.Writer) {
	fmt.Fprintf(progress, "loadtest: decoding the pages of part 3\n")
	leads, w, total, err := e.decodedLeads(ctx)
	if err != nil {
		rep.fail("3 our cost: decoding the pages: %v", err)
		return
	}
	mapper := statusmap.Default()
	backends := []backend{{
		name: "memstore",
		ours: func(context.Context) (*writer, error) {
			s := memstore.New()
			return storeWriter(s, w, func() {}), nil
		},
		baseline: func(context.Context) (*writer, error) { return mapWriter(), nil },
		baseName: "Go map",
	}, {
		name:     "SQLite",
		ours:     func(ctx context.Context) (*writer, error) { return e.sqliteWriter(ctx, w) },
		baseline: func(ctx context.Context) (*writer, error) { return e.sqliteBulk(ctx) },
		baseName: "multi-row INSERT",
	}}
	if e.pg != nil {
		backends = append(backends, backend{
			name:     "PostgreSQL",
			ours:     func(ctx context.Context) (*writer, error) { return e.postgresWriter(ctx, w) },
			baseline: func(ctx context.Context) (*writer, error) { return e.postgresBulk(ctx) },
			baseName: "multi-row INSERT",
		})
	}
	scope := fmt.Sprintf("%s calls in %d lead windows", count(total), len(leads))
	for _, b := range backends {
		fmt.Fprintf(progress, "loadtest: writing to %s\n", b.name)
		first, repeat, err := measureWrites(ctx, b.ours, leads, w, mapper, total)
		if err != nil {
			rep.fail("3 our cost: %s: %v", b.name, err)
			continue
		}
		base, baseRepeat, err := measureWrites(ctx, b.baseline, leads, w, mapper, total)
		if err != nil {
			rep.fail("3 our cost: %s baseline: %v", b.name, err)
			continue
		}
		rep.add(row{Part: "3 our cost", Scenario: b.name + ", first refresh (all inserted)",
			Figure: "page → committed row: time, allocs, bytes; throughput",
			Ours:   first.String(), Baseline: b.baseName + ": " + base.String(), Floor: scope})
		rep.add(row{Part: "3 our cost", Scenario: b.name + ", refresh again (all unchanged)",
			Figure: "page → committed row: time, allocs, bytes; throughput",
			Ours:   repeat.String(), Baseline: b.baseName + " again: " + baseRepeat.String(), Floor: scope})
	}
}

// decodedLeads fetches, with our client from a fake without latency or
// pacing, the refresh window of every lead of a data set of CostLeads leads
// and CostCalls calls, so that the timed loop starts from decoded pages.
func (e *env) decodedLeads(ctx context.Context) ([]leadPages, callhistory.Window, int, error) {
	ds := callyzertest.Generate(e.cfg.Seed+1, callyzertest.GenerateConfig{
		End: e.now, Employees: 20, Leads: e.cfg.CostLeads, Calls: e.cfg.CostCalls,
	})
	byPhone := map[string][]callyzer.Call{}
	var calls []callyzertest.Call
	for _, l := range ds.Leads {
		byPhone[l.Phone] = nil
	}
	for _, c := range ds.Calls {
		if _, ok := byPhone[c.ClientE164()]; ok {
			calls = append(calls, c)
		}
	}
	srv := callyzertest.New(callyzertest.Options{Calls: calls, Employees: ds.Employees})
	api := newAPI(srv, e.cfg)
	defer api.close()
	client, err := callyzer.NewClient(srv.APIKey(), callyzer.WithBaseURL(srv.URL), callyzer.WithHTTPClient(api.naive),
		callyzer.WithInterval(0), callyzer.WithRetryDelays(0, 0), callyzer.WithLogger(quiet))
	if err != nil {
		return nil, callhistory.Window{}, 0, err
	}
	from, to := e.refreshWindow()
	w := callhistory.Window{From: from, To: to}
	// One account-wide read, split by number: the same decoded calls as a
	// read per lead, in a fraction of the fake's time.
	for page, err := range client.HistoryPages(ctx, callyzer.HistoryQuery{CallFrom: from, CallTo: to}) {
		if err != nil {
			return nil, w, 0, err
		}
		for _, c := range page.Calls {
			byPhone[c.ClientNumber] = append(byPhone[c.ClientNumber], c)
		}
	}
	var out []leadPages
	total := 0
	for _, l := range ds.Leads {
		out = append(out, leadPages{phone: l.Phone, calls: byPhone[l.Phone]})
		total += len(byPhone[l.Phone])
	}
	return out, w, total, nil
}

// measureWrites maps and writes every lead's window costReps times into a
// fresh writer each time (first), and then once more into the last one
// (repeat: every call unchanged), timing only the mapping and writing.
func measureWrites(ctx context.Context, open func(context.Context) (*writer, error), leads []leadPages, w callhistory.Window, mapper *statusmap.Mapper, total int) (first, repeat measurement, err error) {
	pass := func(wr *writer) (time.Duration, runtime.MemStats, runtime.MemStats, error) {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		start := time.Now()
		for _, l := range leads {
			calls := make([]callhistory.Call, len(l.calls))
			for i, c := range l.calls {
				calls[i] = callhistory.FromCallyzer(mapper, c)
			}
			if err := wr.write(ctx, l.phone, w, calls); err != nil {
				return 0, before, after, err
			}
		}
		took := time.Since(start)
		runtime.ReadMemStats(&after)
		return took, before, after, nil
	}
	acc := func(m *measurement, took time.Duration, before, after runtime.MemStats, n int) {
		m.perCall += took
		m.allocs += float64(after.Mallocs - before.Mallocs)
		m.bytes += float64(after.TotalAlloc - before.TotalAlloc)
		m.callsPerSec += float64(n)
	}
	finish := func(m *measurement, reps int) {
		calls := float64(total * reps)
		elapsed := m.perCall
		m.perCall = time.Duration(float64(elapsed) / calls)
		m.allocs /= calls
		m.bytes /= calls
		m.callsPerSec = calls / elapsed.Seconds()
	}
	var last *writer
	for range costReps {
		if last != nil {
			last.close()
		}
		wr, err := open(ctx)
		if err != nil {
			return first, repeat, err
		}
		last = wr
		took, b, a, err := pass(wr)
		if err != nil {
			wr.close()
			return first, repeat, err
		}
		acc(&first, took, b, a, total)
	}
	defer last.close()
	for range costReps {
		took, b, a, err := pass(last)
		if err != nil {
			return first, repeat, err
		}
		acc(&repeat, took, b, a, total)
	}
	finish(&first, costReps)
	finish(&repeat, costReps)
	return first, repeat, nil
}

func storeWriter(s callhistory.Store, _ callhistory.Window, close func()) *writer {
	return &writer{
		write: func(ctx context.Context, phone string, w callhistory.Window, calls []callhistory.Call) error {
			_, err := callhistory.ReplaceWindow(ctx, s, phone, w, calls, w.To)
			return err
		},
		close: close,
	}
}

// mapWriter is memstore's baseline: every call into a Go map by id.
func mapWriter() *writer {
	m := map[string]callhistory.Call{}
	return &writer{
		write: func(_ context.Context, _ string, _ callhistory.Window, calls []callhistory.Call) error {
			for _, c := range calls {
				m[c.CallyzerID] = c
			}
			return nil
		},
		close: func() {},
	}
}

func (e *env) sqliteDB() (*sql.DB, string, error) {
	path := filepath.Join(e.tmp, fmt.Sprintf("cost-%d.db", e.nstore.Add(1)))
	db, err := sql.Open("sqlite", sqliteDSN(path))
	return db, path, err
}

func (e *env) sqliteWriter(ctx context.Context, w callhistory.Window) (*writer, error) {
	st, err := e.newSQLiteStore(ctx)
	if err != nil {
		return nil, err
	}
	return storeWriter(st.Store, w, st.close), nil
}

func (e *env) postgresWriter(ctx context.Context, w callhistory.Window) (*writer, error) {
	st, err := e.newPostgresStore(ctx)
	if err != nil {
		return nil, err
	}
	return storeWriter(st.Store, w, st.close), nil
}

// The baseline table: the columns, types and indexes of sqlstore's calls
// table, written with one multi-row INSERT per lead in one transaction.
const (
	baselineColumns = "callyzer_id, phone, direction, status, started_at, duration_seconds, employee_name, employee_code, employee_phone, client_name, recording_url, note, raw_call_type, crm_status, callyzer_lead_id, synced_at, modified_at"
	sqliteBaseline  = `CREATE TABLE baseline_calls (
    id INTEGER PRIMARY KEY AUTOINCREMENT, callyzer_id TEXT NOT NULL UNIQUE, phone TEXT NOT NULL,
    direction TEXT NOT NULL, status TEXT NOT NULL, started_at INTEGER NOT NULL, duration_seconds INTEGER NOT NULL,
    employee_name TEXT NOT NULL, employee_code TEXT NOT NULL, employee_phone TEXT NOT NULL, client_name TEXT NOT NULL,
    recording_url TEXT NOT NULL, note TEXT NOT NULL, raw_call_type TEXT NOT NULL, crm_status TEXT NOT NULL,
    callyzer_lead_id TEXT NOT NULL, synced_at INTEGER NULL, modified_at INTEGER NULL);
CREATE INDEX baseline_calls_phone_started ON baseline_calls (phone, started_at, callyzer_id)`
	postgresBaseline = `CREATE TABLE %[1]s (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, callyzer_id TEXT COLLATE "C" NOT NULL UNIQUE, phone TEXT COLLATE "C" NOT NULL,
    direction TEXT NOT NULL, status TEXT NOT NULL, started_at TIMESTAMPTZ NOT NULL, duration_seconds INTEGER NOT NULL,
    employee_name TEXT NOT NULL, employee_code TEXT NOT NULL, employee_phone TEXT NOT NULL, client_name TEXT NOT NULL,
    recording_url TEXT NOT NULL, note TEXT NOT NULL, raw_call_type TEXT NOT NULL, crm_status TEXT NOT NULL,
    callyzer_lead_id TEXT NOT NULL, synced_at TIMESTAMPTZ NULL, modified_at TIMESTAMPTZ NULL);
CREATE INDEX %[1]s_phone_started ON %[1]s (phone, started_at DESC, callyzer_id)`
)

func (e *env) sqliteBulk(ctx context.Context) (*writer, error) {
	db, path, err := e.sqliteDB()
	if err != nil {
		return nil, err
	}
	for _, stmt := range strings.Split(sqliteBaseline, ";\n") {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			db.Close()
			return nil, err
		}
	}
	micro := func(t time.Time) any {
		if t.IsZero() {
			return nil
		}
		return t.UnixMicro()
	}
	return bulkWriter(db, "baseline_calls", "?", micro, func() { db.Close(); os.Remove(path) }), nil
}

func (e *env) postgresBulk(ctx context.Context) (*writer, error) {
	table := fmt.Sprintf("loadtest%d_%d_baseline", os.Getpid()%100000, e.nstore.Add(1))
	for _, stmt := range strings.Split(fmt.Sprintf(postgresBaseline, table), ";\n") {
		if _, err := e.pg.ExecContext(ctx, stmt); err != nil {
			dropPrefixed(context.Background(), e.pg, table)
			return nil, err
		}
	}
	ts := func(t time.Time) any {
		if t.IsZero() {
			return nil
		}
		return t
	}
	return bulkWriter(e.pg, table, "$", ts, func() { dropPrefixed(context.Background(), e.pg, table) }), nil
}

// bulkWriter inserts a lead's calls with multi-row INSERTs (at most 500
// rows each) in one transaction; a repeat write upserts by callyzer_id.
func bulkWriter(db *sql.DB, table, placeholder string, tm func(time.Time) any, close func()) *writer {
	const cols, perStmt = 17, 500
	return &writer{
		write: func(ctx context.Context, _ string, _ callhistory.Window, calls []callhistory.Call) error {
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			defer tx.Rollback()
			for len(calls) > 0 {
				n := min(len(calls), perStmt)
				var q strings.Builder
				fmt.Fprintf(&q, "INSERT INTO %s (%s) VALUES ", table, baselineColumns)
				args := make([]any, 0, n*cols)
				for i, c := range calls[:n] {
					if i > 0 {
						q.WriteString(",")
					}
					q.WriteString("(")
					for j := range cols {
						if j > 0 {
							q.WriteString(",")
						}
						if placeholder == "$" {
							fmt.Fprintf(&q, "$%d", len(args)+j+1)
						} else {
							q.WriteString("?")
						}
					}
					q.WriteString(")")
					args = append(args, c.CallyzerID, c.Phone, string(c.Direction), string(c.Status), tm(c.StartedAt), c.DurationSeconds,
						c.EmployeeName, c.EmployeeCode, c.EmployeePhone, c.ClientName, c.RecordingURL, c.Note, c.RawCallType,
						c.CRMStatus, c.CallyzerLeadID, tm(c.SyncedAt), tm(c.ModifiedAt))
				}
				q.WriteString(" ON CONFLICT (callyzer_id) DO UPDATE SET recording_url = excluded.recording_url, note = excluded.note, status = excluded.status")
				if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
					return err
				}
				calls = calls[n:]
			}
			return tx.Commit()
		},
		close: close,
	}
}
