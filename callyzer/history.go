package callyzer

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"log/slog"
	"net/http"
	"time"

	"github.com/leadcalls/leadcalls/callyzer/pacing"
	"github.com/leadcalls/leadcalls/internal/phone"
)

const historyEndpoint = "/call-log/history"

// span is an inclusive window in whole UNIX seconds.
type span struct{ from, to int64 }

func (s span) times() (time.Time, time.Time) {
	return time.Unix(s.from, 0).UTC(), time.Unix(s.to, 0).UTC()
}

// historyPlan is a checked HistoryQuery, ready to be sent.
type historyPlan struct {
	primary      span // the window that is chunked: call window, else synced window
	byCall       bool // primary is the call window
	synced       *span
	clients      []string
	employees    []string
	types        []string
	tags         []string
	variants     []CallVariant // one zero variant under v2.1
	priority     pacing.Priority
	seq          pacing.Sequence // the pacer sequence of the iteration, or of the single page
	maskedFilter []slog.Attr
}

// historyBody is the JSON body of /call-log/history.
type historyBody struct {
	CallFrom         *int64   `json:"call_from,omitempty"`
	CallTo           *int64   `json:"call_to,omitempty"`
	SyncedFrom       *int64   `json:"synced_from,omitempty"`
	SyncedTo         *int64   `json:"synced_to,omitempty"`
	CallTypes        []string `json:"call_types"`
	EmpNumbers       []string `json:"emp_numbers"`
	ClientNumbers    []string `json:"client_numbers"`
	EmpTags          []string `json:"emp_tags"`
	IsExcludeNumbers bool     `json:"is_exclude_numbers"`
	PageNo           int      `json:"page_no"`
	PageSize         int      `json:"page_size"`
	CallMethod       string   `json:"call_method,omitempty"`
	CallMode         string   `json:"call_mode,omitempty"`
}

// toSpan turns inclusive time bounds into whole seconds: from rounds up and
// to rounds down, so the span never reaches outside [from, to].
func toSpan(name string, from, to time.Time) (*span, error) {
	if from.IsZero() && to.IsZero() {
		return nil, nil
	}
	if from.IsZero() || to.IsZero() {
		return nil, invalidQuery("the %s window needs both bounds", name)
	}
	if from.After(to) {
		return nil, invalidQuery("the %s window starts after it ends", name)
	}
	s := span{from: from.Unix(), to: to.Unix()}
	if from.Nanosecond() > 0 {
		s.from++
	}
	if s.from > s.to {
		return nil, invalidQuery("the %s window holds no whole second", name)
	}
	return &s, nil
}

func (c *Client) planHistory(q HistoryQuery) (*historyPlan, error) {
	callSpan, err := toSpan("call", q.CallFrom, q.CallTo)
	if err != nil {
		return nil, err
	}
	syncSpan, err := toSpan("synced", q.SyncedFrom, q.SyncedTo)
	if err != nil {
		return nil, err
	}
	p := &historyPlan{priority: q.Priority, tags: nonNil(q.EmployeeTags)}
	switch {
	case callSpan != nil:
		p.primary, p.byCall, p.synced = *callSpan, true, syncSpan
		// The synced window goes unchanged with every chunk of the call
		// window, so it must fit the maximum itself. (Splitting it too
		// would sweep every pair of chunks: the server filters by both.)
		if syncSpan != nil && syncSpan.to-syncSpan.from > c.maxSpan() {
			return nil, invalidQuery("the synced window spans more than %s; with a call window it is sent whole with every request", c.cfg.maxWindow)
		}
	case syncSpan != nil:
		p.primary = *syncSpan
	default:
		return nil, invalidQuery("no call window and no synced window")
	}
	if p.clients, err = inForm(q.ClientNumbers, c.cfg.clientForm); err != nil {
		return nil, err
	}
	if p.employees, err = inForm(q.EmployeeNumbers, formDashed); err != nil {
		return nil, err
	}
	p.types = make([]string, 0, len(q.CallTypes))
	for _, t := range q.CallTypes {
		if t == "" {
			return nil, invalidQuery("empty call type")
		}
		p.types = append(p.types, string(t))
	}
	switch {
	case !c.cfg.v22() && q.Variant != (CallVariant{}):
		return nil, invalidQuery("a call variant needs API v2.2 (WithCallVariants)")
	case !c.cfg.v22():
		p.variants = []CallVariant{{}}
	case q.Variant != (CallVariant{}):
		if q.Variant.Method == "" || q.Variant.Mode == "" {
			return nil, invalidQuery("a call variant needs both method and mode")
		}
		p.variants = []CallVariant{q.Variant}
	default:
		p.variants = c.cfg.variants
	}
	if len(q.ClientNumbers) > 0 {
		p.maskedFilter = append(p.maskedFilter, slog.Any("client_numbers", maskPhones(q.ClientNumbers)))
	}
	if len(q.EmployeeNumbers) > 0 {
		p.maskedFilter = append(p.maskedFilter, slog.Any("emp_numbers", maskPhones(q.EmployeeNumbers)))
	}
	return p, nil
}

// maskPhones masks numbers for a log line.
func maskPhones(numbers []string) []string {
	out := make([]string, len(numbers))
	for i, n := range numbers {
		out[i] = phone.Mask(n)
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// chunks splits s into consecutive spans of at most maxSpan seconds
// (to - from <= maxSpan), covering s exactly without overlap: oldest first,
// each starting where the previous ended plus a second; or, newestFirst,
// newest first, each ending a second before the previous began.
func chunks(s span, maxSpan int64, newestFirst bool) []span {
	var out []span
	if newestFirst {
		for to := s.to; ; {
			from := max(to-maxSpan, s.from)
			out = append(out, span{from, to})
			if from == s.from {
				return out
			}
			to = from - 1
		}
	}
	for from := s.from; ; {
		to := min(from+maxSpan, s.to)
		out = append(out, span{from, to})
		if to == s.to {
			return out
		}
		from = to + 1
	}
}

func (c *Client) maxSpan() int64 { return int64(c.cfg.maxWindow / time.Second) }

// HistoryPages yields every page of q. The window (the call window, or
// the synced window alone) is read in chunks of at most the maximum window
// (whole seconds, inclusive, covering it exactly), oldest first unless
// q.NewestFirst, each swept once per call variant under API v2.2 and paged
// to its end. Each page's Next is where paging goes on after it; q.After
// resumes there. A chunk's rows must add up to its total_records, else the
// sequence ends with ErrIncompleteResponse (ErrShifted when the total
// changed: read the chunk again from page 1). So must its distinct call
// ids: when they fall short (a row repeated, another skipped), the chunk
// is read once more from page 1 (the last page of the first reading has a
// Next back at page 1), and a second reading that falls short too ends
// with ErrIncompleteResponse. The ids are counted only when the iteration
// read the chunk from page 1, not for a chunk resumed past it (q.After
// with Seen > 0). A row may come twice: the consumer de-duplicates by
// Call.ID, and trusts nothing until the sequence ends without an error.
// On failure it yields one (nil, err). The pages of one iteration are one
// pacer sequence.
func (c *Client) HistoryPages(ctx context.Context, q HistoryQuery) iter.Seq2[*HistoryPage, error] {
	return func(yield func(*HistoryPage, error) bool) {
		p, err := c.planHistory(q)
		if err != nil {
			yield(nil, err)
			return
		}
		at, err := c.start(p, q)
		if err != nil {
			yield(nil, err)
			return
		}
		if len(at.chunks) == 0 {
			return // the cursor says every page was read
		}
		// One sequence for the whole iteration, ended however it ends.
		p.seq = c.pacer.Begin(p.priority)
		defer p.seq.End()
		for i := range at.chunks {
			for v := at.variant; v < len(p.variants); v++ {
				if !c.pageChunk(ctx, p, at, i, v, yield) {
					return
				}
				at.variant, at.page, at.seen, at.total = 0, 1, 0, -1
			}
		}
	}
}

// position is where an iteration starts: the chunks still to read, the
// first of them from variant, page, with seen rows of total already read
// (total -1: not known yet).
type position struct {
	chunks                     []span
	variant, page, seen, total int
}

// start returns where q's iteration starts: the first chunk, or q.After.
func (c *Client) start(p *historyPlan, q HistoryQuery) (position, error) {
	cur := q.After
	if cur == (Cursor{}) {
		return position{chunks: chunks(p.primary, c.maxSpan(), q.NewestFirst), page: 1, total: -1}, nil
	}
	if cur.Done {
		return position{}, nil
	}
	from, to := cur.ChunkFrom.Unix(), cur.ChunkTo.Unix()
	switch {
	case cur.ChunkFrom.Nanosecond() != 0 || cur.ChunkTo.Nanosecond() != 0 || from > to:
		return position{}, invalidQuery("the cursor's chunk is not whole seconds, or starts after it ends")
	case from < p.primary.from || to > p.primary.to || to-from > c.maxSpan():
		return position{}, invalidQuery("the cursor's chunk lies outside the query's window or is too wide")
	case cur.NextPage < 0 || cur.Seen < 0 || cur.Total < 0:
		return position{}, invalidQuery("the cursor's page, rows seen or total is negative")
	}
	at := position{chunks: []span{{from, to}}, variant: cur.Variant, page: max(cur.NextPage, 1), seen: cur.Seen, total: cur.Total}
	if at.page == 1 || at.total == 0 {
		at.seen, at.total = 0, -1 // nothing of the chunk read yet, or a cursor saved without its total
		if at.page > 1 {
			at.seen = cur.Seen
		}
	}
	if at.variant < 0 || at.variant >= len(p.variants) {
		// The variants changed since the cursor was saved: read the
		// chunk again from its first variant.
		at.variant, at.page, at.seen, at.total = 0, 1, 0, -1
	}
	// Then the rest of the window, in the query's order.
	switch {
	case q.NewestFirst && from > p.primary.from:
		at.chunks = append(at.chunks, chunks(span{p.primary.from, from - 1}, c.maxSpan(), true)...)
	case !q.NewestFirst && to < p.primary.to:
		at.chunks = append(at.chunks, chunks(span{to + 1, p.primary.to}, c.maxSpan(), false)...)
	}
	return at, nil
}

// pageChunk pages chunk i of at (variant v) to its end; false means stop.
// A reading from page 1 also counts the distinct call ids: when the pages
// end and these differ from total_records (a row repeated, another
// skipped), the chunk is read once more from page 1; a second such
// reading fails. A reading resumed past page 1 cannot know the ids before
// it and is not checked.
func (c *Client) pageChunk(ctx context.Context, p *historyPlan, at position, i, v int, yield func(*HistoryPage, error) bool) bool {
	chunk := at.chunks[i]
	seen, total, first := 0, -1, 1
	if v == at.variant {
		seen, total, first = at.seen, at.total, at.page
	}
	var ids map[string]struct{} // the distinct ids of this reading; nil: not checked
	if first == 1 {
		ids = make(map[string]struct{})
	}
	again := false // this is the second reading
	// after is the cursor once this chunk and variant are read.
	after := Cursor{Done: true}
	switch {
	case v+1 < len(p.variants):
		after = chunk.cursor(v+1, 1, 0, 0)
	case i+1 < len(at.chunks):
		after = at.chunks[i+1].cursor(0, 1, 0, 0)
	}
	for pageNo := first; ; pageNo++ {
		fail := func(kind error, format string, args ...any) bool {
			from, to := chunk.times()
			yield(nil, &Error{Endpoint: historyEndpoint, PageNo: pageNo, StatusCode: http.StatusOK, kind: kind,
				Message: fmt.Sprintf(format, args...) + fmt.Sprintf(" (chunk %s..%s)", from.Format(time.RFC3339), to.Format(time.RFC3339))})
			return false
		}
		if pageNo > c.cfg.maxPages {
			return fail(ErrIncompleteResponse, "more than %d pages, %d of %d rows seen", c.cfg.maxPages, seen, total)
		}
		pg, err := c.fetchHistoryPage(ctx, p, chunk, p.variants[v], pageNo)
		if err != nil {
			yield(nil, err)
			return false
		}
		n := len(pg.Calls)
		switch {
		case total >= 0 && pg.TotalRecords != total:
			return fail(ErrShifted, "total_records changed from %d to %d", total, pg.TotalRecords)
		case n == 0 && seen < pg.TotalRecords:
			return fail(ErrIncompleteResponse, "empty page after %d of %d rows", seen, pg.TotalRecords)
		case seen+n > pg.TotalRecords:
			return fail(ErrIncompleteResponse, "%d rows after %d seen, more than total_records %d", n, seen, pg.TotalRecords)
		}
		total = pg.TotalRecords
		seen += n
		if ids != nil {
			for _, call := range pg.Calls {
				ids[call.ID] = struct{}{}
			}
		}
		incomplete := seen == total && ids != nil && len(ids) != total
		if incomplete && again {
			return fail(ErrIncompleteResponse, "%d distinct call ids for total_records %d, on two readings", len(ids), total)
		}
		switch {
		case incomplete:
			pg.Next = chunk.cursor(v, 1, 0, 0) // read the chunk again
		case seen < total:
			pg.Next = chunk.cursor(v, pageNo+1, seen, total)
		default:
			pg.Next = after
		}
		if !yield(pg, nil) {
			return false
		}
		if seen == total && !incomplete {
			return true
		}
		if incomplete {
			again, seen, total, pageNo = true, 0, -1, 0 // the loop goes on at page 1
			clear(ids)
		}
	}
}

// cursor returns the Cursor of page of s and variant v.
func (s span) cursor(v, page, seen, total int) Cursor {
	from, to := s.times()
	return Cursor{ChunkFrom: from, ChunkTo: to, Variant: v, NextPage: page, Seen: seen, Total: total}
}

func (c *Client) fetchHistoryPage(ctx context.Context, p *historyPlan, chunk span, v CallVariant, pageNo int) (*HistoryPage, error) {
	b := historyBody{
		CallTypes:        p.types,
		EmpNumbers:       p.employees,
		ClientNumbers:    p.clients,
		EmpTags:          p.tags,
		IsExcludeNumbers: true, // Callyzer's default, sent explicitly
		PageNo:           pageNo,
		PageSize:         c.cfg.pageSize,
		CallMethod:       v.Method,
		CallMode:         v.Mode,
	}
	from, to := chunk.from, chunk.to
	if p.byCall {
		b.CallFrom, b.CallTo = &from, &to
		if p.synced != nil {
			b.SyncedFrom, b.SyncedTo = &p.synced.from, &p.synced.to
		}
	} else {
		b.SyncedFrom, b.SyncedTo = &from, &to
	}
	body, err := json.Marshal(b)
	if err != nil {
		return nil, fmt.Errorf("callyzer: encoding the request: %w", err)
	}
	chunkFrom, chunkTo := chunk.times()
	attrs := append([]slog.Attr{slog.Int64("from", from), slog.Int64("to", to)}, p.maskedFilter...)
	if v != (CallVariant{}) {
		attrs = append(attrs, slog.String("call_method", v.Method), slog.String("call_mode", v.Mode))
	}
	r := &request{method: http.MethodPost, endpoint: historyEndpoint, body: body, pageNo: pageNo, priority: p.priority, seq: p.seq, logAttrs: attrs}
	raw, attempts, err := c.do(ctx, r)
	if err != nil {
		return nil, err
	}
	dec, err := decodeHistory(raw, c.cfg.loc)
	if err == nil && len(dec.calls) > c.cfg.pageSize {
		err = fmt.Errorf("%d rows on a page of %d", len(dec.calls), c.cfg.pageSize)
	}
	if err != nil {
		return nil, &Error{Endpoint: historyEndpoint, PageNo: pageNo, StatusCode: http.StatusOK, Attempts: attempts,
			kind: ErrMalformedResponse, Message: phone.MaskText(c.cfg.key.redact(err.Error()))}
	}
	if len(dec.calls) > dec.total {
		return nil, &Error{Endpoint: historyEndpoint, PageNo: pageNo, StatusCode: http.StatusOK, Attempts: attempts,
			kind: ErrIncompleteResponse, Message: fmt.Sprintf("%d rows but total_records %d", len(dec.calls), dec.total)}
	}
	return &HistoryPage{
		Calls:        dec.calls,
		PageNo:       pageNo,
		TotalRecords: dec.total,
		ChunkFrom:    chunkFrom,
		ChunkTo:      chunkTo,
		Attempts:     attempts,
		Variant:      v,
	}, nil
}
