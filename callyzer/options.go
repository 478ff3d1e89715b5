package callyzer

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/leadcalls/leadcalls/callyzer/pacing"
)

// CallVariant is one (call_method, call_mode) combination of API v2.2.
// The methods Callyzer is known to send are "PhoneCall" and "WhatsAppCall";
// the modes, "Voice" and "Video".
type CallVariant struct {
	Method string // call_method, such as "PhoneCall"
	Mode   string // call_mode, such as "Voice"
}

// The defaults of the options.
const (
	defaultBaseURL        = "https://api1.callyzer.co/api/v2.1"
	defaultLocation       = "Europe/Warsaw"
	defaultPageSize       = 100
	maxPageSize           = 100
	defaultMaxWindow      = 180 * 24 * time.Hour
	defaultInterval       = 2 * time.Second
	defaultAttemptTimeout = 30 * time.Second
	defaultMaxRetries     = 3
	defaultRetryBase      = 500 * time.Millisecond
	defaultRetryMax       = 10 * time.Second
	defaultMaxRetryAfter  = 30 * time.Second
	defaultMaxBodyBytes   = 8 << 20
	defaultMaxPages       = 100_000 // a backfill chunk of ten million calls
)

// Option configures a Client. Options check their input; NewClient returns
// the first option error.
type Option func(*config) error

type config struct {
	key            secret
	baseURL        string
	baseURLSet     bool
	variants       []CallVariant // set: API v2.2; nil: v2.1
	httpClient     *http.Client
	attemptTimeout time.Duration
	maxRetries     int
	pageSize       int
	maxWindow      time.Duration
	loc            *time.Location
	logger         *slog.Logger
	pacer          pacing.Pacer
	interval       time.Duration
	retryBase      time.Duration
	retryMax       time.Duration
	maxRetryAfter  time.Duration
	maxBodyBytes   int64
	maxPages       int
	pagingInQuery  bool       // /employee/get paging goes in the query string
	clientForm     numberForm // of client_numbers
}

// v22 reports whether the client speaks API v2.2 (WithCallVariants).
func (c *config) v22() bool { return c.variants != nil }

// WithBaseURL sets the API base URL, version path included: https for any
// host, plain http only for a loopback host (localhost, 127.0.0.0/8, ::1),
// such as a fake in tests, since the key travels in every request.
// Default: https://api1.callyzer.co/api/v2.1, or its /api/v2.2 twin with
// WithCallVariants.
func WithBaseURL(raw string) Option {
	return func(c *config) error {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return errors.New("callyzer: WithBaseURL: want an absolute http(s) URL")
		}
		if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			return errors.New("callyzer: WithBaseURL: no user info, query or fragment allowed")
		}
		if u.Scheme == "http" && !isLoopback(u.Hostname()) {
			return errors.New("callyzer: WithBaseURL: plain http only for a loopback host (localhost, 127.0.0.0/8, ::1); use https")
		}
		c.baseURL = strings.TrimRight(raw, "/")
		c.baseURLSet = true
		return nil
	}
}

// isLoopback reports whether host is localhost or a loopback address.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// WithCallVariants makes the client speak API v2.2: every history request
// carries one call_method and one call_mode, and HistoryPages sweeps each
// window chunk once per variant, in the order given. Without it the client
// speaks v2.1, which has no variants.
func WithCallVariants(variants ...CallVariant) Option {
	return func(c *config) error {
		if len(variants) == 0 {
			return errors.New("callyzer: WithCallVariants: at least one variant")
		}
		seen := make(map[CallVariant]bool, len(variants))
		for _, v := range variants {
			if v.Method == "" || v.Mode == "" {
				return errors.New("callyzer: WithCallVariants: method and mode are required")
			}
			if seen[v] {
				return fmt.Errorf("callyzer: WithCallVariants: duplicate %s/%s", v.Method, v.Mode)
			}
			seen[v] = true
		}
		c.variants = append([]CallVariant(nil), variants...)
		return nil
	}
}

// WithHTTPClient sets the HTTP client. The Client uses a shallow copy of
// hc that never follows a redirect (CheckRedirect returns
// http.ErrUseLastResponse); hc itself is not changed. Default: a client of
// our own whose Timeout is the attempt timeout (never http.DefaultClient).
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) error {
		if hc == nil {
			return errors.New("callyzer: WithHTTPClient: nil client")
		}
		c.httpClient = hc
		return nil
	}
}

// WithAttemptTimeout bounds each HTTP attempt, reading the body included.
// Default: 30s.
func WithAttemptTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return errors.New("callyzer: WithAttemptTimeout: want > 0")
		}
		c.attemptTimeout = d
		return nil
	}
}

// WithMaxRetries sets how many times a request is retried after the first
// attempt, 0..100; 0 disables retries. Default: 3.
func WithMaxRetries(n int) Option {
	return func(c *config) error {
		if n < 0 || n > 100 {
			return errors.New("callyzer: WithMaxRetries: want 0..100")
		}
		c.maxRetries = n
		return nil
	}
}

// WithPageSize sets the rows asked for per page, 1..100 (Callyzer's
// maximum). Default: 100. Once Callyzer serves fewer rows than asked on a
// page that is not the last, the client asks for that many (see
// HistoryPages).
func WithPageSize(n int) Option {
	return func(c *config) error {
		if n < 1 || n > maxPageSize {
			return fmt.Errorf("callyzer: WithPageSize: want 1..%d", maxPageSize)
		}
		c.pageSize = n
		return nil
	}
}

// WithMaxWindow sets the widest window one request may cover (to - from).
// Wider windows are split into chunks. Whole seconds, at least one.
// Default: 180 days, Callyzer's limit. Once Callyzer refuses a chunk with
// a 400, the client halves it and keeps the width it then answers (see
// HistoryPages).
func WithMaxWindow(d time.Duration) Option {
	return func(c *config) error {
		if d < time.Second || d%time.Second != 0 {
			return errors.New("callyzer: WithMaxWindow: want whole seconds, at least 1s")
		}
		c.maxWindow = d
		return nil
	}
}

// WithLocation sets the Callyzer account's time zone, in which call_date,
// call_time, synced_at and modified_at are read. Default: Europe/Warsaw.
func WithLocation(loc *time.Location) Option {
	return func(c *config) error {
		if loc == nil {
			return errors.New("callyzer: WithLocation: nil location")
		}
		c.loc = loc
		return nil
	}
}

// WithLogger sets the logger of the per-request debug lines. Default:
// slog.Default().
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return errors.New("callyzer: WithLogger: nil logger")
		}
		c.logger = l
		return nil
	}
}

// WithPacer sets the pacer that hands out request slots, such as a
// pgpacing pacer shared by replicas. Default: the process-wide pacing.New
// pacer of this API key and host (see NewClient).
func WithPacer(p pacing.Pacer) Option {
	return func(c *config) error {
		if p == nil {
			return errors.New("callyzer: WithPacer: nil pacer")
		}
		c.pacer = p
		return nil
	}
}

// WithInterval sets the least time between request starts of the default
// pacer. 0 (for tests) keeps one request in flight but adds no gap.
// Default: 2s, Callyzer's documented limit.
func WithInterval(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return errors.New("callyzer: WithInterval: want >= 0")
		}
		c.interval = d
		return nil
	}
}

// WithRetryDelays sets the exponential backoff between retries: the first
// delay base, growing to at most max (jittered). 0, 0 retries at once (for
// tests). Default: 500ms, 10s.
func WithRetryDelays(base, max time.Duration) Option {
	return func(c *config) error {
		if base < 0 || max < base {
			return errors.New("callyzer: WithRetryDelays: want 0 <= base <= max")
		}
		c.retryBase, c.retryMax = base, max
		return nil
	}
}

// WithLimits sets the client's caps against a misbehaving server:
// maxPages, the pages fetched for one window chunk (and one v2.2 variant)
// and for the employee roster, against a server that never stops paging
// (hitting it is ErrIncompleteResponse; default 100,000, a 180-day chunk
// of ten million calls); maxBodyBytes, a response body (a larger 2xx body
// is ErrMalformedResponse, a larger non-2xx body keeps its status's kind;
// default 8 MiB); maxRetryAfter, the Retry-After the client is willing to
// wait (a 429 asking for longer fails at once with ErrRateLimited; default
// 30s). A zero argument leaves that limit as it is (its default, unless an
// earlier WithLimits set it); a negative one is an error.
func WithLimits(maxPages int, maxBodyBytes int64, maxRetryAfter time.Duration) Option {
	return func(c *config) error {
		if maxPages < 0 || maxBodyBytes < 0 || maxRetryAfter < 0 {
			return errors.New("callyzer: WithLimits: want >= 0 (0 keeps the limit as it is)")
		}
		if maxPages > 0 {
			c.maxPages = maxPages
		}
		if maxBodyBytes > 0 {
			c.maxBodyBytes = maxBodyBytes
		}
		if maxRetryAfter > 0 {
			c.maxRetryAfter = maxRetryAfter
		}
		return nil
	}
}

// WithClientNumberForm sets the form in which the numbers of
// HistoryQuery.ClientNumbers go out in client_numbers, the one the
// account's filter matches (the calibration tells which): "dashed",
// 48-601234567 (the default, as in Callyzer's lead API); "national",
// 601234567; "e164", +48601234567; "digits", 48601234567. Another form is
// an error. Callyzer does not name a wrong form: its filter matches
// nothing, so every history comes back empty, or it answers 400
// (ErrBadRequest). Employee numbers (emp_numbers) keep the dashed form
// Callyzer documents.
func WithClientNumberForm(form string) Option {
	return func(c *config) error {
		f, ok := numberForms[form]
		if !ok {
			return errors.New("callyzer: WithClientNumberForm: unknown form (want dashed, national, e164 or digits)")
		}
		c.clientForm = f
		return nil
	}
}

// WithEmployeePagingInQuery sends the paging of /employee/get (page_no,
// page_size) in the query string instead of the JSON body. Default: in the
// body.
func WithEmployeePagingInQuery() Option {
	return func(c *config) error {
		c.pagingInQuery = true
		return nil
	}
}
