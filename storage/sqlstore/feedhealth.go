package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/leadcalls/leadcalls/feedhealth"
)

var _ feedhealth.Store = (*Store)(nil)

// CountCalls implements feedhealth.Store with one COUNT ... GROUP BY on the
// index of call times.
func (s *Store) CountCalls(ctx context.Context, from, to time.Time) (map[string]int, error) {
	const op = "count calls"
	q := "SELECT raw_call_type, COUNT(*) FROM " + s.table("calls") +
		" WHERE started_at >= ? AND started_at < ? AND missing_since IS NULL GROUP BY raw_call_type"
	rows, err := s.db.QueryContext(ctx, s.d.rebind(q), s.d.timeArg(utcMicro(from)), s.d.timeArg(utcMicro(to)))
	if err != nil {
		return nil, translate(ctx, op, err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var typ string
		var n int
		if err := rows.Scan(&typ, &n); err != nil {
			return nil, translate(ctx, op, err)
		}
		out[typ] += n
	}
	if err := rows.Err(); err != nil {
		return nil, translate(ctx, op, err)
	}
	return out, nil
}

// FeedHealth implements feedhealth.Store. A name never saved (or one
// SaveFeedHealth would refuse) has the zero state.
func (s *Store) FeedHealth(ctx context.Context, name string) (feedhealth.State, error) {
	const op = "feed health"
	if err := ctx.Err(); err != nil {
		return feedhealth.State{}, translate(ctx, op, err)
	}
	if checkSyncName(name) != nil {
		return feedhealth.State{}, nil
	}
	var doc []byte
	err := s.db.QueryRowContext(ctx, s.d.rebind("SELECT state FROM "+s.table("feed_health")+" WHERE name = ?"), name).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return feedhealth.State{}, nil
	}
	if err != nil {
		return feedhealth.State{}, translate(ctx, op, err)
	}
	var st feedhealth.State
	if err := json.Unmarshal(doc, &st); err != nil {
		return feedhealth.State{}, translate(ctx, op, fmt.Errorf("decoding the stored document: %w", err))
	}
	return st, nil
}

// SaveFeedHealth implements feedhealth.Store: one upsert, in a transaction
// of its own. name follows SaveSyncState's rules.
func (s *Store) SaveFeedHealth(ctx context.Context, name string, st feedhealth.State) error {
	const op = "save feed health"
	if err := checkSyncName(name); err != nil {
		return fmt.Errorf("sqlstore: %s: %w", op, err)
	}
	doc, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("sqlstore: %s: %w: %w", op, ErrInvalid, err)
	}
	// feed_health has syncer_state's columns, so its upsert clause fits.
	q := "INSERT INTO " + s.table("feed_health") + " (name, state, updated_at) VALUES (?, ?, ?) " + s.d.upsertSyncer
	return s.inTx(ctx, op, nil, func(t *txn) error {
		_, err := t.exec(ctx, q, name, string(doc), s.d.timeArg(utcMicro(time.Now())))
		return err
	})
}
