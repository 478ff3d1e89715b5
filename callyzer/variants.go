package callyzer

import "slices"

// CallVariants returns the (call_method, call_mode) combinations the client
// sweeps under API v2.2 (WithCallVariants, or the default PhoneCall/Voice),
// in the configured order, as a copy the caller may change. Under v2.1 it
// returns nil. A consumer that pages with HistoryPage names one of them in
// HistoryQuery.Variant when there is more than one.
func (c *Client) CallVariants() []CallVariant {
	if c.cfg.version != V22 {
		return nil
	}
	return slices.Clone(c.cfg.variants)
}
