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
	if p.clients, err = ccNumbers(q.ClientNumbers); err != nil {
		return nil, err
	}
	if p.employees, err = ccNumbers(q.EmployeeNumbers); err != nil {
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
	case c.cfg.version != V22 && q.Variant != (CallVariant{}):
		return nil, invalidQuery("a call variant needs API v2.2")
	case c.cfg.version != V22:
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

func ccNumbers(e164 []string) ([]string, error) {
	out := make([]string, 0, len(e164))
	for _, n := range e164 {
		cc, err := toCCNumber(n)
		if err != nil {
			return nil, err
		}
		out = append(out, cc)
	}
	return out, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// chunks splits s into consecutive spans of at most maxSpan seconds
// (to - from <= maxSpan), oldest first, covering s exactly without overlap.
func chunks(s span, maxSpan int64) []span {
	var out []span
	for from := s.from; ; {
		to := s.to
		if to-from > maxSpan {
			to = from + maxSpan
		}
		out = append(out, span{from, to})
		if to == s.to {
			return out
		}
		from = to + 1
	}
}

func (c *Client) maxSpan() int64 { return int64(c.cfg.maxWindow / time.Second) }

// HistoryPage fetches page pageNo (1-based) of q. q's window (the call
// window, or the synced window when only that is set) must span at most the
// maximum window (WithMaxWindow); use HistoryPages for wider ones. Under API
// v2.2, q.Variant must name the combination unless exactly one is
// configured. The page is checked on its own (envelope, ids, types, no more
// rows than the page size or than total_records); the checks across pages
// are HistoryPages'.
func (c *Client) HistoryPage(ctx context.Context, q HistoryQuery, pageNo int) (*HistoryPage, error) {
	p, err := c.planHistory(q)
	if err != nil {
		return nil, err
	}
	if pageNo < 1 {
		return nil, invalidQuery("page number %d, want >= 1", pageNo)
	}
	if p.primary.to-p.primary.from > c.maxSpan() {
		return nil, invalidQuery("the window spans more than %s; use HistoryPages", c.cfg.maxWindow)
	}
	if len(p.variants) != 1 {
		return nil, invalidQuery("name one call variant (HistoryQuery.Variant) for a single page under v2.2")
	}
	p.seq = c.pacer.Begin(p.priority)
	defer p.seq.End()
	return c.fetchHistoryPage(ctx, p, p.primary, p.variants[0], pageNo)
}

// HistoryPages yields every page of q: the window (the call window, or the
// synced window when only that is set) is split into chunks of at most the
// maximum window, with whole-second inclusive bounds that do not overlap and
// cover exactly [from, to] (from rounded up, to rounded down), oldest first;
// under API v2.2 each chunk is swept once per call variant; and each chunk
// (and variant) is paged to its end.
//
// The rows of a chunk must add up to its total_records: a total that changes
// between pages, a page with more rows than remain, an empty page before the
// total is reached, or more than WithMaxPages pages ends the sequence with
// an error wrapping ErrIncompleteResponse. A row that appears on two pages
// (the pages shifted while paging) counts towards the total and is yielded
// twice: the consumer de-duplicates by Call.ID. Pages are yielded as they
// arrive, so a consumer must not act on them until the sequence has ended
// without an error.
//
// When both windows are set, the call window is chunked and the synced
// window is sent unchanged with every request, so the synced window must
// span at most the maximum window: a wider one is refused with
// ErrInvalidQuery before anything is sent. ChunkFrom and ChunkTo of a page
// are the chunk's bounds, in UTC.
//
// On failure the sequence yields one (nil, err) and stops. It never yields a
// nil page with a nil error.
//
// The iteration's requests form one pacer sequence (see package pacing),
// begun before the first request and ended when the iteration ends,
// however it ends: an Interactive iteration keeps the slot between its
// pages, and goes before those begun after it.
func (c *Client) HistoryPages(ctx context.Context, q HistoryQuery) iter.Seq2[*HistoryPage, error] {
	return func(yield func(*HistoryPage, error) bool) {
		p, err := c.planHistory(q)
		if err != nil {
			yield(nil, err)
			return
		}
		// One sequence for the whole iteration, ended however it ends.
		p.seq = c.pacer.Begin(p.priority)
		defer p.seq.End()
		for _, chunk := range chunks(p.primary, c.maxSpan()) {
			for _, v := range p.variants {
				if !c.pageChunk(ctx, p, chunk, v, yield) {
					return
				}
			}
		}
	}
}

// pageChunk pages one chunk (and variant) to its end; false means stop.
func (c *Client) pageChunk(ctx context.Context, p *historyPlan, chunk span, v CallVariant, yield func(*HistoryPage, error) bool) bool {
	seen, total := 0, -1
	for pageNo := 1; ; pageNo++ {
		incomplete := func(format string, args ...any) bool {
			from, to := chunk.times()
			yield(nil, &Error{Endpoint: historyEndpoint, PageNo: pageNo, StatusCode: http.StatusOK, kind: ErrIncompleteResponse,
				Message: fmt.Sprintf(format, args...) + fmt.Sprintf(" (chunk %s..%s)", from.Format(time.RFC3339), to.Format(time.RFC3339))})
			return false
		}
		if pageNo > c.cfg.maxPages {
			return incomplete("more than %d pages, %d of %d rows seen", c.cfg.maxPages, seen, total)
		}
		pg, err := c.fetchHistoryPage(ctx, p, chunk, v, pageNo)
		if err != nil {
			yield(nil, err)
			return false
		}
		n := len(pg.Calls)
		switch {
		case total >= 0 && pg.TotalRecords != total:
			return incomplete("total_records changed from %d to %d", total, pg.TotalRecords)
		case n == 0 && seen < pg.TotalRecords:
			return incomplete("empty page after %d of %d rows", seen, pg.TotalRecords)
		case seen+n > pg.TotalRecords:
			return incomplete("%d rows after %d seen, more than total_records %d", n, seen, pg.TotalRecords)
		}
		total = pg.TotalRecords
		seen += n
		if !yield(pg, nil) {
			return false
		}
		if seen == total {
			return true
		}
	}
}

// History yields every call of q, page by page, as HistoryPages fetches
// them (a call repeated on two pages is yielded twice). On failure it yields
// one (Call{}, err) and stops; calls yielded before are not to be trusted
// as complete.
func (c *Client) History(ctx context.Context, q HistoryQuery) iter.Seq2[Call, error] {
	return func(yield func(Call, error) bool) {
		for pg, err := range c.HistoryPages(ctx, q) {
			if err != nil {
				yield(Call{}, err)
				return
			}
			for _, call := range pg.Calls {
				if !yield(call, nil) {
					return
				}
			}
		}
	}
}

func (c *Client) fetchHistoryPage(ctx context.Context, p *historyPlan, chunk span, v CallVariant, pageNo int) (*HistoryPage, error) {
	b := historyBody{
		CallTypes:        p.types,
		EmpNumbers:       p.employees,
		ClientNumbers:    p.clients,
		EmpTags:          p.tags,
		IsExcludeNumbers: c.cfg.excludeNumbers,
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
			kind: ErrMalformedResponse, Message: maskDigitRuns(c.cfg.key.redact(err.Error()))}
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
