// Package leadcalls is the root of an SDK that CRM services embed to show and
// refresh a sales lead's phone-call history from Callyzer, the call-tracking
// app of the sales team's Android phones.
//
// The packages, from the outside in:
//
//   - callyzer: the HTTP client of the Callyzer API (paging, window
//     chunking, retries); every request goes through a pacing.Pacer.
//   - callyzer/pacing: the pacing rules of the one-request-per-two-seconds
//     budget, stated once, and the in-process pacer;
//     callyzer/pacing/pgpacing: the same rules across replicas, through
//     PostgreSQL.
//   - callyzer/callyzertest: an in-process fake Callyzer server for tests,
//     with seeded data and injectable faults.
//   - statusmap: maps a Callyzer call to a CRM status; pure data.
//   - callhistory: the use cases: refresh one lead's history on demand
//     (Refresher), and the periodic sync of all employees' calls (Syncer),
//     with the rules of every write (ReplaceWindow, UpsertCalls). It
//     defines the interfaces it consumes: Store, Leads, Authorizer and
//     CallSource.
//   - feedhealth: is the feed alive? each advisor phone's health from the
//     roster and each closed month's stored calls against Callyzer's
//     totals, as a Syncer hook (SyncConfig.Health); it defines the Store
//     it needs (counts, its state).
//   - storage/memstore, storage/sqlstore: Store implementations (memory;
//     SQLite, PostgreSQL, MariaDB on database/sql): they persist what the
//     use cases decide, atomically.
//   - storage/storagetest: the conformance suite every Store passes, with
//     fault injection that works on any Store (WithHooks).
//   - storage/pgcoord: the sync's pass lock on PostgreSQL, so that one
//     replica at a time runs a pass.
//   - examples/callhistoryhttp: the embeddable net/http handler (JSON API and
//     the lead page's call-history section); examples/demo: the demo server
//     (go run ./examples/demo); examples/riversync: the sync as a River
//     periodic job; examples/loadtest: the load harness. These are a module
//     of their own, github.com/leadcalls/leadcalls/examples, so that their
//     dependencies (River, chromedp) stay out of the module graph of a host
//     that imports the SDK; go.work joins the two modules, and
//     go test ./... ./examples/... tests both from the repository root.
//   - internal/phone: phone numbers read, split, converted to Callyzer's
//     forms and masked, one set of rules for every package.
//
// Arrows point inward: storage imports feedhealth and callhistory, examples
// import callhistory; feedhealth imports callhistory; callhistory imports callyzer
// and statusmap; callyzer imports only its pacing and
// internal/phone; statusmap imports nothing of ours.
package leadcalls
