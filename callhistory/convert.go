package callhistory

import (
	"time"

	"github.com/leadcalls/leadcalls/callyzer"
	"github.com/leadcalls/leadcalls/statusmap"
)

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
		RecordingURL:    c.RecordingURL,
		Note:            c.Note,
		RawCallType:     string(c.Type),
		CRMStatus:       c.CRMStatus,
		CallyzerLeadID:  c.LeadID,
		SyncedAt:        utc(c.SyncedAt),
		ModifiedAt:      utc(c.ModifiedAt),
	}
}

// utc keeps the zero time zero (time.Time{}.UTC() is zero too, but says so).
func utc(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}
