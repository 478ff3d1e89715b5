package callyzertest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The paths the fake serves, relative to Server.URL.
const (
	PathHistory   = "/call-log/history"
	PathEmployees = "/employee/get"
	PathSummary   = "/call-log/summary"
)

// The API versions Options.Version accepts.
const (
	V21 = "v2.1"
	V22 = "v2.2"
)

// Defaults of Options.
const (
	DefaultAPIKey    = "callyzertest-api-key"
	DefaultInterval  = 2 * time.Second // the real API's pace; Options.Interval is off unless set
	DefaultMaxWindow = 180 * 24 * time.Hour
	DefaultPageSize  = 10  // page_size when a request sends none [guess]
	MaxPageSize      = 100 // larger page_size values get 400
)

// Options configures a Server. The zero value is a usable server with no
// data, no pacing and no latency.
type Options struct {
	// APIKey is the bearer token the server accepts. Default: DefaultAPIKey.
	APIKey string
	// Interval is the pacing rule: a request that starts less than Interval
	// after the previous accepted request started, or while another
	// accepted request is in flight, gets 429 with Retry-After. 0 turns
	// pacing off; DefaultInterval is the real API's 2 s.
	Interval time.Duration
	// Latency delays every answer by this much (in real time; it ends early
	// when the client gives up).
	Latency time.Duration
	// LatencyFunc, when set, gives the delay of each request instead of
	// Latency.
	LatencyFunc func(Request) time.Duration
	// MaxWindow is the widest call_to − call_from (and synced_to −
	// synced_from) a request may ask for; wider gets 400. Default:
	// DefaultMaxWindow (180 days).
	MaxWindow time.Duration
	// Location is the Callyzer account's time zone: call_date, call_time,
	// synced_at and modified_at are written as wall-clock time in it.
	// Default: Europe/Warsaw.
	Location *time.Location
	// Now is the server's clock, used for pacing decisions, request times
	// and MinGap. Default: time.Now.
	Now func() time.Time
	// Version is V21 (default) or V22. In V22, call_method and call_mode
	// are mandatory in /call-log/history requests (400 when missing) and
	// are written on every row; in V21 they are filters when sent and are
	// not written.
	Version string
	// Format chooses the serialisation of [code]/[guess] details.
	Format Format
	// DefaultPageSize is the page size of a request that sends none.
	// Default: DefaultPageSize.
	DefaultPageSize int
	// LenientBody accepts request bodies with unknown fields. By default an
	// unknown field (say, a misspelt "duration_less_than") gets 400, so a
	// client bug shows up in tests.
	LenientBody bool
	// ClientNumberForms are the forms of a client_numbers entry that match
	// stored calls, as an account whose filter expects one form: an entry
	// in another form matches nothing, so the answer is empty, not an
	// error. With FormDashed alone (the default) an entry in another form
	// gets 400, as from an account that checks the documented form; with
	// any other set every form is accepted (a dashed entry too: it then
	// matches nothing unless FormDashed is in the set).
	ClientNumberForms NumberForms
	// IgnoreClientNumbers plays an account whose filter ignores
	// client_numbers: every call of the window matches, of any number.
	IgnoreClientNumbers bool
	// FirstClientNumberOnly plays an account that honours only the first
	// of several client_numbers: the calls of the others do not match.
	FirstClientNumberOnly bool
	// PageSizeCap, when above 0, is the most rows a history page holds: a
	// larger page_size is served in pages of PageSizeCap rows (page n
	// holds rows (n-1)·PageSizeCap+1 on), under an honest total_records.
	PageSizeCap int
	// PagesBySizeAsked, with PageSizeCap, plays a broken account instead:
	// page n starts at row (n-1)·page_size+1, as asked, and is cut to
	// PageSizeCap rows; the rest of each page is never served.
	PagesBySizeAsked bool
	// EmployeePaging is where /employee/get reads page_no and page_size.
	// Default: PagingAnywhere.
	EmployeePaging Paging
	// Calls and Employees seed the server.
	Calls     []Call
	Employees []Employee
}

// Format chooses how rows are written, for every call; each Call can also
// turn the same quirks on for itself.
type Format struct {
	DurationAsString bool // duration as a numeric string: "87"
	ZoneSuffix       bool // synced_at and modified_at end in the zone abbreviation: "2026-11-21 09:40:00 CET"
	NullEmpty        bool // an empty note and call_recording_url are null, not ""
	// HumanRosterDates writes the roster's registered_at, last_call_at and
	// last_sync_req_at as Callyzer's web app does, "28 Jul 2026, 05:11 PM",
	// instead of "2026-07-28 17:11:00".
	HumanRosterDates bool
}

// Paging is where /employee/get reads its paging (Options.EmployeePaging).
type Paging uint8

const (
	// PagingAnywhere reads page_no and page_size from the JSON body or,
	// when the body has none, from the query string.
	PagingAnywhere Paging = iota
	// PagingInBody reads them from the body only: in the query string they
	// are ignored (page 1 of DefaultPageSize rows).
	PagingInBody
	// PagingInQuery reads them from the query string only: in the body
	// they are ignored.
	PagingInQuery
)

// NumberForms is a set of the forms of a number in client_numbers.
type NumberForms uint8

// The forms of a client_numbers entry.
const (
	// FormDashed is "48-601234567", the form package callyzer sends. It
	// never matches a call stored without a country code.
	FormDashed NumberForms = 1 << iota
	// FormNational is the national digits alone, "601234567"; it matches
	// calls with any country code or none.
	FormNational
	// FormE164 is "+48601234567". It never matches a call stored without a
	// country code.
	FormE164
	// FormDigits is the country code and the national digits, "48601234567".
	// It never matches a call stored without a country code.
	FormDigits
)

// Request is what the server recorded of one request.
type Request struct {
	N          int            // 1-based number over the server's life
	Method     string         //
	Path       string         //
	Query      url.Values     //
	Header     http.Header    // Authorization's value is replaced by "[redacted]"
	Authorized bool           // Authorization was exactly "Bearer <APIKey>"
	RawBody    string         //
	Body       map[string]any // RawBody decoded, nil when empty or not a JSON object; numbers are float64
	PageNo     int            // page_no from the body or the query; 0 when absent
	Time       time.Time      // Options.Now when the request arrived
	Status     int            // the status sent; 0 when none was (hang, reset)
	Fault      FaultKind      // the fault that fired on the request (even when a refusal left it no effect); 0 for none
}

// Server is a fake Callyzer API on a loopback httptest server. It is safe
// for concurrent use.
type Server struct {
	// URL is the base URL for the client (callyzer.WithBaseURL): the
	// endpoints are URL+PathHistory and URL+PathEmployees.
	URL string

	ts        *httptest.Server
	opts      Options
	closing   chan struct{}
	closeOnce sync.Once

	mu          sync.Mutex
	calls       []*Call           // in the order added; a stored call never changes
	listing     []entry           // the same calls in the served order (see servedOrder)
	byClient    map[int32][]entry // the listing of each client number's calls, by number key
	numbers     map[string]int32  // "cc-number" of the stored calls' numbers -> entry key
	employees   []Employee
	faults      []*pendingFault
	requests    []*Request
	n           int // requests received
	inFlight    int // handlers running
	maxInFlight int
	busy        int       // accepted requests in flight (pacing)
	lastStart   time.Time // start of the last accepted request (pacing)
	lastArrival time.Time
	minGap      time.Duration
	shiftFrom   int             // FaultRepeatRow: pages >= shiftFrom are shifted by one; 0: none
	hidden      func(Call) bool // HideFromHistory; nil: none
}

// New starts a fake server. Close it when done.
func New(opts Options) *Server {
	if opts.APIKey == "" {
		opts.APIKey = DefaultAPIKey
	}
	if opts.MaxWindow <= 0 {
		opts.MaxWindow = DefaultMaxWindow
	}
	if opts.Location == nil {
		loc, err := time.LoadLocation("Europe/Warsaw")
		if err != nil {
			panic("callyzertest: loading Europe/Warsaw: " + err.Error() + " (set Options.Location, or import time/tzdata in the main package)")
		}
		opts.Location = loc
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Version == "" {
		opts.Version = V21
	}
	if opts.DefaultPageSize <= 0 {
		opts.DefaultPageSize = DefaultPageSize
	}
	if opts.ClientNumberForms == 0 {
		opts.ClientNumberForms = FormDashed
	}
	s := &Server{opts: opts, closing: make(chan struct{}), minGap: -1}
	s.SetCalls(opts.Calls...)
	s.SetEmployees(opts.Employees...)
	s.ts = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.ts.URL
	return s
}

// NewServer starts a fake server that closes when t's test ends.
func NewServer(t testing.TB, opts Options) *Server {
	t.Helper()
	s := New(opts)
	t.Cleanup(s.Close)
	return s
}

// Close ends every hanging or stalled handler and shuts the server down.
// It is safe to call more than once.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.closing)
		s.ts.Close()
	})
}

// APIKey returns the bearer token the server accepts.
func (s *Server) APIKey() string { return s.opts.APIKey }

// Location returns the account time zone the server writes times in.
func (s *Server) Location() *time.Location { return s.opts.Location }

// Client returns an *http.Client for the server (its idle connections
// close with the server).
func (s *Server) Client() *http.Client { return s.ts.Client() }

// AddCalls adds calls to the data set.
func (s *Server) AddCalls(calls ...Call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addCalls(calls)
}

// SetCalls replaces the data set's calls.
func (s *Server) SetCalls(calls ...Call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls, s.listing, s.byClient, s.numbers = nil, nil, nil, nil
	s.addCalls(calls)
}

// Calls returns a copy of the data set's calls, in the order they were added.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Call, len(s.calls))
	for i, c := range s.calls {
		out[i] = c.clone()
	}
	return out
}

// AddEmployees adds employees to the roster.
func (s *Server) AddEmployees(emps ...Employee) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range emps {
		s.employees = append(s.employees, e.clone())
	}
}

// SetEmployees replaces the roster.
func (s *Server) SetEmployees(emps ...Employee) {
	s.mu.Lock()
	s.employees = nil
	s.mu.Unlock()
	s.AddEmployees(emps...)
}

// Employees returns a copy of the roster.
func (s *Server) Employees() []Employee {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Employee, len(s.employees))
	for i, e := range s.employees {
		out[i] = e.clone()
	}
	return out
}

// Inject adds faults. When several match a request, the one injected first
// fires.
func (s *Server) Inject(faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range faults {
		left := max(f.Times, 1)
		s.faults = append(s.faults, &pendingFault{Fault: f, left: left})
	}
}

// ClearFaults removes every pending fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// Requests returns what the server recorded of every request so far, in
// arrival order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.requests))
	for i, r := range s.requests {
		out[i] = *r
	}
	return out
}

// RequestCount returns how many requests the server received.
func (s *Server) RequestCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

// ResetRequests forgets the recorded requests, MaxInFlight and MinGap.
// Request numbers (Fault.Request, Request.N) keep counting.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = nil
	s.maxInFlight = s.inFlight
	s.lastArrival = time.Time{}
	s.minGap = -1
}

// MaxInFlight returns the most requests the server was handling at once.
func (s *Server) MaxInFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxInFlight
}

// InFlight returns how many requests the server is handling now.
func (s *Server) InFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inFlight
}

// MinGap returns the smallest time between the arrivals of two consecutive
// requests, on the Options.Now clock, or -1 when fewer than two arrived.
func (s *Server) MinGap() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.minGap
}

// statusWriter records the status code a handler sent.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(p)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// serve is the one handler: record, authorise, pace, route, inject.
func (s *Server) serve(rw http.ResponseWriter, r *http.Request) {
	w := &statusWriter{ResponseWriter: rw}
	raw, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	rec := s.begin(r, raw)
	defer s.end(rec, w)

	if !rec.Authorized {
		s.refuse(w, r, rec, func() {
			writeJSON(w, http.StatusUnauthorized, map[string]any{"message": "Unauthenticated."})
		})
		return
	}
	if ok, wait := s.admit(); !ok {
		s.refuse(w, r, rec, func() {
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
			writeJSON(w, http.StatusTooManyRequests, map[string]any{"message": "Too Many Attempts."})
		})
		return
	}
	defer s.release()

	var (
		build func(f *Fault) map[string]any // the answer's envelope, with fault f (or nil) applied
		hq    *historyQuery
		err   error // a bad request: 400 unless a transport fault answers first
	)
	switch r.URL.Path {
	case PathHistory:
		if r.Method != http.MethodPost {
			s.refuse(w, r, rec, func() {
				writeJSON(w, http.StatusMethodNotAllowed, map[string]any{"message": "The " + r.Method + " method is not supported for this route. Supported methods: POST."})
			})
			return
		}
		hq, err = s.parseHistory(r, raw)
		build = func(f *Fault) map[string]any { return s.history(hq, f) }
	case PathSummary:
		if r.Method != http.MethodPost {
			s.refuse(w, r, rec, func() {
				writeJSON(w, http.StatusMethodNotAllowed, map[string]any{"message": "The " + r.Method + " method is not supported for this route. Supported methods: POST."})
			})
			return
		}
		var sq *historyQuery
		sq, err = s.parseQuery(r, raw, true)
		build = func(f *Fault) map[string]any { return s.summary(sq, f) }
	case PathEmployees:
		if r.Method != http.MethodGet && r.Method != http.MethodPost {
			s.refuse(w, r, rec, func() {
				writeJSON(w, http.StatusMethodNotAllowed, map[string]any{"message": "The " + r.Method + " method is not supported for this route. Supported methods: GET, POST."})
			})
			return
		}
		var eq *employeeQuery
		eq, err = s.parseEmployees(r, raw)
		build = func(f *Fault) map[string]any { return s.employeePage(eq, f) }
	default:
		s.refuse(w, r, rec, func() {
			writeJSON(w, http.StatusNotFound, map[string]any{"message": "Not found."})
		})
		return
	}

	f := s.takeFault(rec, r.URL.Path, false)
	ctx := r.Context()
	if !s.sleep(ctx, s.latency(rec)) {
		panic(http.ErrAbortHandler) // close the connection without an answer
	}
	if f != nil && s.transportFault(r, w, f, func() []byte {
		if err != nil {
			return nil
		}
		b, _ := json.Marshal(build(nil))
		return b
	}) {
		return
	}
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"message": err.Error()})
		return
	}
	if hq != nil {
		if f != nil && f.Kind == FaultShiftRows {
			s.shiftRows(hq, rec.N)
		}
		hq.repeatFrom = s.repeatPage(hq.page, f)
	}
	if f != nil && f.Kind == FaultOversized {
		writeOversized(w, build(nil), f.Size)
		return
	}
	writeJSON(w, http.StatusOK, build(f))
}

// begin records the arrival of r.
func (s *Server) begin(r *http.Request, raw []byte) *Request {
	h := r.Header.Clone()
	authorized := h.Get("Authorization") == "Bearer "+s.opts.APIKey
	if _, ok := h["Authorization"]; ok {
		h["Authorization"] = []string{"[redacted]"}
	}
	rec := &Request{
		Method:     r.Method,
		Path:       r.URL.Path,
		Query:      r.URL.Query(),
		Header:     h,
		Authorized: authorized,
		RawBody:    string(raw),
	}
	if len(bytes.TrimSpace(raw)) > 0 {
		var m map[string]any
		if json.Unmarshal(raw, &m) == nil {
			rec.Body = m
		}
	}
	rec.PageNo = pageNoOf(rec)

	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	rec.Time = now
	s.n++
	rec.N = s.n
	s.requests = append(s.requests, rec)
	s.inFlight++
	s.maxInFlight = max(s.maxInFlight, s.inFlight)
	if !s.lastArrival.IsZero() {
		gap := now.Sub(s.lastArrival)
		if s.minGap < 0 || gap < s.minGap {
			s.minGap = gap
		}
	}
	s.lastArrival = now
	return rec
}

func pageNoOf(rec *Request) int {
	if v, ok := rec.Body["page_no"].(float64); ok && v == math.Trunc(v) {
		return int(v)
	}
	if n, err := strconv.Atoi(rec.Query.Get("page_no")); err == nil {
		return n
	}
	return 0
}

func (s *Server) end(rec *Request, w *statusWriter) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec.Status = w.status
	s.inFlight--
}

// admit applies the pacing rule to a request that starts now.
func (s *Server) admit() (ok bool, retryAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.opts.Interval <= 0 {
		s.busy++
		return true, 0
	}
	now := s.opts.Now()
	if s.busy > 0 {
		return false, s.opts.Interval
	}
	if !s.lastStart.IsZero() {
		if since := now.Sub(s.lastStart); since < s.opts.Interval {
			return false, s.opts.Interval - since
		}
	}
	s.lastStart = now
	s.busy++
	return true, 0
}

func (s *Server) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.busy--
}

func (s *Server) latency(rec *Request) time.Duration {
	if s.opts.LatencyFunc != nil {
		s.mu.Lock()
		r := *rec
		s.mu.Unlock()
		return s.opts.LatencyFunc(r)
	}
	return s.opts.Latency
}

// sleep waits d, and reports false when the client gave up or the server
// is closing first.
func (s *Server) sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
	case <-s.closing:
	}
	return false
}

// refuse answers a request the fake refuses (401, 429, 404, 405) with
// answer, unless a fault selected by its number answers it instead: a
// fault with Fault.Request fires on exactly that request. A fault that
// answers on its own (see transportFault) replaces the refusal; one that
// alters the normal answer is spent with no effect. Faults without a
// request number wait for a request that is not refused.
func (s *Server) refuse(w *statusWriter, r *http.Request, rec *Request, answer func()) {
	f := s.takeFault(rec, r.URL.Path, true)
	if f != nil && s.transportFault(r, w, f, func() []byte { return nil }) {
		return
	}
	answer()
}

// takeFault returns the first pending fault matching the request, or nil,
// and records its kind in rec. With numbered, only faults that select the
// request by its number match.
func (s *Server) takeFault(rec *Request, path string, numbered bool) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, pf := range s.faults {
		if numbered && pf.Request == 0 || !pf.matches(rec.N, path, rec.PageNo) {
			continue
		}
		f := pf.Fault
		if !pf.Always {
			pf.left--
			if pf.left <= 0 {
				s.faults = slices.Delete(s.faults, i, i+1)
			}
		}
		rec.Fault = f.Kind
		return &f
	}
	return nil
}

// repeatPage returns the page from which FaultRepeatRow shifts the listing
// of q's paging run, or 0. A run starts at page 1; a pending RepeatRow fault
// shapes the whole run (its total_records included), the one that fired
// keeps shaping it until the next page 1.
func (s *Server) repeatPage(page int, f *Fault) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if page <= 1 {
		s.shiftFrom = 0
	}
	if f != nil && f.Kind == FaultRepeatRow && page > 1 {
		s.shiftFrom = page
	}
	if s.shiftFrom > 0 {
		return s.shiftFrom
	}
	for _, pf := range s.faults {
		if pf.Kind == FaultRepeatRow && pf.Page > 1 && pf.Request == 0 {
			return pf.Page
		}
	}
	return 0
}

// transportFault applies the faults that are not about the envelope's
// content, and reports whether it answered. normal builds the normal body
// (nil when the request was invalid).
func (s *Server) transportFault(r *http.Request, w *statusWriter, f *Fault, normal func() []byte) bool {
	ctx := r.Context()
	switch f.Kind {
	case FaultStatus:
		body := f.Body
		if body == "" {
			body = fmt.Sprintf(`{"message":%q}`, http.StatusText(f.status()))
		}
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		writeRaw(w, f.status(), body)
	case FaultRedirect:
		location := f.Location
		if location == "" {
			location = s.URL + r.URL.RequestURI()
		}
		w.Header().Set("Location", location)
		writeJSON(w, f.status(), map[string]any{"message": http.StatusText(f.status())})
	case FaultDBException:
		body := f.Body
		if body == "" {
			body = defaultDBError
		}
		writeRaw(w, http.StatusBadRequest, body)
	case FaultGarbage:
		body := f.Body
		if body == "" {
			body = defaultGarbage
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, body)
	case FaultHang:
		if f.Delay > 0 && s.sleep(ctx, f.Delay) {
			return false // answer normally
		}
		s.sleep(ctx, math.MaxInt64)
		panic(http.ErrAbortHandler) // close the connection without an answer
	case FaultReset:
		resetConn(w)
	case FaultStall, FaultTruncate:
		body := normal()
		if body == nil {
			body = []byte(`{"message":"Success","total_records":0,"result":[]}`)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusOK)
		w.Write(body[:len(body)/2])
		http.NewResponseController(w).Flush()
		if f.Kind == FaultStall {
			s.sleep(ctx, math.MaxInt64)
			panic(http.ErrAbortHandler)
		}
	default:
		return false
	}
	return true
}

// resetConn closes the request's connection with a TCP reset.
func resetConn(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(interface{ SetLinger(int) error }); ok {
		tc.SetLinger(0)
	}
	conn.Close()
}

// jsonBuffers keeps writeJSON from allocating a page's worth of bytes on
// every answer.
var jsonBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func writeJSON(w http.ResponseWriter, status int, v any) {
	buf := jsonBuffers.Get().(*bytes.Buffer)
	buf.Reset()
	if err := json.NewEncoder(buf).Encode(v); err != nil {
		panic(err) // our own values always marshal
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n"))) // the bytes json.Marshal gives
	if buf.Cap() <= 1<<20 {
		jsonBuffers.Put(buf)
	}
}

// writeRaw sends body as JSON when it looks like JSON, as text otherwise.
func writeRaw(w http.ResponseWriter, status int, body string) {
	ct := "text/html; charset=UTF-8"
	if t := strings.TrimSpace(body); strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[") {
		ct = "application/json"
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// writeOversized streams env with a note of size bytes in its first row.
func writeOversized(w http.ResponseWriter, env map[string]any, size int) {
	if size <= 0 {
		size = defaultOversize
	}
	const marker = "\x00oversized\x00"
	if rows, _ := env["result"].([]row); len(rows) > 0 {
		rows[0].setNote(marker)
	} else {
		env["result"] = []map[string]any{{"id": "oversized", "note": marker}}
	}
	b, _ := json.Marshal(env)
	head, tail, _ := bytes.Cut(b, []byte(`"\u0000oversized\u0000"`))
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(head)
	w.Write([]byte{'"'})
	chunk := bytes.Repeat([]byte{'x'}, 64<<10)
	for left := size; left > 0; left -= len(chunk) {
		if _, err := w.Write(chunk[:min(left, len(chunk))]); err != nil {
			return // the client stopped reading
		}
	}
	w.Write([]byte{'"'})
	w.Write(tail)
}
