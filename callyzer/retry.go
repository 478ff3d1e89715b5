package callyzer

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v4"
)

// retryInput is everything decideRetry looks at.
type retryInput struct {
	retryable        bool // the failure may pass on retry (transport, 5xx but 501, 429, exception 400)
	exception        bool // a 400 whose body looks like a server-side exception
	exceptionRetried bool // such a 400 was retried already in this request
	retriesDone      int
	maxRetries       int
	rateLimited      bool
	retryAfter       time.Duration
	hasRetryAfter    bool
	maxRetryAfter    time.Duration
	backoff          time.Duration // the backoff's next delay
	now              time.Time
	deadline         time.Time
	hasDeadline      bool
}

type retryDecision struct {
	retry  bool
	wait   time.Duration
	reason string // why not, when it is worth telling
}

// decideRetry is the one place that decides whether a failed attempt is
// retried and after how long. Never retried: 401/403, 501, other 4xx, an
// oversized body, a cancelled context (do checks that before calling). A
// 400 that looks like a server-side exception is retried at most once. A 429
// waits its Retry-After (or the backoff without one); a Retry-After over the
// cap, or a wait that would pass the caller's deadline, fails at once.
func decideRetry(in retryInput) retryDecision {
	if !in.retryable || in.retriesDone >= in.maxRetries {
		return retryDecision{}
	}
	if in.exception && in.exceptionRetried {
		return retryDecision{}
	}
	wait := in.backoff
	if in.rateLimited && in.hasRetryAfter {
		if in.retryAfter > in.maxRetryAfter {
			return retryDecision{reason: fmt.Sprintf("Retry-After %s is over the %s cap", in.retryAfter, in.maxRetryAfter)}
		}
		wait = in.retryAfter
	}
	if in.hasDeadline && !in.now.Add(wait).Before(in.deadline) {
		return retryDecision{reason: fmt.Sprintf("waiting %s would pass the deadline", wait)}
	}
	return retryDecision{retry: true, wait: wait}
}

// newBackoff returns the exponential backoff of one request's retries.
// With base 0 every delay is 0.
func newBackoff(base, maxDelay time.Duration) *backoff.ExponentialBackOff {
	return backoff.NewExponentialBackOff(
		backoff.WithInitialInterval(base),
		backoff.WithMaxInterval(maxDelay),
		backoff.WithMultiplier(2),
		backoff.WithRandomizationFactor(0.2),
		backoff.WithMaxElapsedTime(0),
	)
}

// maxRetryAfterValue bounds a parsed Retry-After so arithmetic on it cannot
// overflow; anything this long is over any sensible cap anyway.
const maxRetryAfterValue = 365 * 24 * time.Hour

// parseRetryAfter reads a Retry-After header: delay-seconds (a non-negative
// integer) or an HTTP date, relative to now. A date in the past is 0. It
// reports false for an empty or unreadable value. The result is never
// negative and at most a year.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if v[0] >= '0' && v[0] <= '9' {
		for i := 0; i < len(v); i++ {
			if v[i] < '0' || v[i] > '9' {
				return 0, false
			}
		}
		secs, err := strconv.ParseUint(v, 10, 64)
		if err != nil || secs > uint64(maxRetryAfterValue/time.Second) {
			return maxRetryAfterValue, true // all digits: the only error is a range error
		}
		return time.Duration(secs) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	d := t.Sub(now)
	switch {
	case d < 0:
		return 0, true
	case d > maxRetryAfterValue:
		return maxRetryAfterValue, true
	}
	return d, true
}

// exceptionMarkers are what a 400 body that is really a server-side crash
// tends to contain (PHP/Laravel, SQL drivers, Oracle, Python, Java).
var exceptionMarkers = []string{
	"sqlstate", "exception", "stack trace", "stacktrace", "traceback", "ora-",
	"fatal error", "syntax error at or near", "deadlock",
}

// looksLikeException reports whether a 400 body looks like a server-side
// exception rather than a complaint about our request.
func looksLikeException(body []byte) bool {
	if len(body) > 64<<10 {
		body = body[:64<<10]
	}
	s := strings.ToLower(string(body))
	for _, m := range exceptionMarkers {
		if strings.Contains(s, m) {
			return true
		}
	}
	return false
}
