// Package riversync runs the periodic sync of callhistory (Syncer.RunOnce)
// as a periodic job of River (github.com/riverqueue/river) on PostgreSQL,
// for a host that already uses River for its background jobs.
//
// River's leader inserts one SyncArgs job per period (and one at start),
// unique while one is waiting or running, so replicas do not pile passes
// up; the Syncer's PassLock (pgcoord.TryLock) remains the guarantee that
// only one pass runs at a time across replicas, and a job that finds a pass
// running elsewhere succeeds without doing anything.
//
// # Usage
//
// River's tables first, once per deployment or at start-up (River's
// migrations are versioned; applied ones are skipped): either River's CLI
// (github.com/riverqueue/river/cmd/river, "river migrate-up --database-url
// ..."), or Migrate(ctx, pool), which runs rivermigrate up to the version of
// the linked River. Both use the first schema of the connection's
// search_path; River's own Config.Schema names another one.
//
// Then, next to the Syncer (see callhistory and storage/pgcoord):
//
//	pool, err := pgxpool.New(ctx, databaseURL)
//	db := stdlib.OpenDBFromPool(pool) // or sql.Open("pgx", databaseURL)
//	syncer, err := callhistory.NewSyncer(callhistory.SyncConfig{
//		Source: client, // a *callyzer.Client paced by a pgcoord.Pacer
//		Store:  store,  // a *sqlstore.Store, which also keeps the sync state
//		Lock: callhistory.PassLockFunc(func(ctx context.Context, name string) (func() error, bool, error) {
//			return pgcoord.TryLock(ctx, db, name)
//		}),
//	})
//	riverClient, err := riversync.NewRiverClient(pool, syncer, 5*time.Minute)
//	if err := riverClient.Start(ctx); err != nil { ... }
//	...
//	err = riverClient.Stop(ctx) // before closing pool and db
//
// A host with its own river.Config calls AddTo(&cfg, syncer, every) before
// river.NewClient instead; AddTo registers SyncWorker and PeriodicJob and
// adds a default queue only when cfg has none. For another job timeout,
// register &SyncWorker{Syncer: syncer, JobTimeout: d} with river.AddWorker
// and append PeriodicJob(every) to cfg.PeriodicJobs yourself.
//
// River's Stop waits for running jobs, and a first backfill can run for
// minutes: to stop fast, use StopAndCancel or set Config.SoftStopTimeout.
// A cancelled pass keeps what it committed and the next one resumes it.
//
// # Errors
//
// SyncWorker.Work returns nil when the pass succeeded and when another pass
// held the lock (callhistory.ErrPassInProgress). A refused API key
// (callhistory.ErrCallyzerAuth) cancels the job (river.JobCancel): retrying
// cannot help until someone fixes the key. Any other failure is returned,
// and River discards the job after its single attempt (SyncArgs.InsertOpts
// sets MaxAttempts 1): the next period's job is the retry and resumes from
// the saved cursor. Every outcome is also in the sync state
// (Syncer.State), which is what a UI should show. A pass that outlasts the
// job timeout (SyncWorker.JobTimeout, default 30 minutes) is cancelled,
// keeps what it committed, and the next job resumes it.
//
// NewRiverClient, AddTo and Migrate return errors for nil or invalid
// arguments and wrap River's errors.
//
// # Testing
//
// The tests of SyncWorker run against the fake Callyzer and a memstore. The
// River test needs PostgreSQL (LEADCALLS_TEST_POSTGRES_DSN; it skips
// without it, and fails instead under LEADCALLS_REQUIRE_ALL=1): it gives the
// pool a fresh schema through search_path (internal/testdb), so River's
// tables, the store's and pgcoord's live in it and are dropped with it; it
// starts River with a 300 ms period, waits for two completed sync jobs,
// checks the stored calls and the sync state, and stops River, after which
// goleak finds no goroutine left.
package riversync
