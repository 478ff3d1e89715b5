package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Errors a Store returns wrap the driver's error and, where it applies, one
// of these sentinels; test with errors.Is. A cancelled or expired context
// is reported as context.Canceled or context.DeadlineExceeded.
var (
	// ErrBusy: the database stayed locked by another writer (SQLite busy,
	// a lock wait timeout, a deadlock or serialisation failure). Nothing
	// was changed; the write may be retried.
	ErrBusy = errors.New("sqlstore: database busy")
	// ErrConflict: a unique constraint rejected the write (a Callyzer id
	// written at the same moment without the per-number lock). Nothing was
	// changed.
	ErrConflict = errors.New("sqlstore: conflicting write")
	// ErrInvalid: the arguments break the Store contract (a call of another
	// number or outside the window, an empty id, a window with From after To).
	ErrInvalid = errors.New("sqlstore: invalid argument")
	// ErrSchemaVersion: the database holds a newer schema than this code
	// knows, or has not been migrated.
	ErrSchemaVersion = errors.New("sqlstore: unsupported schema version")
)

// translate is the one place that reads driver errors. It wraps err with
// the operation's name and, when it recognises the error, a sentinel or
// the context's error. It imports no driver: it asks for the methods and
// message shapes the drivers expose.
func translate(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("sqlstore: %s: %w", op, err)
	}
	if cerr := ctx.Err(); cerr != nil {
		// The driver reported the interruption its own way (SQLite
		// "interrupted", PostgreSQL 57014, a closed MySQL connection).
		return fmt.Errorf("sqlstore: %s: %w: %w", op, cerr, err)
	}
	if sentinel, _ := classify(err); sentinel != nil {
		return fmt.Errorf("sqlstore: %s: %w: %w", op, sentinel, err)
	}
	return fmt.Errorf("sqlstore: %s: %w", op, err)
}

// classify maps a driver error to ErrBusy or ErrConflict, or nil. retry
// is true when the database rolled the transaction back to break a
// deadlock or a serialisation conflict, so running it again is safe.
func classify(err error) (sentinel error, retry bool) {
	// modernc.org/sqlite *Error: Code() is the (extended) result code.
	var sqliteErr interface{ Code() int }
	if errors.As(err, &sqliteErr) {
		switch sqliteErr.Code() & 0xff {
		case 5, 6: // SQLITE_BUSY, SQLITE_LOCKED and their extended codes
			return ErrBusy, false
		case 19: // SQLITE_CONSTRAINT
			switch sqliteErr.Code() {
			case 2067, 1555: // _UNIQUE, _PRIMARYKEY
				return ErrConflict, false
			}
		}
		return nil, false
	}
	// pgx *pgconn.PgError: SQLState() is the five-character SQLSTATE.
	var pgErr interface{ SQLState() string }
	if errors.As(err, &pgErr) {
		switch pgErr.SQLState() {
		case "23505": // unique_violation
			return ErrConflict, false
		case "40001", "40P01": // serialization_failure, deadlock_detected
			return ErrBusy, true
		case "55P03": // lock_not_available
			return ErrBusy, false
		}
		return nil, false
	}
	// go-sql-driver/mysql *MySQLError exposes its number only as a field
	// and in its message, "Error 1062 (23000): ...".
	switch mysqlErrorNumber(err) {
	case 1062: // ER_DUP_ENTRY
		return ErrConflict, false
	case 1213: // ER_LOCK_DEADLOCK
		return ErrBusy, true
	case 1205: // ER_LOCK_WAIT_TIMEOUT
		return ErrBusy, false
	}
	return nil, false
}

// mysqlErrorNumber returns N of the first error in err's tree whose message
// is "Error N (SQLSTATE): ..." or "Error N: ...", or 0.
func mysqlErrorNumber(err error) int {
	if err == nil {
		return 0
	}
	if n := parseMySQLNumber(err.Error()); n != 0 {
		return n
	}
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		return mysqlErrorNumber(u.Unwrap())
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			if n := mysqlErrorNumber(e); n != 0 {
				return n
			}
		}
	}
	return 0
}

// parseMySQLNumber reads N from a message "Error N (SQLSTATE): ..." or
// "Error N: ...", or returns 0.
func parseMySQLNumber(msg string) int {
	rest, ok := strings.CutPrefix(msg, "Error ")
	if !ok {
		return 0
	}
	end := strings.IndexAny(rest, " :")
	if end <= 0 {
		return 0
	}
	n, err := strconv.Atoi(rest[:end])
	if err != nil {
		return 0
	}
	return n
}
