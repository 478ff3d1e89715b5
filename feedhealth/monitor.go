package feedhealth

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/leadcalls/leadcalls/callhistory"
	"github.com/leadcalls/leadcalls/callyzer"
	"github.com/leadcalls/leadcalls/callyzer/pacing"
)

// Source is what a Monitor needs of Callyzer. *callyzer.Client implements it.
type Source interface {
	Employees(ctx context.Context, q callyzer.EmployeesQuery) ([]callyzer.Employee, error)
	Summary(ctx context.Context, q callyzer.HistoryQuery) (callyzer.Totals, error)
}

// Store counts stored calls and keeps a Monitor's state.
// storage/memstore and storage/sqlstore implement it; storage/storagetest
// checks an implementation.
type Store interface {
	// CountCalls counts the listed calls (MissingSince zero) of every
	// number that started in [from, to), by Call.RawCallType.
	CountCalls(ctx context.Context, from, to time.Time) (map[string]int, error)
	// FeedHealth returns the state saved under name, or the zero State and
	// a nil error when none was.
	FeedHealth(ctx context.Context, name string) (State, error)
	// SaveFeedHealth replaces the state saved under name with st,
	// atomically. name must not be empty.
	SaveFeedHealth(ctx context.Context, name string, st State) error
}

// Config configures a Monitor. Source, Store and Location are required;
// every other field has the default its comment names.
type Config struct {
	Source Source // required: usually the Syncer's *callyzer.Client
	Store  Store  // required: usually the Syncer's Store
	// Location is the Callyzer account's zone, in which months begin: the
	// client's callyzer.WithLocation. Required.
	Location *time.Location
	// Name keys the saved state; use the Syncer's SyncConfig.Name.
	// Default: "default".
	Name string
	// StaleAfter and OfflineAfter are the silences (since the phone's last
	// check-in) that make it Stale and Offline. Defaults: 6h and 24h.
	StaleAfter, OfflineAfter time.Duration
	// Months is how many closed months back completeness is checked, of
	// those wholly inside the stored window. Default: 6.
	Months int
	// RecheckAfter is how long a month's check holds before the month is
	// compared again (and again after every backfill). Default: 24h.
	RecheckAfter time.Duration
	// Now returns the current time. Default: time.Now.
	Now func() time.Time
	// Logger receives a line per check that fails or finds a month
	// incomplete. Default: slog.Default().
	Logger *slog.Logger
}

// Monitor reads the roster's phone health and checks closed months'
// completeness, as a Syncer's hook (Check); State reads what it saved.
type Monitor struct {
	cfg Config
	th  thresholds
}

// New checks cfg, fills in the defaults and returns a Monitor.
func New(cfg Config) (*Monitor, error) {
	switch {
	case cfg.Source == nil:
		return nil, errors.New("feedhealth: Config.Source is required")
	case cfg.Store == nil:
		return nil, errors.New("feedhealth: Config.Store is required")
	case cfg.Location == nil:
		return nil, errors.New("feedhealth: Config.Location is required")
	case cfg.StaleAfter < 0 || cfg.OfflineAfter < 0 || cfg.Months < 0 || cfg.RecheckAfter < 0:
		return nil, errors.New("feedhealth: Config.StaleAfter, OfflineAfter, Months and RecheckAfter must not be negative")
	}
	cfg.Name = cmp.Or(cfg.Name, "default")
	cfg.StaleAfter = cmp.Or(cfg.StaleAfter, 6*time.Hour)
	cfg.OfflineAfter = cmp.Or(cfg.OfflineAfter, 24*time.Hour)
	cfg.Months = cmp.Or(cfg.Months, 6)
	cfg.RecheckAfter = cmp.Or(cfg.RecheckAfter, 24*time.Hour)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.StaleAfter > cfg.OfflineAfter {
		return nil, fmt.Errorf("feedhealth: Config.StaleAfter %v is longer than OfflineAfter %v", cfg.StaleAfter, cfg.OfflineAfter)
	}
	return &Monitor{cfg: cfg, th: thresholds{stale: cfg.StaleAfter, offline: cfg.OfflineAfter}}, nil
}

// State returns the saved state, for a host's dashboards and alerts.
func (m *Monitor) State(ctx context.Context) (State, error) {
	st, err := m.cfg.Store.FeedHealth(ctx, m.cfg.Name)
	if err != nil {
		return State{}, fmt.Errorf("feedhealth: reading the state: %w", err)
	}
	return st, nil
}

// Check is a Syncer's hook (callhistory.SyncConfig.Health): after a pass
// that succeeded, it reads the roster (one Background request per page)
// and saves every phone's health; then, unless a backfill is pending, it
// compares each due closed month (see Config.RecheckAfter) inside the
// stored window (from sync.Backfill.From) with one /call-log/summary
// request. A month that differs is re-read once with reread and counted
// again; if it still differs it stays flagged (Problems) with its numbers
// until a later check (a day on, or after a backfill) finds it complete.
// The state is saved even when a
// step fails, with the failure in LastError.
func (m *Monitor) Check(ctx context.Context, sync callhistory.SyncState, reread func(context.Context, callhistory.Window) error) error {
	prev, err := m.State(ctx)
	if err != nil {
		return err
	}
	st := prev
	st.LastError = ""
	err = m.check(ctx, &st, sync, reread)
	if err != nil {
		st.LastError = err.Error()
	}
	if serr := m.cfg.Store.SaveFeedHealth(ctx, m.cfg.Name, st); serr != nil {
		return errors.Join(err, fmt.Errorf("feedhealth: saving the state: %w", serr))
	}
	return err
}

func (m *Monitor) check(ctx context.Context, st *State, sync callhistory.SyncState, reread func(context.Context, callhistory.Window) error) error {
	now := m.cfg.Now()
	emps, err := m.cfg.Source.Employees(ctx, callyzer.EmployeesQuery{Priority: pacing.Background})
	if err != nil {
		return fmt.Errorf("feedhealth: reading the roster: %w", err)
	}
	phones := make([]Phone, 0, len(emps))
	for _, e := range emps {
		prev, _ := st.Phone(e.Number)
		phones = append(phones, m.th.phoneOf(e, prev, now))
	}
	slices.SortStableFunc(phones, func(a, b Phone) int { return cmp.Compare(a.Number, b.Number) })
	st.Phones, st.CheckedAt = phones, now

	bf := sync.Backfill
	if bf.From.IsZero() || !bf.Done {
		return nil // no stored window yet, or one still being filled
	}
	months := m.closedMonths(now, bf.From)
	kept := make([]Month, 0, len(months))
	for _, start := range months {
		i := slices.IndexFunc(st.Months, func(x Month) bool { return x.Start.Equal(start) })
		var mo Month
		if i >= 0 {
			mo = st.Months[i]
		}
		if i < 0 || now.Sub(mo.CheckedAt) >= m.cfg.RecheckAfter || mo.CheckedAt.Before(bf.To) {
			if mo, err = m.checkMonth(ctx, start, mo, now, reread); err != nil {
				st.Months = mergeMonths(kept, st.Months, months)
				return err
			}
		}
		kept = append(kept, mo)
	}
	st.Months = kept
	return nil
}

// mergeMonths is kept followed by the months of old among months that kept
// lacks, newest first: what a check that stopped early leaves.
func mergeMonths(kept, old []Month, months []time.Time) []Month {
	for _, mo := range old {
		if slices.ContainsFunc(months, mo.Start.Equal) && !slices.ContainsFunc(kept, func(k Month) bool { return k.Start.Equal(mo.Start) }) {
			kept = append(kept, mo)
		}
	}
	slices.SortFunc(kept, func(a, b Month) int { return b.Start.Compare(a.Start) })
	return kept
}

// closedMonths returns the starts of the last Config.Months closed months
// of the account's zone before now that begin at or after from, newest
// first.
func (m *Monitor) closedMonths(now, from time.Time) []time.Time {
	var out []time.Time
	cur := MonthStart(now, m.cfg.Location)
	for k := 1; k <= m.cfg.Months; k++ {
		start := cur.AddDate(0, -k, 0)
		if start.Before(from) {
			break
		}
		out = append(out, start)
	}
	return out
}

// MonthStart returns the first instant of t's calendar month in loc.
func MonthStart(t time.Time, loc *time.Location) time.Time {
	y, mo, _ := t.In(loc).Date()
	return time.Date(y, mo, 1, 0, 0, 0, 0, loc)
}

// checkMonth compares the month beginning at start; prev is its last
// result (zero if none).
func (m *Monitor) checkMonth(ctx context.Context, start time.Time, prev Month, now time.Time, reread func(context.Context, callhistory.Window) error) (Month, error) {
	end := start.AddDate(0, 1, 0)
	label := start.Format("2006-01")
	t, err := m.cfg.Source.Summary(ctx, callyzer.HistoryQuery{CallFrom: start, CallTo: end.Add(-time.Second), Priority: pacing.Background})
	if err != nil {
		return prev, fmt.Errorf("feedhealth: Callyzer's totals of %s: %w", label, err)
	}
	mo := Month{Start: start, CheckedAt: now, RereadAt: prev.RereadAt,
		Theirs: Counts{Calls: t.Calls, Incoming: t.Incoming, Outgoing: t.Outgoing, Missed: t.Missed, Rejected: t.Rejected}}
	if mo.Ours, err = m.count(ctx, start, end); err != nil {
		return prev, err
	}
	if mo.Complete() || reread == nil {
		m.logIncomplete(ctx, mo)
		return mo, nil
	}
	if err := reread(ctx, callhistory.Window{From: start, To: end.Add(-time.Second)}); err != nil {
		return mo, fmt.Errorf("feedhealth: re-reading %s: %w", label, err)
	}
	mo.RereadAt = now
	if mo.Ours, err = m.count(ctx, start, end); err != nil {
		return prev, err
	}
	m.logIncomplete(ctx, mo)
	return mo, nil
}

func (m *Monitor) count(ctx context.Context, from, to time.Time) (Counts, error) {
	byType, err := m.cfg.Store.CountCalls(ctx, from, to)
	if err != nil {
		return Counts{}, fmt.Errorf("feedhealth: counting the stored calls of %s: %w", from.Format("2006-01"), err)
	}
	c := Counts{
		Incoming: byType[string(callyzer.Incoming)], Outgoing: byType[string(callyzer.Outgoing)],
		Missed: byType[string(callyzer.Missed)], Rejected: byType[string(callyzer.Rejected)],
	}
	for _, n := range byType {
		c.Calls += n
	}
	return c, nil
}

func (m *Monitor) logIncomplete(ctx context.Context, mo Month) {
	if mo.Complete() {
		return
	}
	m.cfg.Logger.WarnContext(ctx, "feedhealth: stored calls differ from Callyzer's totals",
		slog.String("month", mo.Start.Format("2006-01")), slog.Int("callyzer", mo.Theirs.Calls), slog.Int("stored", mo.Ours.Calls),
		slog.Bool("reread", !mo.RereadAt.IsZero()))
}
