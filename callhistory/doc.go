// Package callhistory holds the use cases of leadcalls: refreshing one
// lead's call history from Callyzer on demand (Refresher), reading what is
// stored, and the periodic sync of all employees' calls (Syncer). It defines the interfaces it consumes: Store (where calls live;
// storage/memstore and storage/sqlstore implement it), Leads (the host CRM's
// leads) and Authorizer (who may view a lead; RoleAuthorizer is the
// default), plus CallSource, which *callyzer.Client implements.
//
// # Usage
//
//	client, err := callyzer.NewClient(apiKey)
//	...
//	r, err := callhistory.NewRefresher(callhistory.Config{
//		Source: client,
//		Store:  store,        // e.g. memstore.New() or a sqlstore
//		Leads:  crmLeads,     // the host's lookup of leads by id
//		// Authorizer: callhistory.RoleAuthorizer{Scope: sameDepartment},
//	})
//	...
//	res, err := r.Refresh(ctx, actor, leadID)
//	msg := callhistory.Message(err, callhistory.ParseLanguage(acceptLanguage))
//	// on success: res.Calls (newest first), res.LastSyncedAt, res.Report
//
// Refresh follows the spec's steps in order. It loads the lead from Leads,
// then asks the Authorizer (a denial makes no request to Callyzer and no
// write), checks that the lead exists and that its number is valid
// (libphonenumber's rules, Config.DefaultRegion for national numbers, no
// letters, no extensions, E.164 result). It then fetches the window
// [now - Config.HistoryMonths calendar months, now], in whole seconds, as an
// Interactive request, reading and validating every page before anything is
// written: a call of another number, outside the window or without an id
// fails the refresh; a call repeated on two pages is kept once. Client
// numbers are compared in E.164 (read with Config.DefaultRegion, since
// Callyzer sends bare national digits for a number it has no country code
// for); one that does not normalise fails the refresh too. Each call
// is mapped with FromCallyzer (the mapping the periodic sync shares) and the
// window is replaced in one atomic ReplaceWindow; the stored list and
// last-sync date are read back into the Result.
//
// Months are counted with time.AddDate, which normalises impossible dates:
// six months before 31 August is "31 February", that is 3 March (2 March in
// a leap year), so at the end of a month the window can be up to three days
// shorter than six calendar months, never longer.
//
// Concurrent refreshes of one number in a process share one fetch and one
// write (golang.org/x/sync/singleflight, keyed by the E.164 number); each
// caller is authorised on its own before joining, and Report.Shared tells a
// caller that joined. The shared work runs on a context detached from the
// first caller (context.WithoutCancel) with its own Config.RefreshTimeout
// deadline, so one caller going away fails no one else; each caller still
// stops waiting when its own context ends. Refresher.Wait waits for shared
// work whose callers left.
//
// History returns the stored calls and last-sync date with the same
// permission, lead and phone checks, and no request to Callyzer.
//
// Each refresh (and each failed History) logs one line to Config.Logger with
// the lead id, the actor id, the number masked ("+48 601 *** 567"; a mask
// shows at most the last three digits, besides the country code and the
// first three national digits, and hides at least three) and the Report's
// counts; never the API key. Numbers in an error's text (a store's or a
// host's errors may quote one) and in a recovered panic's value are masked
// too, dates left readable.
//
// # The periodic sync
//
// Syncer keeps every lead's history current without anyone pressing
// refresh:
//
//	syncer, err := callhistory.NewSyncer(callhistory.SyncConfig{Source: client, Store: store})
//	...
//	go syncer.Run(ctx, 5*time.Minute) // or syncer.RunOnce(ctx) from the host's scheduler
//
// Run makes a pass at once, then one per interval with ±10% jitter, and
// returns nil when ctx is done. A pass reads Callyzer by upload time
// (synced_from/synced_to) over [cursor - Overlap, now] (default overlap 2 h),
// so calls that phones upload hours or days late are picked up by the next
// pass. It commits each page with UpsertCalls, using the same
// FromCallyzer mapping and Callyzer id as Refresh, so a call fetched by both
// is one row; a sync never deletes and never erases a recording URL. Client
// numbers are normalised to E.164 first (as a lead's number, with
// SyncConfig.DefaultRegion), so a call is stored under the key its lead is
// read by; a call whose number does not normalise is skipped, counted
// (SyncCounts.Skipped) and logged masked. The cursor moves only past
// committed chunks. The first pass (or Syncer.Backfill) also walks
// SyncConfig.BackfillMonths (default 6) back by call time in chunks of at
// most 180 days, under API v2.2 each chunk once per call variant of the
// client (CallVariantSource), saving the chunk, variant and next page after
// every committed page, so an interrupted backfill resumes at the page that
// failed. Each backfill page is checked against the chunk's first
// total_records before it is committed, as callyzer's HistoryPages does: a
// changed total, an empty page before the total, or more rows than remain
// fails the pass (ErrUpstream wrapping callyzer.ErrIncompleteResponse,
// status failed_other) without committing the page; the next pass asks for
// that page again, or, after a changed total, reads the chunk again from
// page 1. Sync requests are pacing.Background, so an interactive refresh
// waits for at most the one request in flight (see callyzer/pacing).
//
// Syncer.State gives a UI the status (idle, running, failed_unauthorized,
// failed_rate_limited, failed_other), last success, last error (masked),
// consecutive failures, cursor, backfill progress and the last SyncReport.
// The state lives in a SyncStateStore (memstore and sqlstore implement it;
// it defaults to the Store when that does). On several replicas, give each
// Syncer a shared Lock, e.g. storage/pgcoord.PassLock;
// a replica that finds the lock held gets ErrPassInProgress and does
// nothing. Share the request budget across replicas with
// callyzer.WithPacer and a callyzer/pacing/pgpacing pacer.
//
// # Errors
//
// Every error of Refresh and History wraps exactly one sentinel, with its
// cause kept in the chain; Message turns it (or nil) into the user's message
// in Polish or English:
//
//   - ErrForbidden: no actor, a denial of the Authorizer, or an error other
//     than not-found while loading the lead (without the lead there is no
//     assignment to check).
//   - ErrLeadNotFound: no lead has the id (only after the actor was allowed;
//     RoleAuthorizer denies an advisor instead, who so learns nothing).
//   - ErrInvalidPhone: the lead's number is missing, invalid or has an
//     extension.
//   - ErrCallyzerAuth: Callyzer answered 401 or 403 (callyzer.ErrUnauthorized).
//   - ErrTimeout: callyzer.ErrTimeout or context.DeadlineExceeded, the
//     refresh deadline (Config.RefreshTimeout) passing at any step, or the
//     caller's own context ending. In the last case ctx.Err() (and its
//     cause) stays in the chain: errors.Is(err, context.Canceled) tells a
//     handler that its client went away.
//   - ErrRateLimited: callyzer.ErrRateLimited.
//   - ErrUpstream: any other Callyzer failure (5xx, transport, malformed or
//     incomplete answers, bad requests) and answers that fail our checks.
//   - ErrStore: the store failed. The window was either replaced whole or
//     not at all: a failed ReplaceWindow changed nothing (the Store
//     contract), while a failure reading the result back (Calls,
//     LastSynced) comes after the replacement committed; it is reported as
//     ErrStore too, and the next History shows the new state.
//   - ErrInternal: a panic while fetching, mapping, storing or reading back.
//     It is recovered inside the shared work (so callers that joined get
//     the error instead of hanging, and the process does not crash). A
//     panic before or inside the atomic ReplaceWindow leaves the store as
//     it was; one in the read-back comes after the replacement committed.
//     Either way nothing is half-written. The panic value goes to the log
//     with numbers masked, not into the error.
//
// # Testing
//
// The unit tests drive Refresher through in-test fakes of Leads, CallSource
// and Store that record the order of calls. The reliability tests run the
// real callyzer.Client against the fake server callyzer/callyzertest (zero
// pacing interval, zero retry delays) on storage/memstore: every API fault on
// the first, a middle and the last page leaves the store unchanged with the
// right message; store faults (an error after the delete, on the k-th write,
// on commit, a panic) leave it unchanged too; window edges; an empty answer;
// 50 concurrent refreshes making one fetch sequence; the first caller
// cancelling; the authorisation matrix; a canary API key that never reaches a
// log line or an error. The sync tests run a Syncer on the same fake:
// late uploads, a backfill interrupted and resumed at its page, the
// per-chunk checks of backfill pages (an empty page, too many rows, a
// changed total, on a scripted source and on the fake), API v2.2 with two
// call variants, client numbers without a country code, failures classified
// in the state, the pass lock, a sync racing a refresh on one number, and an
// interactive refresh overtaking a 200-page backfill, checked by the order
// of requests at the fake rather than by the clock. BenchmarkRefresh
// measures a refresh of 1,000 calls over HTTP and from pre-decoded pages.
// TestMain checks for leaked goroutines (go.uber.org/goleak).
package callhistory
