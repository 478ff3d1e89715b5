package callhistory

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/leadcalls/leadcalls/callyzer"
)

// ErrPassInProgress is returned by Syncer.RunOnce and Syncer.Backfill when
// another pass of the same sync name holds the pass lock (in this process
// or, with a shared PassLock, on another replica). Nothing was read or
// written; it is not a failure and is not counted as one.
var ErrPassInProgress = errors.New("callhistory: a sync pass is already running")

// SyncStatus is the state a UI shows for the periodic sync.
type SyncStatus string

// The sync statuses.
const (
	SyncIdle               SyncStatus = "idle"                // never run, or the last pass succeeded (or was cancelled)
	SyncRunning            SyncStatus = "running"             // a pass is under way (or its process died mid-pass)
	SyncFailedUnauthorized SyncStatus = "failed_unauthorized" // Callyzer refused the API key (401/403)
	SyncFailedRateLimited  SyncStatus = "failed_rate_limited" // Callyzer kept answering 429
	SyncFailedOther        SyncStatus = "failed_other"        // any other failure: Callyzer, store, timeout
)

// SyncState is what the sync remembers between passes, saved under the
// sync's name in a SyncStateStore after every committed batch. It is plain
// data (times, numbers, strings, no pointers) and marshals to JSON, so a
// store may keep it as one JSON document. The zero value is the state of a
// sync that has never run.
type SyncState struct {
	Status SyncStatus `json:"status,omitempty"`
	// RunningSince is when the pass under way started; zero when none is.
	RunningSince time.Time `json:"running_since,omitzero"`
	// LastSuccess is when the last successful pass started: every call
	// Callyzer had received by then (less the overlap's allowance for
	// clock skew) is stored.
	LastSuccess time.Time `json:"last_success,omitzero"`
	// LastError is the last failure, at most 1,024 bytes; it
	// never holds the API key or a full phone number. Empty after a
	// success.
	LastError string `json:"last_error,omitempty"`
	// ConsecutiveFailures counts the failed passes since the last success.
	ConsecutiveFailures int `json:"consecutive_failures,omitempty"`
	// Cursor is the upload-time (synced_to) bound up to which every call
	// is committed; the next pass reads from Cursor less a minute (and,
	// once more, the uploads Overlap before; see Syncer.RunOnce). Zero before
	// the first pass.
	Cursor time.Time `json:"cursor,omitzero"`
	// Backfill is the progress of the call-time backfill; zero when none
	// was ever started.
	Backfill BackfillProgress `json:"backfill,omitzero"`
	// LastReport is the report of the last finished pass, failed or not.
	LastReport SyncReport `json:"last_report,omitzero"`
}

// maxSyncErrorLen caps SyncState.LastError, in bytes.
const maxSyncErrorLen = 1024

// BackfillProgress is where a backfill stands: it reads the call-time
// window [From, To] newest chunk first, and saves the cursor of its last
// committed page, so an interrupted backfill resumes at the page that was
// not committed.
type BackfillProgress struct {
	From time.Time `json:"from,omitzero"` // the window's start, whole seconds, UTC
	To   time.Time `json:"to,omitzero"`   // the window's end: when the backfill started
	// Cursor is where the backfill goes on; Done once the oldest chunk is
	// read to its end.
	callyzer.Cursor
}

// SyncCounts counts what (a phase of) a pass read and wrote.
type SyncCounts struct {
	Pages    int `json:"pages,omitempty"`    // pages read
	Requests int `json:"requests,omitempty"` // HTTP requests sent to Callyzer, retries and failed ones included
	Seen     int `json:"seen,omitempty"`     // rows received, repeats across pages included
	Skipped  int `json:"skipped,omitempty"`  // rows without a client number, with one that is not a valid phone number, or dated in the future: not stored
	// DroppedRecordings counts recording URLs that were not https, not kept.
	DroppedRecordings int `json:"dropped_recordings,omitempty"`
	Inserted          int `json:"inserted,omitempty"`  //
	Updated           int `json:"updated,omitempty"`   //
	Unchanged         int `json:"unchanged,omitempty"` //
}

func (c *SyncCounts) add(o SyncCounts) {
	c.Pages += o.Pages
	c.Requests += o.Requests
	c.Seen += o.Seen
	c.Skipped += o.Skipped
	c.DroppedRecordings += o.DroppedRecordings
	c.Inserted += o.Inserted
	c.Updated += o.Updated
	c.Unchanged += o.Unchanged
}

// SyncReport says what one pass did: the totals, and the counts of its
// phases (the incremental read by upload time, then the backfill by call
// time, when one is pending, then the re-reads of SyncConfig.Health).
type SyncReport struct {
	SyncCounts                // totals of the phases
	Incremental SyncCounts    `json:"incremental,omitzero"`
	Backfill    SyncCounts    `json:"backfill,omitzero"`
	Health      SyncCounts    `json:"health,omitzero"` // re-reads of SyncConfig.Health's repairs`
	StartedAt   time.Time     `json:"started_at,omitzero"`
	Duration    time.Duration `json:"duration,omitempty"`
	Status      SyncStatus    `json:"status,omitempty"` // how the pass ended
}

// SyncStateStore keeps sync states by name. memstore.Store implements it;
// an SQL store can keep each state as one JSON document in a row keyed by
// name. Writes of one name are made by the pass holding the pass lock, so
// a store needs no locking of its own beyond being safe for concurrent use.
type SyncStateStore interface {
	// SyncState returns the state saved under name, or the zero SyncState
	// and a nil error when none was saved.
	SyncState(ctx context.Context, name string) (SyncState, error)
	// SaveSyncState replaces the state saved under name with st, atomically.
	// name must not be empty. On error the saved state is unchanged.
	SaveSyncState(ctx context.Context, name string, st SyncState) error
}

// PassLock decides which process runs a sync pass: at most one holder per
// name at a time. A Syncer's default lock is its own; Syncers that share a
// state store and a name (replicas) share a database lock, such as
// storage/pgcoord.PassLock.
type PassLock interface {
	// TryLock tries once to take the lock of name. When it is taken,
	// acquired is true and release must be called once the pass is over.
	// When another holder has it, acquired is false and err is nil.
	TryLock(ctx context.Context, name string) (release func() error, acquired bool, err error)
}

// localPassLock is a Syncer's default PassLock: one holder per name, in
// this process. The zero value is ready to use.
type localPassLock struct {
	mu   sync.Mutex
	held map[string]bool
}

var _ PassLock = (*localPassLock)(nil)

// TryLock implements PassLock. It never blocks and fails only when ctx is
// already done.
func (l *localPassLock) TryLock(ctx context.Context, name string) (func() error, bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held[name] {
		return nil, false, nil
	}
	if l.held == nil {
		l.held = map[string]bool{}
	}
	l.held[name] = true
	var once sync.Once
	return func() error {
		once.Do(func() {
			l.mu.Lock()
			delete(l.held, name)
			l.mu.Unlock()
		})
		return nil
	}, true, nil
}
