package storagetest

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/leadcalls/leadcalls/callhistory"
	"github.com/leadcalls/leadcalls/callyzer"
)

// NewSyncStateStoreFunc returns a fresh, empty sync-state store for one
// subtest. Release its resources with t.Cleanup.
type NewSyncStateStoreFunc = func(t *testing.T) callhistory.SyncStateStore

// RunSyncState runs the conformance cases of callhistory.SyncStateStore:
// the zero state for a name never saved, a round trip of every field,
// overwrites, independent names, an empty name refused, and a done context.
// Of the options, WithTimePrecision and Parallel apply.
//
// Run includes these cases (as the group SyncState) when the stores its
// newStore returns implement callhistory.SyncStateStore; RunSyncState is for
// a state store that is not a callhistory.Store.
func RunSyncState(t *testing.T, newStore NewSyncStateStoreFunc, opts ...Option) {
	t.Helper()
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	s := &suite{cfg: cfg}
	s.group(t, "SyncState", s.syncStateTests(newStore))
}

// syncStateGroup runs the SyncState group of Run, or skips it, saying so,
// when the store does not keep sync states.
func (s *suite) syncStateGroup(t *testing.T) {
	t.Helper()
	if _, ok := s.newStore(t).(callhistory.SyncStateStore); !ok {
		t.Run("SyncState", func(t *testing.T) {
			t.Skip("skipped: the store does not implement callhistory.SyncStateStore")
		})
		return
	}
	s.group(t, "SyncState", s.syncStateTests(func(t *testing.T) callhistory.SyncStateStore {
		return s.newStore(t).(callhistory.SyncStateStore)
	}))
}

// fullSyncState returns a state with every field set, at the store's
// precision, with text that needs UTF-8 (Polish letters and an emoji).
func (s *suite) fullSyncState(i int) callhistory.SyncState {
	at := func(d time.Duration) time.Time {
		return s.at(base.Add(time.Duration(i)*time.Hour + d + 123456789*time.Nanosecond))
	}
	counts := func(k int) callhistory.SyncCounts {
		return callhistory.SyncCounts{
			Pages: 1 + k, Requests: 2 + k, Seen: 3 + k, Skipped: 4 + k, DroppedRecordings: 8 + k,
			Inserted: 5 + k, Updated: 6 + k, Unchanged: 7 + k,
		}
	}
	return callhistory.SyncState{
		Status:              callhistory.SyncFailedRateLimited,
		RunningSince:        at(time.Minute),
		LastSuccess:         at(-time.Hour),
		LastError:           "błąd zapisu: żółć 🚀 (" + strings.Repeat("x", i) + ")",
		ConsecutiveFailures: 3 + i,
		Cursor:              at(-2 * time.Hour),
		Backfill:            callhistory.BackfillProgress{From: at(-183 * 24 * time.Hour), To: at(-3 * time.Hour), Cursor: callyzer.Cursor{ChunkFrom: at(-100 * 24 * time.Hour), ChunkTo: at(-4 * time.Hour), Variant: 2 + i, NextPage: 17 + i, Seen: 1600 + i, Total: 1700 + i, Done: true}},
		LastReport: callhistory.SyncReport{
			SyncCounts:  counts(10 + i),
			Incremental: counts(20 + i),
			Backfill:    counts(30 + i),
			Health:      counts(40 + i),
			StartedAt:   at(-5 * time.Hour),
			Duration:    90*time.Second + 250*time.Millisecond,
			Status:      callhistory.SyncFailedUnauthorized,
		},
	}
}

// requireAllSet fails when v (a struct) has a zero field, at any depth, so
// that the round trip covers every field even after new ones are added.
func requireAllSet(t *testing.T, path string, v reflect.Value) {
	t.Helper()
	if v.Kind() == reflect.Struct && v.Type() != reflect.TypeFor[time.Time]() {
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if f.IsExported() {
				requireAllSet(t, path+"."+f.Name, v.Field(i))
			}
		}
		return
	}
	if v.IsZero() {
		t.Fatalf("storagetest: the round-trip fixture leaves %s zero; set it", path)
	}
}

func (s *suite) saveState(t *testing.T, st callhistory.SyncStateStore, name string, state callhistory.SyncState) {
	t.Helper()
	if err := st.SaveSyncState(t.Context(), name, state); err != nil {
		t.Fatalf("SaveSyncState(%q): %v", name, err)
	}
}

func requireState(t *testing.T, st callhistory.SyncStateStore, name string, want callhistory.SyncState) {
	t.Helper()
	got, err := st.SyncState(t.Context(), name)
	if err != nil {
		t.Fatalf("SyncState(%q): %v", name, err)
	}
	// go-cmp compares times with Equal: the location is not checked.
	if d := gocmp.Diff(want, got); d != "" {
		t.Fatalf("SyncState(%q) (-want +got):\n%s", name, d)
	}
}

func (s *suite) syncStateTests(newStore NewSyncStateStoreFunc) []subtest {
	store := func(t *testing.T) callhistory.SyncStateStore {
		t.Helper()
		st := newStore(t)
		if st == nil {
			t.Fatal("storagetest: newStore returned a nil sync-state store")
		}
		return st
	}
	return []subtest{
		{"ZeroForUnknownName", func(t *testing.T) {
			st := store(t)
			requireState(t, st, "never-saved", callhistory.SyncState{})
			s.saveState(t, st, "saved", s.fullSyncState(1))
			requireState(t, st, "never-saved", callhistory.SyncState{})
		}},
		{"EveryField", func(t *testing.T) {
			st := store(t)
			full := s.fullSyncState(1)
			requireAllSet(t, "SyncState", reflect.ValueOf(full))
			warsaw := time.FixedZone("CEST", 2*60*60)
			in := full
			in.Cursor = in.Cursor.In(warsaw) // any location in, the same instant out
			in.LastReport.StartedAt = in.LastReport.StartedAt.In(warsaw)
			s.saveState(t, st, "default", in)
			requireState(t, st, "default", full)
		}},
		{"EveryStatus", func(t *testing.T) {
			st := store(t)
			for _, status := range []callhistory.SyncStatus{
				callhistory.SyncIdle, callhistory.SyncRunning, callhistory.SyncFailedUnauthorized,
				callhistory.SyncFailedRateLimited, callhistory.SyncFailedOther,
			} {
				want := callhistory.SyncState{Status: status}
				s.saveState(t, st, "default", want)
				requireState(t, st, "default", want)
			}
		}},
		{"Overwrite", func(t *testing.T) {
			st := store(t)
			s.saveState(t, st, "default", s.fullSyncState(1))
			second := s.fullSyncState(2)
			s.saveState(t, st, "default", second)
			requireState(t, st, "default", second)
			// A sparse state replaces a full one: no field of the old one
			// lingers (a store must not merge).
			sparse := callhistory.SyncState{Status: callhistory.SyncIdle, Cursor: s.at(base)}
			s.saveState(t, st, "default", sparse)
			requireState(t, st, "default", sparse)
			s.saveState(t, st, "default", callhistory.SyncState{})
			requireState(t, st, "default", callhistory.SyncState{})
		}},
		{"IndependentNames", func(t *testing.T) {
			st := store(t)
			names := []string{"default", "konto-główne", "sync:" + strings.Repeat("n", 100)}
			for i, name := range names {
				s.saveState(t, st, name, s.fullSyncState(i+1))
			}
			s.saveState(t, st, names[0], callhistory.SyncState{Status: callhistory.SyncRunning})
			requireState(t, st, names[0], callhistory.SyncState{Status: callhistory.SyncRunning})
			for i, name := range names[1:] {
				requireState(t, st, name, s.fullSyncState(i+2))
			}
		}},
		{"EmptyNameRefused", func(t *testing.T) {
			st := store(t)
			if err := st.SaveSyncState(t.Context(), "", s.fullSyncState(1)); err == nil {
				t.Fatal("SaveSyncState with an empty name succeeded; it must be an error")
			}
			requireState(t, st, "", callhistory.SyncState{})
		}},
		{"ContextDone", func(t *testing.T) {
			st := store(t)
			before := s.fullSyncState(1)
			s.saveState(t, st, "default", before)
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			if err := st.SaveSyncState(ctx, "default", s.fullSyncState(2)); !errors.Is(err, context.Canceled) {
				t.Fatalf("SaveSyncState with a done context: got %v, want an error wrapping context.Canceled", err)
			}
			if _, err := st.SyncState(ctx, "default"); !errors.Is(err, context.Canceled) {
				t.Fatalf("SyncState with a done context: got %v, want an error wrapping context.Canceled", err)
			}
			requireState(t, st, "default", before)
		}},
	}
}
