package logclip_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/leadcalls/leadcalls/examples/internal/logclip"
)

func TestString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		limit    int
		want     string
	}{
		{"short", "L-1", 8, "L-1"},
		{"exactly the limit", "12345678", 8, "12345678"},
		{"one over", "123456789", 8, "12345678…(+1 bytes)"},
		{"a million bytes", strings.Repeat("a", 1_000_000), 4, "aaaa…(+999996 bytes)"},
		{"not inside a character", "ab" + "ł" + "cd", 3, "ab…(+4 bytes)"}, // ł is 2 bytes
		{"a 4-byte character", "a😀b", 3, "a…(+5 bytes)"},
		{"zero limit", "abc", 0, "…(+3 bytes)"},
		{"invalid UTF-8 is cut at the limit", "\xff\xff\xff\xff\xff", 2, "\xff\xff…(+3 bytes)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, logclip.String(tt.in, tt.limit))
		})
	}
}

type secretID string

func (s secretID) LogValue() slog.Value { return slog.StringValue(string(s)) }

func TestHandler(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	long := strings.Repeat("x", 1000)
	logger := slog.New(logclip.NewHandler(slog.NewJSONHandler(&buf, nil), 4)).
		With("with", long).
		WithGroup("g")
	logger.Info("the message "+long,
		"s", long,
		"short", "ok",
		"n", 12345678,
		"err", errors.New(long),
		"valuer", secretID(long),
		slog.Group("inner", "s", long),
		"list", []string{long}, // neither a string nor an error: as it is
	)

	var got map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &got))
	delete(got, "time")
	clipped := "xxxx…(+996 bytes)"
	want := map[string]any{
		"level": "INFO",
		"msg":   "the message " + long,
		"with":  clipped,
		"g": map[string]any{
			"s":      clipped,
			"short":  "ok",
			"n":      12345678.0,
			"err":    clipped,
			"valuer": clipped,
			"inner":  map[string]any{"s": clipped},
			"list":   []any{long},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("log line (-want +got):\n%s", diff)
	}
}
