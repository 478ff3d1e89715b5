// Package feedhealth tells a dead feed from a quiet one: it keeps each
// advisor phone's health from Callyzer's roster (/employee/get) and checks
// that the store holds, for each closed calendar month, as many calls as
// Callyzer's own totals (/call-log/summary) count.
//
// # Usage
//
// A Monitor runs as a Syncer's hook, once per successful pass:
//
//	mon, err := feedhealth.New(feedhealth.Config{Source: client, Store: store, Location: warsaw})
//	syncer, err := callhistory.NewSyncer(callhistory.SyncConfig{Source: client, Store: store, Health: mon.Check})
//
// Each pass reads the roster (one Background request per page of it) and
// saves every phone with a Status. A phone is, in this order of
// precedence: Uninstalled (the app is gone), Offline (no check-in,
// last_sync_req_at, for OfflineAfter, 24 h), RecordingOff, Stale (no
// check-in for StaleAfter, 6 h: an idle night, not a problem), else OK.
//
// Once the sync's backfill is done, each closed month of the account's
// zone (Config.Location, so months begin at local midnight across clock
// changes) that lies wholly inside the stored window, at most the last
// Config.Months (6), is compared: one summary request per month, at most
// once per RecheckAfter (a day) and again after a new backfill. The
// running month is never compared: totals reconcile only on closed months.
// A month that differs is re-read by call time through the Syncer
// (SyncReport.Health counts it) and counted again; if it still differs it
// stays flagged with both sides' numbers. The store counts listed calls
// only; calls the sync skips (no or invalid client number) make a month
// differ too.
//
// A host reads the state with Monitor.State: State.Phones for an admin
// list, State.Months for completeness, State.Problems for "what is wrong
// now" (sorted and stable, so alert only when it changes), and State.Note
// for the lead page's note on the assigned advisor's phone.
//
// # Errors
//
// Check returns errors wrapping the client's (callyzer.ErrUnauthorized, ...)
// or the store's, and saves them in State.LastError; the Syncer logs them
// and its pass still succeeds.
//
// # Testing
//
// storage/storagetest's FeedHealth group checks a Store; the fake
// callyzer/callyzertest serves /call-log/summary and plays a missing page
// with Server.HideFromHistory.
package feedhealth
