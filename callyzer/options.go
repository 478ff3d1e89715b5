package callyzer

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/leadcalls/leadcalls/callyzer/pacing"
)

// APIVersion selects the Callyzer API version.
type APIVersion string

// The API versions the client speaks.
const (
	V21 APIVersion = "v2.1" // the default
	V22 APIVersion = "v2.2" // sends call_method and call_mode
)

// CallVariant is one (call_method, call_mode) combination of API v2.2, such
// as {"PhoneCall", "Voice"} or {"WhatsAppCall", "Video"}.
type CallVariant struct {
	Method string // call_method: PhoneCall, WhatsAppCall
	Mode   string // call_mode: Voice, Video
}

// The v2.2 call methods and modes Callyzer is known to use.
const (
	MethodPhoneCall    = "PhoneCall"
	MethodWhatsAppCall = "WhatsAppCall"
	ModeVoice          = "Voice"
	ModeVideo          = "Video"
)

// EmployeePaging says where /employee/get paging goes.
type EmployeePaging int

const (
	// EmployeePagingBody sends page_no and page_size in the JSON body (the default).
	EmployeePagingBody EmployeePaging = iota
	// EmployeePagingQuery sends page_no and page_size in the query string.
	EmployeePagingQuery
)

// Defaults.
const (
	DefaultBaseURL        = "https://api1.callyzer.co/api/v2.1"
	DefaultLocation       = "Europe/Warsaw"
	DefaultPageSize       = 100
	MaxPageSize           = 100
	DefaultMaxWindow      = 180 * 24 * time.Hour
	DefaultInterval       = 2 * time.Second
	DefaultAttemptTimeout = 30 * time.Second
	DefaultMaxRetries     = 3
	DefaultRetryBase      = 500 * time.Millisecond
	DefaultRetryMax       = 10 * time.Second
	DefaultMaxRetryAfter  = 30 * time.Second
	DefaultMaxBodyBytes   = 8 << 20
	DefaultMaxPages       = 1000
)

// defaultV22Variants is what v2.2 sweeps when WithCallVariants is not used.
var defaultV22Variants = []CallVariant{{MethodPhoneCall, ModeVoice}}

// Option configures a Client. Options check their input; NewClient returns
// the first option error.
type Option func(*config) error

type config struct {
	key            secret
	baseURL        string
	baseURLSet     bool
	version        APIVersion
	variants       []CallVariant
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
	employeePaging EmployeePaging
	excludeNumbers bool
}

// WithBaseURL sets the API base URL, version path included. Default:
// DefaultBaseURL, or its /api/v2.2 twin under WithAPIVersion(V22).
func WithBaseURL(raw string) Option {
	return func(c *config) error {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return errors.New("callyzer: WithBaseURL: want an absolute http(s) URL")
		}
		if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			return errors.New("callyzer: WithBaseURL: no user info, query or fragment allowed")
		}
		c.baseURL = strings.TrimRight(raw, "/")
		c.baseURLSet = true
		return nil
	}
}

// WithAPIVersion selects the API version. Default: V21. Under V22 every
// history request carries one call_method and one call_mode, and a window is
// swept once per variant (see WithCallVariants).
func WithAPIVersion(v APIVersion) Option {
	return func(c *config) error {
		if v != V21 && v != V22 {
			return fmt.Errorf("callyzer: WithAPIVersion: unknown version %q", string(v))
		}
		c.version = v
		return nil
	}
}

// WithCallVariants sets the (call_method, call_mode) combinations that
// HistoryPages sweeps under API v2.2, in order. Default: PhoneCall/Voice.
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

// WithHTTPClient sets the HTTP client. Default: a client of our own whose
// Timeout is the attempt timeout (never http.DefaultClient).
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
// Default: DefaultAttemptTimeout.
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
// attempt. 0 disables retries. Default: DefaultMaxRetries.
func WithMaxRetries(n int) Option {
	return func(c *config) error {
		if n < 0 || n > 100 {
			return errors.New("callyzer: WithMaxRetries: want 0..100")
		}
		c.maxRetries = n
		return nil
	}
}

// WithPageSize sets the rows asked for per page, 1..MaxPageSize. Default:
// DefaultPageSize.
func WithPageSize(n int) Option {
	return func(c *config) error {
		if n < 1 || n > MaxPageSize {
			return fmt.Errorf("callyzer: WithPageSize: want 1..%d", MaxPageSize)
		}
		c.pageSize = n
		return nil
	}
}

// WithMaxWindow sets the widest window one request may cover (to - from).
// Wider windows are split into chunks. Whole seconds, at least one.
// Default: DefaultMaxWindow (180 days).
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
// pacer. 0 (for tests) keeps one request in flight but adds no gap. Default:
// DefaultInterval (2s, Callyzer's documented limit).
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
// tests). Default: DefaultRetryBase, DefaultRetryMax.
func WithRetryDelays(base, max time.Duration) Option {
	return func(c *config) error {
		if base < 0 || max < base {
			return errors.New("callyzer: WithRetryDelays: want 0 <= base <= max")
		}
		c.retryBase, c.retryMax = base, max
		return nil
	}
}

// WithMaxRetryAfter caps the Retry-After the client is willing to wait. A
// 429 asking for longer fails at once with ErrRateLimited. Default:
// DefaultMaxRetryAfter.
func WithMaxRetryAfter(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return errors.New("callyzer: WithMaxRetryAfter: want >= 0")
		}
		c.maxRetryAfter = d
		return nil
	}
}

// WithMaxBodyBytes caps a response body; a larger body is an error matching
// ErrResponseTooLarge and ErrMalformedResponse. Default: DefaultMaxBodyBytes.
func WithMaxBodyBytes(n int64) Option {
	return func(c *config) error {
		if n < 1 {
			return errors.New("callyzer: WithMaxBodyBytes: want >= 1")
		}
		c.maxBodyBytes = n
		return nil
	}
}

// WithMaxPages caps the pages fetched for one window chunk (and one v2.2
// variant), and for the employee roster, against a server that never stops
// paging. Hitting it is ErrIncompleteResponse. Default: DefaultMaxPages.
func WithMaxPages(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return errors.New("callyzer: WithMaxPages: want >= 1")
		}
		c.maxPages = n
		return nil
	}
}

// WithEmployeePaging says where /employee/get paging goes. Default:
// EmployeePagingBody.
func WithEmployeePaging(p EmployeePaging) Option {
	return func(c *config) error {
		if p != EmployeePagingBody && p != EmployeePagingQuery {
			return errors.New("callyzer: WithEmployeePaging: unknown value")
		}
		c.employeePaging = p
		return nil
	}
}

// WithExcludeNumbers sets the is_exclude_numbers flag sent with every
// history request (Callyzer leaves out the numbers the account excluded).
// Default: true, Callyzer's own default, sent explicitly.
func WithExcludeNumbers(exclude bool) Option {
	return func(c *config) error {
		c.excludeNumbers = exclude
		return nil
	}
}
