package statusmap

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"
)

// MaxUnknownTypes bounds the distinct unknown call_type values a Mapper
// tracks; further values are counted together under OtherUnknownTypes, so an
// upstream sending ever new values cannot grow the counter without bound.
const MaxUnknownTypes = 100

// OtherUnknownTypes is the UnknownTypes key that counts the unknown call_type
// values seen after MaxUnknownTypes distinct ones were tracked.
const OtherUnknownTypes = "(other)"

// maxUnknownKey caps the bytes of one tracked (and logged) unknown value.
const maxUnknownKey = 64

type unknownCounter struct {
	mu     sync.RWMutex
	counts map[string]*atomic.Int64
}

// add counts key and reports whether it is new, and whether key went to the
// overflow bucket that was new.
func (u *unknownCounter) add(key string) (isNew, overflowNew bool) {
	u.mu.RLock()
	n, ok := u.counts[key]
	u.mu.RUnlock()
	if ok {
		n.Add(1)
		return false, false
	}

	u.mu.Lock()
	defer u.mu.Unlock()
	if n, ok := u.counts[key]; ok {
		n.Add(1)
		return false, false
	}
	if u.counts == nil {
		u.counts = make(map[string]*atomic.Int64)
	}
	tracked := len(u.counts)
	if _, ok := u.counts[OtherUnknownTypes]; ok {
		tracked--
	}
	if tracked >= MaxUnknownTypes {
		n, ok := u.counts[OtherUnknownTypes]
		if !ok {
			n = new(atomic.Int64)
			u.counts[OtherUnknownTypes] = n
		}
		n.Add(1)
		return false, !ok
	}
	n = new(atomic.Int64)
	n.Add(1)
	u.counts[strings.Clone(key)] = n // key may point into a large caller string
	return true, false
}

func (u *unknownCounter) snapshot() map[string]int {
	u.mu.RLock()
	defer u.mu.RUnlock()
	out := make(map[string]int, len(u.counts))
	for k, n := range u.counts {
		out[k] = int(n.Load())
	}
	return out
}

// noteUnknown counts the trimmed unknown call_type and logs it the first time.
func (m *Mapper) noteUnknown(trimmed string) {
	key := truncate(trimmed, maxUnknownKey)
	isNew, overflowNew := m.unknown.add(key)
	if !isNew && !overflowNew {
		return
	}
	l := m.logger
	if l == nil {
		l = slog.Default()
	}
	if isNew {
		l.LogAttrs(context.Background(), slog.LevelWarn, "statusmap: unknown Callyzer call_type, mapped with the fallback row",
			slog.String("call_type", key))
		return
	}
	l.LogAttrs(context.Background(), slog.LevelWarn, "statusmap: too many distinct unknown Callyzer call_type values; counting further ones together",
		slog.Int("tracked", MaxUnknownTypes), slog.String("key", OtherUnknownTypes))
}

// UnknownTypes returns how many times Map met each call_type the table does
// not list, keyed by the value with surrounding spaces removed (and cut to 64
// bytes); the empty call_type is counted under "". Values beyond
// MaxUnknownTypes distinct ones are counted under OtherUnknownTypes. The map
// is a copy.
func (m *Mapper) UnknownTypes() map[string]int {
	return m.unknown.snapshot()
}

// truncate cuts s to at most n bytes on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
