package callhistory

import (
	"context"
	"iter"
	"net/url"
	"strings"
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
	// NoCountryCode: Callyzer sent the number without a country code (read
	// in the default region). A refresh's query, by country code and
	// number, cannot return such a call, so a refresh never removes it.
	NoCountryCode bool
	// MissingSince is when an answer that should have held the call first
	// lacked it (the answer's fetch start); zero while Callyzer holds it.
	// A missing call is left out of Store.Calls, restored by any answer or
	// sync that brings it back, and deleted for good by a later refresh
	// that still lacks it (see ReplaceWindow).
	MissingSince time.Time
}

// FromCallyzer turns a Callyzer call into the stored Call, its status
// mapped with m: the one mapping that the on-demand refresh and the periodic
// sync share, so both write the same value, with the same identity
// (CallyzerID), for the same call. Phone is c.ClientNumber as given: both
// use cases first normalise it to E.164 (Callyzer sends bare national digits
// for a number it has no country code for). Times are
// stored in UTC; RowID is left to the store.
func FromCallyzer(m *statusmap.Mapper, c callyzer.Call) Call {
	st := m.Map(string(c.Type), c.Duration)
	return Call{
		CallyzerID:      c.ID,
		Phone:           c.ClientNumber,
		Direction:       st.Direction,
		Status:          st.Code,
		StartedAt:       utc(c.StartedAt),
		DurationSeconds: c.Duration,
		EmployeeName:    c.EmployeeName,
		EmployeeCode:    c.EmployeeCode,
		EmployeePhone:   c.EmployeeNumber,
		ClientName:      c.ClientName,
		RecordingURL:    httpsOnly(c.RecordingURL),
		Note:            c.Note,
		RawCallType:     string(c.Type),
		CRMStatus:       c.CRMStatus,
		CallyzerLeadID:  c.LeadID,
		SyncedAt:        utc(c.SyncedAt),
		ModifiedAt:      utc(c.ModifiedAt),
	}
}

// httpsOnly returns u when it is an absolute https URL, and "" otherwise:
// a recording link a user follows must not lead anywhere else.
func httpsOnly(u string) string {
	const scheme = "https://"
	if len(u) <= len(scheme) || !strings.EqualFold(u[:len(scheme)], scheme) || strings.ContainsAny(u[len(scheme):len(scheme)+1], "/?#@") {
		return ""
	}
	for i := 0; i < len(u); i++ {
		if u[i] <= ' ' || u[i] == 0x7f { // no space or control character anywhere
			return ""
		}
	}
	if _, err := url.Parse(u); err != nil {
		return ""
	}
	return u
}

// utc keeps the zero time zero (time.Time{}.UTC() is zero too, but says so).
func utc(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}

// CallSource is what the use cases need of Callyzer. *callyzer.Client
// implements it.
type CallSource interface {
	// HistoryPages yields every page of every window chunk of q.
	HistoryPages(ctx context.Context, q callyzer.HistoryQuery) iter.Seq2[*callyzer.HistoryPage, error]
}
