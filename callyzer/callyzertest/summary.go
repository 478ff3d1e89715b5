package callyzertest

import "cmp"

// HideFromHistory plays an account whose history answers lack some calls
// that /call-log/summary still counts (a page Callyzer never serves): the
// calls hide selects are left out of every /call-log/history answer, in
// their totals too, from now on. nil shows every call again.
func (s *Server) HideFromHistory(hide func(Call) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hidden = hide
}

// summary builds the answer of /call-log/summary: the totals of every call
// q selects, the hidden ones included, with fault f applied (f may be nil).
// A connected call is one with a duration above zero. FaultWrongTotal adds
// Fault.Delta (default 1) to total_calls; the envelope faults apply as to
// a page.
func (s *Server) summary(q *historyQuery, f *Fault) map[string]any {
	s.mu.Lock()
	sel := s.selectAll(&q.historyBody)
	totals := map[string]int{}
	for i := range sel.run {
		if !sel.matches(&sel.run[i]) {
			continue
		}
		c := sel.run[i].call
		totals["total_calls"]++
		switch c.CallType {
		case Incoming:
			totals["total_incoming_calls"]++
		case Outgoing:
			totals["total_outgoing_calls"]++
		case Missed:
			totals["total_missed_calls"]++
		case Rejected:
			totals["total_rejected_calls"]++
		}
		if c.Duration > 0 {
			totals["total_connected_calls"]++
		}
		totals["total_duration"] += c.Duration
	}
	s.mu.Unlock()
	result := map[string]any{}
	for _, k := range []string{"total_calls", "total_incoming_calls", "total_outgoing_calls", "total_missed_calls",
		"total_rejected_calls", "total_connected_calls", "total_duration"} {
		result[k] = totals[k]
	}
	env := map[string]any{"message": "Success", "result": result}
	if f == nil {
		return env
	}
	switch f.Kind {
	case FaultHalfTyped:
		result["total_calls"] = map[string]any{"value": totals["total_calls"]}
	case FaultMissingID:
		delete(result, "total_calls")
	case FaultWrongTotal:
		result["total_calls"] = totals["total_calls"] + cmp.Or(f.Delta, 1)
	case FaultDataEnvelope:
		delete(env, "result")
		env["data"] = result
	case FaultNullResult:
		env["result"] = nil
	case FaultMissingResult:
		delete(env, "result")
	}
	return env
}
