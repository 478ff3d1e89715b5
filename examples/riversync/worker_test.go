package riversync_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/leadcalls/leadcalls/callhistory"
	"github.com/leadcalls/leadcalls/callyzer"
	"github.com/leadcalls/leadcalls/callyzer/callyzertest"
	"github.com/leadcalls/leadcalls/callyzer/pacing"
	"github.com/leadcalls/leadcalls/examples/riversync"
	"github.com/leadcalls/leadcalls/storage/memstore"
)

var discard = slog.New(slog.DiscardHandler)

// newSyncer returns a Syncer on a memstore against a fake Callyzer with
// data, whose client uses apiKey ("" for the fake's own).
func newSyncer(t *testing.T, apiKey string, lock callhistory.PassLock) (*callhistory.Syncer, *memstore.Store, *callyzertest.Server) {
	t.Helper()
	ds := callyzertest.Generate(3, callyzertest.GenerateConfig{End: time.Now().Add(-time.Hour), Span: 30 * 24 * time.Hour, Calls: 40, Leads: 5})
	srv := callyzertest.NewServer(t, callyzertest.Options{Calls: ds.Calls, Employees: ds.Employees})
	if apiKey == "" {
		apiKey = srv.APIKey()
	}
	client, err := callyzer.NewClient(apiKey,
		callyzer.WithBaseURL(srv.URL),
		callyzer.WithPacer(pacing.New(0)),
		callyzer.WithLogger(discard))
	require.NoError(t, err)
	store := memstore.New()
	syncer, err := callhistory.NewSyncer(callhistory.SyncConfig{Source: client, Store: store, Lock: lock, Logger: discard})
	require.NoError(t, err)
	return syncer, store, srv
}

func TestSyncWorkerOutcomes(t *testing.T) {
	t.Parallel()
	var busy busyLock // another replica holds the pass
	tests := []struct {
		name       string
		apiKey     string
		lock       callhistory.PassLock
		wantErr    bool
		wantCancel bool
		wantStored bool
	}{
		{name: "pass runs", wantStored: true},
		{name: "pass in progress elsewhere is success", lock: busy},
		{name: "refused API key cancels the job", apiKey: "wrong-key", wantErr: true, wantCancel: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			syncer, store, srv := newSyncer(t, tt.apiKey, tt.lock)
			w := &riversync.SyncWorker{Syncer: syncer}
			err := w.Work(t.Context(), &river.Job[riversync.SyncArgs]{})
			if !tt.wantErr {
				require.NoError(t, err)
			} else {
				require.Error(t, err)
				var cancel *river.JobCancelError
				require.Equal(t, tt.wantCancel, errors.As(err, &cancel), "job cancelled: %v", err)
			}
			phones := map[string]bool{}
			for _, c := range srv.Calls() {
				phones[c.ClientE164()] = true
			}
			stored := 0
			for phone := range phones {
				calls, err := store.Calls(t.Context(), phone, 0)
				require.NoError(t, err)
				stored += len(calls)
			}
			require.Equal(t, tt.wantStored, stored > 0, "calls stored")
			if tt.lock != nil {
				require.Zero(t, srv.RequestCount(), "a skipped pass sends nothing")
			}
		})
	}
}

func TestSyncWorkerFailureFailsTheJob(t *testing.T) {
	t.Parallel()
	syncer, _, srv := newSyncer(t, "", nil)
	srv.Inject(callyzertest.Fault{Kind: callyzertest.FaultStatus, Status: 501, Always: true})
	err := (&riversync.SyncWorker{Syncer: syncer}).Work(t.Context(), &river.Job[riversync.SyncArgs]{})
	require.ErrorIs(t, err, callhistory.ErrUpstream)
	var cancel *river.JobCancelError
	require.False(t, errors.As(err, &cancel), "an upstream failure is not a cancellation")
	st, err := syncer.State(t.Context())
	require.NoError(t, err)
	require.Equal(t, callhistory.SyncFailedOther, st.Status)
	require.Equal(t, 1, st.ConsecutiveFailures)
}

func TestSyncWorkerTimeout(t *testing.T) {
	t.Parallel()
	require.Equal(t, riversync.DefaultJobTimeout, (&riversync.SyncWorker{}).Timeout(nil))
	require.Equal(t, time.Minute, (&riversync.SyncWorker{JobTimeout: time.Minute}).Timeout(nil))
}

func TestAddToChecksInput(t *testing.T) {
	t.Parallel()
	syncer, _, _ := newSyncer(t, "", nil)
	require.Error(t, riversync.AddTo(nil, syncer, time.Minute))
	require.Error(t, riversync.AddTo(&river.Config{}, nil, time.Minute))
	require.Error(t, riversync.AddTo(&river.Config{}, syncer, 0))

	cfg := &river.Config{}
	require.NoError(t, riversync.AddTo(cfg, syncer, time.Minute))
	require.NotNil(t, cfg.Workers)
	require.Len(t, cfg.PeriodicJobs, 1)
	require.Equal(t, map[string]river.QueueConfig{riversync.QueueName: {MaxWorkers: 1}}, cfg.Queues,
		"only the sync's own queue, not default")
	require.Error(t, riversync.AddTo(cfg, syncer, time.Minute), "a second worker of the kind is refused")

	args := riversync.SyncArgs{}
	require.Equal(t, riversync.Kind, args.Kind())
	require.Equal(t, 1, args.InsertOpts().MaxAttempts)
	require.Equal(t, riversync.QueueName, args.InsertOpts().Queue, "the job goes to the queue AddTo adds")
}

func TestAddToKeepsTheHostsQueues(t *testing.T) {
	t.Parallel()
	syncer, _, _ := newSyncer(t, "", nil)
	tests := []struct {
		name   string
		queues map[string]river.QueueConfig
		want   map[string]river.QueueConfig
	}{
		{
			name:   "host queues without default",
			queues: map[string]river.QueueConfig{"emails": {MaxWorkers: 5}},
			want:   map[string]river.QueueConfig{"emails": {MaxWorkers: 5}, riversync.QueueName: {MaxWorkers: 1}},
		},
		{
			name:   "host with default",
			queues: map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 100}},
			want:   map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 100}, riversync.QueueName: {MaxWorkers: 1}},
		},
		{
			name:   "host configures the sync queue itself",
			queues: map[string]river.QueueConfig{riversync.QueueName: {MaxWorkers: 2}},
			want:   map[string]river.QueueConfig{riversync.QueueName: {MaxWorkers: 2}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := &river.Config{Queues: tt.queues}
			require.NoError(t, riversync.AddTo(cfg, syncer, time.Minute))
			if diff := cmp.Diff(tt.want, cfg.Queues); diff != "" {
				t.Errorf("queues (-want +got):\n%s", diff)
			}
		})
	}
}

// busyLock is a PassLock another replica always holds.
type busyLock struct{}

func (busyLock) TryLock(context.Context, string) (func() error, bool, error) { return nil, false, nil }
