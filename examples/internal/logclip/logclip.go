// Package logclip shortens the values that go into log lines, so that no
// value a request controls (a lead id in a URL, a form field) makes a long
// line: a request with a 1 MB path must not write a 1 MB log line.
package logclip

import (
	"context"
	"log/slog"
	"strconv"
	"unicode/utf8"
)

// String returns s when it is at most limit bytes long, else its first
// limit bytes, cut at a character boundary, and a marker saying how many bytes
// were left out: "L-1aaaa…(+999936 bytes)".
func String(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	n := max(0, limit)
	for n > 0 && n > limit-utf8.UTFMax && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…(+" + strconv.Itoa(len(s)-n) + " bytes)"
}

// NewHandler returns a handler that passes every record to h with each of
// its string and error values, also those inside groups and those added by
// WithAttrs, shortened by String to limit bytes. The message is left whole:
// it is the program's text (a panic's stack among them), not a value.
func NewHandler(h slog.Handler, limit int) slog.Handler {
	return &handler{next: h, limit: limit}
}

type handler struct {
	next  slog.Handler
	limit int
}

func (h *handler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.clip(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h *handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	clipped := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		clipped[i] = h.clip(a)
	}
	return &handler{next: h.next.WithAttrs(clipped), limit: h.limit}
}

func (h *handler) WithGroup(name string) slog.Handler {
	return &handler{next: h.next.WithGroup(name), limit: h.limit}
}

func (h *handler) clip(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		a.Value = slog.StringValue(String(v.String(), h.limit))
	case slog.KindGroup:
		group := v.Group()
		clipped := make([]slog.Attr, len(group))
		for i, g := range group {
			clipped[i] = h.clip(g)
		}
		a.Value = slog.GroupValue(clipped...)
	case slog.KindAny:
		if err, ok := v.Any().(error); ok {
			a.Value = slog.StringValue(String(err.Error(), h.limit))
		} else {
			a.Value = v
		}
	default:
		a.Value = v
	}
	return a
}
