package callyzer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/leadcalls/leadcalls/callyzer/pacing"
	"github.com/leadcalls/leadcalls/internal/phone"
)

const employeesEndpoint = "/employee/get"

// Employee is one phone of the account's roster (/employee/get). A field
// Callyzer leaves out (or sends as null or "") reads as its zero value: an
// empty string, the zero time, false. So an absent is_app_uninstalled reads
// as installed, and an absent is_call_recording_active as recording off.
type Employee struct {
	Name                string
	Code                string
	Number              string // E.164
	Tags                []string
	RegisteredAt        time.Time // zero if absent
	LastCallAt          time.Time // zero if absent
	LastSyncRequestAt   time.Time // when the phone last checked in; zero if absent
	CallRecordingActive bool
	AppUninstalled      bool   // device_preference.is_app_uninstalled
	AppVersion          string // app_version
	DeviceModel         string // device_details.device_model
	AndroidVersion      string // device_details.android_version
}

// EmployeesQuery selects employees of /employee/get. Empty filters mean all.
type EmployeesQuery struct {
	EmployeeNumbers []string // E.164; sent in Callyzer's "48-601234567" form
	Tags            []string
	Priority        pacing.Priority // pacing.Background unless set
}

type wireEmployee struct {
	EmpName               text     `json:"emp_name"`
	EmpCode               text     `json:"emp_code"`
	EmpCountryCode        text     `json:"emp_country_code"`
	EmpNumber             text     `json:"emp_number"`
	EmpTags               []string `json:"emp_tags"`
	RegisteredAt          text     `json:"registered_at"`
	LastCallAt            text     `json:"last_call_at"`
	LastSyncReqAt         text     `json:"last_sync_req_at"`
	IsCallRecordingActive flag     `json:"is_call_recording_active"`
	AppVersion            text     `json:"app_version"`
	DeviceDetails         struct {
		DeviceModel    text `json:"device_model"`
		AndroidVersion text `json:"android_version"`
	} `json:"device_details"`
	DevicePreference struct {
		IsAppUninstalled flag `json:"is_app_uninstalled"`
	} `json:"device_preference"`
}

// employeesBody is the JSON body of /employee/get; the paging fields are
// left out when paging goes in the query string.
type employeesBody struct {
	EmpNumbers []string `json:"emp_numbers"`
	EmpTags    []string `json:"emp_tags"`
	PageNo     int      `json:"page_no,omitempty"`
	PageSize   int      `json:"page_size,omitempty"`
}

// Employees returns the account's roster, paged to its end, with the same
// checks as HistoryPages: the rows must add up to total_records, a
// changing total, an empty page before the total or more pages than
// WithLimits' maxPages is ErrIncompleteResponse. The request is a GET with
// a JSON body; paging goes in the body or the query string
// (WithEmployeePagingInQuery). Its pages form one pacer sequence, as
// HistoryPages' do.
func (c *Client) Employees(ctx context.Context, q EmployeesQuery) ([]Employee, error) {
	numbers, err := inForm(q.EmployeeNumbers, formDashed)
	if err != nil {
		return nil, err
	}
	var attrs []slog.Attr
	if len(q.EmployeeNumbers) > 0 {
		attrs = append(attrs, slog.Any("emp_numbers", maskPhones(q.EmployeeNumbers)))
	}
	seq := c.pacer.Begin(q.Priority)
	defer seq.End()
	out := []Employee{}
	seen, total := 0, -1
	for pageNo := 1; ; pageNo++ {
		fail := func(kind error, format string, args ...any) error {
			return &Error{Endpoint: employeesEndpoint, PageNo: pageNo, StatusCode: http.StatusOK, kind: kind,
				Message: fmt.Sprintf(format, args...)}
		}
		if pageNo > c.cfg.maxPages {
			return nil, fail(ErrIncompleteResponse, "more than %d pages, %d of %d rows seen", c.cfg.maxPages, seen, total)
		}
		pg, err := c.employeesPage(ctx, employeesRequest{numbers: numbers, tags: q.Tags, priority: q.Priority, seq: seq, attrs: attrs,
			pageNo: pageNo, size: c.cfg.pageSize, inQuery: c.cfg.pagingInQuery})
		if err != nil {
			return nil, err
		}
		n := len(pg.rows)
		if n > c.cfg.pageSize {
			e := fail(ErrMalformedResponse, "%d rows on a page of %d", n, c.cfg.pageSize).(*Error)
			e.Attempts = pg.attempts
			return nil, e
		}
		switch {
		case total >= 0 && pg.total != total:
			return nil, fail(ErrIncompleteResponse, "total_records changed from %d to %d", total, pg.total)
		case n == 0 && seen < pg.total:
			return nil, fail(ErrIncompleteResponse, "empty page after %d of %d rows", seen, pg.total)
		case seen+n > pg.total:
			return nil, fail(ErrIncompleteResponse, "%d rows after %d seen, more than total_records %d%s", n, seen, pg.total, c.pagingHint())
		}
		for i := range pg.rows {
			e, err := pg.rows[i].toEmployee(c.cfg.loc)
			if err != nil {
				return nil, fail(ErrMalformedResponse, "row %d: %s", i+1, err)
			}
			out = append(out, e)
		}
		total = pg.total
		seen += n
		if seen == total {
			return out, nil
		}
	}
}

// pagingHint names the likely cause of a roster whose pages add up to more
// than total_records: a server that ignores the paging where it is sent,
// and so serves its first page again.
func (c *Client) pagingHint() string {
	where, other := "body", "WithEmployeePagingInQuery"
	if c.cfg.pagingInQuery {
		where, other = "query string", "the body (without WithEmployeePagingInQuery)"
	}
	return fmt.Sprintf(" (Callyzer may ignore paging in the %s and serve its first page again: try %s; Calibrate tells)", where, other)
}

// employeesRequest is one page of /employee/get to fetch.
type employeesRequest struct {
	numbers, tags []string // numbers in the dashed form
	priority      pacing.Priority
	seq           pacing.Sequence
	attrs         []slog.Attr // already masked
	pageNo, size  int
	inQuery       bool // paging in the query string, not the body
}

// employeesAnswer is one decoded page of /employee/get.
type employeesAnswer struct {
	rows     []wireEmployee
	total    int
	attempts int
}

// employeesPage fetches one page of the roster and checks its envelope.
func (c *Client) employeesPage(ctx context.Context, er employeesRequest) (*employeesAnswer, error) {
	b := employeesBody{EmpNumbers: nonNil(er.numbers), EmpTags: nonNil(er.tags)}
	r := &request{method: http.MethodGet, endpoint: employeesEndpoint, pageNo: er.pageNo, priority: er.priority, seq: er.seq, logAttrs: er.attrs}
	if er.inQuery {
		r.query = url.Values{"page_no": {strconv.Itoa(er.pageNo)}, "page_size": {strconv.Itoa(er.size)}}
	} else {
		b.PageNo, b.PageSize = er.pageNo, er.size
	}
	var err error
	if r.body, err = json.Marshal(b); err != nil {
		return nil, fmt.Errorf("callyzer: encoding the request: %w", err)
	}
	raw, attempts, err := c.do(ctx, r)
	if err != nil {
		return nil, err
	}
	rows, total, err := decodeEnvelope[wireEmployee](raw)
	if err != nil {
		return nil, &Error{Endpoint: employeesEndpoint, PageNo: er.pageNo, StatusCode: http.StatusOK, kind: ErrMalformedResponse,
			Attempts: attempts, Message: phone.MaskText(c.cfg.key.redact(err.Error()))}
	}
	return &employeesAnswer{rows: rows, total: total, attempts: attempts}, nil
}

func (w *wireEmployee) toEmployee(loc *time.Location) (Employee, error) {
	e := Employee{
		Name:                string(w.EmpName),
		Code:                string(w.EmpCode),
		Number:              phone.FromCallyzer(string(w.EmpCountryCode), string(w.EmpNumber)),
		Tags:                w.EmpTags,
		CallRecordingActive: bool(w.IsCallRecordingActive),
		AppUninstalled:      bool(w.DevicePreference.IsAppUninstalled),
		AppVersion:          strings.TrimSpace(string(w.AppVersion)),
		DeviceModel:         strings.TrimSpace(string(w.DeviceDetails.DeviceModel)),
		AndroidVersion:      strings.TrimSpace(string(w.DeviceDetails.AndroidVersion)),
	}
	for _, f := range []struct {
		name string
		raw  text
		dst  *time.Time
	}{
		{"registered_at", w.RegisteredAt, &e.RegisteredAt},
		{"last_call_at", w.LastCallAt, &e.LastCallAt},
		{"last_sync_req_at", w.LastSyncReqAt, &e.LastSyncRequestAt},
	} {
		t, err := parseRosterStamp(string(f.raw), loc)
		if err != nil {
			return Employee{}, fmt.Errorf("%s: %w", f.name, err)
		}
		*f.dst = t
	}
	return e, nil
}

// rosterLayouts are the human forms of the roster's times, "28 Jul 2026,
// 05:11 PM", matched on upper-cased text (Go matches month names in any
// case, AM/PM only in upper case); one-digit days and hours are accepted.
var rosterLayouts = []string{"2 Jan 2006, 3:04 PM", "2 Jan 2006 3:04 PM", "2 Jan 2006, 3:04:05 PM"}

// parseRosterStamp reads registered_at, last_call_at or last_sync_req_at:
// the human form of rosterLayouts, or the machine form parseStamp reads,
// as a wall clock in the account zone loc. Empty is the zero time.
func parseRosterStamp(s string, loc *time.Location) (time.Time, error) {
	s = strings.Join(strings.Fields(s), " ")
	if s == "" || s[0] >= '0' && s[0] <= '9' && len(s) >= 10 && s[4] == '-' {
		return parseStamp(s, loc)
	}
	up := strings.ToUpper(s)
	for _, layout := range rosterLayouts {
		if t, err := time.ParseInLocation(layout, up, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errors.New(`not "28 Jul 2026, 05:11 PM" nor YYYY-MM-DD HH:MM:SS`)
}
