package callhistoryhttp

import (
	"errors"
	"time"

	"github.com/leadcalls/leadcalls/callyzer"
)

// callyzerRetryAfter returns the Retry-After of the *callyzer.Error that err
// wraps, when Callyzer sent one.
func callyzerRetryAfter(err error) (time.Duration, bool) {
	var cerr *callyzer.Error
	if errors.As(err, &cerr) && cerr.RetryAfter > 0 {
		return cerr.RetryAfter, true
	}
	return 0, false
}
