// Package callyzertest is an in-process fake of the Callyzer API, like
// net/http/httptest: seeded calls and employees, bearer auth, paging with
// total_records, the window limit, the pacing rule, latency, and every fault
// of the API contract, injectable per request or
// per page. It implements the wire contract on its own, without package
// callyzer's decoding, so that it catches client bugs.
//
// # Usage
//
//	ds := callyzertest.Generate(1, callyzertest.GenerateConfig{End: now})
//	srv := callyzertest.NewServer(t, callyzertest.Options{
//		Calls:     ds.Calls,
//		Employees: ds.Employees,
//		Now:       clock.Now,             // pacing decisions use this clock
//		Interval:  50 * time.Millisecond, // 0: no pacing; DefaultInterval: the real 2 s
//	})
//	client, _ := callyzer.NewClient(srv.APIKey(), callyzer.WithBaseURL(srv.URL))
//	srv.Inject(callyzertest.Fault{Kind: callyzertest.FaultStatus, Status: 503, Page: 2})
//	// ... use client ...
//	reqs := srv.Requests() // what the client sent, and what it got
//
// The server answers POST PathHistory (call_from/call_to or
// synced_from/synced_to, call_types, emp_numbers and client_numbers in
// "48-601234567" form, emp_tags, duration_les_than/duration_grt_than,
// call_method/call_mode, page_no, page_size ≤ MaxPageSize) with the matching
// calls newest first, and GET (or POST) PathEmployees with the roster, its
// paging read from the JSON body or, when the body has none, the query
// string. Times are written as wall-clock time in Options.Location
// (Europe/Warsaw by default). Options.Format and the per-call quirk fields
// of Call switch between the alternatives of the contract's [code] and
// [guess] facts: duration as a number or a string, synced_at with or
// without a zone abbreviation, empty strings or null. A Call may be held
// without a country code (ClientCountryCode ""): it is written with
// client_country_code "" and bare national digits, and only a FormNational
// entry matches it.
//
// Other switches of Options play the account's own rules, which public
// clients only guess at:
//   - ClientNumberForms: the forms of a client_numbers entry that match
//     ("48-601234567", "601234567", "+48601234567", "48601234567"); an
//     entry in another form gets an empty answer, as from an account whose
//     filter expects another form (with the dashed form alone, the
//     default, another form gets 400).
//   - IgnoreClientNumbers: the filter is ignored; FirstClientNumberOnly:
//     only the first of several numbers is honoured.
//   - MaxWindow: wider windows get 400 with a plain message (180 days by
//     default).
//   - PageSizeCap: pages hold at most that many rows, paged by the cap,
//     under an honest total_records; with PagesBySizeAsked, pages start
//     where the size asked says and are cut to the cap (a broken account).
//   - EmployeePaging: /employee/get reads its paging from the body or the
//     query string (the default), or only one of them.
//
// Pacing (Options.Interval) refuses, with 429 and Retry-After in whole
// seconds, a request that starts less than Interval after the previous
// accepted start or while an accepted request is still in flight. Decisions
// use Options.Now, so a test can drive them with its own clock.
//
// # Errors
//
// Answers the fake gives on its own, each with a JSON {"message": ...} body:
//   - 401 when Authorization is not "Bearer " + APIKey.
//   - 429 with Retry-After when the pacing rule is broken.
//   - 400 for a request body that is not JSON of the right types, has an
//     unknown field (unless Options.LenientBody), lacks both windows, has a
//     window wider than Options.MaxWindow (180 days by default: "The date
//     range should not be greater than 180 days.") or reversed, an
//     unknown call type, a number not in "cc-number" form (a client
//     number in another form passes when Options.ClientNumberForms is not
//     FormDashed alone), page_no < 1, page_size outside 1..100, or, in
//     V22 mode, no call_method/call_mode.
//   - 404 for other paths, 405 for other methods.
//
// Everything else is an injected Fault: see FaultKind for what each does.
// A fault fires on the request it selects (Fault.Request, Fault.Page,
// Fault.Path), once, Times times, or Always. Faults are looked up in the
// order injected. One with a request number (Fault.Request) is looked up
// before the auth, pacing and routing checks, so it fires on exactly that
// request: if the fake refuses it (401, 429, 404, 405), a fault that
// answers on its own (Status, DBException, Garbage, Hang, Reset, Stall,
// Truncate, Redirect) answers instead of the refusal, and one that alters
// the normal page or the data set is spent without effect (Request.Fault
// still names it). A fault
// without a request number is looked up only for a request that passes
// those checks: it waits for the next such request. A request body the
// fake finds invalid (400) takes faults too; those that answer on their
// own answer before the 400.
//
// # Inspecting what a client sent
//
// Requests lists every request with its method, path, query, headers (the
// Authorization value redacted), body, arrival time and the status sent;
// RequestCount, InFlight, MaxInFlight and MinGap tell how many requests a
// client made, whether it kept one in flight and how it paced their
// starts. The server uses real loopback sockets, so it cannot run inside a
// testing/synctest bubble; give it a Now func instead. Close (or
// NewServer's cleanup) ends every hanging handler, so no goroutine outlives
// the server.
//
// The fake is fast enough for load tests: the calls are kept in the served
// order, overall and per client number, as they are added; a call window
// is found by binary search, one client number reads only that client's
// calls, other filters scan the window without copying it, and only the
// page's rows are written (BenchmarkHistoryPage: about 0.2 ms and 65 KB a
// page of 100 at 100,000 calls). Generate builds a deterministic Polish
// data set (employees tagged "BIK", leads with valid +48 mobile numbers,
// six months of calls) for tests, the demo server and the load harness.
package callyzertest
