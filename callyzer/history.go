package callyzer

import (
	"context"
	"encoding/json"
	"errors"
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

// filterBody is the filters of /call-log/history and /call-log/summary.
type filterBody struct {
	CallFrom         *int64   `json:"call_from,omitempty"`
	CallTo           *int64   `json:"call_to,omitempty"`
	SyncedFrom       *int64   `json:"synced_from,omitempty"`
	SyncedTo         *int64   `json:"synced_to,omitempty"`
	CallTypes        []string `json:"call_types"`
	EmpNumbers       []string `json:"emp_numbers"`
	ClientNumbers    []string `json:"client_numbers"`
	EmpTags          []string `json:"emp_tags"`
	IsExcludeNumbers bool     `json:"is_exclude_numbers"`
}

// filter is p's filters over w, a chunk of its primary window (by call
// time, with the synced window when set, or by upload time).
func (p *historyPlan) filter(w span) filterBody {
	b := filterBody{
		CallTypes:        p.types,
		EmpNumbers:       p.employees,
		ClientNumbers:    p.clients,
		EmpTags:          p.tags,
		IsExcludeNumbers: true, // Callyzer's default, sent explicitly
	}
	if p.byCall {
		b.CallFrom, b.CallTo = &w.from, &w.to
		if p.synced != nil {
			b.SyncedFrom, b.SyncedTo = &p.synced.from, &p.synced.to
		}
	} else {
		b.SyncedFrom, b.SyncedTo = &w.from, &w.to
	}
	return b
}

// historyBody is the JSON body of /call-log/history.
type historyBody struct {
	filterBody
	PageNo     int    `json:"page_no"`
	PageSize   int    `json:"page_size"`
	CallMethod string `json:"call_method,omitempty"`
	CallMode   string `json:"call_mode,omitempty"`
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

// firstChunk is the chunk of rest read first: its oldest maxSpan seconds
// (to - from <= maxSpan), or, newestFirst, its newest.
func firstChunk(rest span, maxSpan int64, newestFirst bool) span {
	if newestFirst {
		return span{max(rest.to-maxSpan, rest.from), rest.to}
	}
	return span{rest.from, min(rest.from+maxSpan, rest.to)}
}

// restAfter is what is left of rest once chunk, a first chunk of it, is
// read; false when nothing is.
func restAfter(rest, chunk span, newestFirst bool) (span, bool) {
	switch {
	case newestFirst && chunk.from > rest.from:
		return span{rest.from, chunk.from - 1}, true
	case !newestFirst && chunk.to < rest.to:
		return span{chunk.to + 1, rest.to}, true
	}
	return span{}, false
}

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
//
// The client adapts to two limits of the account and keeps what it
// learns for its lifetime, for every later query (logged at Info when
// learned):
//   - Window: a 400 to the first request of a chunk wider than one day,
//     whose body is not a server-side exception, makes it read that chunk
//     again at half the width (from the same end, down to one day); the
//     width that is then answered is its maximum window from then on. A
//     400 at one day is ErrBadRequest, as is a 400 once a page of the
//     chunk was answered. Every 400 counts in the Attempts of the next
//     page, or of the error. A cursor saved for a chunk wider than the
//     client now reads re-reads that chunk's range in narrower chunks,
//     from their first page.
//   - Page size: a page with fewer rows than asked that is not the last
//     (the rows seen stay under total_records) sets the page size to what
//     it held; paging goes on at that size from the rows seen (page
//     seen/size + 1, rows already seen on it left out), and the row and
//     distinct-id checks above still decide. A chunk resumed past page 1
//     (no id count) that gets such a page past page 1 cannot tell which
//     rows the server served (a server paging by its own smaller size
//     answers other rows than asked): its Next goes back to page 1, and
//     the chunk is read again from page 1, counting ids.
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
		if at.done {
			return // the cursor says every page was read
		}
		// One sequence for the whole iteration, ended however it ends.
		p.seq = c.pacer.Begin(p.priority)
		defer p.seq.End()
		it := &iteration{c: c, p: p, newestFirst: q.NewestFirst, yield: yield}
		it.run(ctx, at)
	}
}

// position is where an iteration starts: what is left of the window, its
// first chunk included; the first chunk, to read from variant, with seen
// rows of total already read (total -1: not known yet).
type position struct {
	done                 bool
	rest, first          span
	variant, seen, total int
	size                 int // the page size the cursor was saved at, when smaller than the client's; 0: the client's
}

// start returns where q's iteration starts: the first chunk, or q.After.
func (c *Client) start(p *historyPlan, q HistoryQuery) (position, error) {
	cur := q.After
	fresh := func(rest span) position {
		return position{rest: rest, first: firstChunk(rest, c.maxSpan(), q.NewestFirst), total: -1}
	}
	if cur == (Cursor{}) {
		return fresh(p.primary), nil
	}
	if cur.Done {
		return position{done: true}, nil
	}
	from, to := cur.ChunkFrom.Unix(), cur.ChunkTo.Unix()
	switch {
	case cur.ChunkFrom.Nanosecond() != 0 || cur.ChunkTo.Nanosecond() != 0 || from > to:
		return position{}, invalidQuery("the cursor's chunk is not whole seconds, or starts after it ends")
	case from < p.primary.from || to > p.primary.to || to-from > int64(c.cfg.maxWindow/time.Second):
		return position{}, invalidQuery("the cursor's chunk lies outside the query's window or is too wide")
	case cur.NextPage < 0 || cur.Seen < 0 || cur.Total < 0:
		return position{}, invalidQuery("the cursor's page, rows seen or total is negative")
	}
	// The cursor's chunk, then the rest of the window, in the query's order.
	rest := span{from, p.primary.to}
	if q.NewestFirst {
		rest = span{p.primary.from, to}
	}
	if to-from > c.maxSpan() {
		// Saved before this client learned a narrower window: read the
		// chunk's range again in narrower chunks, from their first page.
		return fresh(rest), nil
	}
	at := position{rest: rest, first: span{from, to}, variant: cur.Variant, seen: cur.Seen, total: cur.Total}
	switch {
	case at.variant < 0 || at.variant >= len(p.variants):
		// The variants changed since the cursor was saved: read the
		// chunk again from its first variant.
		at.variant, at.seen, at.total = 0, 0, -1
	case cur.NextPage <= 1 || cur.Seen == 0:
		at.seen, at.total = 0, -1 // nothing of the chunk read yet, or not said how much
	case cur.Total == 0:
		at.total = -1 // a cursor saved without its total
	}
	if at.seen > 0 && cur.Seen%(cur.NextPage-1) == 0 {
		// Saved at a smaller page size (one learned, or another
		// WithPageSize): go on at that size, where the server's pages
		// start where the cursor says.
		if s := cur.Seen / (cur.NextPage - 1); s < c.pageSize() {
			at.size = s
		}
	}
	return at, nil
}

// iteration is one run of HistoryPages.
type iteration struct {
	c           *Client
	p           *historyPlan
	newestFirst bool
	yield       func(*HistoryPage, error) bool

	refused   int   // 400s to chunks since narrowed, not yet counted on a page or an error
	widest    int64 // the span of the first chunk refused since the last answer; 0: none
	narrowing bool  // the chunk being read is a narrowed one: its first answer sets the window
}

// run reads the chunks from at to the end of the window.
func (it *iteration) run(ctx context.Context, at position) {
	rest, chunk := at.rest, at.first
	v, seen, total, size := at.variant, at.seen, at.total, at.size
	for {
		ok, refused := it.readChunk(ctx, rest, chunk, v, seen, total, size)
		switch {
		case refused != nil:
			// Read the chunk again at half the width, from the same end:
			// a prefix of it in the query's order, so rest stays.
			it.refused += refused.Attempts
			if it.widest == 0 {
				it.widest = chunk.to - chunk.from
			}
			it.narrowing = true
			chunk = firstChunk(chunk, max((chunk.to-chunk.from)/2, minChunkSpan), it.newestFirst)
			v, seen, total, size = 0, 0, -1, 0
			continue
		case !ok:
			return
		}
		var more bool
		if rest, more = restAfter(rest, chunk, it.newestFirst); !more {
			return
		}
		chunk = firstChunk(rest, it.c.maxSpan(), it.newestFirst)
		v, seen, total, size = 0, 0, -1, 0
	}
}

// readChunk reads chunk from variant v0 (with seen0 rows of total0 read,
// at pages of size0 rows when not 0) through its last variant; false means
// stop. refused is a 400 to the chunk's first request that may be about
// its width (not yielded).
func (it *iteration) readChunk(ctx context.Context, rest, chunk span, v0, seen0, total0, size0 int) (ok bool, refused *Error) {
	answered := false
	for v := v0; v < len(it.p.variants); v++ {
		seen, total, size := 0, -1, 0
		if v == v0 {
			seen, total, size = seen0, total0, size0
		}
		if ok, refused := it.pageChunk(ctx, rest, chunk, v, seen, total, size, &answered); !ok {
			return false, refused
		}
	}
	return true, nil
}

// after is the cursor past the last page of chunk's variant v.
func (it *iteration) after(rest, chunk span, v int) Cursor {
	if v+1 < len(it.p.variants) {
		return chunk.cursor(v+1, 1, 0, 0)
	}
	if r, more := restAfter(rest, chunk, it.newestFirst); more {
		return firstChunk(r, it.c.maxSpan(), it.newestFirst).cursor(0, 1, 0, 0)
	}
	return Cursor{Done: true}
}

// fail yields err, with the 400s not yet counted, and stops.
func (it *iteration) fail(err error) {
	if e, ok := errors.AsType[*Error](err); ok {
		e.Attempts += it.refused
		if it.widest > 0 && errors.Is(e, ErrBadRequest) {
			e.Message = joinMessage(e.Message, fmt.Sprintf("refused at every window tried, from %s down to %s",
				days(it.widest), days(minChunkSpan)))
		}
	}
	it.refused, it.widest = 0, 0
	it.yield(nil, err)
}

// days writes a chunk's span (to - from, in seconds) in days: "180d",
// "22.5d".
func days(span int64) string { return fmt.Sprintf("%gd", float64(span)/minChunkSpan) }

// pageChunk pages chunk (variant v) from its row seen (of total) to its
// end, at pages of at most maxSize rows when it is not 0; false means
// stop, with refused set when the chunk's first request got a 400 that
// may be about its width (see HistoryPages). answered says whether a page
// of the chunk came back, in any variant. A reading from
// page 1 also counts the distinct call ids: when the pages end and these
// differ from total_records (a row repeated, another skipped), the chunk
// is read once more from page 1; a second such reading fails. A reading
// resumed past page 1 cannot know the ids before it and is not checked.
func (it *iteration) pageChunk(ctx context.Context, rest, chunk span, v, seen, total, maxSize int, answered *bool) (bool, *Error) {
	c, p := it.c, it.p
	var ids map[string]struct{} // the distinct ids of this reading; nil: not checked
	if seen == 0 {
		ids = make(map[string]struct{})
	}
	again := false // this is the second reading from page 1
	for {
		size := c.pageSize()
		if maxSize > 0 {
			size = min(size, maxSize)
		}
		pageNo, skip := seen/size+1, seen%size // skip: rows of the page already seen
		attempts := 0                          // the requests of the page that fails, once it was answered
		fail := func(kind error, format string, args ...any) (bool, *Error) {
			from, to := chunk.times()
			it.fail(&Error{Endpoint: historyEndpoint, PageNo: pageNo, StatusCode: http.StatusOK, kind: kind, Attempts: attempts,
				Message: fmt.Sprintf(format, args...) + fmt.Sprintf(" (chunk %s..%s)", from.Format(time.RFC3339), to.Format(time.RFC3339))})
			return false, nil
		}
		if pageNo > c.cfg.maxPages {
			return fail(ErrIncompleteResponse, "more than %d pages, %d of %d rows seen", c.cfg.maxPages, seen, total)
		}
		pg, err := c.fetchHistoryPage(ctx, p, chunk, p.variants[v], pageNo, size)
		if err != nil {
			if e, ok := errors.AsType[*Error](err); ok && !*answered && errors.Is(e, ErrBadRequest) && !e.exception &&
				chunk.to-chunk.from > minChunkSpan {
				return false, e
			}
			it.fail(err)
			return false, nil
		}
		if !*answered {
			*answered = true
			if it.narrowing {
				c.learnWindow(ctx, chunk.to-chunk.from)
			}
			it.narrowing, it.widest = false, 0
		}
		attempts = pg.Attempts
		n := len(pg.Calls)
		fresh := pg.Calls[min(skip, n):]
		k := len(fresh)
		if total >= 0 && pg.TotalRecords != total {
			return fail(ErrShifted, "total_records changed from %d to %d", total, pg.TotalRecords)
		}
		total = pg.TotalRecords
		// Fewer rows than asked on a page that is not the last: Callyzer
		// serves smaller pages. A reading that counts no ids cannot tell
		// where a smaller page past page 1 came from: it starts over.
		short := n < size && seen+k != total
		restart := short && ids == nil && pageNo > 1
		if short && seen+k < total {
			c.learnPageSize(ctx, n)
		}
		switch {
		case restart:
		case n == 0 && seen < total:
			return fail(ErrIncompleteResponse, "empty page after %d of %d rows", seen, total)
		case k == 0 && seen < total:
			return fail(ErrIncompleteResponse, "no new rows on a page after %d of %d rows", seen, total)
		case seen+k > total:
			return fail(ErrIncompleteResponse, "%d rows after %d seen, more than total_records %d", k, seen, total)
		}
		seen += k
		pg.Calls = fresh
		if ids != nil {
			for _, call := range fresh {
				ids[call.ID] = struct{}{}
			}
		}
		incomplete := seen == total && ids != nil && len(ids) != total
		if incomplete && again {
			return fail(ErrIncompleteResponse, "%d distinct call ids for total_records %d, on two readings", len(ids), total)
		}
		switch {
		case incomplete || restart:
			pg.Next = chunk.cursor(v, 1, 0, 0) // read the chunk again
		case seen < total:
			next := c.pageSize() // learned from this page, maybe
			if maxSize > 0 {
				next = min(next, maxSize)
			}
			pg.Next = chunk.cursor(v, seen/next+1, seen, total)
		default:
			pg.Next = it.after(rest, chunk, v)
		}
		pg.Attempts += it.refused
		it.refused = 0
		if !it.yield(pg, nil) {
			return false, nil
		}
		switch {
		case restart:
			seen, total, maxSize, ids = 0, -1, 0, make(map[string]struct{})
		case incomplete:
			again, seen, total, maxSize = true, 0, -1, 0
			clear(ids)
		case seen == total:
			return true, nil
		}
	}
}

// cursor returns the Cursor of page of s and variant v.
func (s span) cursor(v, page, seen, total int) Cursor {
	from, to := s.times()
	return Cursor{ChunkFrom: from, ChunkTo: to, Variant: v, NextPage: page, Seen: seen, Total: total}
}

// fetchHistoryPage fetches page pageNo of chunk (variant v) at size rows a
// page.
func (c *Client) fetchHistoryPage(ctx context.Context, p *historyPlan, chunk span, v CallVariant, pageNo, size int) (*HistoryPage, error) {
	b := historyBody{filterBody: p.filter(chunk), PageNo: pageNo, PageSize: size, CallMethod: v.Method, CallMode: v.Mode}
	from, to := chunk.from, chunk.to
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
	if err == nil && len(dec.calls) > size {
		err = fmt.Errorf("%d rows on a page of %d", len(dec.calls), size)
	}
	if err != nil {
		return nil, &Error{Endpoint: historyEndpoint, PageNo: pageNo, StatusCode: http.StatusOK, Attempts: attempts,
			kind: ErrMalformedResponse, Message: phone.MaskText(c.cfg.key.redact(err.Error()))}
	}
	if len(dec.calls) > dec.total {
		return nil, &Error{Endpoint: historyEndpoint, PageNo: pageNo, StatusCode: http.StatusOK, Attempts: attempts,
			kind: ErrIncompleteResponse, Message: fmt.Sprintf("%d rows but total_records %d", len(dec.calls), dec.total)}
	}
	c.checkZone(ctx, p, chunk, dec.calls)
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

// checkZone logs at Warn, once in the client's life, a row of an upload
// window (no call window) whose synced_at read in the client's location
// lies outside that window: Callyzer filters by the true instant, so the
// account's zone is likely another.
func (c *Client) checkZone(ctx context.Context, p *historyPlan, chunk span, calls []Call) {
	if p.byCall || c.learned.zoneWarned.Load() {
		return
	}
	for _, call := range calls {
		at := call.SyncedAt
		if at.IsZero() || (at.Unix() >= chunk.from && at.Unix() <= chunk.to) {
			continue
		}
		if c.learned.zoneWarned.CompareAndSwap(false, true) {
			from, to := chunk.times()
			c.cfg.logger.LogAttrs(ctx, slog.LevelWarn, "callyzer: a row's synced_at, read in the client's time zone, lies outside the upload window asked; "+
				"the account's zone may be another (WithLocation; Calibrate tells)",
				slog.String("location", c.cfg.loc.String()), slog.String("id", call.ID), slog.Time("synced_at", at),
				slog.Time("from", from), slog.Time("to", to))
		}
		return
	}
}
