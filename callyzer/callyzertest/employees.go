package callyzertest

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// employeeBody is the /employee/get request body.
type employeeBody struct {
	EmpNumbers []string `json:"emp_numbers"`
	EmpTags    []string `json:"emp_tags"`
	PageNo     *int     `json:"page_no"`
	PageSize   *int     `json:"page_size"`
}

type employeeQuery struct {
	employeeBody
	page, size int
}

// parseEmployees reads the filters from the JSON body and the paging
// where Options.EmployeePaging says: the body or, when the body has none,
// the query string; or only one of them.
func (s *Server) parseEmployees(r *http.Request, raw []byte) (*employeeQuery, error) {
	var q employeeQuery
	if err := decodeBody(r, raw, s.opts.LenientBody, &q.employeeBody); err != nil {
		return nil, err
	}
	for _, n := range q.EmpNumbers {
		if !numberForm.MatchString(n) {
			return nil, fmt.Errorf("Invalid number %q: use country code, hyphen, number (48-601234567).", n)
		}
	}
	pageNo, pageSize := q.PageNo, q.PageSize
	if s.opts.EmployeePaging == PagingInQuery {
		pageNo, pageSize = nil, nil
	}
	for name, dst := range map[string]**int{"page_no": &pageNo, "page_size": &pageSize} {
		v := r.URL.Query().Get(name)
		if v == "" || *dst != nil || s.opts.EmployeePaging == PagingInBody {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, errors.New("The " + name + " must be an integer.")
		}
		*dst = &n
	}
	var err error
	q.page, q.size, err = s.paging(pageNo, pageSize)
	if err != nil {
		return nil, err
	}
	return &q, nil
}

func (s *Server) employeePage(q *employeeQuery, f *Fault) map[string]any {
	var match []Employee
	for _, e := range s.Employees() {
		if len(q.EmpNumbers) > 0 && !slices.Contains(q.EmpNumbers, e.CountryCode+"-"+e.Number) {
			continue
		}
		if len(q.EmpTags) > 0 && !slices.ContainsFunc(e.Tags, func(t string) bool { return slices.Contains(q.EmpTags, t) }) {
			continue
		}
		match = append(match, e)
	}
	total := len(match)
	var rows []row
	off := (q.page - 1) * q.size
	if f != nil && f.Kind == FaultEndlessPaging {
		total = endlessTotal
		for i := range q.size {
			e := DefaultEmployee
			if len(match) > 0 {
				e = match[(off+i)%len(match)]
			}
			e.Code = fmt.Sprintf("endless-%d-%d", q.page, i+1)
			rows = append(rows, s.employeeRow(e))
		}
	} else {
		for i := off; i < min(off+q.size, len(match)); i++ {
			rows = append(rows, s.employeeRow(match[i]))
		}
	}
	if len(rows) == 0 && f != nil && (f.Kind == FaultHalfTyped || f.Kind == FaultMissingID) {
		rows = append(rows, s.employeeRow(DefaultEmployee))
	}
	return envelope(rows, total, f)
}

// humanRosterLayout is how the roster writes its times for humans:
// "28 Jul 2026, 05:11 PM".
const humanRosterLayout = "02 Jan 2006, 03:04 PM"

// employeeRow is an employee written the way Callyzer does.
type employeeRow map[string]any

func (r employeeRow) halfType() {
	r["emp_tags"] = map[string]any{"value": r["emp_tags"]}
	r["emp_number"] = 10001
}

func (r employeeRow) dropID()          { delete(r, "emp_number") }
func (r employeeRow) setNote(n string) { r["note"] = n }

func (s *Server) employeeRow(e Employee) employeeRow {
	tags := e.Tags
	if tags == nil {
		tags = []string{}
	}
	suffix := s.opts.Format.ZoneSuffix
	at := func(t time.Time) string {
		if s.opts.Format.HumanRosterDates && !t.IsZero() {
			return t.In(s.opts.Location).Format(humanRosterLayout)
		}
		return stamp(t, s.opts.Location, suffix)
	}
	return employeeRow{
		"emp_name":                 e.Name,
		"emp_code":                 e.Code,
		"emp_country_code":         e.CountryCode,
		"emp_number":               e.Number,
		"emp_tags":                 tags,
		"registered_at":            at(e.RegisteredAt),
		"last_call_at":             at(e.LastCallAt),
		"last_sync_req_at":         at(e.LastSyncReqAt),
		"is_call_recording_active": e.CallRecordingActive,
		"app_version":              e.AppVersion,
		"device_details":           map[string]any{"device_model": e.DeviceModel, "android_version": e.AndroidVersion},
		"device_preference":        map[string]any{"is_app_uninstalled": e.AppUninstalled},
	}
}
