package callhistory

import (
	"context"
	"testing"
)

// TestLocalPassLock: the default lock has one holder per name, frees the
// name on release (once, however often release is called) and refuses a
// done context.
func TestLocalPassLock(t *testing.T) {
	t.Parallel()
	var l localPassLock
	ctx := t.Context()
	release, ok, err := l.TryLock(ctx, "a")
	if err != nil || !ok {
		t.Fatalf("first TryLock: %v, %v", ok, err)
	}
	if _, ok, err := l.TryLock(ctx, "a"); err != nil || ok {
		t.Fatalf("second TryLock of a held name: %v, %v", ok, err)
	}
	relB, ok, err := l.TryLock(ctx, "b")
	if err != nil || !ok {
		t.Fatalf("another name: %v, %v", ok, err)
	}
	if err := release(); err != nil {
		t.Fatal(err)
	}
	again, ok, err := l.TryLock(ctx, "a")
	if err != nil || !ok {
		t.Fatalf("after release: %v, %v", ok, err)
	}
	if err := release(); err != nil { // a second release frees nothing
		t.Fatal(err)
	}
	if _, ok, _ := l.TryLock(ctx, "a"); ok {
		t.Fatal("a stale release freed the new holder's name")
	}
	_ = again()
	_ = relB()
	done, cancel := context.WithCancel(ctx)
	cancel()
	if _, ok, err := l.TryLock(done, "c"); err == nil || ok {
		t.Fatalf("a done context: %v, %v", ok, err)
	}
}
