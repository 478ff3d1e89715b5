package statusmap_test

import (
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/leadcalls/leadcalls/statusmap"
)

func FuzzMap(f *testing.F) {
	for _, ct := range []string{"Incoming", "outgoing", " Missed ", "REJECTED", "", "*", "WhatsApp", "Połączenie", "\xff\xfe", strings.Repeat("İ", 40)} {
		for _, d := range []int{-1, 0, 1, 1 << 40} {
			f.Add(ct, d)
		}
	}
	m, err := statusmap.New(statusmap.WithLogger(slog.New(slog.DiscardHandler)))
	require.NoError(f, err)
	known := map[string]bool{"incoming": true, "outgoing": true, "missed": true, "rejected": true}

	f.Fuzz(func(t *testing.T, callType string, duration int) {
		r := m.Map(callType, duration)
		require.Equal(t, callType, r.RawCallType, "raw value kept verbatim")
		require.True(t, slices.Contains(m.Codes(), r.Code), "code %q not declared", r.Code)
		require.Contains(t, []statusmap.Direction{statusmap.Incoming, statusmap.Outgoing, statusmap.UnknownDirection}, r.Direction)
		norm := strings.ToLower(strings.TrimSpace(callType))
		require.Equal(t, known[norm], r.Code != statusmap.Unknown, "Map(%q, %d) = %v", callType, duration, r)
		if known[norm] {
			// Case and spaces do not matter; a negative duration is 0.
			require.Equal(t, r.Code, m.Map(strings.ToUpper(norm), max(duration, 0)).Code)
		}
		require.NotEmpty(t, m.Label(r.Code, "pl"))
		require.LessOrEqual(t, len(m.UnknownTypes()), statusmap.MaxUnknownTypes+1)
	})
}

func FuzzParse(f *testing.F) {
	f.Add(statusmap.DefaultJSON())
	f.Add([]byte(`{"statuses":[{"code":"unknown","labels":{"pl":"N"}}],"rows":[{"call_type":"*","duration":"any","direction":"unknown","status":"unknown"}]}`))
	f.Add([]byte(`{"connected_threshold_seconds":-1}`))
	f.Add([]byte(`null`))
	f.Add([]byte(``))
	f.Add([]byte(`{"rows":[{"call_type":"a","duration":"connected"},{"call_type":"A","duration":"any"}]}`))

	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := statusmap.Parse(data, statusmap.WithLogger(slog.New(slog.DiscardHandler)))
		if err != nil {
			require.Nil(t, m)
			return
		}
		// A table that loads maps every input to a declared code, and
		// survives a round trip through MarshalJSON.
		for _, ct := range []string{"", "Incoming", "x", "*"} {
			for _, d := range []int{-1, 0, m.Threshold(), 1 << 30} {
				r := m.Map(ct, d)
				require.True(t, slices.Contains(m.Codes(), r.Code), "code %q not declared", r.Code)
				require.NotEmpty(t, m.Label(r.Code, "xx"))
			}
		}
		out, err := m.MarshalJSON()
		require.NoError(t, err)
		back, err := statusmap.Parse(out, statusmap.WithLogger(slog.New(slog.DiscardHandler)))
		require.NoError(t, err, "re-loading %s", out)
		for _, ct := range []string{"", "Incoming", "x", "*"} {
			for _, d := range []int{-1, 0, m.Threshold(), 1 << 30} {
				require.Equal(t, m.Map(ct, d), back.Map(ct, d))
			}
		}
	})
}
