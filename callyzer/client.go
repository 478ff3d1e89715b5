package callyzer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/leadcalls/leadcalls/callyzer/pacing"
	"github.com/leadcalls/leadcalls/internal/phone"
)

// Client calls the Callyzer API for one API key. It is safe for concurrent
// use; every request goes through the key's pacer.
type Client struct {
	cfg     config
	hc      *http.Client
	pacer   pacing.Pacer
	learned *learned
}

// learned is what a client found out about the account while it ran (see
// HistoryPages): kept for its lifetime and shared by all its queries.
type learned struct {
	window     atomic.Int64 // the widest chunk span, in seconds, seen to pass after a 400; 0: none
	pageSize   atomic.Int64 // the page size Callyzer served, when smaller than asked; 0: none
	zoneWarned atomic.Bool  // a row outside its window was logged (checkZone)
}

// minChunkSpan is the narrowest chunk (to - from, in seconds) that the
// adaptive window halves a refused chunk to: one day.
const minChunkSpan = 24 * 60 * 60

// maxSpan is the widest chunk (to - from, in seconds) the client asks for:
// WithMaxWindow's, or narrower once a 400 taught it so.
func (c *Client) maxSpan() int64 {
	s := int64(c.cfg.maxWindow / time.Second)
	if w := c.learned.window.Load(); w > 0 && w < s {
		return w
	}
	return s
}

// pageSize is the page size the client asks for: WithPageSize's, or the
// smaller one Callyzer served.
func (c *Client) pageSize() int {
	if n := c.learned.pageSize.Load(); n > 0 {
		return int(n)
	}
	return c.cfg.pageSize
}

// learnWindow keeps span as the widest chunk, when it is narrower than
// the one kept, and logs it.
func (c *Client) learnWindow(ctx context.Context, span int64) {
	for {
		cur := c.learned.window.Load()
		if cur > 0 && cur <= span {
			return
		}
		if c.learned.window.CompareAndSwap(cur, span) {
			c.cfg.logger.LogAttrs(ctx, slog.LevelInfo, "callyzer: Callyzer refused a wider window (400); this client now reads in narrower chunks",
				slog.Duration("max_window", time.Duration(span)*time.Second), slog.Duration("configured", c.cfg.maxWindow))
			return
		}
	}
}

// learnPageSize keeps n as the page size, the first time Callyzer served
// fewer rows than asked on a page that was not the last, and logs it.
func (c *Client) learnPageSize(ctx context.Context, n int) {
	if n < 1 || n >= c.cfg.pageSize {
		return
	}
	if c.learned.pageSize.CompareAndSwap(0, int64(n)) {
		c.cfg.logger.LogAttrs(ctx, slog.LevelInfo, "callyzer: Callyzer served fewer rows than asked; this client now asks for pages of that size",
			slog.Int("page_size", n), slog.Int("configured", c.cfg.pageSize))
	}
}

// NewClient returns a Client for apiKey, configured by opts. See the With*
// options for the defaults. Unless WithPacer is given, Clients of the same
// key and host in one process share one pacer, so the key's budget
// (one request in flight, one start per interval) holds across them; when
// they ask for different intervals (WithInterval), the shared pacer keeps
// the largest.
func NewClient(apiKey string, opts ...Option) (*Client, error) {
	if strings.TrimSpace(apiKey) == "" {
		return nil, errors.New("callyzer: NewClient: empty API key")
	}
	for _, r := range apiKey {
		if r > unicode.MaxASCII || !unicode.IsPrint(r) || r == ' ' {
			return nil, errors.New("callyzer: NewClient: the API key must be printable ASCII without spaces")
		}
	}
	cfg := config{
		key:            newSecret(apiKey),
		attemptTimeout: defaultAttemptTimeout,
		maxRetries:     defaultMaxRetries,
		pageSize:       defaultPageSize,
		maxWindow:      defaultMaxWindow,
		interval:       defaultInterval,
		retryBase:      defaultRetryBase,
		retryMax:       defaultRetryMax,
		maxRetryAfter:  defaultMaxRetryAfter,
		maxBodyBytes:   defaultMaxBodyBytes,
		maxPages:       defaultMaxPages,
	}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&cfg); err != nil {
			return nil, err
		}
	}
	if !cfg.baseURLSet {
		cfg.baseURL = defaultBaseURL
		if cfg.v22() {
			cfg.baseURL = strings.TrimSuffix(defaultBaseURL, "v2.1") + "v2.2"
		}
	}
	if cfg.loc == nil {
		loc, err := time.LoadLocation(defaultLocation)
		if err != nil {
			return nil, fmt.Errorf("callyzer: NewClient: loading %s: %w", defaultLocation, err)
		}
		cfg.loc = loc
	}
	if cfg.logger == nil {
		cfg.logger = slog.Default()
	}
	c := &Client{cfg: cfg, hc: noRedirects(cfg.httpClient, cfg.attemptTimeout), pacer: cfg.pacer, learned: &learned{}}
	if c.pacer == nil {
		u, _ := url.Parse(cfg.baseURL)
		c.pacer = sharedPacer(cfg.key, u.Host, cfg.interval)
	}
	return c, nil
}

// noRedirects returns a shallow copy of hc (nil: a client of our own with
// the attempt timeout) that never follows a redirect, so the key and the
// body go nowhere but the base URL; hc itself is not changed. A 3xx then
// reaches statusOutcome as it is.
func noRedirects(hc *http.Client, timeout time.Duration) *http.Client {
	c := http.Client{Timeout: timeout}
	if hc != nil {
		c = *hc
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

// Format prints a description of the client without its key, whatever
// the verb and flags. (A Client has no exported fields: encoding/json
// gives {}.)
func (c *Client) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, c.describe()) }

func (c *Client) describe() string {
	version := "v2.1"
	if c.cfg.v22() {
		version = "v2.2"
	}
	return fmt.Sprintf("callyzer.Client{base: %s, version: %s, key: %s}", c.cfg.baseURL, version, redacted)
}

// request is one logical API request; do sends it, with retries.
type request struct {
	method   string
	endpoint string     // "/call-log/history"
	query    url.Values // nil for none
	body     []byte
	pageNo   int
	priority pacing.Priority
	seq      pacing.Sequence // the pacer sequence it belongs to
	logAttrs []slog.Attr     // already masked
}

// outcome is what one HTTP attempt produced.
type outcome struct {
	body       []byte
	err        *Error        // nil on a 2xx answer
	retryable  bool          // the failure is one that may pass on retry
	exception  bool          // a 400 whose body looks like a server-side exception
	retryAfter time.Duration // parsed Retry-After
	hasRA      bool          // Retry-After was present and valid
}

// do sends r, retrying as decideRetry says, and returns the body of the 2xx
// answer and the number of HTTP attempts made.
func (c *Client) do(ctx context.Context, r *request) ([]byte, int, error) {
	bo := newBackoff(c.cfg.retryBase, c.cfg.retryMax)
	attempts := 0
	exceptionRetried := false
	for {
		if err := ctx.Err(); err != nil {
			return nil, attempts, c.ctxError(r, attempts, err)
		}
		attempts++
		out := c.attempt(ctx, r, attempts)
		if out.err == nil {
			return out.body, attempts, nil
		}
		out.err.Attempts = attempts
		if out.err.kind == nil { // the caller's context ended
			return nil, attempts, out.err
		}
		deadline, hasDeadline := ctx.Deadline()
		d := decideRetry(retryInput{
			retryable:        out.retryable,
			exception:        out.exception,
			exceptionRetried: exceptionRetried,
			retriesDone:      attempts - 1,
			maxRetries:       c.cfg.maxRetries,
			rateLimited:      out.err.StatusCode == http.StatusTooManyRequests,
			retryAfter:       out.retryAfter,
			hasRetryAfter:    out.hasRA,
			maxRetryAfter:    c.cfg.maxRetryAfter,
			backoff:          bo.NextBackOff(),
			now:              time.Now(),
			deadline:         deadline,
			hasDeadline:      hasDeadline,
		})
		if !d.retry {
			if d.reason != "" {
				out.err.Message = joinMessage(out.err.Message, d.reason)
			}
			out.err.exception = out.exception
			return nil, attempts, out.err
		}
		if out.exception {
			exceptionRetried = true
		}
		if err := sleep(ctx, d.wait); err != nil {
			return nil, attempts, c.ctxError(r, attempts, err)
		}
	}
}

func joinMessage(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// ctxError is the error for a caller's context that ended: ErrTimeout for a
// deadline, an unkinded *Error wrapping context.Canceled otherwise.
func (c *Client) ctxError(r *request, attempts int, err error) *Error {
	e := &Error{Endpoint: r.endpoint, PageNo: r.pageNo, Attempts: attempts, cause: err}
	if errors.Is(err, context.DeadlineExceeded) {
		e.kind = ErrTimeout
	}
	return e
}

// heldError is the error of a pacer's Acquire that a Hold keeps back past
// the caller's deadline (see package pacing).
type heldError interface {
	error
	HeldUntil() time.Time
}

// attempt makes one HTTP request: it waits for the pacer's slot, sends,
// reads the body through the size cap and only then frees the slot. A
// caller whose ctx ends while the request is out gets its error at once,
// but the request runs on to its answer (or the attempt timeout) and only
// then frees the slot, its answer discarded: Callyzer is still working on
// it, and a next request sent meanwhile would risk a 429.
func (c *Client) attempt(ctx context.Context, r *request, n int) outcome {
	release, err := r.seq.Acquire(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return outcome{err: c.ctxError(r, n, ctx.Err())}
		}
		if held, ok := errors.AsType[heldError](err); ok {
			return outcome{err: &Error{Endpoint: r.endpoint, PageNo: r.pageNo, Attempts: n, kind: ErrRateLimited,
				Message: "held back by an earlier 429 past the deadline", RetryAfter: time.Until(held.HeldUntil()), cause: err}}
		}
		return outcome{err: &Error{Endpoint: r.endpoint, PageNo: r.pageNo, kind: ErrUpstream,
			Message: "pacer refused the request", cause: c.sanitize(err)}}
	}
	done := make(chan outcome, 1)
	go func() { done <- c.send(ctx, r, n, release) }()
	select {
	case out := <-done:
		return out
	case <-ctx.Done():
		return outcome{err: c.ctxError(r, n, ctx.Err())}
	}
}

// send is attempt's request, holding the slot until its answer is read:
// it runs on a context of its own, bounded by the attempt timeout; ctx
// only names the caller for the log and the error.
func (c *Client) send(ctx context.Context, r *request, n int, release func(time.Time)) outcome {
	// The interval counts from when the request went out (after a dial, a
	// TLS handshake), not from the grant: release says when that was.
	var wrote atomic.Pointer[time.Time]
	defer func() {
		var sent time.Time // zero: never written
		if at := wrote.Load(); at != nil {
			sent = *at
		}
		release(sent)
	}()

	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.cfg.attemptTimeout)
	defer cancel()
	actx = httptrace.WithClientTrace(actx, &httptrace.ClientTrace{
		WroteRequest: func(httptrace.WroteRequestInfo) {
			at := time.Now()
			wrote.Store(&at)
		},
	})
	u := c.cfg.baseURL + r.endpoint
	if len(r.query) > 0 {
		u += "?" + r.query.Encode()
	}
	req, err := http.NewRequestWithContext(actx, r.method, u, bytes.NewReader(r.body))
	if err != nil {
		return outcome{err: &Error{Endpoint: r.endpoint, PageNo: r.pageNo, kind: ErrInvalidQuery, cause: c.sanitize(err)}}
	}
	req.Header.Set("Authorization", "Bearer "+c.cfg.key.reveal())
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "leadcalls-callyzer")

	start := time.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		c.logAttempt(ctx, r, n, 0, time.Since(start), err)
		return c.transportOutcome(ctx, actx, r, 0, err)
	}
	body, err := readCapped(resp.Body, c.cfg.maxBodyBytes)
	_ = resp.Body.Close()
	c.logAttempt(ctx, r, n, resp.StatusCode, time.Since(start), err)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		// The status decides; a body cut short or over the cap only
		// shortens the message.
		return c.statusOutcome(r, resp, body, err)
	}
	if err != nil {
		return c.transportOutcome(ctx, actx, r, resp.StatusCode, err)
	}
	return outcome{body: body}
}

func (c *Client) logAttempt(ctx context.Context, r *request, n, status int, took time.Duration, err error) {
	if !c.cfg.logger.Enabled(ctx, slog.LevelDebug) {
		return
	}
	attrs := make([]slog.Attr, 0, 8+len(r.logAttrs))
	attrs = append(attrs,
		slog.String("endpoint", r.endpoint),
		slog.Int("page", r.pageNo),
		slog.Int("attempt", n),
		slog.Int("status", status),
		slog.Duration("duration", took),
		slog.String("priority", priorityName(r.priority)),
	)
	if err != nil {
		attrs = append(attrs, slog.String("error", c.sanitize(err).Error()))
	}
	attrs = append(attrs, r.logAttrs...)
	c.cfg.logger.LogAttrs(ctx, slog.LevelDebug, "callyzer request", attrs...)
}

func priorityName(p pacing.Priority) string {
	if p == pacing.Interactive {
		return "interactive"
	}
	return "background"
}

var errBodyTooLarge = errors.New("body over the size cap")

// readCapped reads all of rc, failing with errBodyTooLarge past limit bytes.
// On failure it still returns what it read, at most limit bytes.
func readCapped(rc io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return b, err
	}
	if int64(len(b)) > limit {
		return b[:limit], errBodyTooLarge
	}
	return b, nil
}

// transportOutcome classifies a failure to get an answer, or to read a
// 2xx answer's body.
func (c *Client) transportOutcome(ctx, actx context.Context, r *request, status int, err error) outcome {
	e := &Error{Endpoint: r.endpoint, PageNo: r.pageNo, StatusCode: status}
	if errors.Is(err, errBodyTooLarge) {
		e.kind = ErrMalformedResponse
		e.Message = fmt.Sprintf("body over the cap of %d bytes (WithLimits)", c.cfg.maxBodyBytes)
		return outcome{err: e}
	}
	if ctx.Err() != nil {
		return outcome{err: c.ctxError(r, 0, ctx.Err())}
	}
	e.cause = c.sanitize(err)
	var ne net.Error
	if errors.Is(actx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) ||
		(errors.As(err, &ne) && ne.Timeout()) {
		e.kind = ErrTimeout
		e.Message = fmt.Sprintf("no complete answer within %s", c.cfg.attemptTimeout)
	} else {
		e.kind = ErrUpstream
		e.Message = "transport failure"
	}
	return outcome{err: e, retryable: true}
}

// statusOutcome classifies a non-2xx answer by its status alone. body is
// what was read of it; readErr, when the body was cut short or over the
// size cap, is only noted in the message.
func (c *Client) statusOutcome(r *request, resp *http.Response, body []byte, readErr error) outcome {
	code := resp.StatusCode
	e := &Error{Endpoint: r.endpoint, PageNo: r.pageNo, StatusCode: code, Message: c.errorMessage(body)}
	switch {
	case errors.Is(readErr, errBodyTooLarge):
		e.Message = joinMessage(e.Message, fmt.Sprintf("(body over %d bytes, cut)", c.cfg.maxBodyBytes))
	case readErr != nil:
		e.Message = joinMessage(e.Message, "(body cut short)")
	}
	out := outcome{err: e}
	switch {
	case code == http.StatusBadRequest:
		e.kind = ErrBadRequest
		out.exception = looksLikeException(body)
		out.retryable = out.exception
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		e.kind = ErrUnauthorized
	case code == http.StatusTooManyRequests:
		e.kind = ErrRateLimited
		out.retryable = true
		out.retryAfter, out.hasRA = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
		if out.hasRA {
			e.RetryAfter = out.retryAfter
			c.pacer.Hold(time.Now().Add(min(out.retryAfter, c.cfg.maxRetryAfter)))
		}
	case code >= 300 && code < 400:
		e.kind = ErrUpstream
		redirect := redirectMessage(code, resp.Header.Get("Location"))
		e.Message = joinMessage(phone.MaskText(c.cfg.key.redact(redirect)), e.Message)
	case code == http.StatusNotImplemented:
		e.kind = ErrUpstream
	case code >= 500 && code < 600:
		e.kind = ErrUpstream
		out.retryable = true
	default:
		e.kind = ErrUpstream
	}
	return out
}

// redirectMessage says that a 3xx was refused, and where it pointed (the
// host only: the rest of the URL may carry data).
func redirectMessage(code int, location string) string {
	to := ""
	if u, err := url.Parse(location); err == nil && u.Host != "" {
		to = " to " + u.Host
	}
	return fmt.Sprintf("redirect refused (HTTP %d %s%s): the client never follows a redirect", code, http.StatusText(code), to)
}

// errorMessage takes the "message" of a JSON error body, or else a short
// excerpt of the body, with the key redacted and digit runs masked.
func (c *Client) errorMessage(body []byte) string {
	var m struct {
		Message string `json:"message"`
	}
	text := ""
	if json.Unmarshal(body, &m) == nil && m.Message != "" {
		text = m.Message
	} else {
		text = string(body)
	}
	text = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(text, "?"))
	text = strings.Join(strings.Fields(text), " ")
	text = phone.MaskText(c.cfg.key.redact(text))
	if len(text) > 200 {
		text = strings.ToValidUTF8(text[:200], "") + "…"
	}
	return text
}

// sanitize returns an error with err's text, the key redacted and digit
// runs masked, that does not keep err itself: it matches only the
// sentinels of safeSentinels that err matched, and is a net.Error that
// times out when err was one.
func (c *Client) sanitize(err error) error {
	if err == nil {
		return nil
	}
	return newSanitizedError(phone.MaskText(c.cfg.key.redact(err.Error())), err)
}
