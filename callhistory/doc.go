// Package callhistory holds the use cases of leadcalls: refreshing one
// lead's call history from Callyzer on demand (Refresher), reading what is
// stored, and the periodic sync of every employee's calls (Syncer). It owns
// their rules and defines the interfaces it consumes: Store (where calls
// live; storage/memstore and storage/sqlstore implement it), Leads (the
// host CRM's leads), Authorizer (who may view a lead; RoleAuthorizer is the
// default) and CallSource (*callyzer.Client implements it).
//
// # Usage
//
//	client, err := callyzer.NewClient(apiKey)
//	...
//	r, err := callhistory.NewRefresher(callhistory.Config{
//		Source: client,
//		Store:  store,    // e.g. memstore.New() or a sqlstore
//		Leads:  crmLeads, // the host's lookup of leads by id
//	})
//	...
//	res, err := r.Refresh(ctx, actor, leadID)
//	msg := callhistory.Message(err, "pl") // or "en": the user's message
//	// on success: res.Calls (newest first), res.LastSyncedAt, res.Report
//
// Refresh follows the spec's steps in order: it loads the lead, asks the
// Authorizer (a denial makes no request and no write), checks the lead's
// number (libphonenumber's rules, Config.DefaultRegion for national
// numbers), fetches the window [now - 6 calendar months, now] as an
// Interactive request, maps every call (FromCallyzer, shared with the
// sync) and replaces the window in one atomic ReplaceWindow; then it reads
// the list and the last-sync date back. Every page is fetched and checked
// before anything is written: a call of another number, outside the window
// or without an id fails the refresh. Concurrent refreshes of one number
// share one fetch and write, on a context detached from the first caller's
// and bounded by Config.RefreshTimeout; Refresher.Wait waits for shared
// work whose callers left. History reads the stored calls with the same
// checks and no request.
//
// The rules of a write live here, once, as pure functions that every Store
// gets for free: a stored call and an incoming copy of it merge by
// CallyzerID (an empty RecordingURL keeps the stored one; an older copy,
// by ModifiedAt, changes nothing); the last-sync date never goes back. A
// Store persists what they decide, atomically, under per-number locks
// (Store.Update).
//
// No answer's word is final. A call the refresh's answer lacks leaves the
// lead's list at once (the user sees what Callyzer answered), but its row
// is kept, marked missing (Call.MissingSince); any later answer or sync
// pass that holds it lists it again, with its recording and note, and a
// refresh at least Config.RemoveAfter (10 minutes) after the first answer
// that lacked it, still lacking it, deletes it for good. A number that is
// never refreshed again keeps its missing rows, out of every list; a host
// that wants them gone deletes them itself (sqlstore: rows whose
// missing_since is older than it cares to keep). A refresh never removes a
// call its query could not have returned: one uploaded after the fetch
// began, or one Callyzer holds without a country code (the query asks by
// country code and number). An answer that would take more than half of
// the window's listed calls out, and at least 5 (Config.Guard), writes
// nothing and fails with ErrSuspiciousAnswer: an empty answer usually
// means the account matches another client_numbers form. Calls of other
// numbers in an answer are left out and counted (Report.Foreign), and
// recording URLs that are not https are never stored.
//
// Calls belong to a phone number, not to a lead: two leads with one number
// show the same calls to whoever may view either. A host should treat a
// change of a lead's number as a privileged edit.
//
// # The periodic sync
//
//	syncer, err := callhistory.NewSyncer(callhistory.SyncConfig{Source: client, Store: store})
//	...
//	go syncer.Run(ctx, 5*time.Minute) // or syncer.RunOnce(ctx) from the host's scheduler
//
// A pass reads Callyzer by upload time over [cursor - Overlap, now] and
// upserts every page (UpsertCalls, the same mapping and identity as a
// refresh, so both write one row per call; a sync never deletes). The first
// pass, or Backfill, also reads six months back by call time, newest chunk
// first, saving the client's callyzer.Cursor after every committed page,
// so an interrupted backfill resumes at the page that failed. Sync
// requests are Background, so a user's refresh waits for at most the one
// request in flight (and, while refreshes keep the slot busy, for one
// sync request in five: package pacing ages Background requests so that
// the sync is never starved). State gives a UI the status, last success and error,
// cursor and backfill progress. On several replicas, give each Syncer the
// same Lock (storage/pgcoord.PassLock) and pace the shared API key with
// callyzer/pacing/pgpacing.
//
// # Sharing the budget: catch-ups
//
// Callyzer gives a whole account one request at a time, about one every
// 2.7 s: refreshes that each fetch their own six months (two requests)
// stop being served at about ten advisors. With Config.Syncer, refreshes
// share requests:
//
//	refresher, err := callhistory.NewRefresher(callhistory.Config{
//		Source: client, Store: store, Leads: leads, Syncer: syncer, // Strategy "adaptive" by default
//	})
//
// Once the Syncer's backfill has finished, the store holds every call
// uploaded before the sync's cursor, for every number. A catch-up reads
// the whole account by upload time from that bound (or the last
// catch-up's), less one minute, to the moment it starts, commits it like a
// sync pass and moves its own bound (kept in the state as "<Name>/catch-up");
// every refresh that began before the catch-up did is then served from
// the store. One request serves every refresh waiting, whatever their
// numbers. It is used only when correct: the backfill done, the bound at
// most CatchUpWithin (15 min) old; otherwise the refresh takes the spec's
// path. The adaptive strategy takes the spec's path for a lone refresh
// (nothing else waiting or under way: exactly the spec's fetch and
// replace, chunks and all) and a catch-up otherwise; "catch-up" uses one
// whenever correct, "spec" never. Report.Path says which served.
//
// The minute of overlap: Callyzer stamps synced_at in whole seconds of its
// own clock, and the bound is our clock when the read that set it began.
// A call uploaded in the second of that read, a clock off Callyzer's by
// less than a minute (NTP keeps both within milliseconds) and a commit
// that becomes visible within the minute are read again by the next
// catch-up. An upload made visible later than that is the periodic sync's
// (its Overlap re-reads 2 h, about 15 pages at 750 uploads an hour, far
// too many for every catch-up), and the mirrors' below.
//
// A catch-up cannot see a call deleted or edited at Callyzer without a new
// upload time, so a number it served is queued for a mirror: its own
// six-month fetch and replace, at Background priority, once per
// MirrorEvery (1 h), one at a time, in a lull (no refresh begun for
// RefreshTimeout, no sync pass under way); Refresher.Drain waits for the
// queue, Wait drops it. Under the spec strategy a refresh that could not
// be served before its deadline, behind the fetches under way (counted
// with the time a lone fetch took), fails at once with ErrTimeout instead
// of spending budget others could use; a request whose caller gave up
// keeps the pacer's slot until Callyzer answers it (package callyzer). On
// several replicas sharing PostgreSQL, a catch-up takes the pass lock
// named "<Name>/catch-up"; a replica that finds it taken waits for that
// catch-up's bound to pass its refreshes' start, then reads the store.
//
// The spec's path still pays a second request for the oldest 1–4 days of
// six calendar months (181–184 days against the 180-day window): that
// sliver is not optimized. Skipping it is correct only when no call of
// those days was uploaded since the store was last known complete, which
// only a read by upload time can tell: a catch-up, which the adaptive
// strategy already uses whenever another refresh is waiting.
//
// Each refresh, failed History and sync pass logs one line; numbers are
// masked ("+48 601 *** 567") and the API key never appears.
//
// # Errors
//
// Every error of Refresh and History wraps exactly one of the sentinels,
// with its cause kept in the chain; Message turns it (or nil) into the
// user's message, in Polish or English:
//
//   - ErrForbidden: no actor, a denial, or an error loading the lead.
//   - ErrLeadNotFound: no such lead (RoleAuthorizer denies an advisor
//     instead, who so learns nothing).
//   - ErrInvalidPhone: the lead's number is missing, invalid or has an
//     extension.
//   - ErrCallyzerAuth: Callyzer answered 401 or 403.
//   - ErrTimeout: a deadline passed, or the caller's own context ended
//     (errors.Is(err, context.Canceled) then tells that the client left).
//   - ErrRateLimited: Callyzer kept answering 429.
//   - ErrUpstream: any other Callyzer failure, and answers that fail the
//     checks.
//   - ErrStore: the store failed. A failed write changed nothing; a
//     failure reading the result back comes after the write committed.
//   - ErrInternal: a panic while fetching, mapping, storing or reading
//     back, recovered for every caller; nothing is half-written.
//
// A sync pass's error wraps one of ErrCallyzerAuth, ErrRateLimited,
// ErrUpstream, ErrTimeout, ErrStore or ErrInternal; ErrPassInProgress says
// another pass holds the lock (not a failure).
package callhistory
