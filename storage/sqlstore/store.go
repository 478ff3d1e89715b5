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
	"github.com/leadcalls/leadcalls/statusmap"
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
	hooks  *callhistory.StoreHooks

	// Test-only switches, set by this package's tests.
	disableLockForTest bool   // begin without the write lock, take no per-number locks
	afterReadForTest   func() // runs after a write read the stored rows
	maxRows            int    // rows per statement; maxRowsPerStatement unless a test lowers it
}

// Option configures a Store.
type Option func(*Store) error

// WithHooks makes the store call hooks inside its write transactions (see
// callhistory.StoreHooks). For tests; production code passes none.
func WithHooks(hooks *callhistory.StoreHooks) Option {
	return func(s *Store) error {
		s.hooks = hooks
		return nil
	}
}

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

// callColumns are the written columns of the calls table, in the order of
// callArgs; callyzer_id first, it is the conflict key.
var callColumns = []string{
	"callyzer_id", "phone", "direction", "status", "started_at", "duration_seconds",
	"employee_name", "employee_code", "employee_phone", "client_name", "recording_url",
	"note", "raw_call_type", "crm_status", "callyzer_lead_id", "synced_at", "modified_at",
}

var selectColumns = "id, " + strings.Join(callColumns, ", ")

// maxRowsPerStatement keeps statements a reasonable size even where the
// parameter limit would allow more.
const maxRowsPerStatement = 1000

// ReplaceWindow implements callhistory.Store. It reads the stored rows of
// the window (and of the incoming ids) under the number's lock, computes
// the difference in Go, then deletes the missing rows uploaded no later
// than syncedAt by row id (and number) and upserts the new and changed
// rows in multi-row statements.
func (s *Store) ReplaceWindow(ctx context.Context, phone string, w callhistory.Window, calls []callhistory.Call, syncedAt time.Time) (callhistory.WriteResult, error) {
	const op = "replace window"
	if phone == "" || w.From.After(w.To) {
		return callhistory.WriteResult{}, fmt.Errorf("sqlstore: %s: %w: empty phone or From after To", op, ErrInvalid)
	}
	for i, c := range calls {
		if c.Phone != phone || !w.Contains(c.StartedAt) || c.CallyzerID == "" {
			return callhistory.WriteResult{}, fmt.Errorf("sqlstore: %s: %w: call %d is of another number, outside the window or without an id", op, ErrInvalid, i)
		}
	}
	incoming, err := normalise(calls)
	if err != nil {
		return callhistory.WriteResult{}, fmt.Errorf("sqlstore: %s: %w", op, err)
	}
	var res callhistory.WriteResult
	err = s.inTx(ctx, op, []string{phone}, func(t *txn) error {
		res = callhistory.WriteResult{}
		inWindow, err := s.readWindow(ctx, t, phone, w)
		if err != nil {
			return err
		}
		stored := make(map[string]callhistory.Call, len(inWindow))
		for _, c := range inWindow {
			stored[c.CallyzerID] = c
		}
		var elsewhere []string
		for _, c := range incoming {
			if _, ok := stored[c.CallyzerID]; !ok {
				elsewhere = append(elsewhere, c.CallyzerID)
			}
		}
		if err := s.readByID(ctx, t, elsewhere, stored); err != nil {
			return err
		}
		if s.afterReadForTest != nil {
			s.afterReadForTest()
		}

		keep := make(map[string]bool, len(incoming))
		for _, c := range incoming {
			keep[c.CallyzerID] = true
		}
		// A call uploaded after the answer was read may come from a sync
		// that committed meanwhile: only earlier uploads (or calls without
		// an upload time) are deleted.
		answeredAt := utcMicro(syncedAt)
		var gone []int64
		for _, c := range inWindow {
			if !keep[c.CallyzerID] && !c.SyncedAt.After(answeredAt) {
				gone = append(gone, c.RowID)
			}
		}
		deleted, err := s.deleteRows(ctx, t, phone, gone)
		if err != nil {
			return err
		}
		res.Deleted = deleted
		if err := s.hook(func(h *callhistory.StoreHooks) func() error { return h.AfterDelete }); err != nil {
			return err
		}
		return s.writeCalls(ctx, t, incoming, stored, []string{phone}, syncedAt, &res)
	})
	if err != nil {
		return callhistory.WriteResult{}, err
	}
	return res, nil
}

// UpsertCalls implements callhistory.Store. It locks every number of calls
// in one fixed order, reads the stored rows of the incoming ids, and
// upserts the new and changed ones in multi-row statements.
func (s *Store) UpsertCalls(ctx context.Context, calls []callhistory.Call, syncedAt time.Time) (callhistory.WriteResult, error) {
	const op = "upsert calls"
	for i, c := range calls {
		if c.Phone == "" || c.CallyzerID == "" {
			return callhistory.WriteResult{}, fmt.Errorf("sqlstore: %s: %w: call %d has no number or no id", op, ErrInvalid, i)
		}
	}
	if len(calls) == 0 {
		return callhistory.WriteResult{}, nil
	}
	incoming, err := normalise(calls)
	if err != nil {
		return callhistory.WriteResult{}, fmt.Errorf("sqlstore: %s: %w", op, err)
	}
	var phones []string
	for _, c := range incoming {
		phones = append(phones, c.Phone)
	}
	slices.Sort(phones)
	phones = slices.Compact(phones)

	var res callhistory.WriteResult
	err = s.inTx(ctx, op, phones, func(t *txn) error {
		res = callhistory.WriteResult{}
		ids := make([]string, len(incoming))
		for i, c := range incoming {
			ids[i] = c.CallyzerID
		}
		stored := make(map[string]callhistory.Call, len(incoming))
		if err := s.readByID(ctx, t, ids, stored); err != nil {
			return err
		}
		if s.afterReadForTest != nil {
			s.afterReadForTest()
		}
		return s.writeCalls(ctx, t, incoming, stored, phones, syncedAt, &res)
	})
	if err != nil {
		return callhistory.WriteResult{}, err
	}
	return res, nil
}

// Calls implements callhistory.Store.
func (s *Store) Calls(ctx context.Context, phone string, limit int) ([]callhistory.Call, error) {
	q := "SELECT " + selectColumns + " FROM " + s.table("calls") +
		" WHERE phone = ? ORDER BY started_at DESC, callyzer_id ASC"
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

// normalise returns calls with their times in the stored form, or an
// ErrInvalid error when an id repeats: the caller de-duplicates, the store
// does not guess which copy wins.
func normalise(calls []callhistory.Call) ([]callhistory.Call, error) {
	out := make([]callhistory.Call, len(calls))
	seen := make(map[string]bool, len(calls))
	for i, c := range calls {
		if seen[c.CallyzerID] {
			return nil, fmt.Errorf("%w: call %d repeats a Callyzer id", ErrInvalid, i)
		}
		seen[c.CallyzerID] = true
		c.RowID = 0
		c.StartedAt = utcMicro(c.StartedAt)
		c.SyncedAt = optionalTime(c.SyncedAt)
		c.ModifiedAt = optionalTime(c.ModifiedAt)
		out[i] = c
	}
	return out, nil
}

func optionalTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return utcMicro(t)
}

// writeCalls upserts the incoming calls that are new or differ from stored,
// counts the result, moves the last-sync date of phones and runs the
// BeforeCommit hook.
func (s *Store) writeCalls(ctx context.Context, t *txn, incoming []callhistory.Call, stored map[string]callhistory.Call, phones []string, syncedAt time.Time, res *callhistory.WriteResult) error {
	var changed []callhistory.Call
	for _, c := range incoming {
		old, ok := stored[c.CallyzerID]
		if !ok {
			res.Inserted++
			changed = append(changed, c)
			continue
		}
		if olderCopy(c, old) {
			res.Unchanged++
			continue
		}
		c.RowID = old.RowID
		if c.RecordingURL == "" {
			c.RecordingURL = old.RecordingURL
		}
		if sameCall(c, old) {
			res.Unchanged++
			continue
		}
		res.Updated++
		changed = append(changed, c)
	}
	if err := s.upsertCalls(ctx, t, changed); err != nil {
		return err
	}
	if err := s.moveLastSynced(ctx, t, phones, syncedAt); err != nil {
		return err
	}
	return s.hook(func(h *callhistory.StoreHooks) func() error { return h.BeforeCommit })
}

// hook runs the hook pick selects, if any.
func (s *Store) hook(pick func(*callhistory.StoreHooks) func() error) error {
	if s.hooks == nil {
		return nil
	}
	if f := pick(s.hooks); f != nil {
		return f()
	}
	return nil
}

func (s *Store) rowsPerStatement(paramsPerRow int) int {
	return max(min(s.d.maxParams/paramsPerRow, s.maxRows), 1)
}

// upsertCalls writes calls in multi-row upserts, calling BeforeWrite for
// each row as it joins a batch.
func (s *Store) upsertCalls(ctx context.Context, t *txn, calls []callhistory.Call) error {
	head := "INSERT INTO " + s.table("calls") + " (" + strings.Join(callColumns, ", ") + ") VALUES "
	tail := " " + s.d.upsertCall(s.table("calls"), callColumns[1:])
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(callColumns)), ", ") + ")"
	per := s.rowsPerStatement(len(callColumns))
	k := 0
	for batch := range slices.Chunk(calls, per) {
		args := make([]any, 0, len(batch)*len(callColumns))
		for _, c := range batch {
			k++
			if s.hooks != nil && s.hooks.BeforeWrite != nil {
				if err := s.hooks.BeforeWrite(k); err != nil {
					return err
				}
			}
			args = append(args, s.callArgs(c)...)
		}
		q := head + strings.TrimSuffix(strings.Repeat(row+", ", len(batch)), ", ") + tail
		if _, err := t.exec(ctx, q, args...); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) callArgs(c callhistory.Call) []any {
	return []any{
		c.CallyzerID, c.Phone, string(c.Direction), string(c.Status), s.d.timeArg(c.StartedAt), int64(c.DurationSeconds),
		c.EmployeeName, c.EmployeeCode, c.EmployeePhone, c.ClientName, c.RecordingURL,
		c.Note, c.RawCallType, c.CRMStatus, c.CallyzerLeadID, s.nullTime(c.SyncedAt), s.nullTime(c.ModifiedAt),
	}
}

func (s *Store) nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return s.d.timeArg(t)
}

// moveLastSynced sets the last-sync date of phones to the later of the
// stored one and syncedAt.
func (s *Store) moveLastSynced(ctx context.Context, t *txn, phones []string, syncedAt time.Time) error {
	if syncedAt.IsZero() {
		return nil
	}
	at := s.d.timeArg(utcMicro(syncedAt))
	head := "INSERT INTO " + s.table("sync_state") + s.d.insertAlias + " (phone, last_synced_at) VALUES "
	for batch := range slices.Chunk(phones, s.rowsPerStatement(2)) {
		args := make([]any, 0, 2*len(batch))
		for _, p := range batch {
			args = append(args, p, at)
		}
		q := head + strings.TrimSuffix(strings.Repeat("(?, ?), ", len(batch)), ", ") + " " + s.d.upsertSync
		if _, err := t.exec(ctx, q, args...); err != nil {
			return err
		}
	}
	return nil
}

// deleteRows deletes the rows of ids that are still of phone and returns
// how many it deleted. The phone condition matters on the server backends:
// a writer holding only another number's lock may have moved one of the
// rows to its number since it was read (READ COMMITTED re-reads the row
// before deleting it), and that row is no longer this write's to delete.
func (s *Store) deleteRows(ctx context.Context, t *txn, phone string, ids []int64) (int, error) {
	deleted := 0
	per := max(min(s.d.maxParams-1, s.maxRows), 1) // one parameter is the phone
	for batch := range slices.Chunk(ids, per) {
		args := make([]any, 0, len(batch)+1)
		args = append(args, phone)
		for _, id := range batch {
			args = append(args, id)
		}
		q := "DELETE FROM " + s.table("calls") + " WHERE phone = ? AND id IN (" + placeholders(len(batch)) + ")"
		r, err := t.exec(ctx, q, args...)
		if err != nil {
			return 0, err
		}
		n, err := r.RowsAffected()
		if err != nil {
			return 0, err
		}
		deleted += int(n)
	}
	return deleted, nil
}

// readWindow returns the stored calls of phone in w.
func (s *Store) readWindow(ctx context.Context, t *txn, phone string, w callhistory.Window) ([]callhistory.Call, error) {
	q := "SELECT " + selectColumns + " FROM " + s.table("calls") +
		" WHERE phone = ? AND started_at >= ? AND started_at <= ?"
	rows, err := t.query(ctx, q, phone, s.d.timeArg(utcMicro(w.From)), s.d.timeArg(utcMicro(w.To)))
	if err != nil {
		return nil, err
	}
	return s.scanCalls(rows, nil)
}

// readByID adds the stored calls with the given ids to into.
func (s *Store) readByID(ctx context.Context, t *txn, ids []string, into map[string]callhistory.Call) error {
	for batch := range slices.Chunk(ids, s.rowsPerStatement(1)) {
		args := make([]any, len(batch))
		for i, id := range batch {
			args[i] = id
		}
		q := "SELECT " + selectColumns + " FROM " + s.table("calls") + " WHERE callyzer_id IN (" + placeholders(len(batch)) + ")"
		rows, err := t.query(ctx, q, args...)
		if err != nil {
			return err
		}
		found, err := s.scanCalls(rows, nil)
		if err != nil {
			return err
		}
		for _, c := range found {
			into[c.CallyzerID] = c
		}
	}
	return nil
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// scanCalls reads every row of rows (selected with selectColumns), appends
// them to out, and closes rows.
func (s *Store) scanCalls(rows *sql.Rows, out []callhistory.Call) ([]callhistory.Call, error) {
	defer rows.Close()
	for rows.Next() {
		var (
			c                           callhistory.Call
			direction, status           string
			startedAt, synced, modified any
			duration                    int64
		)
		if err := rows.Scan(&c.RowID, &c.CallyzerID, &c.Phone, &direction, &status, &startedAt, &duration,
			&c.EmployeeName, &c.EmployeeCode, &c.EmployeePhone, &c.ClientName, &c.RecordingURL,
			&c.Note, &c.RawCallType, &c.CRMStatus, &c.CallyzerLeadID, &synced, &modified); err != nil {
			return nil, err
		}
		c.Direction = statusmap.Direction(direction)
		c.Status = statusmap.Code(status)
		c.DurationSeconds = int(duration)
		var err error
		if c.StartedAt, err = s.d.scanTime(startedAt); err != nil {
			return nil, err
		}
		if c.SyncedAt, err = s.scanOptionalTime(synced); err != nil {
			return nil, err
		}
		if c.ModifiedAt, err = s.scanOptionalTime(modified); err != nil {
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

func (s *Store) scanOptionalTime(v any) (time.Time, error) {
	if v == nil {
		return time.Time{}, nil
	}
	return s.d.scanTime(v)
}

// olderCopy reports whether in is an older copy of stored: both have a
// ModifiedAt and in's is earlier. Such a call leaves the stored row as it
// is.
func olderCopy(in, stored callhistory.Call) bool {
	return !in.ModifiedAt.IsZero() && !stored.ModifiedAt.IsZero() && in.ModifiedAt.Before(stored.ModifiedAt)
}

// sameCall reports whether two calls in the stored form are equal in every
// field.
func sameCall(a, b callhistory.Call) bool {
	return a.RowID == b.RowID && a.CallyzerID == b.CallyzerID && a.Phone == b.Phone &&
		a.Direction == b.Direction && a.Status == b.Status && a.StartedAt.Equal(b.StartedAt) &&
		a.DurationSeconds == b.DurationSeconds && a.EmployeeName == b.EmployeeName &&
		a.EmployeeCode == b.EmployeeCode && a.EmployeePhone == b.EmployeePhone &&
		a.ClientName == b.ClientName && a.RecordingURL == b.RecordingURL && a.Note == b.Note &&
		a.RawCallType == b.RawCallType && a.CRMStatus == b.CRMStatus &&
		a.CallyzerLeadID == b.CallyzerLeadID && a.SyncedAt.Equal(b.SyncedAt) && a.ModifiedAt.Equal(b.ModifiedAt)
}
