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
	"sort"
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
	page, size int // size: the rows a page holds
	stride     int // where page n starts, (n-1)·stride; 0: size
	repeatFrom int // FaultRepeatRow: the listing repeats the row before this page; 0: none
}

// offset is where q's page starts in the listing.
func (q *historyQuery) offset() int { return (q.page - 1) * q.step() }

func (q *historyQuery) step() int {
	if q.stride > 0 {
		return q.stride
	}
	return q.size
}

// numberForm is Callyzer's "48-601234567"; e164Form and digitsForm are
// the other shapes a client_numbers entry may take (Options.ClientNumberForms):
// digitsForm is FormNational's and FormDigits'.
var (
	numberForm = regexp.MustCompile(`^[1-9][0-9]{0,2}-[0-9]{4,14}$`)
	e164Form   = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
	digitsForm = regexp.MustCompile(`^[0-9]{4,15}$`)
)

// wellFormed reports whether n is a client_numbers entry in any form.
func wellFormed(n string) bool {
	return numberForm.MatchString(n) || e164Form.MatchString(n) || digitsForm.MatchString(n)
}

// namesNumber reports whether the client_numbers entry n names the
// stored "cc-number" under forms.
func namesNumber(forms NumberForms, n, stored string) bool {
	cc, national, _ := splitDash(stored)
	return forms&FormDashed != 0 && n == stored ||
		forms&FormNational != 0 && n == national ||
		forms&FormE164 != 0 && cc != "" && n == "+"+cc+national ||
		forms&FormDigits != 0 && cc != "" && n == cc+national
}

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
	return s.parseQuery(r, raw, false)
}

// parseQuery reads a history request or, with summary, a summary request:
// the same filters, without paging, and without v2.2's mandatory
// call_method and call_mode.
func (s *Server) parseQuery(r *http.Request, raw []byte, summary bool) (*historyQuery, error) {
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
	badNumber := func(n string) error {
		return fmt.Errorf("Invalid number %q: use country code, hyphen, number (48-601234567).", n)
	}
	for _, n := range b.EmpNumbers {
		if !numberForm.MatchString(n) {
			return nil, badNumber(n)
		}
	}
	for _, n := range b.ClientNumbers {
		// Another form is accepted when the account is set to match one.
		if !wellFormed(n) || !numberForm.MatchString(n) && s.opts.ClientNumberForms == FormDashed {
			return nil, badNumber(n)
		}
	}
	if summary && (b.PageNo != nil || b.PageSize != nil) {
		return nil, errors.New("The page_no and page_size fields are not allowed.")
	}
	if s.opts.Version == V22 && !summary && (b.CallMethod == nil || b.CallMode == nil) {
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
	if limit := s.opts.PageSizeCap; limit > 0 && q.size > limit {
		if s.opts.PagesBySizeAsked {
			q.stride = q.size
		}
		q.size = limit
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
	case uint64(*to)-uint64(*from) > uint64(s.opts.MaxWindow/time.Second):
		// In whole seconds: a Duration of the span would overflow for
		// spans past 292 years, and to − from itself past MaxInt64 (the
		// unsigned difference is exact, as from ≤ to).
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

// entry is one stored call in the listing. What the window and number
// filters test is kept inline, so that a scan reads one compact slice
// rather than the calls themselves.
type entry struct {
	started, synced int64 // StartedAt and SyncedAt in UNIX seconds
	client, emp     int32 // the numberKey of the client's and the employee's "cc-number"
	call            *Call // the stored clone; nothing changes it
}

// servedOrder is the order of the listing: newest first, then by id.
func servedOrder(a, b entry) int {
	if c := b.call.StartedAt.Compare(a.call.StartedAt); c != 0 {
		return c
	}
	return cmp.Compare(a.call.ID, b.call.ID)
}

// addCalls stores clones of calls and merges them into the listing after
// the stored calls they tie with, so that the listing stays what a stable
// sort of every call in the order added gives. s.mu must be held.
func (s *Server) addCalls(calls []Call) {
	if len(calls) == 0 {
		return
	}
	if s.numbers == nil {
		s.numbers = map[string]int32{}
	}
	stored := make([]Call, len(calls))
	add := make([]entry, len(calls))
	for i, c := range calls {
		stored[i] = c.clone()
		p := &stored[i]
		s.calls = append(s.calls, p)
		add[i] = entry{
			started: p.StartedAt.Unix(),
			synced:  p.SyncedAt.Unix(),
			client:  s.numberKey(p.ClientCountryCode + "-" + p.ClientNumber),
			emp:     s.numberKey(p.EmpCountryCode + "-" + p.EmpNumber),
			call:    p,
		}
	}
	slices.SortStableFunc(add, servedOrder)
	s.listing = merge(s.listing, add)
	byClient := map[int32][]entry{}
	for _, e := range add {
		byClient[e.client] = append(byClient[e.client], e)
	}
	if s.byClient == nil {
		s.byClient = map[int32][]entry{}
	}
	for k, add := range byClient {
		s.byClient[k] = merge(s.byClient[k], add)
	}
}

// merge merges add into list, both in the served order, placing an entry
// of add after the entries of list it ties with. It merges from the back,
// in place, so it moves only the entries that sort after add's first.
func merge(list, add []entry) []entry {
	old := len(list)
	list = slices.Grow(list, len(add))[:old+len(add)]
	i, j := old-1, len(add)-1
	for k := len(list) - 1; j >= 0; k-- {
		if i >= 0 && servedOrder(list[i], add[j]) > 0 {
			list[k] = list[i]
			i--
		} else {
			list[k] = add[j]
			j--
		}
	}
	return list
}

// numberKey returns the key of a "cc-number", giving it one if it has
// none. s.mu must be held.
func (s *Server) numberKey(n string) int32 {
	k, ok := s.numbers[n]
	if !ok {
		k = int32(len(s.numbers))
		s.numbers[n] = k
	}
	return k
}

// selection is what a query selects: the run of the listing (or of one
// client's listing) its call window allows, and the filters a call of the
// run must pass. It reads the server's listings, so s.mu must be held
// while it is used.
type selection struct {
	b       *historyBody
	run     []entry
	all     bool    // every call of run matches
	stored  bool    // a filter reads the call, not only its entry
	clients []int32 // the keys of b.ClientNumbers that stored calls have
	emps    []int32 // the keys of b.EmpNumbers that stored calls have
	hidden  func(Call) bool
}

func (s *Server) selectCalls(b *historyBody) *selection {
	sel := s.selectAll(b)
	if s.hidden != nil {
		sel.hidden, sel.all, sel.stored = s.hidden, false, true
	}
	return sel
}

// selectAll is selectCalls without the calls HideFromHistory hides: what
// /call-log/summary counts. s.mu must be held.
func (s *Server) selectAll(b *historyBody) *selection {
	switch {
	case s.opts.IgnoreClientNumbers && len(b.ClientNumbers) > 0:
		unfiltered := *b
		unfiltered.ClientNumbers = nil
		b = &unfiltered
	case s.opts.FirstClientNumberOnly && len(b.ClientNumbers) > 1:
		first := *b
		first.ClientNumbers = b.ClientNumbers[:1]
		b = &first
	}
	sel := &selection{b: b, run: s.listing}
	sel.clients = s.clientKeys(b.ClientNumbers)
	sel.emps = s.numberKeys(b.EmpNumbers)
	if len(b.ClientNumbers) > 0 && len(sel.clients) <= 1 {
		// One client (a lead's refresh): read only that client's calls.
		sel.run = nil
		if len(sel.clients) == 1 {
			sel.run = s.byClient[sel.clients[0]]
		}
	}
	if b.CallFrom != nil {
		// Newest first, so the window is one run of the listing.
		run := sel.run
		lo := sort.Search(len(run), func(i int) bool { return run[i].started <= *b.CallTo })
		hi := sort.Search(len(run), func(i int) bool { return run[i].started < *b.CallFrom })
		sel.run = run[lo:max(lo, hi)]
	}
	sel.stored = len(b.CallTypes) > 0 || len(b.EmpTags) > 0 || b.DurationLesThan != nil ||
		b.DurationGrtThan != nil || b.CallMethod != nil || b.CallMode != nil
	sel.all = !sel.stored && b.SyncedFrom == nil && len(b.ClientNumbers) == 0 && len(b.EmpNumbers) == 0
	return sel
}

// numberKeys returns the keys of the numbers that stored calls have. s.mu
// must be held.
func (s *Server) numberKeys(numbers []string) []int32 {
	var keys []int32
	for _, n := range numbers {
		if k, ok := s.numbers[n]; ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

// clientKeys returns the keys of the stored numbers that client_numbers
// entries match under Options.ClientNumberForms. s.mu must be held.
func (s *Server) clientKeys(entries []string) []int32 {
	forms := s.opts.ClientNumberForms
	if forms == FormDashed {
		return s.numberKeys(entries)
	}
	var keys []int32
	for _, n := range entries {
		for stored, k := range s.numbers {
			if namesNumber(forms, n, stored) {
				keys = append(keys, k)
			}
		}
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

// shiftRows is FaultShiftRows: it deletes the newest call q selects and
// adds a clone of the oldest, one second older but not before call_from,
// with the id "shifted-<n>".
func (s *Server) shiftRows(q *historyQuery, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sel := s.selectCalls(&q.historyBody)
	count := sel.count()
	if count == 0 {
		return
	}
	ends := sel.pick([]int{0, count - 1})
	newest, added := ends[0], ends[1].clone()
	added.ID = fmt.Sprintf("shifted-%d", n)
	added.StartedAt = added.StartedAt.Add(-time.Second)
	if q.CallFrom != nil && added.StartedAt.Unix() < *q.CallFrom {
		added.StartedAt = time.Unix(*q.CallFrom, 0)
	}
	drop := func(e entry) bool { return e.call == newest }
	s.calls = slices.DeleteFunc(s.calls, func(c *Call) bool { return c == newest })
	s.listing = slices.DeleteFunc(s.listing, drop)
	key := s.numbers[newest.ClientCountryCode+"-"+newest.ClientNumber]
	s.byClient[key] = slices.DeleteFunc(s.byClient[key], drop)
	s.addCalls([]Call{added})
}

// matches reports whether e passes the filters other than the call window.
func (sel *selection) matches(e *entry) bool {
	b := sel.b
	if b.SyncedFrom != nil && (e.synced < *b.SyncedFrom || e.synced > *b.SyncedTo) {
		return false
	}
	if len(b.ClientNumbers) > 0 && !slices.Contains(sel.clients, e.client) {
		return false
	}
	if len(b.EmpNumbers) > 0 && !slices.Contains(sel.emps, e.emp) {
		return false
	}
	if !sel.stored {
		return true
	}
	c := e.call
	if sel.hidden != nil && sel.hidden(*c) {
		return false
	}
	if len(b.CallTypes) > 0 && !slices.Contains(b.CallTypes, c.CallType) {
		return false
	}
	if len(b.EmpTags) > 0 && !slices.ContainsFunc(c.EmpTags, func(t string) bool { return slices.Contains(b.EmpTags, t) }) {
		return false
	}
	if b.DurationLesThan != nil && c.Duration >= *b.DurationLesThan {
		return false
	}
	if b.DurationGrtThan != nil && c.Duration <= *b.DurationGrtThan {
		return false
	}
	if b.CallMethod != nil && *b.CallMethod != orDefault(c.CallMethod, PhoneCall) {
		return false
	}
	if b.CallMode != nil && *b.CallMode != orDefault(c.CallMode, Voice) {
		return false
	}
	return true
}

// count returns how many calls match.
func (sel *selection) count() int {
	if sel.all {
		return len(sel.run)
	}
	n := 0
	for i := range sel.run {
		if sel.matches(&sel.run[i]) {
			n++
		}
	}
	return n
}

// pick returns the matching calls at positions at (0 is the newest
// matching call; each position is below count()).
func (sel *selection) pick(at []int) []*Call {
	out := make([]*Call, len(at))
	if sel.all {
		for i, p := range at {
			out[i] = sel.run[p].call
		}
		return out
	}
	need := slices.Compact(slices.Sorted(slices.Values(at)))
	found := make([]*Call, len(need))
	n, k := 0, 0
	for i := 0; i < len(sel.run) && k < len(need); i++ {
		if !sel.matches(&sel.run[i]) {
			continue
		}
		if n == need[k] {
			found[k] = sel.run[i].call
			k++
		}
		n++
	}
	for i, p := range at {
		j, _ := slices.BinarySearch(need, p)
		out[i] = found[j]
	}
	return out
}

// history builds the envelope of one history page with fault f applied
// (f may be nil). Only the page's calls are read out of the listing.
func (s *Server) history(q *historyQuery, f *Fault) map[string]any {
	kind := FaultKind(0)
	if f != nil {
		kind = f.Kind
	}
	s.mu.Lock()
	sel := s.selectCalls(&q.historyBody)
	n := sel.count()
	// FaultRepeatRow lists the matching call at k-1 a second time at k.
	k := (q.repeatFrom - 1) * q.step()
	repeated := k > 0 && k <= n
	total := n
	if repeated {
		total++
	}
	// call maps a position in the listing the client pages through to the
	// position of its call among the matching calls.
	call := func(j int) int {
		if repeated && j >= k {
			return j - 1
		}
		return j
	}
	off := q.offset()
	var at []int
	switch {
	case kind == FaultEndlessPaging && total > 0:
		for i := range q.size {
			at = append(at, call((off+i)%total))
		}
	case kind != FaultEndlessPaging:
		for j := off; j < min(off+q.size, total); j++ {
			at = append(at, call(j))
		}
		if kind == FaultRepeatSkipRow && off > 0 && len(at) > 0 {
			at[0] = call(off - 1) // the last row of the page before, in place of this page's first
		}
	}
	// A row fault on an empty page breaks a row made from the newest call.
	templated := len(at) == 0 && total > 0 && (kind == FaultHalfTyped || kind == FaultMissingID)
	if templated {
		at = append(at, 0)
	}
	calls := sel.pick(at)
	s.mu.Unlock()

	var tmpl *Call // what made-up rows are made from; nil: a made-up call
	if templated {
		tmpl, calls = calls[0], nil
	}
	var rows []row
	if kind == FaultEndlessPaging {
		total = endlessTotal
		for i := range q.size {
			if len(calls) > 0 {
				tmpl = calls[i]
			}
			c := s.template(q, tmpl)
			c.ID = fmt.Sprintf("endless-%d-%d", q.page, i+1)
			rows = append(rows, s.callRow(&c))
		}
	} else {
		for _, c := range calls {
			rows = append(rows, s.callRow(c))
		}
	}
	if len(rows) == 0 && (kind == FaultHalfTyped || kind == FaultMissingID) {
		c := s.template(q, tmpl)
		rows = append(rows, s.callRow(&c))
	}
	return envelope(rows, total, f)
}

// template returns a clone of from, or, when from is nil, a made-up call
// that q selects, to build made-up rows from.
func (s *Server) template(q *historyQuery, from *Call) Call {
	if from != nil {
		return from.clone()
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

// row is one row of an answer, as the content faults break it.
type row interface {
	halfType()      // FaultHalfTyped: a typed field becomes an object, the id a number
	dropID()        // FaultMissingID: the id is left out
	setNote(string) // FaultOversized: the huge note
}

// envelope wraps rows in Callyzer's answer and applies the content faults.
func envelope(rows []row, total int, f *Fault) map[string]any {
	if rows == nil {
		rows = []row{}
	}
	env := map[string]any{"message": "Success", "total_records": total, "result": rows}
	if f == nil {
		return env
	}
	switch f.Kind {
	case FaultHalfTyped:
		rows[0].halfType()
	case FaultMissingID:
		rows[0].dropID()
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
