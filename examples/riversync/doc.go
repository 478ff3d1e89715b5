// Package riversync runs the periodic sync of callhistory (Syncer.RunOnce)
// as a periodic job of River (github.com/riverqueue/river) on PostgreSQL,
// for a host that already uses River for its background jobs.
//
// River's leader inserts one SyncArgs job per period (and one at start),
// unique while one is waiting or running, so replicas do not pile passes
// up; the Syncer's PassLock (pgcoord.PassLock) remains the guarantee that
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
// Then, next to the Syncer (see callhistory, storage/pgcoord and
// callyzer/pacing/pgpacing):
//
//	pool, err := pgxpool.New(ctx, databaseURL) // River's own pool
//	db, err := sql.Open("pgx", databaseURL)    // the store's, the lock's and the pacer's
//	db.SetMaxOpenConns(10)
//	syncer, err := callhistory.NewSyncer(callhistory.SyncConfig{
//		Source: client, // a *callyzer.Client paced by a pgpacing pacer on db
//		Store:  store,  // a *sqlstore.Store on db, which also keeps the sync state
//		Lock:   pgcoord.PassLock{DB: db},
//	})
//	riverClient, err := riversync.NewRiverClient(pool, syncer, 5*time.Minute)
//	if err := riverClient.Start(ctx); err != nil { ... }
//	...
//	err = riverClient.Stop(ctx) // before closing pool and db
//
// The sync jobs go to a queue of their own, QueueName ("leadcalls_sync"),
// worked by one worker. A host with its own river.Config calls AddTo(&cfg,
// syncer, every) before river.NewClient instead; AddTo registers SyncWorker
// and PeriodicJob and adds QueueName to cfg.Queues beside the host's queues
// (a host that configures QueueName itself keeps its setting). For another
// job timeout, register &SyncWorker{Syncer: syncer, JobTimeout: d} with
// river.AddWorker, append PeriodicJob(every) to cfg.PeriodicJobs and add
// QueueName to cfg.Queues yourself: a sync job in a queue that no client
// works would wait forever and, being unique while it waits, keep every
// later period's job out.
//
// River's Stop waits for running jobs, and a first backfill can run for
// minutes: to stop fast, use StopAndCancel or set Config.SoftStopTimeout.
// A cancelled pass keeps what it committed and the next one resumes it.
//
// # Connections
//
// Give River a pgxpool of its own and the store, the pass lock and the
// pacer a separate *sql.DB, as above, rather than one pool for all
// (stdlib.OpenDBFromPool). River keeps one connection LISTENing for as long
// as it runs and needs more to fetch and complete jobs; during a pass the
// lock holds one connection for the whole pass, the store one per batch,
// the pacer one per poll, and every interactive refresh of the CRM one or
// two more. pgxpool's default MaxConns is max(4, number of CPUs), so on a
// small machine one shared pool can leave River, or the refreshes, waiting
// for a connection the pass holds. The default of pgxpool is enough for
// River alone; the *sql.DB needs at least four connections per replica.
// database/sql's default is unlimited; the example caps it at 10, which
// with River's pool keeps a replica's share of PostgreSQL's max_connections
// known.
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
package riversync
