package callyzertest

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
)

// The reference: the fake's first history listing, which filtered a copy of
// every call and stable-sorted the matches on every request, and wrote each
// row as a map. The indexed listing must answer byte for byte the same.

func refMatching(all []Call, b historyBody, forms NumberForms) []Call {
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
		if len(b.ClientNumbers) > 0 && !slices.ContainsFunc(b.ClientNumbers, func(n string) bool { return refClientMatch(forms, n, c) }) {
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

// refClientMatch reports whether the client_numbers entry n matches c
// under forms (Options.ClientNumberForms).
func refClientMatch(forms NumberForms, n string, c Call) bool {
	cc, national := c.ClientCountryCode, c.ClientNumber
	switch {
	case forms&FormDashed != 0 && n == cc+"-"+national:
	case forms&FormNational != 0 && n == national:
	case forms&FormE164 != 0 && cc != "" && n == "+"+cc+national:
	case forms&FormDigits != 0 && cc != "" && n == cc+national:
	default:
		return false
	}
	return true
}

func refHistory(s *Server, q *historyQuery, f *Fault) map[string]any {
	b := q.historyBody
	if s.opts.FirstClientNumberOnly && len(b.ClientNumbers) > 1 {
		b.ClientNumbers = b.ClientNumbers[:1]
	}
	calls := refMatching(s.Calls(), b, s.opts.ClientNumberForms)
	step := q.size
	if q.stride > 0 {
		step = q.stride
	}
	if k := (q.repeatFrom - 1) * step; k > 0 && k <= len(calls) {
		calls = slices.Insert(calls, k, calls[k-1])
	}
	total := len(calls)
	off := (q.page - 1) * step
	var rows []map[string]any
	kind := FaultKind(0)
	if f != nil {
		kind = f.Kind
	}
	template := func(k int) Call {
		if len(calls) > 0 {
			return calls[k%len(calls)].clone()
		}
		return s.template(q, nil)
	}
	if kind == FaultEndlessPaging {
		total = endlessTotal
		for i := range q.size {
			c := template(off + i)
			c.ID = fmt.Sprintf("endless-%d-%d", q.page, i+1)
			rows = append(rows, refCallRow(s, c))
		}
	} else {
		for i := off; i < min(off+q.size, len(calls)); i++ {
			rows = append(rows, refCallRow(s, calls[i]))
		}
		if kind == FaultRepeatSkipRow && off > 0 && len(rows) > 0 {
			rows[0] = refCallRow(s, calls[off-1])
		}
	}
	if len(rows) == 0 && (kind == FaultHalfTyped || kind == FaultMissingID) {
		rows = append(rows, refCallRow(s, template(0)))
	}
	return refEnvelope(rows, total, f)
}

func refEnvelope(rows []map[string]any, total int, f *Fault) map[string]any {
	if rows == nil {
		rows = []map[string]any{}
	}
	env := map[string]any{"message": "Success", "total_records": total, "result": rows}
	if f == nil {
		return env
	}
	switch f.Kind {
	case FaultHalfTyped:
		rows[0]["duration"] = map[string]any{"value": rows[0]["duration"]}
		rows[0]["id"] = 10001
	case FaultMissingID:
		delete(rows[0], "id")
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

func refCallRow(s *Server, c Call) map[string]any {
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

// randomCalls returns n calls crowded into few seconds, numbers, ids and
// values, so that ties of time and id, sub-second times and every filter
// value occur.
func randomCalls(r *rand.Rand, n int) []Call {
	base := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	clients := []string{"+48601234567", "+48502000111", "+48731000222", "+4915112345678"}
	emps := []Employee{DefaultEmployee, {Name: "Piotr Zieliński", Code: "D02", CountryCode: "48", Number: "731000333", Tags: []string{"Konsolidacja", "BIK"}}, {Name: "Bez tagów", Code: "D03", CountryCode: "49", Number: "15112340000"}}
	types := []string{Incoming, Outgoing, Missed, Rejected, "Unknown"}
	out := make([]Call, n)
	for i := range out {
		at := base.Add(time.Duration(r.IntN(12))*time.Second + time.Duration(r.IntN(3))*300*time.Millisecond)
		c := NewCall("c-"+strconv.Itoa(r.IntN(n)), clients[r.IntN(len(clients))], at)
		c.SetEmployee(emps[r.IntN(len(emps))])
		if r.IntN(4) == 0 {
			c.EmpTags = nil
		}
		c.CallType = types[r.IntN(len(types))]
		c.Duration = r.IntN(5) * 30
		c.SyncedAt = at.Add(time.Duration(r.IntN(8)) * time.Second)
		c.ModifiedAt = c.SyncedAt
		if r.IntN(5) == 0 {
			c.ModifiedAt = time.Time{}
		}
		c.CallMethod = []string{"", PhoneCall, WhatsAppCall}[r.IntN(3)]
		c.CallMode = []string{"", Voice, Video}[r.IntN(3)]
		if r.IntN(3) == 0 {
			c.Note, c.RecordingURL = "Oddzwonić", "https://recordings.example/"+c.ID+".mp3"
		}
		c.DurationAsString, c.ZoneSuffix, c.NullEmpty = r.IntN(4) == 0, r.IntN(4) == 0, r.IntN(4) == 0
		if r.IntN(6) == 0 {
			c.ClientCountryCode = "" // held without a country code
		}
		out[i] = c
	}
	return out
}

// randomQuery returns a history query with a random choice of windows,
// filters (client numbers in every form), paging and a FaultRepeatRow
// shift.
func randomQuery(r *rand.Rand) *historyQuery {
	base := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC).Unix()
	ptr := func(v int64) *int64 { return &v }
	pick := func(list []string) []string {
		var out []string
		for _, v := range list {
			if r.IntN(3) == 0 {
				out = append(out, v)
			}
		}
		return out
	}
	var b historyBody
	if r.IntN(4) > 0 {
		from := base - 1 + int64(r.IntN(14))
		b.CallFrom, b.CallTo = ptr(from), ptr(from+int64(r.IntN(14)))
	}
	if b.CallFrom == nil || r.IntN(4) == 0 {
		from := base - 1 + int64(r.IntN(20))
		b.SyncedFrom, b.SyncedTo = ptr(from), ptr(from+int64(r.IntN(20)))
	}
	b.CallTypes = pick([]string{Incoming, Outgoing, Missed, Rejected})
	b.ClientNumbers = pick([]string{"48-601234567", "48-502000111", "49-15112345678", "48-600000000", "601234567", "+48502000111", "15112345678", "48601234567", "4915112345678"})
	b.EmpNumbers = pick([]string{"48-511222333", "48-731000333", "49-15112340000"})
	b.EmpTags = pick([]string{"BIK", "Konsolidacja", "Inne"})
	if r.IntN(5) == 0 {
		v := 30 * r.IntN(5)
		b.DurationLesThan = &v
	}
	if r.IntN(5) == 0 {
		v := 30 * r.IntN(5)
		b.DurationGrtThan = &v
	}
	if r.IntN(5) == 0 {
		v := []string{PhoneCall, WhatsAppCall}[r.IntN(2)]
		b.CallMethod = &v
	}
	if r.IntN(5) == 0 {
		v := []string{Voice, Video}[r.IntN(2)]
		b.CallMode = &v
	}
	q := &historyQuery{historyBody: b, page: 1 + r.IntN(6), size: 1 + r.IntN(8), repeatFrom: r.IntN(5)}
	if r.IntN(4) == 0 {
		q.stride = q.size + r.IntN(4) // Options.PagesBySizeAsked: pages cut short
	}
	return q
}

// TestHistoryMatchesReference checks the indexed listing against the
// reference on random data sets built with AddCalls and SetCalls, random
// queries (pages cut short included) and the faults that shape a page, in
// both API versions, with the server-wide quirks, under sets of client
// number forms, honouring all client numbers or the first.
func TestHistoryMatchesReference(t *testing.T) {
	t.Parallel()
	kinds := []FaultKind{0, FaultEndlessPaging, FaultHalfTyped, FaultMissingID, FaultRepeatRow, FaultRepeatSkipRow, FaultWrongTotal, FaultDataEnvelope, FaultNullResult, FaultMissingResult}
	forms := []NumberForms{0, FormNational, FormE164, FormDigits, FormDashed | FormNational, FormDashed | FormNational | FormE164, FormNational | FormDigits}
	for seed := range uint64(24) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			t.Parallel()
			r := rand.New(rand.NewPCG(seed, 7))
			opts := Options{Now: func() time.Time { return time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC) }}
			if seed%3 == 1 {
				opts.Version = V22
			}
			if seed%4 == 2 {
				opts.Format = Format{DurationAsString: true, ZoneSuffix: true, NullEmpty: true}
			}
			opts.ClientNumberForms = forms[seed%uint64(len(forms))]
			opts.FirstClientNumberOnly = seed%5 == 3
			srv := NewServer(t, opts)
			var added []Call
			for batch := range 4 {
				calls := randomCalls(r, r.IntN(30))
				if batch == 2 && seed%2 == 0 {
					srv.SetCalls(calls...)
					added = slices.Clone(calls)
				} else {
					srv.AddCalls(calls...)
					added = append(added, calls...)
				}
				if diff := gocmp.Diff(added, srv.Calls()); diff != "" {
					t.Fatalf("Calls, in the order added (-want +got):\n%s", diff)
				}
				for range 40 {
					q := randomQuery(r)
					var f *Fault
					if k := kinds[r.IntN(len(kinds))]; k != 0 {
						f = &Fault{Kind: k, Delta: r.IntN(3)}
					}
					want, err := json.Marshal(refHistory(srv, q, f))
					require.NoError(t, err)
					got, err := json.Marshal(srv.history(q, f))
					require.NoError(t, err)
					body, _ := json.Marshal(q.historyBody)
					require.Equalf(t, string(want), string(got), "query %s page %d size %d repeat %d fault %v",
						body, q.page, q.size, q.repeatFrom, f)
				}
			}
		})
	}
}

// refWriteOversized is the first writeOversized, on rows that are maps.
func refWriteOversized(w http.ResponseWriter, env map[string]any, size int) {
	rows, _ := env["result"].([]map[string]any)
	const marker = "\x00oversized\x00"
	if len(rows) == 0 {
		rows = []map[string]any{{"id": "oversized"}}
		env["result"] = rows
	}
	rows[0]["note"] = marker
	b, _ := json.Marshal(env)
	head, tail, _ := bytes.Cut(b, []byte(`"\u0000oversized\u0000"`))
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(head)
	w.Write([]byte{'"'})
	w.Write(bytes.Repeat([]byte{'x'}, size))
	w.Write([]byte{'"'})
	w.Write(tail)
}

// TestWritersMatchReference checks that writeJSON writes json.Marshal's
// bytes and that writeOversized writes what it did on rows that were maps:
// for call rows, an empty page and employee rows.
func TestWritersMatchReference(t *testing.T) {
	t.Parallel()
	srv := NewServer(t, Options{Calls: randomCalls(rand.New(rand.NewPCG(1, 2)), 20), Employees: []Employee{DefaultEmployee}})
	from := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC).Unix()
	to := from + 60
	calls := &historyQuery{historyBody: historyBody{CallFrom: &from, CallTo: &to}, page: 1, size: 5}
	empty := &historyQuery{historyBody: historyBody{CallFrom: &from, CallTo: &to}, page: 9, size: 5}
	employees := &employeeQuery{page: 1, size: 10}
	for _, tt := range []struct {
		name      string
		got, want func() map[string]any
	}{
		{"calls", func() map[string]any { return srv.history(calls, nil) }, func() map[string]any { return refHistory(srv, calls, nil) }},
		{"empty page", func() map[string]any { return srv.history(empty, nil) }, func() map[string]any { return refHistory(srv, empty, nil) }},
		{"employees", func() map[string]any { return srv.employeePage(employees, nil) }, func() map[string]any {
			env := srv.employeePage(employees, nil)
			var rows []map[string]any
			for _, r := range env["result"].([]row) {
				rows = append(rows, r.(employeeRow))
			}
			env["result"] = rows
			return env
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			want, err := json.Marshal(tt.want())
			require.NoError(t, err)
			require.Equal(t, tt.name != "empty page", bytes.Contains(want, []byte(`"emp_number"`)), "rows: %s", want)
			w := httptest.NewRecorder()
			writeJSON(w, http.StatusOK, tt.got())
			require.Equal(t, string(want), w.Body.String())
			require.Equal(t, "application/json", w.Header().Get("Content-Type"))

			wantBig, gotBig := httptest.NewRecorder(), httptest.NewRecorder()
			refWriteOversized(wantBig, tt.want(), 70_000)
			writeOversized(gotBig, tt.got(), 70_000)
			require.Equal(t, wantBig.Body.String(), gotBig.Body.String())
			require.Greater(t, gotBig.Body.Len(), 70_000)
		})
	}
}
