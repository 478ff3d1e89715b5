// Package callhistoryhttp is the embeddable net/http front end of a lead's
// call history: a JSON API for the host CRM's own front end, and a
// server-rendered call-history section of the lead-details screen that
// works without JavaScript.
//
// # Usage
//
// Build a callhistory.Refresher, hand it to NewHandler with a function that
// returns the signed-in user of a request, and mount the handler under a
// prefix with http.StripPrefix:
//
//	h := callhistoryhttp.NewHandler(refresher, callhistoryhttp.Options{
//		Actor: func(r *http.Request) *callhistory.Actor { return crm.UserOf(r) },
//	})
//	mux.Handle("/crm/", http.StripPrefix("/crm", h))
//
// Relative to the prefix the handler serves:
//
//	GET  /api/leads/{leadID}/call-history          200 {"lead_id", "phone", "last_synced_at", "calls", "summary", "feed_note"}
//	POST /api/leads/{leadID}/call-history/refresh  200 {"status": "ok", "message", "last_synced_at", "calls", "report", "summary", "feed_note"}
//	GET  /leads/{leadID}                           the call-history section (HTML)
//	POST /leads/{leadID}/refresh                   refresh from the page's form, then 303 back to it
//	GET  /assets/{file}                            the page's stylesheet, script and icon
//
// A http.ServeMux in front of the handler redirects a path that is not in
// canonical form ("/crm/api/leads//call-history") before the handler sees
// it; the demo sends its /crm/ paths to the handler directly, so that such
// a path gets the handler's 404.
//
// Each call is {"id", "phone", "direction", "status", "status_label",
// "callyzer_call_type", "started_at", "duration_seconds", "employee_name",
// "employee_phone", "recording_url", "note"}; times are RFC 3339 with the
// offset of Options.Location (Europe/Warsaw by default), and
// "last_synced_at" is null when the number was never synchronised.
// "recording_url" carries a recording only when its URL is an absolute
// https one; any other is "", as for a call without a recording. The page
// plays it in an <audio controls preload="none"> player with an "Otwórz
// nagranie" link beside it; Options.RecordingURL may point both at the
// host's own route instead (Callyzer's links expire). The report of a
// refresh is {"requests", "fetched", "inserted", "updated", "deleted",
// "unchanged", "shared", "path", "duration_ms"}; "path" is "spec" when
// the refresh fetched its lead's six months itself and "catch-up" when a
// shared read of what was uploaded since the store was last known
// complete served it.
//
// "summary" is callhistory.Summary, the calls of the refreshed window at a
// glance:
//
//	{"window_from", "window_to",           the window, RFC 3339 (null when the service gave none)
//	 "calls", "connected", "not_picked_up", "missed", "rejected",
//	 "talk_seconds",                        total duration of the connected calls
//	 "last_contact": {call..., "days_ago"}, the newest call; days_ago in the account's zone, 0 today; or null
//	 "last_connected": {call...},           the newest connected call, or null
//	 "missed_call": {call..., "called_back": {call...} or null, "callback_overdue"},
//	                                        the latest incoming call nobody answered, or null
//	 "partial"}                             the list was cut at the Refresher's ListLimit inside the window
//
// where each call is {"id", "started_at", "direction", "status",
// "status_label", "duration_seconds", "employee_name"}. The page shows it
// in tiles above the list.
//
// "feed_note" is Options.FeedNote's note when the lead's assigned
// advisor's phone may be missing calls or recordings (feedhealth), null
// otherwise: {"status": "offline" | "uninstalled" | "recording_off",
// "since", "message"}, the message in the request's language. The page
// shows it above the summary.
//
// The page fits any width: on a screen narrower than 900 px each call is a
// compact card, on a wider one the table scrolls inside its card when it
// must. "Last synchronised" is the later of the lead's own last sync and,
// with Options.LastSyncPass, the last pass of the periodic sync, and says
// which. With no calls the page says there were none in the window once
// the number was synchronised, and that the history was never fetched
// before. Options.LeadsURL gives every page, a failed one too, a link back
// to the host's list of leads.
//
// A GET never refreshes. Both POSTs pass through the
// http.CrossOriginProtection of Options.CrossOrigin, so a cross-site form
// or fetch is refused with 403 before anything else happens, with a
// message of its own (MsgCrossOrigin) that names the Origin and
// Sec-Fetch-Site headers.
//
// The page links its stylesheet and script relative to its own URL and sends
// a strict Content-Security-Policy (no inline script or style). Its refresh
// button is a form; a small script turns it into a fetch to the JSON API with
// a progress message, then re-reads the page and swaps the table. Without
// JavaScript the form posts, and the outcome travels through the redirect
// as a message key (never as text) in a one-time cookie, leadcalls_flash:
// it is scoped to the lead page's path, lives 60 seconds at most, and the
// page clears it when it shows the message, so a reload does not show it
// again. It is Secure over TLS; behind a TLS-terminating proxy set
// Options.SecureCookies.
//
// Messages are the spec's Polish ones, or English when the request's
// Accept-Language prefers English.
//
// # Errors
//
// Every error answer of the JSON API, and of any path under /api/, is
// {"status": "error", "message"} with the message of callhistory.Message,
// except for the errors the handler finds itself: a 401's is MsgSignedOut
// ("Sesja wygasła lub nie jesteś zalogowany. Zaloguj się ponownie.", or
// its English version), a cross-site POST's MsgCrossOrigin, and a 405's
// and an unknown API path's their own. The status codes, decided in one
// table (outcomes in errors.go):
//
//	401  no signed-in user (Options.Actor returned nil)
//	403  callhistory.ErrForbidden, or a cross-site POST
//	404  callhistory.ErrLeadNotFound; a lead id over 256 bytes, not UTF-8
//	     or holding a control character, refused before the session, the
//	     service or a cookie (the form POST then answers the page, not a
//	     redirect); a path without a lead id or not in canonical form
//	     (never redirected); an /api/ path of no route
//	405  a method a route does not take, with Allow (the API in its JSON,
//	     a page route as a page)
//	422  callhistory.ErrInvalidPhone
//	502  callhistory.ErrCallyzerAuth, callhistory.ErrUpstream
//	503  callhistory.ErrRateLimited, with Retry-After: Callyzer's own value
//	     when its *callyzer.Error carries one, else Options.RetryAfter (5s)
//	504  callhistory.ErrTimeout
//	500  callhistory.ErrStore and any error wrapping none of the above
//
// The page answers with the same codes and shows the message in an alert
// (role="alert"). A failure the service returns is logged by the service
// (callhistory.Refresher logs every outcome, numbers masked); the handler
// adds one debug line with the route and status code. The failures the
// handler finds itself, a malformed lead id, no signed-in user and a
// cross-site POST, it logs at info level. A logged lead id is cut to 64
// bytes and an error's text to 512, with a marker of how much was cut.
package callhistoryhttp
