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
		b := employeesBody{EmpNumbers: numbers, EmpTags: nonNil(q.Tags)}
		r := &request{method: http.MethodGet, endpoint: employeesEndpoint, pageNo: pageNo, priority: q.Priority, seq: seq, logAttrs: attrs}
		if c.cfg.pagingInQuery {
			r.query = url.Values{"page_no": {strconv.Itoa(pageNo)}, "page_size": {strconv.Itoa(c.cfg.pageSize)}}
		} else {
			b.PageNo, b.PageSize = pageNo, c.cfg.pageSize
		}
		if r.body, err = json.Marshal(b); err != nil {
			return nil, fmt.Errorf("callyzer: encoding the request: %w", err)
		}
		raw, attempts, err := c.do(ctx, r)
		if err != nil {
			return nil, err
		}
		rows, pageTotal, err := decodeEnvelope[wireEmployee](raw)
		if err == nil && len(rows) > c.cfg.pageSize {
			err = fmt.Errorf("%d rows on a page of %d", len(rows), c.cfg.pageSize)
		}
		if err != nil {
			e := fail(ErrMalformedResponse, "%s", phone.MaskText(c.cfg.key.redact(err.Error()))).(*Error)
			e.Attempts = attempts
			return nil, e
		}
		n := len(rows)
		switch {
		case total >= 0 && pageTotal != total:
			return nil, fail(ErrIncompleteResponse, "total_records changed from %d to %d", total, pageTotal)
		case n == 0 && seen < pageTotal:
			return nil, fail(ErrIncompleteResponse, "empty page after %d of %d rows", seen, pageTotal)
		case seen+n > pageTotal:
			return nil, fail(ErrIncompleteResponse, "%d rows after %d seen, more than total_records %d", n, seen, pageTotal)
		}
		for i := range rows {
			e, err := rows[i].toEmployee(c.cfg.loc)
			if err != nil {
				return nil, fail(ErrMalformedResponse, "row %d: %s", i+1, err)
			}
			out = append(out, e)
		}
		total = pageTotal
		seen += n
		if seen == total {
			return out, nil
		}
	}
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
