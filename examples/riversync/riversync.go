package riversync

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"github.com/leadcalls/leadcalls/callhistory"
)

// Kind is the River job kind of a sync pass.
const Kind = "leadcalls_sync"

// QueueName is the River queue of the sync jobs. It is the sync's own, so
// that a host's queues neither starve it nor have to know about it: a job
// inserted into a queue that no client works would stay available forever,
// and, being unique while available, would block every later period's job.
// AddTo adds it to the config with QueueMaxWorkers.
const QueueName = "leadcalls_sync"

// QueueMaxWorkers is the number of workers of QueueName: one, since only one
// pass runs at a time anyway (the Syncer's PassLock).
const QueueMaxWorkers = 1

// DefaultJobTimeout bounds one pass run as a River job. A first backfill of
// six months at Callyzer's pace (one 100-call page per 2 s) can take
// minutes; a pass that hits the bound stops, keeps what it committed and the
// next pass resumes from the saved cursor, so the bound only caps how long
// one job holds a worker slot.
const DefaultJobTimeout = 30 * time.Minute

// SyncArgs are the (empty) arguments of a sync job: the Syncer it runs is
// the worker's. Every sync job of a database is the same job.
type SyncArgs struct{}

// Kind implements river.JobArgs.
func (SyncArgs) Kind() string { return Kind }

// InsertOpts implements river.JobArgsWithInsertOpts: the job goes to
// QueueName, at most one sync job is waiting or running at a time in the
// database (River skips the insert of another), and a failed pass is not
// retried by River (MaxAttempts 1): the next periodic job is the retry, and
// it resumes from the cursor. The Callyzer client has already retried what
// is worth retrying within the pass.
func (SyncArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{
		Queue:       QueueName,
		MaxAttempts: 1,
		UniqueOpts: river.UniqueOpts{
			// The states River requires; completed, retryable and discarded
			// jobs do not block the next period's job.
			ByState: []rivertype.JobState{
				rivertype.JobStateAvailable,
				rivertype.JobStatePending,
				rivertype.JobStateRunning,
				rivertype.JobStateScheduled,
			},
		},
	}
}

// SyncWorker runs one Syncer pass per job.
type SyncWorker struct {
	river.WorkerDefaults[SyncArgs]

	// Syncer runs the passes; required.
	Syncer *callhistory.Syncer
	// JobTimeout bounds one pass. Default: DefaultJobTimeout.
	JobTimeout time.Duration
}

// Timeout implements river.Worker.
func (w *SyncWorker) Timeout(*river.Job[SyncArgs]) time.Duration {
	if w.JobTimeout > 0 {
		return w.JobTimeout
	}
	return DefaultJobTimeout
}

// Work implements river.Worker: one Syncer.RunOnce. A pass already running
// (on this or another replica, callhistory.ErrPassInProgress) is success:
// that pass does this job's work. A refused API key cancels the job instead
// of failing it (it is recorded in the sync state either way); every other
// failure fails the job, which River then discards (MaxAttempts 1) until
// the next period.
func (w *SyncWorker) Work(ctx context.Context, _ *river.Job[SyncArgs]) error {
	if w.Syncer == nil {
		return river.JobCancel(errors.New("riversync: SyncWorker.Syncer is nil"))
	}
	_, err := w.Syncer.RunOnce(ctx)
	switch {
	case err == nil, errors.Is(err, callhistory.ErrPassInProgress):
		return nil
	case errors.Is(err, callhistory.ErrCallyzerAuth):
		return river.JobCancel(err)
	default:
		return err
	}
}

// PeriodicJob returns the River periodic job that inserts a SyncArgs job
// every interval, and one when the client starts (RunOnStart). River's
// leader inserts periodic jobs, so with several replicas the job is
// inserted once per period, not once per replica.
func PeriodicJob(every time.Duration) *river.PeriodicJob {
	return river.NewPeriodicJob(
		river.PeriodicInterval(every),
		func() (river.JobArgs, *river.InsertOpts) { return SyncArgs{}, nil },
		&river.PeriodicJobOpts{ID: Kind, RunOnStart: true},
	)
}

// AddTo registers a SyncWorker of syncer and PeriodicJob(every) in cfg, the
// River config of a host that already runs River for its own jobs, and adds
// the sync's queue (QueueName, QueueMaxWorkers workers) to cfg.Queues unless
// cfg already configures it; the host's own queues are left as they are. It
// creates cfg.Workers and cfg.Queues when nil.
func AddTo(cfg *river.Config, syncer *callhistory.Syncer, every time.Duration) error {
	switch {
	case cfg == nil:
		return errors.New("riversync: nil river.Config")
	case syncer == nil:
		return errors.New("riversync: nil Syncer")
	case every <= 0:
		return fmt.Errorf("riversync: interval %v is not positive", every)
	}
	if cfg.Workers == nil {
		cfg.Workers = river.NewWorkers()
	}
	if err := river.AddWorkerSafely(cfg.Workers, &SyncWorker{Syncer: syncer}); err != nil {
		return fmt.Errorf("riversync: %w", err)
	}
	cfg.PeriodicJobs = append(cfg.PeriodicJobs, PeriodicJob(every))
	if cfg.Queues == nil {
		cfg.Queues = map[string]river.QueueConfig{}
	}
	if _, ok := cfg.Queues[QueueName]; !ok {
		cfg.Queues[QueueName] = river.QueueConfig{MaxWorkers: QueueMaxWorkers}
	}
	return nil
}

// NewRiverClient returns a River client on pool that runs syncer every
// interval (and once at Start), working only QueueName. Its tables live in
// the first schema of the pool's search_path; create them first with
// Migrate. Give River a pool of its own, not the one the Syncer's store,
// lock and pacer use (see Connections in the package documentation). Start
// it with Start(ctx) and stop it with Stop(ctx) before closing pool.
func NewRiverClient(pool *pgxpool.Pool, syncer *callhistory.Syncer, every time.Duration) (*river.Client[pgx.Tx], error) {
	if pool == nil {
		return nil, errors.New("riversync: nil pool")
	}
	cfg := &river.Config{}
	if err := AddTo(cfg, syncer, every); err != nil {
		return nil, err
	}
	client, err := river.NewClient(riverpgxv5.New(pool), cfg)
	if err != nil {
		return nil, fmt.Errorf("riversync: %w", err)
	}
	return client, nil
}

// Migrate creates or upgrades River's tables on pool (rivermigrate, up to
// the newest version of the linked River), in the first schema of the
// pool's search_path. Run it at start-up, or run the river CLI's
// "river migrate-up" in a deployment step instead.
func Migrate(ctx context.Context, pool *pgxpool.Pool) error {
	if pool == nil {
		return errors.New("riversync: nil pool")
	}
	m, err := rivermigrate.New(riverpgxv5.New(pool), nil)
	if err != nil {
		return fmt.Errorf("riversync: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("riversync: migrating River's tables: %w", err)
	}
	return nil
}
