package callyzertest

import (
	"fmt"
	"net/http"
	"time"
)

// FaultKind is what an injected fault does to the response.
type FaultKind int

// The faults the fake can inject. Each kind's comment says what the client
// receives; the defaults of Fault's parameters are in brackets.
const (
	// FaultStatus answers Fault.Status [500] with Fault.Body [a JSON
	// message] and, when set, the Retry-After header Fault.RetryAfter.
	FaultStatus FaultKind = iota + 1
	// FaultHang sends nothing until the client gives up or the server
	// closes; with Fault.Delay > 0 it waits that long and then answers
	// normally.
	FaultHang
	// FaultStall sends the headers and half of the normal body, then
	// waits until the client gives up or the server closes.
	FaultStall
	// FaultTruncate declares the normal body's length, sends half of it
	// and closes the connection.
	FaultTruncate
	// FaultGarbage answers 200 with a body that is not JSON [an HTML page].
	FaultGarbage
	// FaultHalfTyped answers the normal page with the first row's duration
	// an object and its id a number (for employees: emp_number a number).
	FaultHalfTyped
	// FaultDataEnvelope puts the rows under "data" instead of "result".
	FaultDataEnvelope
	// FaultNullResult answers "result": null.
	FaultNullResult
	// FaultMissingResult leaves "result" out.
	FaultMissingResult
	// FaultWrongTotal adds Fault.Delta [1] to total_records.
	FaultWrongTotal
	// FaultOversized answers a valid page whose first row's note is
	// Fault.Size bytes [16 MiB] long, streamed without Content-Length.
	FaultOversized
	// FaultMissingID removes the id of the first row.
	FaultMissingID
	// FaultRepeatRow makes a paging run list the last row of page
	// Fault.Page − 1 twice: page Fault.Page starts with it and later pages
	// shift by one, as when the listing moves while a client pages. The run
	// (from the next page 1 on) reports total_records with the repeated row
	// counted, so the rows received add up to it. Select it with Page ≥ 2.
	FaultRepeatRow
	// FaultEndlessPaging answers full pages of made-up rows (ids
	// "endless-<page>-<i>", inside the requested window and numbers) with
	// total_records 1,000,000: the listing never ends. Use Always.
	FaultEndlessPaging
	// FaultDBException answers 400 with a raw database exception [a JSON
	// message with an SQLSTATE text], the rare 400 that succeeds on retry.
	FaultDBException
	// FaultReset accepts the request and closes the connection with a TCP
	// reset, sending nothing.
	FaultReset
	// FaultRepeatSkipRow answers page Fault.Page with the last row of the
	// page before in place of its own first row: that row comes twice and
	// the replaced one never, while total_records stays the number of
	// matching calls, so the rows still add up to it. Select it with
	// Page ≥ 2. (FaultRepeatRow instead counts the repeat in the total and
	// skips nothing.)
	FaultRepeatSkipRow
	// FaultShiftRows changes the data set, as a listing that moves while a
	// client pages: before answering, it deletes the newest call the
	// request selects and adds an older one it selects (a clone of the
	// oldest, one second earlier but not before call_from, id
	// "shifted-<request number>"). total_records stays the same, and the
	// page and later ones shift by one: the row that was first on the page
	// moves to the page before and is never listed to a client paging on.
	// Select it with Page ≥ 2.
	FaultShiftRows
	// FaultRedirect answers Fault.Status [307] (any 3xx) with the Location
	// header Fault.Location [the request's own URL on the fake] and a JSON
	// message, as a moved or misconfigured endpoint.
	FaultRedirect
)

var faultNames = [...]string{
	FaultStatus:        "Status",
	FaultHang:          "Hang",
	FaultStall:         "Stall",
	FaultTruncate:      "Truncate",
	FaultGarbage:       "Garbage",
	FaultHalfTyped:     "HalfTyped",
	FaultDataEnvelope:  "DataEnvelope",
	FaultNullResult:    "NullResult",
	FaultMissingResult: "MissingResult",
	FaultWrongTotal:    "WrongTotal",
	FaultOversized:     "Oversized",
	FaultMissingID:     "MissingID",
	FaultRepeatRow:     "RepeatRow",
	FaultEndlessPaging: "EndlessPaging",
	FaultDBException:   "DBException",
	FaultReset:         "Reset",
	FaultRepeatSkipRow: "RepeatSkipRow",
	FaultShiftRows:     "ShiftRows",
	FaultRedirect:      "Redirect",
}

// FaultKinds lists every FaultKind, for table tests.
func FaultKinds() []FaultKind {
	ks := make([]FaultKind, 0, len(faultNames)-1)
	for k := FaultStatus; int(k) < len(faultNames); k++ {
		ks = append(ks, k)
	}
	return ks
}

func (k FaultKind) String() string {
	if k == 0 {
		return "none"
	}
	if k > 0 && int(k) < len(faultNames) {
		return faultNames[k]
	}
	return fmt.Sprintf("FaultKind(%d)", int(k))
}

// Fault is an injected failure: when it fires (Request, Page, Path, Times,
// Always) and what it does (Kind and its parameters). A fault without a
// request number fires on the next matching request that passes
// authorisation, pacing and routing; a fault with one fires on exactly that
// request, even one the fake refuses (see Request).
type Fault struct {
	Kind FaultKind

	// Request selects the n-th request the server received (1-based,
	// counting every request of the server's life, refused ones too). It
	// fires on that request even when the fake refuses it with 401, 429,
	// 404 or 405: a kind that answers on its own (Status, DBException,
	// Garbage, Hang, Reset, Stall, Truncate, Redirect) answers in place of
	// the refusal, and a kind that alters the normal page (or the data
	// set) is spent on it with no effect. So a numbered fault never stays
	// pending past its request.
	Request int
	// Page selects /call-log/history requests for this page_no.
	Page int
	// Path selects requests to this path (PathHistory, PathEmployees).
	Path string
	// Times is how many matching requests the fault hits; 0 means once.
	Times int
	// Always makes the fault hit every matching request.
	Always bool

	Status     int           // FaultStatus: the status code [500]; FaultRedirect: [307]
	Body       string        // FaultStatus, FaultGarbage, FaultDBException: the body
	RetryAfter string        // FaultStatus: Retry-After value, seconds ("3") or an HTTP date
	Delta      int           // FaultWrongTotal: added to total_records [1]
	Size       int           // FaultOversized: body size in bytes [16 MiB]
	Delay      time.Duration // FaultHang: how long to hang before answering; 0: until the client gives up
	Location   string        // FaultRedirect: the Location header [the request's own URL]
}

func (f Fault) String() string {
	s := f.Kind.String()
	if f.Kind == FaultStatus || f.Kind == FaultRedirect {
		s += fmt.Sprintf("(%d)", f.status())
	}
	switch {
	case f.Request > 0:
		s += fmt.Sprintf(" on request %d", f.Request)
	case f.Page > 0:
		s += fmt.Sprintf(" on page %d", f.Page)
	}
	if f.Always {
		s += " always"
	} else if f.Times > 1 {
		s += fmt.Sprintf(" %d times", f.Times)
	}
	return s
}

func (f Fault) status() int {
	switch {
	case f.Status != 0:
		return f.Status
	case f.Kind == FaultRedirect:
		return http.StatusTemporaryRedirect
	}
	return http.StatusInternalServerError
}

func (f Fault) matches(n int, path string, page int) bool {
	if f.Request > 0 && f.Request != n {
		return false
	}
	if f.Path != "" && f.Path != path {
		return false
	}
	if f.Page > 0 && (path != PathHistory || f.Page != page) {
		return false
	}
	return true
}

// pendingFault is a Fault with its remaining hits.
type pendingFault struct {
	Fault
	left int // hits left; ignored when Always
}

const (
	defaultOversize = 16 << 20
	endlessTotal    = 1_000_000
	defaultGarbage  = "<html><head><title>Callyzer</title></head><body>Something went wrong</body></html>"
	defaultDBError  = `{"message":"SQLSTATE[40001]: Serialization failure: 1213 Deadlock found when trying to get lock; try restarting transaction (SQL: select count(*) as aggregate from ` + "`call_logs`" + ` where ` + "`company_id`" + ` = 1841)","exception":"Illuminate\\Database\\QueryException"}`
)
