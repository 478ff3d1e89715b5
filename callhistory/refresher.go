package callhistory

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/leadcalls/leadcalls/statusmap"
)

// Config configures a Refresher. Source, Store and Leads are required; every
// other field has the default its comment names.
type Config struct {
	Source CallSource // required: usually a *callyzer.Client
	Store  Store      // required
	Leads  Leads      // required

	// Authorizer decides who may view a lead. Default: RoleAuthorizer{}.
	Authorizer Authorizer
	// Mapper maps Callyzer calls to CRM statuses. Default: statusmap.Default().
	Mapper *statusmap.Mapper
	// RefreshTimeout bounds a whole refresh, all Callyzer pages and the
	// store write included. Default: 30s.
	RefreshTimeout time.Duration
	// HistoryMonths is the refreshed window: [now - HistoryMonths calendar
	// months, now]. Default: 6.
	HistoryMonths int
	// ListLimit caps the calls a Result carries. Default: 500.
	ListLimit int
	// DefaultRegion parses numbers written without a country code. Default: "PL".
	DefaultRegion string
	// Now returns the current time. Default: time.Now.
	Now func() time.Time
	// Logger receives one line per refresh, phone numbers masked. Default:
	// slog.Default().
	Logger *slog.Logger
}

// Result is a lead's call history.
type Result struct {
	Lead         Lead
	Phone        string    // the lead's number, E.164
	Calls        []Call    // newest first, at most Config.ListLimit
	LastSyncedAt time.Time // zero when never synced
	Report       *Report   // what a refresh did; nil from History
}

// Report says what one refresh did.
type Report struct {
	Requests  int           // HTTP requests sent to Callyzer, retries included
	Fetched   int           // calls received (after de-duplication)
	Inserted  int           //
	Updated   int           //
	Deleted   int           //
	Unchanged int           //
	Shared    bool          // this caller joined a fetch already under way
	Duration  time.Duration //
}

// Refresher is the use case "refresh a lead's call history".
type Refresher struct {
	cfg Config
}

// NewRefresher checks cfg, fills in the defaults and returns a Refresher.
func NewRefresher(cfg Config) (*Refresher, error) {
	return nil, errors.New("callhistory: NewRefresher: not implemented yet")
}

// Refresh refreshes the call history of lead leadID for actor, following the
// spec's steps in order: permission, lead, phone, fetch, map, replace,
// result. Errors wrap one of the package's sentinels; Message turns any
// outcome into the user's message.
func (r *Refresher) Refresh(ctx context.Context, actor *Actor, leadID string) (*Result, error) {
	return nil, errors.New("callhistory: Refresh: not implemented yet")
}

// History returns the stored call history of lead leadID for actor, without
// calling Callyzer; the same permission and lead checks as Refresh apply.
func (r *Refresher) History(ctx context.Context, actor *Actor, leadID string) (*Result, error) {
	return nil, errors.New("callhistory: History: not implemented yet")
}
