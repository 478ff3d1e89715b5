package sqlstore

import (
	"context"
	"errors"
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/stretchr/testify/require"

	"github.com/leadcalls/leadcalls/callhistory"
	"github.com/leadcalls/leadcalls/statusmap"
	"github.com/leadcalls/leadcalls/storage/storagetest"
)

// eachBackend runs f on a fresh, migrated store of every backend, in
// parallel subtests; server backends skip when not configured.
func eachBackend(t *testing.T, f func(t *testing.T, s *Store), opts ...Option) {
	t.Helper()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			db, _ := openFresh(t, b.name)
			f(t, newMigrated(t, db, b.dialect, opts...))
		})
	}
}

// stored returns every call of phone in the store, in the stored form.
func stored(t *testing.T, s *Store, phone string) []callhistory.Call {
	t.Helper()
	got, err := s.Calls(t.Context(), phone, 0)
	require.NoError(t, err)
	return got
}

// want returns calls as the store keeps them: UTC, microseconds, newest
// first, RowID ignored by the comparison.
func want(calls []callhistory.Call) []callhistory.Call {
	out := make([]callhistory.Call, len(calls))
	for i, c := range calls {
		c.RowID = 0
		c.StartedAt = utcMicro(c.StartedAt)
		if !c.SyncedAt.IsZero() {
			c.SyncedAt = utcMicro(c.SyncedAt)
		}
		if !c.ModifiedAt.IsZero() {
			c.ModifiedAt = utcMicro(c.ModifiedAt)
		}
		out[i] = c
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].StartedAt.Equal(out[j].StartedAt) {
			return out[i].StartedAt.After(out[j].StartedAt)
		}
		return out[i].CallyzerID < out[j].CallyzerID
	})
	return out
}

var ignoreRowID = cmpopts.IgnoreFields(callhistory.Call{}, "RowID")

func TestReplaceWindowDiff(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		const phone, other = "+48601234567", "+48609999999"
		first := makeCalls(phone, "a", 6)
		outside := makeCall(phone, "outside", 0)
		outside.StartedAt = window.To.Add(time.Second)
		otherCall := makeCall(other, "o", 1)

		_, err := callhistory.UpsertCalls(ctx, s, []callhistory.Call{outside, otherCall}, time.Time{})
		require.NoError(t, err)
		res, err := callhistory.ReplaceWindow(ctx, s, phone, window, first, afterUploads.Add(time.Hour))
		require.NoError(t, err)
		require.Equal(t, callhistory.WriteResult{Inserted: 6}, res)
		before := stored(t, s, phone)
		rowIDs := map[string]int64{}
		for _, c := range before {
			rowIDs[c.CallyzerID] = c.RowID
		}

		// Second answer: a-0 unchanged, a-1 changed, a-2 without recording
		// (keeps the stored one, so unchanged), a-3..a-5 gone, b-0 new.
		second := []callhistory.Call{first[0], first[1], first[2], makeCall(phone, "b-0", 9)}
		second[1].Status = statusmap.Missed
		second[2].RecordingURL = ""
		res, err = callhistory.ReplaceWindow(ctx, s, phone, window, second, afterUploads)
		require.NoError(t, err)
		require.Equal(t, callhistory.WriteResult{Inserted: 1, Updated: 1, Deleted: 3, Unchanged: 2}, res)

		second[2].RecordingURL = first[2].RecordingURL
		got := stored(t, s, phone)
		if diff := cmp.Diff(want(append(second, outside)), got, ignoreRowID); diff != "" {
			t.Fatalf("calls (-want +got):\n%s", diff)
		}
		for _, c := range got {
			if id, ok := rowIDs[c.CallyzerID]; ok {
				require.Equal(t, id, c.RowID, "row identity of %s", c.CallyzerID)
			}
		}
		require.Len(t, stored(t, s, other), 1, "another number's calls are untouched")

		last, err := s.LastSynced(ctx, phone)
		require.NoError(t, err)
		require.True(t, last.Equal(afterUploads.Add(time.Hour)), "last sync went backwards to %v", last)

		// An empty answer takes the window out and nothing else; two hours
		// after the answer that first lacked them, a-3..a-5 go for good.
		res, err = callhistory.ReplaceWindow(ctx, s, phone, window, nil, afterUploads.Add(2*time.Hour))
		require.NoError(t, err)
		require.Equal(t, callhistory.WriteResult{Deleted: 4, Purged: 3}, res)
		if diff := cmp.Diff(want([]callhistory.Call{outside}), stored(t, s, phone), ignoreRowID); diff != "" {
			t.Fatalf("calls (-want +got):\n%s", diff)
		}
		last, err = s.LastSynced(ctx, phone)
		require.NoError(t, err)
		require.Equal(t, afterUploads.Add(2*time.Hour), last)
	})
}

func TestWindowEdgesAndTimes(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		const phone = "+48601234567"
		w := callhistory.Window{
			From: time.Date(2026, 1, 1, 0, 0, 0, 1000, time.FixedZone("CET", 3600)),
			To:   time.Date(2026, 6, 1, 0, 0, 0, 999000, time.UTC),
		}
		atFrom, atTo := makeCall(phone, "from", 0), makeCall(phone, "to", 1)
		atFrom.StartedAt, atTo.StartedAt = w.From, w.To
		before, after := makeCall(phone, "before", 2), makeCall(phone, "after", 3)
		before.StartedAt, after.StartedAt = w.From.Add(-time.Microsecond), w.To.Add(time.Microsecond)
		atFrom.SyncedAt, atFrom.ModifiedAt = time.Time{}, time.Time{}

		_, err := callhistory.UpsertCalls(ctx, s, []callhistory.Call{atFrom, atTo, before, after}, time.Time{})
		require.NoError(t, err)
		got := stored(t, s, phone)
		if diff := cmp.Diff(want([]callhistory.Call{atFrom, atTo, before, after}), got, ignoreRowID); diff != "" {
			t.Fatalf("round trip (-want +got):\n%s", diff)
		}
		for _, c := range got {
			require.Equal(t, time.UTC, c.StartedAt.Location())
		}
		// A zero syncedAt deletes only the calls without an upload time:
		// atFrom; atTo was uploaded after it.
		res, err := callhistory.ReplaceWindow(ctx, s, phone, w, nil, time.Time{})
		require.NoError(t, err)
		require.Equal(t, callhistory.WriteResult{Deleted: 1}, res, "the call exactly at From is in the window")
		if diff := cmp.Diff(want([]callhistory.Call{atTo, before, after}), stored(t, s, phone), ignoreRowID); diff != "" {
			t.Fatalf("after a zero syncedAt (-want +got):\n%s", diff)
		}
		last, err := s.LastSynced(ctx, phone)
		require.NoError(t, err)
		require.True(t, last.IsZero(), "a zero syncedAt records nothing")
		res, err = callhistory.ReplaceWindow(ctx, s, phone, w, nil, atTo.SyncedAt)
		require.NoError(t, err)
		require.Equal(t, callhistory.WriteResult{Deleted: 1, Purged: 1}, res,
			"the call exactly at To is in the window (and the one at From, missing since a zero syncedAt, goes for good)")
		if diff := cmp.Diff(want([]callhistory.Call{before, after}), stored(t, s, phone), ignoreRowID); diff != "" {
			t.Fatalf("after (-want +got):\n%s", diff)
		}
	})
}

func TestUpsertCalls(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		p1, p2 := "+48601000111", "+48601000222"
		calls := append(makeCalls(p1, "x", 3), makeCalls(p2, "y", 2)...)
		dup := calls[0]
		dup.Note = "another copy"
		_, err := callhistory.UpsertCalls(ctx, s, append(calls, dup), base)
		require.ErrorContains(t, err, "repeats a CallyzerID", "a repeated id")
		res, err := callhistory.UpsertCalls(ctx, s, calls, base)
		require.NoError(t, err)
		require.Equal(t, callhistory.WriteResult{Inserted: 5}, res)

		calls[0] = dup
		calls[1].DurationSeconds = 999
		calls[2].RecordingURL = ""
		res, err = callhistory.UpsertCalls(ctx, s, calls[:3], base.Add(-time.Minute))
		require.NoError(t, err)
		require.Equal(t, callhistory.WriteResult{Updated: 2, Unchanged: 1}, res)

		calls[2].RecordingURL = "https://rec.example/x-0002"
		if diff := cmp.Diff(want(calls[:3]), stored(t, s, p1), ignoreRowID); diff != "" {
			t.Fatalf("p1 (-want +got):\n%s", diff)
		}
		limited, err := s.Calls(ctx, p1, 2)
		require.NoError(t, err)
		require.Len(t, limited, 2)
		for _, p := range []string{p1, p2} {
			last, err := s.LastSynced(ctx, p)
			require.NoError(t, err)
			require.Equal(t, base, last, p)
		}
		none, err := s.Calls(ctx, "+48600000000", 10)
		require.NoError(t, err)
		require.NotNil(t, none)
		require.Empty(t, none)
	})
}

func TestInvalidArguments(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		const phone = "+48601234567"
		otherNumber := makeCall("+48609999999", "z", 1)
		outside := makeCall(phone, "z", 1)
		outside.StartedAt = window.From.Add(-time.Second)
		noID := makeCall(phone, "", 1)
		tests := []struct {
			name string
			run  func() error
		}{
			{"another number", func() error {
				_, err := callhistory.ReplaceWindow(ctx, s, phone, window, []callhistory.Call{otherNumber}, base)
				return err
			}},
			{"outside the window", func() error {
				_, err := callhistory.ReplaceWindow(ctx, s, phone, window, []callhistory.Call{outside}, base)
				return err
			}},
			{"no id", func() error { _, err := callhistory.UpsertCalls(ctx, s, []callhistory.Call{noID}, base); return err }},
			{"from after to", func() error {
				_, err := callhistory.ReplaceWindow(ctx, s, phone, callhistory.Window{From: window.To, To: window.From}, nil, base)
				return err
			}},
		}
		for _, tt := range tests {
			// The use case refuses them before the store sees them.
			require.ErrorContains(t, tt.run(), "callhistory: ", tt.name)
		}
		require.Empty(t, stored(t, s, phone))
	})
}

// TestFaultsLeaveStoreUnchanged aborts writes at every hook point, with an
// error and with a panic, and checks every row and the sync state.
func TestFaultsLeaveStoreUnchanged(t *testing.T) {
	t.Parallel()
	// 100 stored calls; the new answer keeps 20 (changed), drops 80 and
	// adds 100. With 20 rows per statement every step (read, delete,
	// write) spans several statements, which is the point; more rows would
	// only cost time.
	const stored0, kept, perStatement = 100, 20, 20
	boom := errors.New("injected")
	points := []struct {
		name  string
		hooks func(fail func() error) *storagetest.Hooks
	}{
		{"after delete", func(f func() error) *storagetest.Hooks { return &storagetest.Hooks{AfterDelete: f} }},
		{"first write", func(f func() error) *storagetest.Hooks {
			return &storagetest.Hooks{BeforeWrite: func(k int) error { return onK(k, 1, f) }}
		}},
		{"last write", func(f func() error) *storagetest.Hooks {
			return &storagetest.Hooks{BeforeWrite: func(k int) error { return onK(k, stored0+kept, f) }}
		}},
		{"before commit", func(f func() error) *storagetest.Hooks { return &storagetest.Hooks{BeforeCommit: f} }},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			db, _ := openFresh(t, b.name)
			const phone = "+48601234567"
			hooks := &storagetest.Hooks{}
			s := newMigrated(t, db, b.dialect)
			s.maxRows = perStatement
			hooked := storagetest.WithHooks(s, hooks)
			_, err := callhistory.ReplaceWindow(t.Context(), s, phone, window, makeCalls(phone, "old", stored0), base)
			require.NoError(t, err)
			before := stored(t, s, phone)
			next := append(makeCalls(phone, "new", stored0), makeCalls(phone, "old", kept)...)
			for i := stored0; i < stored0+kept; i++ {
				next[i].Note = "changed"
			}
			for _, p := range points {
				for _, panics := range []bool{false, true} {
					fail := func() error {
						if panics {
							panic(boom)
						}
						return boom
					}
					*hooks = *p.hooks(fail)
					func() {
						defer func() {
							r := recover()
							require.Equal(t, panics, r != nil, "%s: panic passed on", p.name)
						}()
						_, err := callhistory.ReplaceWindow(t.Context(), hooked, phone, window, next, afterUploads)
						require.ErrorIs(t, err, boom, p.name)
					}()
					*hooks = storagetest.Hooks{}
					if diff := cmp.Diff(before, stored(t, s, phone)); diff != "" {
						t.Fatalf("%s (panic %v): store changed (-before +after):\n%s", p.name, panics, diff)
					}
					last, err := s.LastSynced(t.Context(), phone)
					require.NoError(t, err)
					require.Equal(t, base, last, p.name)
				}
			}
			// The store still works after the aborted writes.
			res, err := callhistory.ReplaceWindow(t.Context(), s, phone, window, next, afterUploads)
			require.NoError(t, err)
			require.Equal(t, callhistory.WriteResult{Inserted: stored0, Updated: kept, Deleted: stored0 - kept}, res)
		})
	}
}

func onK(k, at int, f func() error) error {
	if k == at {
		return f()
	}
	return nil
}

func TestCancelledContext(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err := callhistory.ReplaceWindow(ctx, s, "+48601234567", window, makeCalls("+48601234567", "c", 3), base)
		require.ErrorIs(t, err, context.Canceled)
		_, err = s.Calls(ctx, "+48601234567", 0)
		require.ErrorIs(t, err, context.Canceled)
		require.Empty(t, stored(t, s, "+48601234567"))
	})
}

// TestWriterOfAnotherNumberWaits: a writer of another number that moves
// two calls of a refreshing window to its number, as newer copies, while
// the refresh is between its read and its statements, must lock the
// refresh's number too (the calls are stored under it), so it waits for
// the refresh to commit and then moves both: the refresh neither deletes
// the moved calls nor pulls one back with older data. Only the server
// backends can interleave so: SQLite runs one writer at a time.
func TestWriterOfAnotherNumberWaits(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		if b.dialect == SQLite {
			// SQLite serialises every writer (BEGIN IMMEDIATE): no other
			// write can run between a write's read and its statements.
			continue
		}
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			db, _ := openFresh(t, b.name)
			s := newMigrated(t, db, b.dialect)
			other, err := New(db, b.dialect)
			require.NoError(t, err)
			ctx := t.Context()
			const phoneA, phoneB = "+48601000111", "+48601000222"
			gone, kept := makeCall(phoneA, "gone", 1), makeCall(phoneA, "kept", 2)
			_, err = callhistory.UpsertCalls(ctx, s, []callhistory.Call{gone, kept}, base)
			require.NoError(t, err)

			movedGone, movedKept := gone, kept
			movedGone.Phone, movedGone.ModifiedAt = phoneB, gone.ModifiedAt.Add(time.Minute)
			movedKept.Phone, movedKept.Note, movedKept.ModifiedAt = phoneB, "the newest copy", kept.ModifiedAt.Add(2*time.Minute)
			answer := kept
			answer.Note, answer.ModifiedAt = "newer than the read, older than the move", kept.ModifiedAt.Add(time.Minute)

			moved := make(chan error, 1)
			calls := 0
			s.afterReadForTest = func() {
				if calls++; calls != 1 {
					return
				}
				go func() {
					_, err := callhistory.UpsertCalls(ctx, other, []callhistory.Call{movedGone, movedKept}, base)
					moved <- err
				}()
				// Give the mover time to read and reach phoneA's lock.
				time.Sleep(100 * time.Millisecond)
				select {
				case err := <-moved:
					t.Errorf("the writer of another number did not wait for the refresh: %v", err)
				default:
				}
			}
			res, err := callhistory.ReplaceWindow(ctx, s, phoneA, window, []callhistory.Call{answer}, afterUploads)
			require.NoError(t, err)
			require.Equal(t, 1, calls, "the refresh ran once")
			require.Equal(t, callhistory.WriteResult{Updated: 1, Deleted: 1}, res)
			require.NoError(t, <-moved)
			require.Empty(t, stored(t, s, phoneA))
			if diff := cmp.Diff(want([]callhistory.Call{movedGone, movedKept}), stored(t, s, phoneB), ignoreRowID); diff != "" {
				t.Fatalf("the other number's calls (-want +got):\n%s", diff)
			}
		})
	}
}
