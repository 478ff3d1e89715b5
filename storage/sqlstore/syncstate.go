package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/leadcalls/leadcalls/callhistory"
)

var _ callhistory.SyncStateStore = (*Store)(nil)

// MaxSyncNameLen is the longest sync name, in characters, SaveSyncState
// accepts: the longest utf8mb4 key MariaDB/MySQL index in every row format.
// The other dialects keep the same limit, so a name works on all of them.
const MaxSyncNameLen = 191

// SyncState implements callhistory.SyncStateStore. A name never saved (or
// one SaveSyncState would refuse) has the zero state.
func (s *Store) SyncState(ctx context.Context, name string) (callhistory.SyncState, error) {
	const op = "sync state"
	if err := ctx.Err(); err != nil {
		return callhistory.SyncState{}, translate(ctx, op, err)
	}
	if checkSyncName(name) != nil {
		return callhistory.SyncState{}, nil
	}
	var doc []byte
	err := s.db.QueryRowContext(ctx, s.d.rebind("SELECT state FROM "+s.table("syncer_state")+" WHERE name = ?"), name).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return callhistory.SyncState{}, nil
	}
	if err != nil {
		return callhistory.SyncState{}, translate(ctx, op, err)
	}
	var st callhistory.SyncState
	if err := json.Unmarshal(doc, &st); err != nil {
		return callhistory.SyncState{}, translate(ctx, op, fmt.Errorf("decoding the stored document: %w", err))
	}
	return st, nil
}

// SaveSyncState implements callhistory.SyncStateStore. It replaces the
// state of name with one upsert, in a transaction of its own (so it waits
// for a busy SQLite database as every write does). name must be 1 to
// MaxSyncNameLen characters of UTF-8 without NUL; a state whose times do
// not fit JSON (years outside 0-9999) is refused with ErrInvalid.
func (s *Store) SaveSyncState(ctx context.Context, name string, st callhistory.SyncState) error {
	const op = "save sync state"
	if err := checkSyncName(name); err != nil {
		return fmt.Errorf("sqlstore: %s: %w", op, err)
	}
	doc, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("sqlstore: %s: %w: %w", op, ErrInvalid, err)
	}
	q := "INSERT INTO " + s.table("syncer_state") + " (name, state, updated_at) VALUES (?, ?, ?) " + s.d.upsertSyncer
	return s.inTx(ctx, op, nil, func(t *txn) error {
		_, err := t.exec(ctx, q, name, string(doc), s.d.timeArg(utcMicro(time.Now())))
		return err
	})
}

// checkSyncName returns an ErrInvalid error when name cannot be stored
// alike on every dialect.
func checkSyncName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: empty sync name", ErrInvalid)
	case !utf8.ValidString(name) || strings.ContainsRune(name, 0):
		return fmt.Errorf("%w: sync name is not UTF-8 text without NUL", ErrInvalid)
	case utf8.RuneCountInString(name) > MaxSyncNameLen:
		return fmt.Errorf("%w: sync name longer than %d characters", ErrInvalid, MaxSyncNameLen)
	}
	return nil
}
