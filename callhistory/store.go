package callhistory

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Store keeps calls and each number's last-sync date. It persists what the
// use cases decide (ReplaceWindow, UpsertCalls) and decides nothing itself.
// Implementations: storage/memstore, storage/sqlstore; storage/storagetest
// is the suite every implementation must pass.
type Store interface {
	// Update runs fn in one atomic write: the writes fn made are committed
	// when fn returns nil and ctx is still live, and none is otherwise (a
	// panic in fn propagates after the rollback). Update first takes the
	// write lock of every number in phones, serialising writers of a
	// number, across processes where the backend allows. A store may run
	// fn again after a conflict it resolves by retrying (a deadlock, two
	// writers inserting one CallyzerID); fn starts from scratch each time.
	// Update returns fn's error, wrapped or not.
	Update(ctx context.Context, phones []string, fn func(Tx) error) error

	// Calls returns the listed calls of phone (those whose MissingSince is
	// zero), newest first (StartedAt descending, then CallyzerID
	// ascending), at most limit of them when limit > 0. No calls is an
	// empty slice and a nil error.
	Calls(ctx context.Context, phone string, limit int) ([]Call, error)

	// LastSynced returns the last-sync date of phone, or the zero time when
	// it has never been synced.
	LastSynced(ctx context.Context, phone string) (time.Time, error)
}

// Tx is the write transaction of Store.Update, valid only inside its fn.
// Reads see what is committed (fn reads before it writes); times come back
// in UTC.
type Tx interface {
	// CallsInWindow returns the stored calls of phone that started in w,
	// missing ones included.
	CallsInWindow(ctx context.Context, phone string, w Window) ([]Call, error)
	// CallsByID returns the stored calls with these CallyzerIDs, of any number.
	CallsByID(ctx context.Context, ids []string) ([]Call, error)
	// LastSynced returns the last-sync dates of phones that have one.
	LastSynced(ctx context.Context, phones []string) (map[string]time.Time, error)
	// Delete deletes the stored calls with these RowIDs.
	Delete(ctx context.Context, rowIDs []int64) error
	// Put writes calls: one with a zero RowID is inserted under a RowID the
	// store assigns (never one used before); one with a RowID overwrites
	// every field of that stored call.
	Put(ctx context.Context, calls []Call) error
	// SetLastSynced sets the last-sync date of each number in dates.
	SetLastSynced(ctx context.Context, dates map[string]time.Time) error
}

// WriteResult counts what a write did.
type WriteResult struct {
	Inserted  int
	Updated   int // restored calls included
	Deleted   int // calls an answer lacked, now missing: out of the list
	Unchanged int
	Purged    int // missing calls a later answer confirmed gone, deleted for good
}

// Window is a closed interval of call start times: From <= StartedAt <= To.
type Window struct {
	From, To time.Time
}

// contains reports whether t lies in w, bounds included.
func (w Window) contains(t time.Time) bool {
	return !t.Before(w.From) && !t.After(w.To)
}

// defaultRemoveAfter is how long after the first answer that lacked a call
// a later answer that still lacks it deletes it for good.
const defaultRemoveAfter = 10 * time.Minute

// precision is the finest time a store keeps: what PostgreSQL and MariaDB
// DATETIME(6) keep. Every time is truncated to it before it is compared or
// written, so a store returns exactly what was planned.
const precision = time.Microsecond

// ReplaceWindow makes st hold, for phone and the start times in w, the
// calls Callyzer answered to a fetch that began at syncedAt, in one atomic
// write. Calls are written by CallyzerID as merge says (an empty
// RecordingURL keeps the stored one; an older copy changes nothing; a
// missing call comes back). A stored call of phone in w that the answer
// lacks leaves the list (Calls) at once but is kept, marked missing, and
// deleted for good only by a later answer, at least RemoveAfter (default
// 10 minutes) after the first that lacked it, that still lacks it. Calls
// the query could not have returned are never removed: those uploaded after
// the fetch began (a sync may have stored them meanwhile) and those
// Callyzer holds without a country code (NoCountryCode). A call the answer
// takes from another number moves to phone. The last-sync date of phone
// becomes max(current, syncedAt). Every call must be of phone, lie in w
// and have a CallyzerID of its own; on any error nothing changes.
func ReplaceWindow(ctx context.Context, st Store, phone string, w Window, calls []Call, syncedAt time.Time) (WriteResult, error) {
	return replaceWindow(ctx, st, phone, w, calls, syncedAt, removal{after: defaultRemoveAfter})
}

// removal is how a window replacement removes the calls an answer lacks.
type removal struct {
	after time.Duration // a missing call is deleted by an answer at least this much later
	guard RemovalGuard  // the zero guard is off
}

func replaceWindow(ctx context.Context, st Store, phone string, w Window, calls []Call, syncedAt time.Time, rm removal) (WriteResult, error) {
	if phone == "" || w.From.After(w.To) {
		return WriteResult{}, errors.New("callhistory: ReplaceWindow: empty phone, or a window that starts after it ends")
	}
	for i, c := range calls {
		if c.Phone != phone || !w.contains(c.StartedAt) {
			return WriteResult{}, fmt.Errorf("callhistory: ReplaceWindow: call %d is of another number or outside the window", i)
		}
	}
	in, answer, err := canonicalCalls(calls)
	if err != nil {
		return WriteResult{}, fmt.Errorf("callhistory: ReplaceWindow: %w", err)
	}
	w = Window{From: canonicalTime(w.From), To: canonicalTime(w.To)}
	syncedAt = canonicalTime(syncedAt)
	return write(ctx, st, "replace window", []string{phone}, func(ctx context.Context, tx Tx) (*plan, error) {
		inWindow, err := tx.CallsInWindow(ctx, phone, w)
		if err != nil {
			return nil, err
		}
		stored, err := readByID(ctx, tx, in, inWindow)
		if err != nil {
			return nil, err
		}
		return planReplace(phone, inWindow, stored, in, answer, syncedAt, rm)
	})
}

// planReplace plans a window replacement: in is the answer (answer, its
// CallyzerIDs), inWindow the stored calls of phone in the window, stored
// the stored copies of in and inWindow by CallyzerID. It refuses, with an
// error wrapping ErrSuspiciousAnswer, an answer the guard finds suspicious.
func planReplace(phone string, inWindow []Call, stored map[string]*Call, in []Call, answer map[string]bool, syncedAt time.Time, rm removal) (*plan, error) {
	p := planWrites(stored, in)
	p.replaces = true
	listed := 0 // the stored calls of the window in the list before this answer
	mark := syncedAt
	if mark.IsZero() {
		mark = time.Unix(0, 0).UTC() // a zero syncedAt: the earliest mark there is
	}
	for _, c := range inWindow {
		if c.MissingSince.IsZero() {
			listed++
		}
		if answer[c.CallyzerID] || !removable(c, syncedAt) {
			continue
		}
		switch {
		case c.MissingSince.IsZero():
			c.MissingSince = mark
			p.puts = append(p.puts, c)
			p.result.Deleted++
		case !syncedAt.Before(c.MissingSince.Add(rm.after)):
			p.deletes = append(p.deletes, c)
			p.result.Purged++
		}
	}
	if rm.guard.refuses(p.result.Deleted, listed) {
		return nil, fmt.Errorf("%w: it would take %d of the %d listed calls of the window out of the list", ErrSuspiciousAnswer, p.result.Deleted, listed)
	}
	p.synced(phone, syncedAt)
	return p, nil
}

// removable reports whether an answer to a fetch that began at syncedAt
// could have returned c, so that its lacking c means something: c was
// uploaded no later than the fetch began (or has no upload time), and
// Callyzer holds it with a country code, as the query asks for it.
func removable(c Call, syncedAt time.Time) bool {
	return !c.SyncedAt.After(syncedAt) && !c.NoCountryCode
}

// RemovalGuard refuses an answer that would take many of a window's listed
// calls out at once, as an answer that is empty because the account does
// not match the number form sent would: more than Share of them and at
// least Min. The zero RemovalGuard is off.
type RemovalGuard struct {
	Share float64
	Min   int
}

// refuses reports whether taking removed of listed calls out is suspicious.
func (g RemovalGuard) refuses(removed, listed int) bool {
	if g == (RemovalGuard{}) || removed == 0 {
		return false
	}
	return removed >= g.Min && float64(removed) > g.Share*float64(listed)
}

// UpsertCalls writes calls by CallyzerID as merge says and deletes nothing
// (the periodic sync), in one atomic write. The last-sync date of every
// number in calls becomes max(current, syncedAt). Every call must have a
// number and a CallyzerID of its own; on any error nothing changes.
func UpsertCalls(ctx context.Context, st Store, calls []Call, syncedAt time.Time) (WriteResult, error) {
	for i, c := range calls {
		if c.Phone == "" {
			return WriteResult{}, fmt.Errorf("callhistory: UpsertCalls: call %d has no number", i)
		}
	}
	if len(calls) == 0 {
		return WriteResult{}, nil
	}
	in, _, err := canonicalCalls(calls)
	if err != nil {
		return WriteResult{}, fmt.Errorf("callhistory: UpsertCalls: %w", err)
	}
	syncedAt = canonicalTime(syncedAt)
	phones := make([]string, 0, len(in))
	for _, c := range in {
		phones = append(phones, c.Phone)
	}
	return write(ctx, st, "upsert calls", phones, func(ctx context.Context, tx Tx) (*plan, error) {
		stored, err := readByID(ctx, tx, in, nil)
		if err != nil {
			return nil, err
		}
		p := planWrites(stored, in)
		for _, c := range in {
			p.synced(c.Phone, syncedAt)
		}
		return p, nil
	})
}

// plan is one write worked out against the stored calls: what a Tx must
// delete and put, and the counts it reports.
type plan struct {
	replaces   bool // a window replacement: it deletes, even nothing
	deletes    []Call
	puts       []Call
	movedFrom  []string             // the numbers updated calls were stored under, when they move
	lastSynced map[string]time.Time // the last-sync date each number should have at least
	result     WriteResult
}

// synced asks for phone's last-sync date to be at least at.
func (p *plan) synced(phone string, at time.Time) {
	if at.IsZero() {
		return
	}
	if p.lastSynced == nil {
		p.lastSynced = map[string]time.Time{}
	}
	if at.After(p.lastSynced[phone]) {
		p.lastSynced[phone] = at
	}
}

// planWrites merges each incoming call with its stored copy, if any.
func planWrites(stored map[string]*Call, in []Call) *plan {
	p := &plan{}
	for _, c := range in {
		prev := stored[c.CallyzerID]
		if prev == nil {
			p.puts = append(p.puts, c)
			p.result.Inserted++
			continue
		}
		next, changed := merge(*prev, c)
		if !changed {
			p.result.Unchanged++
			continue
		}
		p.puts = append(p.puts, next)
		p.result.Updated++
		if prev.Phone != next.Phone {
			p.movedFrom = append(p.movedFrom, prev.Phone)
		}
	}
	return p
}

// merge returns what to store when in arrives for the stored call prev, and
// whether that differs from prev in any field. An incoming call whose
// ModifiedAt is before prev's (both non-zero) is an older copy, fetched
// before prev was written: prev stays as it is, but listed again if it was
// missing. Otherwise in replaces prev under prev's RowID, keeping prev's
// recording when in has none. Both calls must be canonical (see
// canonicalCall).
func merge(prev, in Call) (next Call, changed bool) {
	if !in.ModifiedAt.IsZero() && !prev.ModifiedAt.IsZero() && in.ModifiedAt.Before(prev.ModifiedAt) {
		// Even an older copy says Callyzer holds the call.
		next = prev
		next.MissingSince = time.Time{}
		return next, next != prev
	}
	next = in
	next.RowID = prev.RowID
	if next.RecordingURL == "" {
		next.RecordingURL = prev.RecordingURL
	}
	// Every field at once: a field added to Call cannot be left out.
	return next, next != prev
}

// readByID returns the stored copies of the calls in, by CallyzerID: those
// of known (already read, made canonical in place) and, read from tx, the
// others.
func readByID(ctx context.Context, tx Tx, in []Call, known []Call) (map[string]*Call, error) {
	stored := make(map[string]*Call, len(in)+len(known))
	for i := range known {
		known[i] = canonicalCall(known[i])
		stored[known[i].CallyzerID] = &known[i]
	}
	var ids []string
	for _, c := range in {
		if stored[c.CallyzerID] == nil {
			ids = append(ids, c.CallyzerID)
		}
	}
	if len(ids) > 0 {
		found, err := tx.CallsByID(ctx, ids)
		if err != nil {
			return nil, err
		}
		for i := range found {
			found[i] = canonicalCall(found[i])
			stored[found[i].CallyzerID] = &found[i]
		}
	}
	return stored, nil
}

// errMoreLocks asks write to take the locks of more numbers and try again:
// the plan writes a call that is stored under a number it did not lock.
type errMoreLocks struct{ phones []string }

func (e *errMoreLocks) Error() string {
	return fmt.Sprintf("callhistory: the write needs the locks of %d more numbers", len(e.phones))
}

// maxRelocks bounds how often write widens its locks: each round adds the
// numbers the calls were stored under, which changes only when another
// writer moves them meanwhile.
const maxRelocks = 5

// write runs one planned write: under the locks of phones it plans against
// the stored calls and applies the plan. A plan that touches a call stored
// under a number outside the locks runs again with that number locked too,
// so that every number whose calls a write changes is locked.
func write(ctx context.Context, st Store, op string, phones []string, planFn func(context.Context, Tx) (*plan, error)) (WriteResult, error) {
	locked := sortedSet(phones)
	for round := 0; ; round++ {
		var res WriteResult
		err := st.Update(ctx, locked, func(tx Tx) error {
			p, err := planFn(ctx, tx)
			if err != nil {
				return err
			}
			if more := p.unlocked(locked); len(more) > 0 {
				return &errMoreLocks{phones: more}
			}
			if err := p.apply(ctx, tx); err != nil {
				return err
			}
			res = p.result
			return nil
		})
		if more, ok := errors.AsType[*errMoreLocks](err); ok && round < maxRelocks {
			locked = sortedSet(append(locked, more.phones...))
			continue
		}
		if err != nil {
			return WriteResult{}, fmt.Errorf("callhistory: %s: %w", op, err)
		}
		return res, nil
	}
}

// unlocked returns the numbers whose calls p changes and that are not in
// locked (sorted): the numbers of its deleted and written calls, and those
// its moved calls leave.
func (p *plan) unlocked(locked []string) []string {
	var out []string
	check := func(phone string) {
		if _, found := slices.BinarySearch(locked, phone); !found && !slices.Contains(out, phone) {
			out = append(out, phone)
		}
	}
	for _, c := range p.deletes {
		check(c.Phone)
	}
	for _, c := range p.puts {
		check(c.Phone)
	}
	for _, phone := range p.movedFrom {
		check(phone)
	}
	return out
}

// apply makes tx do what p says, then moves the last-sync dates.
func (p *plan) apply(ctx context.Context, tx Tx) error {
	if p.replaces || len(p.deletes) > 0 {
		ids := make([]int64, len(p.deletes))
		for i, c := range p.deletes {
			ids[i] = c.RowID
		}
		if err := tx.Delete(ctx, ids); err != nil {
			return err
		}
	}
	if len(p.puts) > 0 {
		if err := tx.Put(ctx, p.puts); err != nil {
			return err
		}
	}
	if len(p.lastSynced) == 0 {
		return nil
	}
	phones := make([]string, 0, len(p.lastSynced))
	for phone := range p.lastSynced {
		phones = append(phones, phone)
	}
	slices.Sort(phones)
	current, err := tx.LastSynced(ctx, phones)
	if err != nil {
		return err
	}
	later := make(map[string]time.Time, len(phones))
	for _, phone := range phones {
		// The last-sync date never goes back.
		if at := p.lastSynced[phone]; at.After(current[phone]) {
			later[phone] = at
		}
	}
	if len(later) == 0 {
		return nil
	}
	return tx.SetLastSynced(ctx, later)
}

// canonicalCalls returns copies of calls in the form stores keep and merge
// compares (see canonicalCall), and the set of their CallyzerIDs, refusing
// a call without a CallyzerID and a CallyzerID that appears twice: the
// caller de-duplicates, the store does not guess which copy wins.
func canonicalCalls(calls []Call) ([]Call, map[string]bool, error) {
	out := make([]Call, len(calls))
	ids := make(map[string]bool, len(calls))
	for i, c := range calls {
		if c.CallyzerID == "" {
			return nil, nil, fmt.Errorf("call %d has no CallyzerID", i)
		}
		if ids[c.CallyzerID] {
			return nil, nil, fmt.Errorf("call %d repeats a CallyzerID", i)
		}
		ids[c.CallyzerID] = true
		c = canonicalCall(c)
		c.RowID = 0                  // the store's
		c.MissingSince = time.Time{} // an answer holds the call
		out[i] = c
	}
	return out, ids, nil
}

// canonicalCall returns c with every time in UTC, truncated to precision,
// without a monotonic reading, and a zero time kept zero: the form in which
// == compares instants.
func canonicalCall(c Call) Call {
	c.StartedAt = canonicalTime(c.StartedAt)
	c.SyncedAt = canonicalTime(c.SyncedAt)
	c.ModifiedAt = canonicalTime(c.ModifiedAt)
	return c
}

func canonicalTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(precision)
}

// sortedSet returns the distinct, non-empty values of s, sorted.
func sortedSet(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	out = slices.Compact(out)
	return slices.DeleteFunc(out, func(p string) bool { return p == "" })
}
