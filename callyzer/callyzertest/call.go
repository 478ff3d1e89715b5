package callyzertest

import (
	"fmt"
	"strconv"
	"time"

	"github.com/leadcalls/leadcalls/internal/phone"
)

// The call types Callyzer documents. Call.CallType may hold any other string;
// the fake writes it verbatim.
const (
	Incoming = "Incoming"
	Outgoing = "Outgoing"
	Missed   = "Missed"
	Rejected = "Rejected"
)

// The v2.2 call_method and call_mode values.
const (
	PhoneCall    = "PhoneCall"
	WhatsAppCall = "WhatsAppCall"
	Voice        = "Voice"
	Video        = "Video"
)

// Call is one seeded call, as the fake stores it. Numbers are kept the way
// Callyzer sends them: a country code without "+" and the national digits.
type Call struct {
	ID                string // the identity; unique per call
	ClientName        string // "Unknown" when the phone had no contact
	ClientCountryCode string // "48"; "" for a call held without one
	ClientNumber      string // national digits: "601234567"
	EmpName           string
	EmpCode           string
	EmpCountryCode    string // "48"
	EmpNumber         string // national digits
	EmpTags           []string
	CallType          string    // Incoming, Outgoing, Missed, Rejected or anything else
	Duration          int       // seconds
	StartedAt         time.Time // written as call_date + call_time in Options.Location
	Note              string
	RecordingURL      string
	CRMStatus         string
	ReminderDate      string // written verbatim
	ReminderTime      string // written verbatim
	SyncedAt          time.Time
	ModifiedAt        time.Time
	LeadID            string
	CallMethod        string // v2.2; empty is written and filtered as PhoneCall
	CallMode          string // v2.2; empty is written and filtered as Voice

	// Per-call wire quirks; each also exists server-wide in Format.
	DurationAsString bool // write duration as a numeric string: "87"
	ZoneSuffix       bool // append the zone abbreviation ("CET") to synced_at and modified_at
	NullEmpty        bool // write an empty note and call_recording_url as null
}

// Employee is one phone of the account's roster (/employee/get).
type Employee struct {
	Name                string
	Code                string
	CountryCode         string // "48"
	Number              string // national digits
	Tags                []string
	RegisteredAt        time.Time
	LastCallAt          time.Time
	LastSyncReqAt       time.Time // when the phone last checked in
	CallRecordingActive bool
	AppUninstalled      bool   // written as device_preference.is_app_uninstalled
	AppVersion          string // app_version
	DeviceModel         string // device_details.device_model
	AndroidVersion      string // device_details.android_version
}

// E164 returns the employee's number in E.164 form.
func (e Employee) E164() string { return "+" + e.CountryCode + e.Number }

// ClientE164 returns the client's number in E.164 form, or, for a call
// held without a country code, its bare digits (as package callyzer reads
// such a row).
func (c Call) ClientE164() string { return e164(c.ClientCountryCode, c.ClientNumber) }

// EmpE164 returns the employee's number in E.164 form (bare digits without
// a country code, as ClientE164).
func (c Call) EmpE164() string { return e164(c.EmpCountryCode, c.EmpNumber) }

func e164(cc, national string) string {
	if cc == "" {
		return national
	}
	return "+" + cc + national
}

// SetEmployee copies the employee fields of e into c.
func (c *Call) SetEmployee(e Employee) {
	c.EmpName, c.EmpCode = e.Name, e.Code
	c.EmpCountryCode, c.EmpNumber = e.CountryCode, e.Number
	c.EmpTags = append([]string(nil), e.Tags...)
}

// DefaultEmployee is the employee NewCall puts on a call.
var DefaultEmployee = Employee{
	Name:                "Anna Nowak",
	Code:                "A7",
	CountryCode:         "48",
	Number:              "511222333",
	Tags:                []string{"BIK"},
	RegisteredAt:        time.Date(2025, 1, 6, 9, 0, 0, 0, time.UTC),
	CallRecordingActive: true,
}

// NewCall returns an answered outgoing call of 60 s from DefaultEmployee to
// clientE164, started at startedAt and synced two minutes later; change the
// fields you need. It panics when clientE164 is not a valid E.164 number, so
// use it with literals in tests.
func NewCall(id, clientE164 string, startedAt time.Time) Call {
	cc, nat, ok := phone.Split(clientE164)
	if e164, err := phone.Normalize(clientE164, ""); !ok || err != nil || e164 != clientE164 {
		panic(fmt.Sprintf("callyzertest: NewCall: %q is not a valid number in E.164 form", clientE164))
	}
	c := Call{
		ID:                id,
		ClientName:        "Unknown",
		ClientCountryCode: cc,
		ClientNumber:      nat,
		CallType:          Outgoing,
		Duration:          60,
		StartedAt:         startedAt,
		SyncedAt:          startedAt.Add(2 * time.Minute),
		ModifiedAt:        startedAt.Add(2 * time.Minute),
		CallMethod:        PhoneCall,
		CallMode:          Voice,
	}
	c.SetEmployee(DefaultEmployee)
	return c
}

func (c Call) clone() Call {
	c.EmpTags = append([]string(nil), c.EmpTags...)
	return c
}

func (e Employee) clone() Employee {
	e.Tags = append([]string(nil), e.Tags...)
	return e
}

// callRow is a call written the way Callyzer does. The fields are in the
// order of their keys, the order encoding/json writes a map in, as the
// fake wrote rows before it had this type.
type callRow struct {
	CallDate          string   `json:"call_date"`
	CallMethod        string   `json:"call_method,omitempty"` // V22 only
	CallMode          string   `json:"call_mode,omitempty"`   // V22 only
	CallRecordingURL  any      `json:"call_recording_url"`    // string, or nil for null
	CallTime          string   `json:"call_time"`
	CallType          string   `json:"call_type"`
	ClientCountryCode string   `json:"client_country_code"`
	ClientName        string   `json:"client_name"`
	ClientNumber      string   `json:"client_number"`
	CRMStatus         string   `json:"crm_status"`
	Duration          any      `json:"duration"` // a number or a numeric string
	EmpCode           string   `json:"emp_code"`
	EmpCountryCode    string   `json:"emp_country_code"`
	EmpName           string   `json:"emp_name"`
	EmpNumber         string   `json:"emp_number"`
	EmpTags           []string `json:"emp_tags"`
	ID                any      `json:"id,omitempty"` // a string; nil (left out) only for FaultMissingID
	LeadID            string   `json:"lead_id"`
	ModifiedAt        string   `json:"modified_at"`
	Note              any      `json:"note"` // string, or nil for null
	ReminderDate      string   `json:"reminder_date"`
	ReminderTime      string   `json:"reminder_time"`
	SyncedAt          string   `json:"synced_at"`
}

func (r *callRow) halfType() {
	r.Duration = map[string]any{"value": r.Duration}
	r.ID = 10001
}

func (r *callRow) dropID()          { r.ID = nil }
func (r *callRow) setNote(n string) { r.Note = n }

// callRow writes c the way Callyzer does.
func (s *Server) callRow(c *Call) *callRow {
	loc := s.opts.Location
	ft := s.opts.Format
	start := c.StartedAt.In(loc)
	tags := c.EmpTags
	if tags == nil {
		tags = []string{}
	}
	var dur any = c.Duration
	if ft.DurationAsString || c.DurationAsString {
		dur = strconv.Itoa(c.Duration)
	}
	nullEmpty := ft.NullEmpty || c.NullEmpty
	suffix := ft.ZoneSuffix || c.ZoneSuffix
	r := &callRow{
		ID:                c.ID,
		ClientName:        c.ClientName,
		ClientCountryCode: c.ClientCountryCode,
		ClientNumber:      c.ClientNumber,
		EmpName:           c.EmpName,
		EmpCode:           c.EmpCode,
		EmpCountryCode:    c.EmpCountryCode,
		EmpNumber:         c.EmpNumber,
		EmpTags:           tags,
		CallType:          c.CallType,
		Duration:          dur,
		CallDate:          start.Format(time.DateOnly),
		CallTime:          start.Format(time.TimeOnly),
		Note:              orNull(c.Note, nullEmpty),
		CallRecordingURL:  orNull(c.RecordingURL, nullEmpty),
		CRMStatus:         c.CRMStatus,
		ReminderDate:      c.ReminderDate,
		ReminderTime:      c.ReminderTime,
		SyncedAt:          stamp(c.SyncedAt, loc, suffix),
		ModifiedAt:        stamp(c.ModifiedAt, loc, suffix),
		LeadID:            c.LeadID,
	}
	if s.opts.Version == V22 {
		r.CallMethod = orDefault(c.CallMethod, PhoneCall)
		r.CallMode = orDefault(c.CallMode, Voice)
	}
	return r
}

func orNull(s string, null bool) any {
	if s == "" && null {
		return nil
	}
	return s
}
