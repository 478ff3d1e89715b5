package storagetest

import (
	"context"

	"github.com/leadcalls/leadcalls/callhistory"
)

// Hooks are points inside a write where a test injects a fault: a non-nil
// error (or a panic) from a hook aborts the write, which must then leave the
// store exactly as it was. Nil hooks do nothing.
type Hooks struct {
	// AfterDelete runs after the write deleted calls (Tx.Delete), before
	// any insert or update.
	AfterDelete func() error
	// BeforeWrite runs before the k-th insert or update of a write (k
	// counts from 1); the rows before it have been handed to the store.
	BeforeWrite func(k int) error
	// BeforeCommit runs after everything is written, just before Update's
	// fn returns.
	BeforeCommit func() error
}

// WithHooks returns st with h called at its points inside every Update. It
// wraps the Tx, so it works on any callhistory.Store: the store needs no
// support of its own for fault injection.
func WithHooks(st callhistory.Store, h *Hooks) callhistory.Store {
	if h == nil {
		return st
	}
	return hookedStore{Store: st, h: h}
}

type hookedStore struct {
	callhistory.Store
	h *Hooks
}

func (s hookedStore) Update(ctx context.Context, phones []string, fn func(callhistory.Tx) error) error {
	return s.Store.Update(ctx, phones, func(tx callhistory.Tx) error {
		if err := fn(&hookedTx{Tx: tx, h: s.h}); err != nil {
			return err
		}
		if s.h.BeforeCommit != nil {
			return s.h.BeforeCommit()
		}
		return nil
	})
}

type hookedTx struct {
	callhistory.Tx
	h *Hooks
	k int // inserts and updates so far
}

func (t *hookedTx) Delete(ctx context.Context, rowIDs []int64) error {
	if err := t.Tx.Delete(ctx, rowIDs); err != nil {
		return err
	}
	if t.h.AfterDelete != nil {
		return t.h.AfterDelete()
	}
	return nil
}

// Put calls BeforeWrite before each call and hands the calls to the store
// one at a time, so that a fault strikes a write that holds the calls
// before it.
func (t *hookedTx) Put(ctx context.Context, calls []callhistory.Call) error {
	if t.h.BeforeWrite == nil {
		return t.Tx.Put(ctx, calls)
	}
	for i := range calls {
		t.k++
		if err := t.h.BeforeWrite(t.k); err != nil {
			return err
		}
		if err := t.Tx.Put(ctx, calls[i:i+1]); err != nil {
			return err
		}
	}
	return nil
}
