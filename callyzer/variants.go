package callyzer

import "slices"

// CallVariants returns the (call_method, call_mode) combinations of
// WithCallVariants, which the client sweeps under API v2.2, in order, as a
// copy the caller may change; nil without WithCallVariants (API v2.1). A
// query limited to one of them names it in HistoryQuery.Variant.
func (c *Client) CallVariants() []CallVariant {
	return slices.Clone(c.cfg.variants)
}
