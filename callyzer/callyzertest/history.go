package callyzertest

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"time"
)

// historyBody is the /call-log/history request body; pointers tell a field
// that was sent from one that was not.
type historyBody struct {
	CallFrom         *int64   `json:"call_from"`
	CallTo           *int64   `json:"call_to"`
	SyncedFrom       *int64   `json:"synced_from"`
	SyncedTo         *int64   `json:"synced_to"`
	CallTypes        []string `json:"call_types"`
	EmpNumbers       []string `json:"emp_numbers"`
	ClientNumbers    []string `json:"client_numbers"`
	EmpTags          []string `json:"emp_tags"`
	DurationLesThan  *int     `json:"duration_les_than"`
	DurationGrtThan  *int     `json:"duration_grt_than"`
	IsExcludeNumbers *bool    `json:"is_exclude_numbers"`
	PageNo           *int     `json:"page_no"`
	PageSize         *int     `json:"page_size"`
	CallMethod       *string  `json:"call_method"`
	CallMode         *string  `json:"call_mode"`
}

// historyQuery is a validated history request.
type historyQuery struct {
	historyBody
	page, size int
	repeatFrom int // FaultRepeatRow: the listing repeats the row before this page; 0: none
}

// numberForm is Callyzer's "48-601234567".
var numberForm = regexp.MustCompile(`^[1-9][0-9]{0,2}-[0-9]{4,14}$`)

func decodeBody(r *http.Request, raw []byte, lenient bool, v any) error {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return fmt.Errorf("Content-Type must be application/json, got %q", ct)
		}
	} else {
		return errors.New("Content-Type must be application/json")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if !lenient {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("invalid request body: %v", err)
	}
	if dec.More() {
		return errors.New("invalid request body: data after the JSON object")
	}
	return nil
}

func (s *Server) parseHistory(r *http.Request, raw []byte) (*historyQuery, error) {
	var q historyQuery
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, errors.New("The request body is required.")
	}
	if err := decodeBody(r, raw, s.opts.LenientBody, &q.historyBody); err != nil {
		return nil, err
	}
	b := &q.historyBody
	callWin, err := s.checkWindow("call", b.CallFrom, b.CallTo)
	if err != nil {
		return nil, err
	}
	syncWin, err := s.checkWindow("synced", b.SyncedFrom, b.SyncedTo)
	if err != nil {
		return nil, err
	}
	if !callWin && !syncWin {
		return nil, errors.New("The call_from and call_to fields are required.")
	}
	for _, t := range b.CallTypes {
		switch t {
		case Incoming, Outgoing, Missed, Rejected:
		default:
			return nil, fmt.Errorf("The selected call_types is invalid: %q.", t)
		}
	}
	for _, list := range [][]string{b.EmpNumbers, b.ClientNumbers} {
		for _, n := range list {
			if !numberForm.MatchString(n) {
				return nil, fmt.Errorf("Invalid number %q: use country code, hyphen, number (48-601234567).", n)
			}
		}
	}
	if s.opts.Version == V22 && (b.CallMethod == nil || b.CallMode == nil) {
		return nil, errors.New("The call_method and call_mode fields are required.")
	}
	if b.CallMethod != nil && *b.CallMethod != PhoneCall && *b.CallMethod != WhatsAppCall {
		return nil, fmt.Errorf("The selected call_method is invalid: %q.", *b.CallMethod)
	}
	if b.CallMode != nil && *b.CallMode != Voice && *b.CallMode != Video {
		return nil, fmt.Errorf("The selected call_mode is invalid: %q.", *b.CallMode)
	}
	q.page, q.size, err = s.paging(b.PageNo, b.PageSize)
	if err != nil {
		return nil, err
	}
	return &q, nil
}

// checkWindow checks one from/to pair and reports whether it was sent.
func (s *Server) checkWindow(name string, from, to *int64) (bool, error) {
	switch {
	case from == nil && to == nil:
		return false, nil
	case from == nil || to == nil:
		return false, fmt.Errorf("The %s_from and %s_to fields must be sent together.", name, name)
	case *from > *to:
		return false, fmt.Errorf("The %s_to must be a date after %s_from.", name, name)
	case time.Duration(*to-*from)*time.Second > s.opts.MaxWindow:
		days := int(s.opts.MaxWindow / (24 * time.Hour))
		return false, fmt.Errorf("The date range should not be greater than %d days.", days)
	}
	return true, nil
}

func (s *Server) paging(pageNo, pageSize *int) (page, size int, err error) {
	page, size = 1, s.opts.DefaultPageSize
	if pageNo != nil {
		page = *pageNo
	}
	if pageSize != nil {
		size = *pageSize
	}
	if page < 1 {
		return 0, 0, errors.New("The page_no must be at least 1.")
	}
	if size < 1 || size > MaxPageSize {
		return 0, 0, fmt.Errorf("The page_size must be between 1 and %d.", MaxPageSize)
	}
	return page, size, nil
}

// matching returns the calls that q selects, newest first, then by id.
func (s *Server) matching(q *historyQuery) []Call {
	s.mu.Lock()
	all := make([]Call, len(s.calls))
	copy(all, s.calls)
	s.mu.Unlock()

	b := q.historyBody
	var out []Call
	for _, c := range all {
		if b.CallFrom != nil && (c.StartedAt.Unix() < *b.CallFrom || c.StartedAt.Unix() > *b.CallTo) {
			continue
		}
		if b.SyncedFrom != nil && (c.SyncedAt.Unix() < *b.SyncedFrom || c.SyncedAt.Unix() > *b.SyncedTo) {
			continue
		}
		if len(b.CallTypes) > 0 && !slices.Contains(b.CallTypes, c.CallType) {
			continue
		}
		if len(b.EmpNumbers) > 0 && !slices.Contains(b.EmpNumbers, c.EmpCountryCode+"-"+c.EmpNumber) {
			continue
		}
		if len(b.ClientNumbers) > 0 && !slices.Contains(b.ClientNumbers, c.ClientCountryCode+"-"+c.ClientNumber) {
			continue
		}
		if len(b.EmpTags) > 0 && !slices.ContainsFunc(c.EmpTags, func(t string) bool { return slices.Contains(b.EmpTags, t) }) {
			continue
		}
		if b.DurationLesThan != nil && c.Duration >= *b.DurationLesThan {
			continue
		}
		if b.DurationGrtThan != nil && c.Duration <= *b.DurationGrtThan {
			continue
		}
		if b.CallMethod != nil && *b.CallMethod != orDefault(c.CallMethod, PhoneCall) {
			continue
		}
		if b.CallMode != nil && *b.CallMode != orDefault(c.CallMode, Voice) {
			continue
		}
		out = append(out, c)
	}
	slices.SortStableFunc(out, func(a, b Call) int {
		if c := b.StartedAt.Compare(a.StartedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out
}

// history builds the envelope of one history page with fault f applied
// (f may be nil).
func (s *Server) history(q *historyQuery, f *Fault) map[string]any {
	calls := s.matching(q)
	if k := (q.repeatFrom - 1) * q.size; k > 0 && k <= len(calls) {
		calls = slices.Insert(calls, k, calls[k-1])
	}
	total := len(calls)
	off := (q.page - 1) * q.size
	var rows []map[string]any
	kind := FaultKind(0)
	if f != nil {
		kind = f.Kind
	}
	if kind == FaultEndlessPaging {
		total = endlessTotal
		for i := range q.size {
			c := s.template(q, calls, off+i)
			c.ID = fmt.Sprintf("endless-%d-%d", q.page, i+1)
			rows = append(rows, s.callRow(c))
		}
	} else {
		for i := off; i < min(off+q.size, len(calls)); i++ {
			rows = append(rows, s.callRow(calls[i]))
		}
	}
	if len(rows) == 0 && (kind == FaultHalfTyped || kind == FaultMissingID) {
		rows = append(rows, s.callRow(s.template(q, calls, 0)))
	}
	return envelope(rows, total, f, "id", "duration")
}

// template returns a call q selects, to build made-up rows from.
func (s *Server) template(q *historyQuery, calls []Call, k int) Call {
	if len(calls) > 0 {
		return calls[k%len(calls)].clone()
	}
	start := s.opts.Now()
	if q.CallFrom != nil {
		start = time.Unix(*q.CallFrom, 0)
	}
	c := NewCall("made-up", "+48601000000", start)
	if q.CallFrom == nil {
		c.SyncedAt = time.Unix(*q.SyncedFrom, 0)
	}
	if len(q.ClientNumbers) > 0 {
		c.ClientCountryCode, c.ClientNumber, _ = splitDash(q.ClientNumbers[0])
	}
	if len(q.EmpNumbers) > 0 {
		c.EmpCountryCode, c.EmpNumber, _ = splitDash(q.EmpNumbers[0])
	}
	if len(q.CallTypes) > 0 {
		c.CallType = q.CallTypes[0]
	}
	return c
}

func splitDash(n string) (cc, national string, ok bool) {
	for i := range len(n) {
		if n[i] == '-' {
			return n[:i], n[i+1:], true
		}
	}
	return "", n, false
}

// envelope wraps rows in Callyzer's answer and applies the content faults.
// idKey and typedKey name the row fields FaultMissingID and FaultHalfTyped
// break.
func envelope(rows []map[string]any, total int, f *Fault, idKey, typedKey string) map[string]any {
	if rows == nil {
		rows = []map[string]any{}
	}
	env := map[string]any{"message": "Success", "total_records": total, "result": rows}
	if f == nil {
		return env
	}
	switch f.Kind {
	case FaultHalfTyped:
		rows[0][typedKey] = map[string]any{"value": rows[0][typedKey]}
		rows[0][idKey] = 10001
	case FaultMissingID:
		delete(rows[0], idKey)
	case FaultWrongTotal:
		env["total_records"] = total + cmp.Or(f.Delta, 1)
	case FaultDataEnvelope:
		delete(env, "result")
		env["data"] = rows
	case FaultNullResult:
		env["result"] = nil
	case FaultMissingResult:
		delete(env, "result")
	}
	return env
}

// callRow writes c the way Callyzer does.
func (s *Server) callRow(c Call) map[string]any {
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
	row := map[string]any{
		"id":                  c.ID,
		"client_name":         c.ClientName,
		"client_country_code": c.ClientCountryCode,
		"client_number":       c.ClientNumber,
		"emp_name":            c.EmpName,
		"emp_code":            c.EmpCode,
		"emp_country_code":    c.EmpCountryCode,
		"emp_number":          c.EmpNumber,
		"emp_tags":            tags,
		"call_type":           c.CallType,
		"duration":            dur,
		"call_date":           start.Format(time.DateOnly),
		"call_time":           start.Format(time.TimeOnly),
		"note":                orNull(c.Note, nullEmpty),
		"call_recording_url":  orNull(c.RecordingURL, nullEmpty),
		"crm_status":          c.CRMStatus,
		"reminder_date":       c.ReminderDate,
		"reminder_time":       c.ReminderTime,
		"synced_at":           stamp(c.SyncedAt, loc, suffix),
		"modified_at":         stamp(c.ModifiedAt, loc, suffix),
		"lead_id":             c.LeadID,
	}
	if s.opts.Version == V22 {
		row["call_method"] = orDefault(c.CallMethod, PhoneCall)
		row["call_mode"] = orDefault(c.CallMode, Voice)
	}
	return row
}

func orNull(s string, null bool) any {
	if s == "" && null {
		return nil
	}
	return s
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// stamp writes "YYYY-MM-DD HH:MM:SS" in loc, optionally with the zone
// abbreviation; the zero time is "".
func stamp(t time.Time, loc *time.Location, suffix bool) string {
	if t.IsZero() {
		return ""
	}
	t = t.In(loc)
	s := t.Format(time.DateTime)
	if suffix {
		s += " " + t.Format("MST")
	}
	return s
}
