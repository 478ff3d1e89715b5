package callhistory

// SetAfterJoin makes r call f each time a caller has started or joined the
// shared refresh of its number, so tests can release a held fetch once every
// caller waits on it.
func SetAfterJoin(r *Refresher, f func()) { r.afterJoin = f }

// NewLocalPassLock returns the lock a Syncer takes by default, for tests
// that share one between Syncers or take it themselves.
func NewLocalPassLock() PassLock { return &localPassLock{} }

// CatchUpWaiters returns how many callers wait for a catch-up of s.
func CatchUpWaiters(s *Syncer) int {
	s.catch.mu.Lock()
	defer s.catch.mu.Unlock()
	return s.catch.waiting
}

// ActiveRefreshes returns how many refreshes of r are under way.
func ActiveRefreshes(r *Refresher) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.active.n
}
