package callhistory

import (
	"context"
	"iter"
	"time"

	"github.com/leadcalls/leadcalls/callyzer"
	"github.com/leadcalls/leadcalls/statusmap"
)

// Role is an actor's role in the CRM.
type Role string

// The roles of the spec.
const (
	RoleAdministrator    Role = "admin"              // Administrator
	RoleHeadOfDepartment Role = "head_of_department" // Szef działu
	RoleTeamLeader       Role = "team_leader"        // Kierownik zespołu
	RoleAdvisor          Role = "advisor"            // Doradca klienta BIK
)

// Actor is the signed-in user asking for a lead's call history.
type Actor struct {
	ID         string
	Name       string
	Role       Role
	Department string // optional; for a host's narrowing hook
	Team       string // optional; for a host's narrowing hook
}

// Lead is what the use cases need of a CRM lead. It always comes from the
// host's storage (Leads), never from the request.
type Lead struct {
	ID         string
	Name       string
	Phone      string // as the CRM stores it; normalised to E.164 before use
	AdvisorID  string // the BIK advisor assigned to the lead; may be empty
	Department string // optional
	Team       string // optional
}

// Leads looks leads up in the host CRM.
type Leads interface {
	// Lead returns the lead with the given id, or an error wrapping
	// ErrLeadNotFound when there is none.
	Lead(ctx context.Context, id string) (Lead, error)
}

// Authorizer decides whether an actor may view a lead's call history.
type Authorizer interface {
	// Authorize returns nil when actor may view lead, and an error wrapping
	// ErrForbidden otherwise. actor is nil when the request has no user; lead
	// is nil when no lead has the requested id. Deny by default.
	Authorize(ctx context.Context, actor *Actor, lead *Lead) error
}

// AuthorizerFunc adapts a function to Authorizer.
type AuthorizerFunc func(ctx context.Context, actor *Actor, lead *Lead) error

// Authorize calls f.
func (f AuthorizerFunc) Authorize(ctx context.Context, actor *Actor, lead *Lead) error {
	return f(ctx, actor, lead)
}

// Call is a stored call: the Callyzer record with its mapped status. The
// periodic sync and the on-demand refresh write the same value for the same
// Callyzer call, keyed by CallyzerID.
type Call struct {
	RowID           int64               // assigned by the store; stable across updates
	CallyzerID      string              // the identity
	Phone           string              // the client's number, E.164
	Direction       statusmap.Direction //
	Status          statusmap.Code      //
	StartedAt       time.Time           // UTC in stores
	DurationSeconds int                 //
	EmployeeName    string              //
	EmployeeCode    string              //
	EmployeePhone   string              // E.164
	ClientName      string              //
	RecordingURL    string              // an empty value never erases a stored one
	Note            string              //
	RawCallType     string              // Callyzer call_type, verbatim
	CRMStatus       string              // Callyzer crm_status, verbatim
	CallyzerLeadID  string              // Callyzer lead_id
	SyncedAt        time.Time           // Callyzer synced_at (upload time); zero if absent
	ModifiedAt      time.Time           // Callyzer modified_at; zero if absent
}

// Window is a closed interval of call start times: From <= StartedAt <= To.
type Window struct {
	From, To time.Time
}

// Contains reports whether t lies in w, bounds included.
func (w Window) Contains(t time.Time) bool {
	return !t.Before(w.From) && !t.After(w.To)
}

// WriteResult counts what a store write did.
type WriteResult struct {
	Inserted  int
	Updated   int
	Deleted   int
	Unchanged int
}

// Store keeps calls and each number's last-sync date. Implementations:
// storage/memstore, storage/sqlstore; storage/storagetest is the suite every
// implementation must pass.
//
// Both writes upsert calls by CallyzerID under the same rules. A stored
// call keeps its RowID. An empty RecordingURL keeps the stored one. An
// incoming call whose ModifiedAt is before the stored call's (both
// non-zero) is an older copy of it, fetched before the stored one was
// written: the stored call stays exactly as it is (its Phone included) and
// counts as Unchanged. A zero ModifiedAt, incoming or stored, takes no part
// in that rule. Otherwise the incoming call replaces the stored one and
// counts as Updated when any field differs after these rules, Unchanged
// when none does. Times compare at the store's precision.
type Store interface {
	// ReplaceWindow stores the answer calls that Callyzer gave, for phone
	// and the start times in w, to a fetch that began at syncedAt, in one
	// atomic step: calls are upserted by CallyzerID (see Store); a stored
	// call of phone in w that is not in calls is deleted when its SyncedAt
	// (Callyzer's upload time) is zero or not after syncedAt; and the
	// last-sync date of phone becomes max(current, syncedAt). A stored call
	// uploaded after syncedAt is kept although the answer lacks it (a
	// concurrent sync may have stored it after the fetch began), and is
	// counted in no field of the WriteResult; a later ReplaceWindow whose
	// syncedAt is not before its SyncedAt deletes it if Callyzer no longer
	// has it. (A zero syncedAt deletes only calls whose SyncedAt is zero.)
	// An older copy (see Store) counts as in the answer: the stored call is
	// kept, not deleted. Calls outside w and calls of other numbers are not
	// touched, except that a call of calls stored under another number
	// moves to phone (unless it is an older copy). Every call must have
	// Phone == phone and lie in w. On any error nothing changes. Writers of
	// one phone are serialised, across processes where the backend allows
	// it.
	ReplaceWindow(ctx context.Context, phone string, w Window, calls []Call, syncedAt time.Time) (WriteResult, error)

	// UpsertCalls inserts or updates calls by CallyzerID (see Store) and
	// deletes nothing (the periodic sync). The last-sync date of every
	// phone in calls becomes max(current, syncedAt). All or nothing.
	UpsertCalls(ctx context.Context, calls []Call, syncedAt time.Time) (WriteResult, error)

	// Calls returns the stored calls of phone, newest first (StartedAt
	// descending, then CallyzerID ascending), at most limit of them when
	// limit > 0. No calls is an empty slice and a nil error.
	Calls(ctx context.Context, phone string, limit int) ([]Call, error)

	// LastSynced returns the last-sync date of phone, or the zero time when
	// it has never been synced.
	LastSynced(ctx context.Context, phone string) (time.Time, error)
}

// CallSource is what the use cases need of Callyzer. *callyzer.Client
// implements it.
type CallSource interface {
	// HistoryPages yields every page of every window chunk of q.
	HistoryPages(ctx context.Context, q callyzer.HistoryQuery) iter.Seq2[*callyzer.HistoryPage, error]
}

// StoreHooks lets tests inject faults into a store's write. A store that
// supports hooks calls each non-nil hook at its point inside the write
// transaction; a non-nil error (or a panic) aborts the write, which must then
// leave the store exactly as it was. Production code leaves them nil.
type StoreHooks struct {
	// AfterDelete runs after ReplaceWindow removed the calls missing from
	// the answer, before any insert or update.
	AfterDelete func() error
	// BeforeWrite runs before the k-th insert or update of a write (k
	// counts from 1). Stores that write in batches call it for every row.
	BeforeWrite func(k int) error
	// BeforeCommit runs after every row is written, just before commit.
	BeforeCommit func() error
}
