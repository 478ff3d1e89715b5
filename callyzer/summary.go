package callyzer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/leadcalls/leadcalls/internal/phone"
)

const summaryEndpoint = "/call-log/summary"

// Totals is Callyzer's count of the calls a query selects
// (/call-log/summary).
type Totals struct {
	Calls     int // total_calls
	Incoming  int // total_incoming_calls
	Outgoing  int // total_outgoing_calls
	Missed    int // total_missed_calls
	Rejected  int // total_rejected_calls
	Connected int // total_connected_calls; 0 if absent
	Duration  int // total_duration, seconds; 0 if absent
}

// wireTotals is the "result" object of /call-log/summary.
type wireTotals struct {
	TotalCalls     *count `json:"total_calls"`
	TotalIncoming  *count `json:"total_incoming_calls"`
	TotalOutgoing  *count `json:"total_outgoing_calls"`
	TotalMissed    *count `json:"total_missed_calls"`
	TotalRejected  *count `json:"total_rejected_calls"`
	TotalConnected *count `json:"total_connected_calls"`
	TotalDuration  *count `json:"total_duration"`
}

// Summary returns Callyzer's totals of the calls q selects: its filters
// (windows, numbers, types, tags) as HistoryPages sends them; its paging
// and ordering fields and Variant are not used. The window is sent whole,
// so it must fit the maximum window (WithMaxWindow), else ErrInvalidQuery.
// It is one paced request (Background unless q.Priority says otherwise),
// retried as every request is. A "result" that is not one object with
// total_calls and the four per-type totals is ErrMalformedResponse.
func (c *Client) Summary(ctx context.Context, q HistoryQuery) (Totals, error) {
	p, err := c.planHistory(HistoryQuery{
		CallFrom: q.CallFrom, CallTo: q.CallTo, SyncedFrom: q.SyncedFrom, SyncedTo: q.SyncedTo,
		ClientNumbers: q.ClientNumbers, EmployeeNumbers: q.EmployeeNumbers, CallTypes: q.CallTypes,
		EmployeeTags: q.EmployeeTags, Priority: q.Priority,
	})
	if err != nil {
		return Totals{}, err
	}
	if p.primary.to-p.primary.from > c.maxSpan() {
		return Totals{}, invalidQuery("the summary window spans more than %s", c.cfg.maxWindow)
	}
	body, err := json.Marshal(p.filter(p.primary)) // the history's filters, without paging
	if err != nil {
		return Totals{}, fmt.Errorf("callyzer: encoding the request: %w", err)
	}
	seq := c.pacer.Begin(q.Priority)
	defer seq.End()
	r := &request{method: http.MethodPost, endpoint: summaryEndpoint, body: body, priority: q.Priority, seq: seq, logAttrs: p.maskedFilter}
	raw, attempts, err := c.do(ctx, r)
	if err != nil {
		return Totals{}, err
	}
	t, err := decodeTotals(raw)
	if err != nil {
		return Totals{}, &Error{Endpoint: summaryEndpoint, StatusCode: http.StatusOK, Attempts: attempts,
			kind: ErrMalformedResponse, Message: phone.MaskText(c.cfg.key.redact(err.Error()))}
	}
	return t, nil
}

// decodeTotals decodes a /call-log/summary answer, refusing a "data"
// envelope, a missing or null "result", a list, and a missing total.
func decodeTotals(body []byte) (Totals, error) {
	var env struct {
		Result *wireTotals      `json:"result"`
		Data   *json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return Totals{}, fmt.Errorf("not the expected JSON: %s", jsonProblem(err))
	}
	if env.Data != nil && string(*env.Data) != "null" {
		return Totals{}, errors.New(`a "data" envelope instead of "result"`)
	}
	w := env.Result
	if w == nil {
		return Totals{}, errors.New(`"result" is missing or null`)
	}
	for _, f := range []struct {
		name string
		v    *count
	}{
		{"total_calls", w.TotalCalls}, {"total_incoming_calls", w.TotalIncoming}, {"total_outgoing_calls", w.TotalOutgoing},
		{"total_missed_calls", w.TotalMissed}, {"total_rejected_calls", w.TotalRejected},
	} {
		if f.v == nil {
			return Totals{}, fmt.Errorf("%q is missing or null", f.name)
		}
	}
	n := func(c *count) int {
		if c == nil {
			return 0
		}
		return int(*c)
	}
	return Totals{
		Calls: n(w.TotalCalls), Incoming: n(w.TotalIncoming), Outgoing: n(w.TotalOutgoing), Missed: n(w.TotalMissed),
		Rejected: n(w.TotalRejected), Connected: n(w.TotalConnected), Duration: n(w.TotalDuration),
	}, nil
}
