package callyzer

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// The kinds of failure. Every error the Client returns is an *Error (or, for
// a refused query, an error wrapping ErrInvalidQuery); test its kind with
// errors.Is.
var (
	// ErrUnauthorized: Callyzer answered 401 (bad or revoked key) or 403
	// (subscription expired or not allowed). Never retried.
	ErrUnauthorized = errors.New("callyzer: unauthorized")
	// ErrRateLimited: Callyzer answered 429 and the retries ran out, the
	// Retry-After was over the cap, or waiting would pass the deadline.
	ErrRateLimited = errors.New("callyzer: rate limited")
	// ErrTimeout: an attempt timed out and the retries ran out, or the
	// caller's deadline passed. Errors of this kind also match
	// context.DeadlineExceeded.
	ErrTimeout = errors.New("callyzer: timed out")
	// ErrMalformedResponse: a 2xx answer that is not what the contract
	// promises: not JSON, a missing or null "result", a "data" envelope, a
	// row without "id", a field of the wrong type, an oversized body.
	ErrMalformedResponse = errors.New("callyzer: malformed response")
	// ErrResponseTooLarge: the body was over the WithMaxBodyBytes cap. Such
	// errors also match ErrMalformedResponse.
	ErrResponseTooLarge = errors.New("callyzer: response body too large")
	// ErrIncompleteResponse: the pages of a window chunk do not add up: rows
	// seen differ from "total_records", the total changed between pages, an
	// empty page came before the total was reached, or the page cap was hit.
	ErrIncompleteResponse = errors.New("callyzer: incomplete response")
	// ErrUpstream: a 5xx answer, a transport failure (connection refused or
	// reset, a body cut short) after the retries, or any other unexpected
	// status.
	ErrUpstream = errors.New("callyzer: upstream failure")
	// ErrBadRequest: Callyzer answered 400.
	ErrBadRequest = errors.New("callyzer: bad request")
	// ErrInvalidQuery: the client refused the query before sending it (no
	// window, from after to, a window over the maximum, a bad page number, a
	// number not in E.164 form, ...). Returned wrapped, not as an *Error.
	ErrInvalidQuery = errors.New("callyzer: invalid query")
)

// Error is a failed Callyzer request. It never contains the API key; numbers
// the server echoes in Message are masked.
type Error struct {
	Endpoint   string        // "/call-log/history", "/employee/get"
	PageNo     int           // the page asked for, 0 when not paged
	StatusCode int           // HTTP status; 0 when no answer was read
	Message    string        // the server's "message", or a short excerpt of the body, or what our check found
	RetryAfter time.Duration // the server's Retry-After, when it sent one
	Attempts   int           // HTTP requests made, retries included

	kind  error // one of the sentinels, or nil (for a cancelled context)
	cause error // the underlying error, if any
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("callyzer: ")
	b.WriteString(e.Endpoint)
	if e.PageNo > 0 {
		fmt.Fprintf(&b, " page %d", e.PageNo)
	}
	if e.kind != nil {
		b.WriteString(": ")
		b.WriteString(strings.TrimPrefix(e.kind.Error(), "callyzer: "))
	}
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, " (HTTP %d)", e.StatusCode)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.cause != nil {
		b.WriteString(": ")
		b.WriteString(e.cause.Error())
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " [%d attempts]", e.Attempts)
	}
	return b.String()
}

// Unwrap returns the error's kind (a sentinel of this package), the
// underlying cause, and context.DeadlineExceeded for ErrTimeout.
func (e *Error) Unwrap() []error {
	errs := make([]error, 0, 4)
	if e.kind != nil {
		errs = append(errs, e.kind)
		if e.kind == ErrTimeout && !errors.Is(e.cause, context.DeadlineExceeded) {
			errs = append(errs, context.DeadlineExceeded)
		}
		if e.kind == ErrResponseTooLarge {
			errs = append(errs, ErrMalformedResponse)
		}
	}
	if e.cause != nil {
		errs = append(errs, e.cause)
	}
	return errs
}

// invalidQuery returns an error wrapping ErrInvalidQuery.
func invalidQuery(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidQuery, fmt.Sprintf(format, args...))
}

// sanitizedError is an error whose text has been cleaned of the key and of
// phone numbers, keeping the original for errors.Is/As.
type sanitizedError struct {
	text string
	err  error
}

func (e *sanitizedError) Error() string { return e.text }
func (e *sanitizedError) Unwrap() error { return e.err }
