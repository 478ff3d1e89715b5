package callyzer

import (
	"fmt"
	"time"
)

// CallType is Callyzer's call_type. The four documented values have
// constants; any other value the API sends is kept verbatim.
type CallType string

// The call types Callyzer documents.
const (
	Incoming CallType = "Incoming"
	Outgoing CallType = "Outgoing"
	Missed   CallType = "Missed"
	Rejected CallType = "Rejected"
)

// Call is one call record of /call-log/history, decoded.
type Call struct {
	ID             string    // Callyzer's id of the call; the identity
	ClientName     string    // "Unknown" when the phone had no contact
	ClientNumber   string    // the other party, E.164 ("+48601234567"); bare digits when the row has no country code
	EmployeeName   string    //
	EmployeeCode   string    //
	EmployeeNumber string    // the employee's phone, E.164 (bare digits, as ClientNumber)
	EmployeeTags   []string  //
	Type           CallType  // verbatim, including values Callyzer may add
	Duration       int       // seconds
	StartedAt      time.Time // call_date + call_time read in the account's zone
	Note           string    //
	RecordingURL   string    // may be empty; recordings attach later
	CRMStatus      string    //
	ReminderDate   string    // verbatim
	ReminderTime   string    // verbatim
	SyncedAt       time.Time // when the phone uploaded the call; zero if absent
	ModifiedAt     time.Time // zero if absent
	LeadID         string    // Callyzer's own lead id (v2.1+)
	CallMethod     string    // v2.2: PhoneCall / WhatsAppCall
	CallMode       string    // v2.2: Voice / Video
}

// wireCall is one call row as Callyzer sends it.
type wireCall struct {
	ID                *text    `json:"id"`
	ClientName        text     `json:"client_name"`
	ClientCountryCode text     `json:"client_country_code"`
	ClientNumber      text     `json:"client_number"`
	EmpName           text     `json:"emp_name"`
	EmpCode           text     `json:"emp_code"`
	EmpCountryCode    text     `json:"emp_country_code"`
	EmpNumber         text     `json:"emp_number"`
	EmpTags           []string `json:"emp_tags"`
	CallType          text     `json:"call_type"`
	Duration          *count   `json:"duration"`
	CallDate          text     `json:"call_date"`
	CallTime          text     `json:"call_time"`
	Note              text     `json:"note"`
	CallRecordingURL  text     `json:"call_recording_url"`
	CRMStatus         text     `json:"crm_status"`
	ReminderDate      text     `json:"reminder_date"`
	ReminderTime      text     `json:"reminder_time"`
	SyncedAt          text     `json:"synced_at"`
	ModifiedAt        text     `json:"modified_at"`
	LeadID            text     `json:"lead_id"`
	CallMethod        text     `json:"call_method"`
	CallMode          text     `json:"call_mode"`
}

// decodedPage is a decoded /call-log/history answer.
type decodedPage struct {
	calls []Call
	total int
}

// decodeHistory decodes a /call-log/history answer with call times read in
// loc. On success the result is non-nil and its calls non-nil.
func decodeHistory(body []byte, loc *time.Location) (*decodedPage, error) {
	rows, total, err := decodeEnvelope[wireCall](body)
	if err != nil {
		return nil, err
	}
	calls := make([]Call, len(rows))
	for i := range rows {
		if err := rows[i].toCall(&calls[i], loc); err != nil {
			return nil, fmt.Errorf("row %d: %w", i+1, err)
		}
	}
	return &decodedPage{calls: calls, total: total}, nil
}
