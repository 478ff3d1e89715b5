package callhistory

import (
	"errors"
	"fmt"
)

// The outcomes of Refresh and History other than success. Errors returned by
// the use cases wrap exactly one of these; test with errors.Is, and turn any
// of them into the user's message with Message.
var (
	// ErrForbidden: the actor may not view the lead (or there is no actor).
	ErrForbidden = errors.New("callhistory: not allowed to view the call history")
	// ErrLeadNotFound: no lead has the requested id.
	ErrLeadNotFound = errors.New("callhistory: lead not found")
	// ErrInvalidPhone: the lead's phone number is missing or not a valid number.
	ErrInvalidPhone = errors.New("callhistory: invalid phone number")
	// ErrCallyzerAuth: Callyzer refused the API key (401 or 403).
	ErrCallyzerAuth = errors.New("callhistory: Callyzer authorisation error")
	// ErrTimeout: the refresh deadline passed, or Callyzer did not answer in time.
	ErrTimeout = errors.New("callhistory: timed out")
	// ErrRateLimited: Callyzer kept answering 429 after the retries.
	ErrRateLimited = errors.New("callhistory: Callyzer rate limit")
	// ErrUpstream: any other Callyzer failure (5xx, malformed or incomplete answers).
	ErrUpstream = errors.New("callhistory: Callyzer request failed")
	// ErrSuspiciousAnswer: an answer would have taken most of the lead's
	// listed calls out at once (Config.Guard); nothing was written. It
	// wraps ErrUpstream.
	ErrSuspiciousAnswer = fmt.Errorf("%w: an answer that would take most calls out of the list", ErrUpstream)
	// ErrStore: the store failed. A refresh's window was either replaced
	// whole or not at all: a failed ReplaceWindow changed nothing, while a
	// failure reading the result back (Calls, LastSynced) comes after the
	// replacement committed, and the next History shows the new state. A
	// sync pass keeps the pages it committed before the failure.
	ErrStore = errors.New("callhistory: storing the call history failed")
	// ErrInternal: a bug of ours or of a plug-in (a panic while fetching,
	// mapping, storing or reading the calls back) stopped the work. It
	// never leaves a window half-written: a panic before or inside the
	// atomic ReplaceWindow leaves the store as it was, one in the read-back
	// comes after the replacement committed.
	ErrInternal = errors.New("callhistory: internal error")
)
