package callyzer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
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
	// row without "id", a field of the wrong type, a body over the
	// WithLimits body cap (the Message says so). A non-2xx answer is never
	// malformed: its status alone classifies it, however its body ends (its
	// Message then says the body was cut).
	ErrMalformedResponse = errors.New("callyzer: malformed response")
	// ErrIncompleteResponse: the pages of a window chunk do not add up: rows
	// seen differ from "total_records", the total changed between pages, an
	// empty page came before the total was reached, the page cap was hit,
	// or the distinct call ids fell short of the total on two readings.
	ErrIncompleteResponse = errors.New("callyzer: incomplete response")
	// ErrShifted: a chunk's total_records changed between its pages (or
	// since the cursor paging resumed from): rows were added or removed
	// while paging, so the pages read may have shifted. Read the chunk again
	// from its first page. Such errors also match ErrIncompleteResponse.
	ErrShifted = errors.New("callyzer: incomplete response: rows shifted while paging")
	// ErrUpstream: a 5xx answer, a transport failure (connection refused or
	// reset, a 2xx body cut short) after the retries, a redirect (3xx: the
	// client never follows one, nor retries it), or any other unexpected
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

	kind      error // one of the sentinels, or nil (for a cancelled context)
	cause     error // the underlying error, if any
	exception bool  // a 400 whose body looks like a server-side exception
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
// underlying cause, and context.DeadlineExceeded for ErrTimeout. A cause
// from the transport or a pacer is a cleaned stand-in, not the original
// error (which may name the key or a number): it matches with errors.Is
// only context.Canceled, context.DeadlineExceeded, os.ErrDeadlineExceeded,
// io.EOF, io.ErrUnexpectedEOF, net.ErrClosed and the connection errnos
// (syscall.ECONNRESET, ...) the original matched, and is a net.Error whose
// Timeout says whether the original timed out. errors.As to *url.Error or
// *net.OpError finds nothing.
func (e *Error) Unwrap() []error {
	errs := make([]error, 0, 4)
	if e.kind != nil {
		errs = append(errs, e.kind)
		if e.kind == ErrTimeout && !errors.Is(e.cause, context.DeadlineExceeded) {
			errs = append(errs, context.DeadlineExceeded)
		}
		if e.kind == ErrShifted {
			errs = append(errs, ErrIncompleteResponse)
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

// sanitizedError stands in for an error of the transport or of a pacer
// whose text may hold the key or a phone number (a *url.Error names the
// URL; a server or proxy may echo the request). It keeps only the cleaned
// text and what errors.Is and a timeout check need: the original error is
// not kept, so no walk down the chain (errors.As to *url.Error, an error
// reporter) reaches the raw text.
type sanitizedError struct {
	text    string
	is      []error // the safeSentinels the original matched
	timeout bool    // the original was a net.Error that timed out
}

// safeSentinels are the errors a sanitizedError still matches with
// errors.Is when the original did: they carry no request data.
var safeSentinels = []error{
	context.Canceled, context.DeadlineExceeded, os.ErrDeadlineExceeded,
	io.EOF, io.ErrUnexpectedEOF, net.ErrClosed,
	syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.ECONNABORTED, syscall.EPIPE,
	syscall.ETIMEDOUT, syscall.EHOSTUNREACH, syscall.ENETUNREACH,
}

func newSanitizedError(text string, orig error) *sanitizedError {
	e := &sanitizedError{text: text}
	for _, s := range safeSentinels {
		if errors.Is(orig, s) {
			e.is = append(e.is, s)
		}
	}
	var ne net.Error
	e.timeout = errors.As(orig, &ne) && ne.Timeout()
	return e
}

func (e *sanitizedError) Error() string { return e.text }

// Is reports whether the original error matched target, for the
// safeSentinels only.
func (e *sanitizedError) Is(target error) bool {
	for _, s := range e.is {
		if s == target {
			return true
		}
	}
	return false
}

// Timeout reports whether the original error was a network timeout, so
// that errors.As(err, &netErr) with a net.Error still answers it.
func (e *sanitizedError) Timeout() bool { return e.timeout }

// Temporary is Timeout; it completes net.Error (whose Temporary is
// deprecated).
func (e *sanitizedError) Temporary() bool { return e.timeout }
