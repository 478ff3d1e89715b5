package callyzer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/leadcalls/leadcalls/internal/phone"
)

// text is a JSON string, number or null, as a string (null is "").
type text string

func (t *text) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0:
		return errors.New("empty value")
	case string(b) == "null":
		*t = ""
	case b[0] == '"':
		s, err := jsonString(b)
		if err != nil {
			return err
		}
		*t = text(s)
	case b[0] == '-' || (b[0] >= '0' && b[0] <= '9'):
		*t = text(b)
	default:
		return errors.New("want a string or a number")
	}
	return nil
}

// jsonString decodes a JSON string literal. The decoder has validated the
// document already, so a literal without escapes is its own content.
func jsonString(b []byte) (string, error) {
	if len(b) >= 2 && bytes.IndexByte(b, '\\') < 0 && utf8.Valid(b) {
		return string(b[1 : len(b)-1]), nil
	}
	var s string
	err := json.Unmarshal(b, &s)
	return s, err
}

// count is a non-negative whole number sent as a JSON number or a numeric
// string ("87"). Fractions, negatives and anything else are refused.
type count int

func (c *count) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		s, err := jsonString(b)
		if err != nil {
			return err
		}
		b = []byte(strings.TrimSpace(s))
	}
	if len(b) == 0 || string(b) == "null" {
		return errors.New("want a whole number")
	}
	if n, err := strconv.ParseInt(string(b), 10, 64); err == nil {
		if n < 0 || n > math.MaxInt32 {
			return errors.New("number out of range")
		}
		*c = count(n)
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || f != math.Trunc(f) || f < 0 || f > math.MaxInt32 {
		return errors.New("want a whole number")
	}
	*c = count(f)
	return nil
}

// flag is a JSON boolean, 0/1, or "true"/"false"/"1"/"0"/"yes"/"no"; null is false.
type flag bool

func (f *flag) UnmarshalJSON(b []byte) error {
	s := strings.ToLower(strings.Trim(string(bytes.TrimSpace(b)), `"`))
	switch s {
	case "true", "1", "yes":
		*f = true
	case "false", "0", "no", "", "null":
		*f = false
	default:
		return errors.New("want a boolean")
	}
	return nil
}

// envelope is Callyzer's answer: {"message", "result", "total_records"}.
type envelope[T any] struct {
	Message      text            `json:"message"`
	Result       *[]T            `json:"result"`
	TotalRecords *count          `json:"total_records"`
	Data         json.RawMessage `json:"data"`
}

// decodeEnvelope decodes a paged answer, refusing what it cannot trust: not
// JSON, a "data" envelope, a missing or null "result" or "total_records",
// more rows than total_records. It never returns nil rows with a nil error.
func decodeEnvelope[T any](body []byte) ([]T, int, error) {
	var env envelope[T]
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, 0, fmt.Errorf("not the expected JSON: %s", jsonProblem(err))
	}
	if len(env.Data) > 0 && string(env.Data) != "null" {
		return nil, 0, errors.New(`a "data" envelope instead of "result"`)
	}
	if env.Result == nil {
		return nil, 0, errors.New(`"result" is missing or null`)
	}
	if env.TotalRecords == nil {
		return nil, 0, errors.New(`"total_records" is missing or null`)
	}
	rows := *env.Result
	if rows == nil {
		rows = []T{}
	}
	return rows, int(*env.TotalRecords), nil
}

// jsonProblem describes a JSON error without quoting the body.
func jsonProblem(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("syntax error at byte %d", se.Offset)
	case errors.As(err, &te):
		return fmt.Sprintf("field %q: want %s, got JSON %s", te.Field, te.Type, te.Value)
	case strings.HasPrefix(err.Error(), "json: "):
		return strings.TrimPrefix(err.Error(), "json: ")
	default:
		return err.Error()
	}
}

func (w *wireCall) toCall(c *Call, loc *time.Location) error {
	if w.ID == nil || strings.TrimSpace(string(*w.ID)) == "" {
		return errors.New(`no "id"`)
	}
	if w.Duration == nil {
		return errors.New(`no "duration"`)
	}
	started, err := parseCallStart(string(w.CallDate), string(w.CallTime), loc)
	if err != nil {
		return err
	}
	synced, err := parseStamp(string(w.SyncedAt), loc)
	if err != nil {
		return fmt.Errorf("synced_at: %w", err)
	}
	modified, err := parseStamp(string(w.ModifiedAt), loc)
	if err != nil {
		return fmt.Errorf("modified_at: %w", err)
	}
	*c = Call{
		ID:             strings.TrimSpace(string(*w.ID)),
		ClientName:     string(w.ClientName),
		ClientNumber:   phone.FromCallyzer(string(w.ClientCountryCode), string(w.ClientNumber)),
		EmployeeName:   string(w.EmpName),
		EmployeeCode:   string(w.EmpCode),
		EmployeeNumber: phone.FromCallyzer(string(w.EmpCountryCode), string(w.EmpNumber)),
		EmployeeTags:   w.EmpTags,
		Type:           CallType(w.CallType),
		Duration:       int(*w.Duration),
		StartedAt:      started,
		Note:           string(w.Note),
		RecordingURL:   string(w.CallRecordingURL),
		CRMStatus:      string(w.CRMStatus),
		ReminderDate:   string(w.ReminderDate),
		ReminderTime:   string(w.ReminderTime),
		SyncedAt:       synced,
		ModifiedAt:     modified,
		LeadID:         string(w.LeadID),
		CallMethod:     string(w.CallMethod),
		CallMode:       string(w.CallMode),
	}
	return nil
}

const (
	dateLayout  = "2006-01-02"
	clockLayout = "15:04:05"
	stampLayout = dateLayout + " " + clockLayout
)

// parseCallStart reads call_date and call_time as a wall clock in loc. A
// wall clock that falls in a DST gap or overlap gets the offset time.Date
// gives it.
func parseCallStart(date, clock string, loc *time.Location) (time.Time, error) {
	date, clock = strings.TrimSpace(date), strings.TrimSpace(clock)
	if date == "" || clock == "" {
		return time.Time{}, errors.New("no call_date or call_time")
	}
	t, err := time.ParseInLocation(stampLayout, date+" "+clock, loc)
	if err != nil {
		return time.Time{}, errors.New("call_date/call_time not YYYY-MM-DD and HH:MM:SS")
	}
	return t, nil
}

// parseStamp reads synced_at or modified_at: "YYYY-MM-DD HH:MM:SS",
// optionally followed by a zone. The wall clock is read in the account zone
// loc, and a trailing zone abbreviation (IST, CET, ...) is ignored, because
// abbreviations are ambiguous (IST is India, Ireland or Israel) and Callyzer
// sends the account's own clock. Two suffixes are unambiguous and honoured:
// "UTC"/"GMT"/"Z" (read in UTC) and a numeric offset ("+05:30", "+0530").
// Empty, null and MySQL's zero date ("0000-00-00 00:00:00") are the zero
// time.
func parseStamp(s string, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" || strings.HasPrefix(s, "0000-00-00") {
		return time.Time{}, nil
	}
	if len(s) < len(stampLayout) {
		return time.Time{}, errors.New("not YYYY-MM-DD HH:MM:SS")
	}
	wall, suffix := s[:len(stampLayout)], strings.TrimSpace(s[len(stampLayout):])
	if wall[10] == 'T' {
		wall = wall[:10] + " " + wall[11:]
	}
	zone := loc
	switch {
	case suffix == "":
	case suffix == "UTC" || suffix == "GMT" || suffix == "Z":
		zone = time.UTC
	case suffix[0] == '+' || suffix[0] == '-':
		off, ok := parseOffset(suffix)
		if !ok {
			return time.Time{}, errors.New("unreadable zone offset")
		}
		zone = time.FixedZone("", off)
	case isZoneAbbreviation(suffix):
	default:
		return time.Time{}, errors.New("unreadable zone suffix")
	}
	t, err := time.ParseInLocation(stampLayout, wall, zone)
	if err != nil {
		return time.Time{}, errors.New("not YYYY-MM-DD HH:MM:SS")
	}
	return t, nil
}

func isZoneAbbreviation(s string) bool {
	if len(s) < 2 || len(s) > 6 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

// parseOffset reads "+05:30", "+0530" or "+05" as seconds east of UTC.
func parseOffset(s string) (int, bool) {
	sign := 1
	if s[0] == '-' {
		sign = -1
	}
	d := strings.ReplaceAll(s[1:], ":", "")
	if len(d) != 2 && len(d) != 4 {
		return 0, false
	}
	if len(d) == 2 {
		d += "00"
	}
	for i := 0; i < len(d); i++ {
		if d[i] < '0' || d[i] > '9' {
			return 0, false
		}
	}
	h, _ := strconv.Atoi(d[:2])
	m, _ := strconv.Atoi(d[2:])
	if h > 14 || m > 59 {
		return 0, false
	}
	return sign * (h*3600 + m*60), true
}
