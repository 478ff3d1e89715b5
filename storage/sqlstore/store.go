package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/leadcalls/leadcalls/callhistory"
)

var _ callhistory.Store = (*Store)(nil)

// DefaultTablePrefix is the prefix of the store's table names unless
// WithTablePrefix sets another.
const DefaultTablePrefix = "leadcalls_"

// Store is a callhistory.Store on a caller-owned *sql.DB. It is safe for
// concurrent use, and writers of one phone number are serialised in the
// database, so several processes may share it.
type Store struct {
	db     *sql.DB
	d      *dialect
	prefix string

	// Test-only switches, set by this package's tests.
	disableLockForTest bool   // begin without the write lock, take no per-number locks
	afterReadForTest   func() // runs once per transaction, before its first write
	maxRows            int    // rows per statement; maxRowsPerStatement unless a test lowers it
}

// Option configures a Store.
type Option func(*Store) error

var prefixPattern = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,39}$`)

// WithTablePrefix sets the prefix of every table and index name, so that
// the store's tables do not clash with the host's. It must be at most 40
// characters of lower-case ASCII letters, digits and underscores, not
// starting with a digit; "" is allowed. Default: DefaultTablePrefix.
func WithTablePrefix(prefix string) Option {
	return func(s *Store) error {
		if prefix != "" && !prefixPattern.MatchString(prefix) {
			return fmt.Errorf("%w: table prefix %q: want [a-z_][a-z0-9_]*, at most 40 characters", ErrInvalid, prefix)
		}
		s.prefix = prefix
		return nil
	}
}

// New returns a Store on db, which the caller opened with the driver of
// dialect and keeps owning (New does not close it). New does not touch the
// database; call Migrate before the first use.
func New(db *sql.DB, dialect Dialect, opts ...Option) (*Store, error) {
	if db == nil {
		return nil, fmt.Errorf("%w: nil *sql.DB", ErrInvalid)
	}
	d := dialect.spec()
	if d == nil {
		return nil, fmt.Errorf("%w: unknown dialect %d", ErrInvalid, int(dialect))
	}
	s := &Store{db: db, d: d, prefix: DefaultTablePrefix, maxRows: maxRowsPerStatement}
	for _, opt := range opts {
		if err := opt(s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// table returns the prefixed name of one of the store's tables.
func (s *Store) table(name string) string { return s.prefix + name }

// maxRowsPerStatement keeps statements a reasonable size even where the
// parameter limit would allow more.
const maxRowsPerStatement = 1000

// Update implements callhistory.Store: fn runs in a transaction on one
// connection that holds the locks of phones (see the package doc).
func (s *Store) Update(ctx context.Context, phones []string, fn func(callhistory.Tx) error) error {
	return s.inTx(ctx, "update", phones, func(t *txn) error {
		tx := &sqlTx{s: s, t: t}
		defer func() { tx.done = true }()
		return fn(tx)
	})
}

// Calls implements callhistory.Store.
func (s *Store) Calls(ctx context.Context, phone string, limit int) ([]callhistory.Call, error) {
	q := "SELECT " + selectColumns + " FROM " + s.table("calls") +
		" WHERE phone = ? AND missing_since IS NULL ORDER BY started_at DESC, callyzer_id ASC"
	args := []any{phone}
	if limit > 0 {
		q += " LIMIT ?"
		args = append(args, limit)
	}
	rows, err := s.db.QueryContext(ctx, s.d.rebind(q), args...)
	if err != nil {
		return nil, translate(ctx, "calls", err)
	}
	out, err := s.scanCalls(rows, make([]callhistory.Call, 0, min(max(limit, 0), 1024)))
	if err != nil {
		return nil, translate(ctx, "calls", err)
	}
	return out, nil
}

// LastSynced implements callhistory.Store.
func (s *Store) LastSynced(ctx context.Context, phone string) (time.Time, error) {
	var v any
	err := s.db.QueryRowContext(ctx, s.d.rebind("SELECT last_synced_at FROM "+s.table("sync_state")+" WHERE phone = ?"), phone).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, translate(ctx, "last synced", err)
	}
	t, err := s.d.scanTime(v)
	if err != nil {
		return time.Time{}, translate(ctx, "last synced", err)
	}
	return t, nil
}

// sqlTx is the Store's callhistory.Tx: statements on the transaction's
// connection.
type sqlTx struct {
	s     *Store
	t     *txn
	done  bool // Update returned
	wrote bool // a write ran
}

var errTxDone = fmt.Errorf("%w: the transaction has ended", ErrInvalid)

// use checks that tx is still open and, before its first write, runs the
// test hook afterReadForTest.
func (tx *sqlTx) use(write bool) error {
	if tx.done {
		return errTxDone
	}
	if write && !tx.wrote {
		tx.wrote = true
		if f := tx.s.afterReadForTest; f != nil {
			f()
		}
	}
	return nil
}

func (tx *sqlTx) CallsInWindow(ctx context.Context, phone string, w callhistory.Window) ([]callhistory.Call, error) {
	if err := tx.use(false); err != nil {
		return nil, err
	}
	s := tx.s
	q := "SELECT " + selectColumns + " FROM " + s.table("calls") +
		" WHERE phone = ? AND started_at >= ? AND started_at <= ?"
	rows, err := tx.t.query(ctx, q, phone, s.d.timeArg(utcMicro(w.From)), s.d.timeArg(utcMicro(w.To)))
	if err != nil {
		return nil, err
	}
	return s.scanCalls(rows, nil)
}

func (tx *sqlTx) CallsByID(ctx context.Context, ids []string) ([]callhistory.Call, error) {
	if err := tx.use(false); err != nil {
		return nil, err
	}
	s := tx.s
	var out []callhistory.Call
	for batch := range slices.Chunk(ids, s.rowsPerStatement(1)) {
		q := "SELECT " + selectColumns + " FROM " + s.table("calls") + " WHERE callyzer_id IN (" + placeholders(len(batch)) + ")"
		rows, err := tx.t.query(ctx, q, anys(batch)...)
		if err != nil {
			return nil, err
		}
		if out, err = s.scanCalls(rows, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (tx *sqlTx) LastSynced(ctx context.Context, phones []string) (map[string]time.Time, error) {
	if err := tx.use(false); err != nil {
		return nil, err
	}
	s := tx.s
	out := make(map[string]time.Time, len(phones))
	for batch := range slices.Chunk(phones, s.rowsPerStatement(1)) {
		q := "SELECT phone, last_synced_at FROM " + s.table("sync_state") + " WHERE phone IN (" + placeholders(len(batch)) + ")"
		rows, err := tx.t.query(ctx, q, anys(batch)...)
		if err != nil {
			return nil, err
		}
		err = func() error {
			defer rows.Close()
			for rows.Next() {
				var phone string
				var v any
				if err := rows.Scan(&phone, &v); err != nil {
					return err
				}
				at, err := s.d.scanTime(v)
				if err != nil {
					return err
				}
				out[phone] = at
			}
			return rows.Err()
		}()
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (tx *sqlTx) Delete(ctx context.Context, rowIDs []int64) error {
	if err := tx.use(true); err != nil {
		return err
	}
	s := tx.s
	for batch := range slices.Chunk(rowIDs, s.rowsPerStatement(1)) {
		q := "DELETE FROM " + s.table("calls") + " WHERE id IN (" + placeholders(len(batch)) + ")"
		if _, err := tx.t.exec(ctx, q, anys(batch)...); err != nil {
			return err
		}
	}
	return nil
}

// Put inserts the calls without a RowID and overwrites those with one, in
// multi-row statements.
func (tx *sqlTx) Put(ctx context.Context, calls []callhistory.Call) error {
	if err := tx.use(true); err != nil {
		return err
	}
	s := tx.s
	var inserts, updates []callhistory.Call
	for _, c := range calls {
		if c.RowID == 0 {
			inserts = append(inserts, c)
		} else {
			updates = append(updates, c)
		}
	}
	cols := strings.Join(columnNames, ", ")
	if err := s.putRows(ctx, tx.t, inserts, "INSERT INTO "+s.table("calls")+" ("+cols+") VALUES ", "", false); err != nil {
		return err
	}
	head, tail := s.d.overwrite(s.table("calls"), columnNames)
	return s.putRows(ctx, tx.t, updates, head, tail, true)
}

// putRows writes calls in statements of head, value rows and tail; withID
// puts each call's RowID first.
func (s *Store) putRows(ctx context.Context, t *txn, calls []callhistory.Call, head, tail string, withID bool) error {
	n := len(fields)
	if withID {
		n++
	}
	row := "(" + placeholders(n) + ")"
	for batch := range slices.Chunk(calls, s.rowsPerStatement(n)) {
		args := make([]any, 0, len(batch)*n)
		for i := range batch {
			if withID {
				args = append(args, batch[i].RowID)
			}
			args = append(args, s.args(&batch[i])...)
		}
		q := head + strings.TrimSuffix(strings.Repeat(row+", ", len(batch)), ", ") + tail
		if _, err := t.exec(ctx, q, args...); err != nil {
			return err
		}
	}
	return nil
}

func (tx *sqlTx) SetLastSynced(ctx context.Context, dates map[string]time.Time) error {
	if err := tx.use(true); err != nil {
		return err
	}
	s := tx.s
	phones := make([]string, 0, len(dates))
	for p := range dates {
		phones = append(phones, p)
	}
	slices.Sort(phones)
	head := "INSERT INTO " + s.table("sync_state") + s.d.insertAlias + " (phone, last_synced_at) VALUES "
	for batch := range slices.Chunk(phones, s.rowsPerStatement(2)) {
		args := make([]any, 0, 2*len(batch))
		for _, p := range batch {
			args = append(args, p, s.d.timeArg(utcMicro(dates[p])))
		}
		q := head + strings.TrimSuffix(strings.Repeat("(?, ?), ", len(batch)), ", ") + " " + s.d.upsertSync
		if _, err := tx.t.exec(ctx, q, args...); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) rowsPerStatement(paramsPerRow int) int {
	return max(min(s.d.maxParams/paramsPerRow, s.maxRows), 1)
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

func anys[T any](s []T) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// scanCalls reads every row of rows (selected with selectColumns), appends
// them to out, and closes rows. No rows is an empty, non-nil slice.
func (s *Store) scanCalls(rows *sql.Rows, out []callhistory.Call) ([]callhistory.Call, error) {
	defer rows.Close()
	for rows.Next() {
		var c callhistory.Call
		if err := rows.Scan(s.dests(&c)...); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if out == nil {
		out = []callhistory.Call{}
	}
	return out, nil
}
