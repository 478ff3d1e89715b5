// Package callyzer is the HTTP client of the Callyzer call-tracking API: the
// call history (/call-log/history) and the employee roster (/employee/get).
// It knows nothing of leads or storage.
//
// # Usage
//
//	c, err := callyzer.NewClient(apiKey) // options: WithLocation, WithCallVariants, ...
//	if err != nil { ... }
//	q := callyzer.HistoryQuery{
//		CallFrom:      time.Now().AddDate(0, -6, 0),
//		CallTo:        time.Now(),
//		ClientNumbers: []string{"+48601234567"},
//		Priority:      pacing.Interactive,
//	}
//	var calls []callyzer.Call
//	for page, err := range c.HistoryPages(ctx, q) {
//		if err != nil { return err } // nothing fetched so far is complete
//		calls = append(calls, page.Calls...)
//	}
//	// de-duplicate calls by ID: a call may arrive on two pages.
//
// HistoryPages splits a window wider than the maximum (WithMaxWindow, 180
// days) into chunks with whole-second inclusive bounds that do not overlap,
// pages each chunk to its end, and checks that the rows, and their
// distinct ids, add up to total_records (a chunk whose ids fall short is
// read once more from page 1). With both a call window and a synced
// window, the call window is chunked and the synced window goes whole with
// every request, so a synced window over the maximum is refused
// (ErrInvalidQuery) before anything is sent. When Callyzer refuses a
// chunk's window (a 400 that is not a server-side exception) or serves
// fewer rows a page than asked, the client halves the window (down to a
// day) or pages by what it served, and keeps the narrower window or
// smaller page for its lifetime (see HistoryPages). WithCallVariants
// switches the client to API v2.2, where each chunk is swept once per
// (call_method, call_mode) combination given; without it the client speaks
// v2.1. Employees returns the roster.
//
// Numbers go out in Callyzer's "48-601234567" form (client_numbers in the
// form WithClientNumberForm sets, the one the account's filter matches)
// and come back in E.164 ("+48601234567"). call_date and call_time are
// read as a wall clock in the account's zone (WithLocation, default
// Europe/Warsaw; on a machine without a zone database, import time/tzdata
// in the main package).
// synced_at and modified_at are read the same way; a trailing zone
// abbreviation such as IST or CET is ignored (abbreviations are ambiguous),
// while "UTC"/"GMT" and numeric offsets are honoured.
//
// # Calibration
//
// Calibrate learns, in at most 25 read-only requests through the client's
// pacer, what the account does with the facts public clients only guess:
// the client_numbers form it matches, several numbers in one request, the
// widest window, the largest page size, where /employee/get reads its
// paging, the UTC offset of its rows' times and the calls it holds without
// a country code. The Calibration holds each finding (zero, with a reason
// in Unknown, when the account cannot tell), its "name: value" lines and
// the options to set on a new client (go run ./examples/callyzercheck
// prints them). Set wrongly, the client fails in a way that names the
// cause or adapts and logs it: another number form empties every history
// (the callhistory Refresher refuses such an answer) or gets 400; a
// narrower window or a smaller page is learned at Info; employee pages
// that add up to more than total_records name the paging place; an upload
// whose synced_at, read in WithLocation's zone, lies outside the upload
// window asked is logged at Warn once.
//
// # Pacing
//
// Callyzer allows one request per two seconds per key and answers parallel
// requests with 429. Every request therefore takes the slot of a
// pacing.Pacer, by the rules stated in package pacing; the Client keeps
// its side of them: the pages of one HistoryPages iteration (or one
// Employees call) form one sequence of the query's Priority, begun before
// the first request and ended however the iteration ends; a request holds
// its slot until its body is read, and its release reports when it was
// written (net/http/httptrace's WroteRequest); retries wait outside the
// slot; a 429's Retry-After (capped by WithLimits) holds the pacer.
//
// Clients of the same key and host in one process share one pacing.New
// pacer by default (starts at least WithInterval apart, default 2s),
// whatever their intervals; when these differ, the pacer keeps the largest
// (the key is kept only as a salted hash). WithPacer supplies another, such
// as a pgpacing pacer shared by replicas.
//
// # Errors
//
// Every failure of a request is an *Error (StatusCode, Message, RetryAfter,
// Attempts, ...) whose kind is tested with errors.Is: ErrUnauthorized (401,
// 403), ErrRateLimited (429, or a pacer's hold past the caller's deadline,
// with the rest of the hold as RetryAfter), ErrTimeout (also matches
// context.DeadlineExceeded), ErrMalformedResponse (a 200 that is not what
// the contract promises: a missing or null result, a data envelope, a row
// without id, a field of the wrong type, a body over the WithLimits cap),
// ErrIncompleteResponse (rows that do not add up to total_records, distinct
// ids that fall short of it on two readings, the page cap; ErrShifted when
// the total changed while paging), ErrUpstream (5xx,
// transport failures, a 3xx), ErrBadRequest (400). A non-2xx answer is classified
// by its status alone, even when its body is cut short or over the cap (a
// 401 with a broken body is still ErrUnauthorized, one request); what was
// read of the body only feeds Message. A cancelled context gives an *Error
// that matches context.Canceled and none of the kinds. A query refused
// before sending wraps ErrInvalidQuery.
//
// Retries (WithMaxRetries, exponential backoff from WithRetryDelays) cover
// transport failures, attempt timeouts, 5xx except 501, and 429 after its
// Retry-After (seconds or an HTTP date); a Retry-After over the WithLimits cap
// or past the caller's deadline fails at once. A 400 whose body looks like a
// server-side exception (it mentions SQLSTATE, Exception, a stack trace,
// Traceback, ORA-, "fatal error", a deadlock) is retried once. 401 and 403
// are never retried, and nothing is retried once the context is done.
//
// The client never follows a redirect, also with a host's *http.Client
// (WithHTTPClient; a copy of it is used, with a CheckRedirect that stops):
// the key and the body go to the base URL only, and a 3xx is ErrUpstream,
// not retried.
//
// The API key appears only in the Authorization header. It is held in a
// type that redacts itself however it is printed, logged or encoded; a
// Client prints (every fmt verb, and slog's text handler) without it and
// encodes to JSON as {}; error messages and log lines have it removed even
// when the server echoes it, and phone numbers in them are masked
// ("+48 601 *** 567"). This holds for every link of an error's
// chain: a transport or pacer error is replaced by a cleaned stand-in that
// keeps only what errors.Is needs (context.Canceled, DeadlineExceeded, the
// connection errnos, a net.Error timeout), so errors.As to *url.Error finds
// nothing. Debug log lines (WithLogger) carry the endpoint, page, attempt,
// status and duration of every request.
//
// # In a host's tests
//
// Point the client at a fake (callyzer/callyzertest, or an httptest
// server) with WithBaseURL (plain http is allowed for a loopback host
// only), or hand it a transport with WithHTTPClient
// (httpmock.NewMockTransport works; never the global httpmock.Activate).
// WithInterval(0), WithRetryDelays(0, 0) and WithPacer(pacing.New(0)) keep
// it from waiting and keep parallel tests on one host apart. Inside a
// testing/synctest bubble, give it a pacer made in the bubble and an
// in-memory transport: the process-wide pacer and real sockets do not
// belong to the bubble.
package callyzer
