package callyzer

import "context"

// HistoryPage fetches page pageNo (1-based) of q's only chunk, checked on
// its own (envelope, ids, types, no more rows than the page size or than
// total_records). The tests use it to send exactly one request.
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
	return c.fetchHistoryPage(ctx, p, p.primary, p.variants[0], pageNo, c.pageSize())
}
