package statusmap_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/leadcalls/leadcalls/statusmap"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// recorder is a slog.Handler that keeps every record's message and attributes.
type recorder struct {
	mu    sync.Mutex
	lines []string
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *recorder) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *recorder) WithGroup(string) slog.Handler            { return r }
func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	var b strings.Builder
	b.WriteString(rec.Level.String() + " " + rec.Message)
	rec.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%q", a.Key, a.Value.String())
		return true
	})
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines = append(r.lines, b.String())
	return nil
}

func (r *recorder) Lines() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.lines...)
}

// quiet returns a Mapper option that discards the unknown-type warnings.
func quiet() statusmap.Option { return statusmap.WithLogger(slog.New(slog.DiscardHandler)) }

func TestDefaultScheme(t *testing.T) {
	t.Parallel()
	tests := []struct {
		callType string
		duration int
		want     statusmap.Result
	}{
		// Incoming: answered from the threshold (1 s), missed below it.
		{"Incoming", 1, statusmap.Result{statusmap.Answered, statusmap.Incoming, "Incoming"}},
		{"Incoming", 87, statusmap.Result{statusmap.Answered, statusmap.Incoming, "Incoming"}},
		{"Incoming", 0, statusmap.Result{statusmap.Missed, statusmap.Incoming, "Incoming"}},
		{"Incoming", -5, statusmap.Result{statusmap.Missed, statusmap.Incoming, "Incoming"}},
		// Missed and Rejected ignore the duration.
		{"Missed", 0, statusmap.Result{statusmap.Missed, statusmap.Incoming, "Missed"}},
		{"Missed", 1, statusmap.Result{statusmap.Missed, statusmap.Incoming, "Missed"}},
		{"Missed", 300, statusmap.Result{statusmap.Missed, statusmap.Incoming, "Missed"}},
		{"Rejected", 0, statusmap.Result{statusmap.Rejected, statusmap.Incoming, "Rejected"}},
		{"Rejected", 1, statusmap.Result{statusmap.Rejected, statusmap.Incoming, "Rejected"}},
		// Outgoing: connected from the threshold, not picked up below it.
		{"Outgoing", 1, statusmap.Result{statusmap.Connected, statusmap.Outgoing, "Outgoing"}},
		{"Outgoing", 3600, statusmap.Result{statusmap.Connected, statusmap.Outgoing, "Outgoing"}},
		{"Outgoing", 0, statusmap.Result{statusmap.NotPickedUp, statusmap.Outgoing, "Outgoing"}},
		{"Outgoing", -1, statusmap.Result{statusmap.NotPickedUp, statusmap.Outgoing, "Outgoing"}},
		// Case and surrounding spaces are ignored; the raw value is kept verbatim.
		{"incoming", 2, statusmap.Result{statusmap.Answered, statusmap.Incoming, "incoming"}},
		{"INCOMING", 0, statusmap.Result{statusmap.Missed, statusmap.Incoming, "INCOMING"}},
		{"  Outgoing\t", 5, statusmap.Result{statusmap.Connected, statusmap.Outgoing, "  Outgoing\t"}},
		{"oUtGoInG", 0, statusmap.Result{statusmap.NotPickedUp, statusmap.Outgoing, "oUtGoInG"}},
		{"\nmissed ", 0, statusmap.Result{statusmap.Missed, statusmap.Incoming, "\nmissed "}},
		{" REJECTED", 9, statusmap.Result{statusmap.Rejected, statusmap.Incoming, " REJECTED"}},
		// Anything else, or empty: unknown, raw value kept.
		{"", 0, statusmap.Result{statusmap.Unknown, statusmap.UnknownDirection, ""}},
		{"   ", 12, statusmap.Result{statusmap.Unknown, statusmap.UnknownDirection, "   "}},
		{"WhatsApp", 40, statusmap.Result{statusmap.Unknown, statusmap.UnknownDirection, "WhatsApp"}},
		{"Blocked", 0, statusmap.Result{statusmap.Unknown, statusmap.UnknownDirection, "Blocked"}},
		{"*", 0, statusmap.Result{statusmap.Unknown, statusmap.UnknownDirection, "*"}},
		{"In coming", 5, statusmap.Result{statusmap.Unknown, statusmap.UnknownDirection, "In coming"}},
		{"Incoming2", 5, statusmap.Result{statusmap.Unknown, statusmap.UnknownDirection, "Incoming2"}},
		{"Połączenie", 5, statusmap.Result{statusmap.Unknown, statusmap.UnknownDirection, "Połączenie"}},
		{strings.Repeat("x", 200), 5, statusmap.Result{statusmap.Unknown, statusmap.UnknownDirection, strings.Repeat("x", 200)}},
	}
	m, err := statusmap.New(quiet())
	require.NoError(t, err)
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q/%d", tt.callType, tt.duration), func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, m.Map(tt.callType, tt.duration)); diff != "" {
				t.Errorf("Map(%q, %d) mismatch (-want +got):\n%s", tt.callType, tt.duration, diff)
			}
		})
	}
}

func TestLabels(t *testing.T) {
	t.Parallel()
	m := statusmap.Default()
	want := []struct {
		code   statusmap.Code
		pl, en string
	}{
		{statusmap.Answered, "Odebrane", "Answered"},
		{statusmap.Missed, "Nieodebrane", "Missed"},
		{statusmap.Rejected, "Odrzucone", "Rejected"},
		{statusmap.Connected, "Połączone", "Connected"},
		{statusmap.NotPickedUp, "Nieodebrane przez klienta", "Not picked up by client"},
		{statusmap.Unknown, "Nieznany", "Unknown"},
	}
	var codes []statusmap.Code
	for _, w := range want {
		codes = append(codes, w.code)
		t.Run(string(w.code), func(t *testing.T) {
			t.Parallel()
			require.Equal(t, w.pl, m.Label(w.code, "pl"))
			require.Equal(t, w.en, m.Label(w.code, "en"))
			require.Equal(t, w.pl, m.Label(w.code, "PL-pl"), "region suffix and case ignored")
			require.Equal(t, w.en, m.Label(w.code, " en_GB "), "region suffix and spaces ignored")
			require.Equal(t, w.pl, m.Label(w.code, "de"), "other languages fall back to Polish")
			require.Equal(t, w.pl, m.Label(w.code, ""), "no language falls back to Polish")
		})
	}
	require.Equal(t, codes, m.Codes(), "Codes in table order")
	require.Equal(t, "voicemail", m.Label("voicemail", "en"), "an undeclared code labels as itself")

	got := m.Codes()
	got[0] = "changed"
	require.Equal(t, statusmap.Answered, m.Codes()[0], "Codes returns a copy")
}

func TestZeroMapperIsDefault(t *testing.T) {
	t.Parallel()
	var zero statusmap.Mapper
	require.Equal(t, statusmap.Result{statusmap.Answered, statusmap.Incoming, "Incoming"}, zero.Map("Incoming", 1))
	require.Equal(t, statusmap.DefaultThreshold, zero.Threshold())
	require.Equal(t, statusmap.Default().Codes(), zero.Codes())
	require.Equal(t, "Połączone", zero.Label(statusmap.Connected, "pl"))
}

func TestThresholdOption(t *testing.T) {
	t.Parallel()
	tests := []struct {
		threshold int
		duration  int
		want      statusmap.Code
	}{
		{0, 0, statusmap.Answered}, // threshold 0: every incoming call is answered
		{0, -3, statusmap.Answered},
		{5, 4, statusmap.Missed},
		{5, 5, statusmap.Answered},
		{5, 6, statusmap.Answered},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d/%d", tt.threshold, tt.duration), func(t *testing.T) {
			t.Parallel()
			m, err := statusmap.New(statusmap.WithThreshold(tt.threshold))
			require.NoError(t, err)
			require.Equal(t, tt.threshold, m.Threshold())
			require.Equal(t, tt.want, m.Map("Incoming", tt.duration).Code)

			// The option also overrides a loaded table's threshold.
			loaded, err := statusmap.Parse(statusmap.DefaultJSON(), statusmap.WithThreshold(tt.threshold))
			require.NoError(t, err)
			require.Equal(t, tt.want, loaded.Map("Incoming", tt.duration).Code)
		})
	}

	_, err := statusmap.New(statusmap.WithThreshold(-1))
	require.ErrorIs(t, err, statusmap.ErrInvalidOption)
	require.ErrorContains(t, err, "WithThreshold(-1)")
	_, err = statusmap.Parse(statusmap.DefaultJSON(), statusmap.WithThreshold(-1))
	require.ErrorIs(t, err, statusmap.ErrInvalidOption)
}

// sweep is a set of inputs that touches every row of the default table, the
// threshold edges and the fallback.
func sweep() (callTypes []string, durations []int) {
	for _, ct := range []string{"Incoming", "Outgoing", "Missed", "Rejected", "WhatsApp", "Blocked", "", "*", "voicemail"} {
		callTypes = append(callTypes, ct, strings.ToUpper(ct), strings.ToLower(ct), " "+ct+"\t")
	}
	return callTypes, []int{-100, -1, 0, 1, 2, 59, 60, 3600, 1 << 30}
}

func TestDefaultJSONRoundTrip(t *testing.T) {
	t.Parallel()
	def, err := statusmap.New(quiet())
	require.NoError(t, err)
	loaded, err := statusmap.Load(bytes.NewReader(statusmap.DefaultJSON()), quiet())
	require.NoError(t, err)

	callTypes, durations := sweep()
	for _, ct := range callTypes {
		for _, d := range durations {
			if diff := cmp.Diff(def.Map(ct, d), loaded.Map(ct, d)); diff != "" {
				t.Errorf("Map(%q, %d): Default and Load(DefaultJSON) differ (-default +loaded):\n%s", ct, d, diff)
			}
		}
	}
	require.Equal(t, def.Codes(), loaded.Codes())
	require.Equal(t, def.Threshold(), loaded.Threshold())
	for _, c := range def.Codes() {
		for _, lang := range []string{"pl", "en", "de"} {
			require.Equal(t, def.Label(c, lang), loaded.Label(c, lang), "%s/%s", c, lang)
		}
	}

	// MarshalJSON writes the same table back out, and re-loading it is stable.
	defJSON, err := def.MarshalJSON()
	require.NoError(t, err)
	loadedJSON, err := loaded.MarshalJSON()
	require.NoError(t, err)
	require.JSONEq(t, string(defJSON), string(loadedJSON))
	require.JSONEq(t, string(statusmap.DefaultJSON()), string(defJSON))
	again, err := statusmap.Parse(loadedJSON)
	require.NoError(t, err)
	againJSON, err := again.MarshalJSON()
	require.NoError(t, err)
	require.JSONEq(t, string(loadedJSON), string(againJSON))
}

func TestMarshalJSONEffectiveThreshold(t *testing.T) {
	t.Parallel()
	m, err := statusmap.New(statusmap.WithThreshold(7))
	require.NoError(t, err)
	b, err := m.MarshalJSON()
	require.NoError(t, err)
	back, err := statusmap.Parse(b)
	require.NoError(t, err)
	require.Equal(t, 7, back.Threshold())
}

// docExample returns the JSON table in the package documentation.
func docExample(t *testing.T) []byte {
	t.Helper()
	src, err := os.ReadFile("doc.go")
	require.NoError(t, err)
	var out []string
	in := false
	for line := range strings.Lines(string(src)) {
		line = strings.TrimRight(line, "\n")
		if line == "//\t{" {
			in = true
		}
		if in {
			out = append(out, strings.TrimPrefix(line, "//\t"))
		}
		if in && line == "//\t}" {
			break
		}
	}
	require.NotEmpty(t, out, "no JSON example in doc.go")
	return []byte(strings.Join(out, "\n"))
}

func TestDocExample(t *testing.T) {
	t.Parallel()
	m, err := statusmap.Parse(docExample(t), quiet())
	require.NoError(t, err)
	require.Equal(t, 5, m.Threshold())
	require.Equal(t, []statusmap.Code{
		statusmap.Answered, statusmap.Missed, statusmap.Rejected, statusmap.Connected,
		statusmap.NotPickedUp, "blocked", statusmap.Unknown,
	}, m.Codes())

	tests := []struct {
		callType string
		duration int
		want     statusmap.Result
	}{
		{"Incoming", 4, statusmap.Result{statusmap.Missed, statusmap.Incoming, "Incoming"}},
		{"Incoming", 5, statusmap.Result{statusmap.Answered, statusmap.Incoming, "Incoming"}},
		{"Outgoing", 4, statusmap.Result{statusmap.NotPickedUp, statusmap.Outgoing, "Outgoing"}},
		{"blocked", 0, statusmap.Result{"blocked", statusmap.Incoming, "blocked"}},
		{"WhatsApp", 9, statusmap.Result{statusmap.Unknown, statusmap.UnknownDirection, "WhatsApp"}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, m.Map(tt.callType, tt.duration)); diff != "" {
			t.Errorf("Map(%q, %d) mismatch (-want +got):\n%s", tt.callType, tt.duration, diff)
		}
	}
	require.Equal(t, "Zablokowane", m.Label("blocked", "en"), "no English label: Polish")
	require.Equal(t, map[string]int{"WhatsApp": 1}, m.UnknownTypes())
}

func TestLoadValidation(t *testing.T) {
	t.Parallel()
	const statuses = `"statuses": [
		{"code": "answered", "labels": {"pl": "Odebrane", "en": "Answered"}},
		{"code": "unknown", "labels": {"pl": "Nieznany"}}
	]`
	const fallback = `{"call_type": "*", "duration": "any", "direction": "unknown", "status": "unknown"}`
	table := func(rows ...string) string {
		return `{` + statuses + `, "rows": [` + strings.Join(append(rows, fallback), ",") + `]}`
	}
	tests := []struct {
		name string
		json string
		want []string // substrings of the error
	}{
		{"empty input", ``, []string{"EOF"}},
		{"not JSON", `call_type,status`, []string{"invalid character"}},
		{"null", `null`, []string{"statuses: none declared", `no fallback row (call_type "*")`}},
		{"trailing data", table() + `{}`, []string{"unexpected data after the table"}},
		{"unknown field", `{"treshold": 3, ` + statuses + `, "rows": [` + fallback + `]}`, []string{`unknown field "treshold"`}},
		{"wrong type", `{"connected_threshold_seconds": "1"}`, []string{"connected_threshold_seconds"}},
		{"negative threshold", `{"connected_threshold_seconds": -2, ` + statuses + `, "rows": [` + fallback + `]}`,
			[]string{"connected_threshold_seconds is -2, must not be negative"}},
		{"missing fallback", `{` + statuses + `, "rows": [{"call_type": "Missed", "duration": "any", "direction": "incoming", "status": "unknown"}]}`,
			[]string{`no fallback row (call_type "*")`}},
		{"two fallbacks", table(fallback), []string{`rows[1] (call_type "*"): duplicates rows[0]`}},
		{"undeclared status", table(`{"call_type": "Missed", "duration": "any", "direction": "incoming", "status": "missed"}`),
			[]string{`rows[0] (call_type "Missed"): status "missed" is not declared in statuses`}},
		{"empty status", table(`{"call_type": "Missed", "duration": "any", "direction": "incoming", "status": ""}`),
			[]string{`status "" is not declared`}},
		{"unknown direction", table(`{"call_type": "Missed", "duration": "any", "direction": "inbound", "status": "answered"}`),
			[]string{`direction "inbound" is not one of "incoming", "outgoing", "unknown"`}},
		{"unknown duration", table(`{"call_type": "Missed", "duration": ">=1", "direction": "incoming", "status": "answered"}`),
			[]string{`duration ">=1" is not one of "any", "connected", "not_connected"`}},
		{"empty call_type", table(`{"call_type": "  ", "duration": "any", "direction": "incoming", "status": "answered"}`),
			[]string{`rows[0]: call_type is empty`}},
		{"duplicate row, other case and spaces", table(
			`{"call_type": "Missed", "duration": "any", "direction": "incoming", "status": "answered"}`,
			`{"call_type": " MISSED ", "duration": "any", "direction": "incoming", "status": "unknown"}`),
			[]string{`rows[1] (call_type "MISSED"): duplicates rows[0]`}},
		{"any overlaps a split row", table(
			`{"call_type": "Incoming", "duration": "connected", "direction": "incoming", "status": "answered"}`,
			`{"call_type": "Incoming", "duration": "any", "direction": "incoming", "status": "unknown"}`),
			[]string{`rows[1] (call_type "Incoming"): duration "any" overlaps`}},
		{"split row overlaps any", table(
			`{"call_type": "Incoming", "duration": "any", "direction": "incoming", "status": "answered"}`,
			`{"call_type": "Incoming", "duration": "not_connected", "direction": "incoming", "status": "unknown"}`),
			[]string{`rows[1] (call_type "Incoming"): duration "not_connected" overlaps`}},
		{"half a split", table(`{"call_type": "Outgoing", "duration": "connected", "direction": "outgoing", "status": "answered"}`),
			[]string{`call_type "outgoing": no "not_connected" row`}},
		{"other half of a split", table(`{"call_type": "Outgoing", "duration": "not_connected", "direction": "outgoing", "status": "answered"}`),
			[]string{`call_type "outgoing": no "connected" row`}},
		{"no statuses", `{"statuses": [], "rows": [` + fallback + `]}`,
			[]string{"statuses: none declared", `status "unknown" is not declared`}},
		{"duplicate code", `{"statuses": [{"code": "unknown", "labels": {"pl": "a"}}, {"code": "unknown", "labels": {"pl": "b"}}], "rows": [` + fallback + `]}`,
			[]string{`statuses[1]: code "unknown" declared twice`}},
		{"empty code", `{"statuses": [{"code": "", "labels": {"pl": "a"}}, {"code": "unknown", "labels": {"pl": "b"}}], "rows": [` + fallback + `]}`,
			[]string{`statuses[0]: code is empty`}},
		{"code with spaces", `{"statuses": [{"code": " x", "labels": {"pl": "a"}}, {"code": "unknown", "labels": {"pl": "b"}}], "rows": [` + fallback + `]}`,
			[]string{`statuses[0]: code " x" has surrounding spaces`}},
		{"no Polish label", `{"statuses": [{"code": "unknown", "labels": {"en": "Unknown"}}], "rows": [` + fallback + `]}`,
			[]string{`statuses[0] (unknown): no Polish ("pl") label`}},
		{"no labels", `{"statuses": [{"code": "unknown"}], "rows": [` + fallback + `]}`,
			[]string{`statuses[0] (unknown): no Polish ("pl") label`}},
		{"empty label", `{"statuses": [{"code": "unknown", "labels": {"pl": "Nieznany", "en": " "}}], "rows": [` + fallback + `]}`,
			[]string{`statuses[0] (unknown): label for "en" is empty`}},
		{"language twice", `{"statuses": [{"code": "unknown", "labels": {"pl": "Nieznany", "PL": "Inny"}}], "rows": [` + fallback + `]}`,
			[]string{`statuses[0] (unknown): language "pl" given twice`}},
		{"language with region", `{"statuses": [{"code": "unknown", "labels": {"pl": "Nieznany", "en-GB": "Unknown"}}], "rows": [` + fallback + `]}`,
			[]string{`language "en-GB" is not a plain language code`}},
		{"every problem at once", `{"connected_threshold_seconds": -1, "statuses": [{"code": "unknown"}], "rows": [
			{"call_type": "Missed", "duration": "sometimes", "direction": "sideways", "status": "nope"}]}`,
			[]string{"must not be negative", `no Polish ("pl") label`, `duration "sometimes"`, `direction "sideways"`, `status "nope"`, "no fallback row"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := statusmap.Load(strings.NewReader(tt.json))
			require.Error(t, err)
			require.Nil(t, m)
			require.ErrorIs(t, err, statusmap.ErrInvalidTable)
			for _, want := range tt.want {
				require.ErrorContains(t, err, want)
			}
		})
	}
}

func TestLoadErrorListCapped(t *testing.T) {
	t.Parallel()
	var rows []string
	for i := range 30 {
		rows = append(rows, fmt.Sprintf(`{"call_type": "t%d", "duration": "any", "direction": "x", "status": "unknown"}`, i))
	}
	_, err := statusmap.Parse([]byte(`{"statuses": [{"code": "unknown", "labels": {"pl": "N"}}], "rows": [` + strings.Join(rows, ",") + `]}`))
	require.ErrorIs(t, err, statusmap.ErrInvalidTable)
	require.ErrorContains(t, err, "and 11 more") // 30 bad rows + missing fallback, 20 listed
}

func TestLoadReaderErrors(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	_, err := statusmap.Load(iotest.ErrReader(boom))
	require.ErrorIs(t, err, boom)
	require.NotErrorIs(t, err, statusmap.ErrInvalidTable)

	big := bytes.Repeat([]byte(" "), statusmap.MaxTableBytes+1)
	_, err = statusmap.Load(bytes.NewReader(big))
	require.ErrorIs(t, err, statusmap.ErrInvalidTable)
	require.ErrorContains(t, err, "larger than")
}

func TestLoadHostCodesAndLabels(t *testing.T) {
	t.Parallel()
	m, err := statusmap.Parse([]byte(`{
		"statuses": [
			{"code": "voicemail", "labels": {"PL": "Poczta głosowa", "en": "Voicemail", "de": "Mailbox"}},
			{"code": "other", "labels": {"pl": "Inne"}}
		],
		"rows": [
			{"call_type": "  Voicemail ", "duration": "any", "direction": "incoming", "status": "voicemail"},
			{"call_type": "*", "duration": "connected", "direction": "unknown", "status": "other"},
			{"call_type": "*", "duration": "not_connected", "direction": "outgoing", "status": "voicemail"}
		]
	}`), quiet())
	require.NoError(t, err)
	require.Equal(t, statusmap.DefaultThreshold, m.Threshold(), "threshold defaults to 1 when absent")
	require.Equal(t, "Poczta głosowa", m.Label("voicemail", "pl"), "language keys are case-insensitive")
	require.Equal(t, "Mailbox", m.Label("voicemail", "de-AT"))
	require.Equal(t, statusmap.Result{"voicemail", statusmap.Incoming, "VOICEMAIL"}, m.Map("VOICEMAIL", 0))
	require.Equal(t, statusmap.Result{"other", statusmap.UnknownDirection, "Incoming"}, m.Map("Incoming", 1))
	require.Equal(t, statusmap.Result{"voicemail", statusmap.Outgoing, "Incoming"}, m.Map("Incoming", 0))
	require.Equal(t, "answered", m.Label(statusmap.Answered, "pl"), "a code this table does not declare")
}

func TestUnknownLoggedOncePerValue(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	m, err := statusmap.New(statusmap.WithLogger(slog.New(rec)))
	require.NoError(t, err)

	m.Map("WhatsApp", 3)
	m.Map(" WhatsApp ", 0) // same value once trimmed
	m.Map("WhatsApp", 1)
	m.Map("whatsapp", 1) // a different spelling is a different value
	m.Map("Blocked", 0)
	m.Map("", 0)
	m.Map("Incoming", 3) // known: neither counted nor logged
	m.Map("missed", 0)

	require.Equal(t, map[string]int{"WhatsApp": 3, "whatsapp": 1, "Blocked": 1, "": 1}, m.UnknownTypes())
	const msg = "WARN statusmap: unknown Callyzer call_type, mapped with the fallback row call_type="
	require.Equal(t, []string{msg + `"WhatsApp"`, msg + `"whatsapp"`, msg + `"Blocked"`, msg + `""`}, rec.Lines())

	counts := m.UnknownTypes()
	counts["WhatsApp"] = 100
	require.Equal(t, 3, m.UnknownTypes()["WhatsApp"], "UnknownTypes returns a copy")
}

func TestUnknownTypesBounded(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	m, err := statusmap.New(statusmap.WithLogger(slog.New(rec)))
	require.NoError(t, err)

	const distinct = statusmap.MaxUnknownTypes + 150
	for i := range distinct {
		m.Map(fmt.Sprintf("type-%03d", i), 0)
		m.Map(fmt.Sprintf("type-%03d", i), 0)
	}
	got := m.UnknownTypes()
	require.Len(t, got, statusmap.MaxUnknownTypes+1)
	require.Equal(t, 2, got["type-000"])
	require.Equal(t, 2, got[fmt.Sprintf("type-%03d", statusmap.MaxUnknownTypes-1)])
	require.NotContains(t, got, fmt.Sprintf("type-%03d", statusmap.MaxUnknownTypes))
	require.Equal(t, 2*150, got[statusmap.OtherUnknownTypes])

	lines := rec.Lines()
	require.Len(t, lines, statusmap.MaxUnknownTypes+1, "one line per tracked value and one for the overflow")
	require.Contains(t, lines[len(lines)-1], "too many distinct unknown")

	// A long value is tracked and logged cut to 64 bytes, on a rune boundary.
	m2, err := statusmap.New(statusmap.WithLogger(slog.New(rec)))
	require.NoError(t, err)
	long := strings.Repeat("a", 63) + "ł" + strings.Repeat("b", 1000)
	require.Equal(t, long, m2.Map(long, 0).RawCallType, "the raw value itself is kept whole")
	require.Equal(t, map[string]int{strings.Repeat("a", 63): 1}, m2.UnknownTypes())
}

func TestConcurrentMap(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	m, err := statusmap.New(statusmap.WithLogger(slog.New(rec)))
	require.NoError(t, err)

	const workers, perWorker = 8, 500
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				switch i % 4 {
				case 0:
					if got := m.Map("Incoming", i); got.Code != statusmap.Answered && i > 0 {
						t.Errorf("Map(Incoming, %d) = %v", i, got)
					}
				case 1:
					m.Map("WhatsApp", i) // shared unknown value
				case 2:
					m.Map(fmt.Sprintf("w%d-%d", w, i%40), i) // 10 per worker, 80 in all
				case 3:
					_ = m.UnknownTypes()
					_ = m.Label(statusmap.Missed, "en")
				}
			}
		})
	}
	wg.Wait()

	got := m.UnknownTypes()
	require.Equal(t, workers*perWorker/4, got["WhatsApp"])
	require.Len(t, got, 1+workers*10)
	total := 0
	for _, n := range got {
		total += n
	}
	require.Equal(t, workers*perWorker/2, total, "every unknown call counted exactly once")
	require.Len(t, rec.Lines(), 1+workers*10, "each value logged exactly once")
}

func TestConcurrentOverflow(t *testing.T) {
	t.Parallel()
	m, err := statusmap.New(quiet())
	require.NoError(t, err)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 100 {
				m.Map(fmt.Sprintf("%d-%d", w, i), 0)
			}
		})
	}
	wg.Wait()
	got := m.UnknownTypes()
	require.Len(t, got, statusmap.MaxUnknownTypes+1)
	require.Equal(t, 300, got[statusmap.OtherUnknownTypes])
}

func TestMapDoesNotAllocate(t *testing.T) {
	m, err := statusmap.New(quiet())
	require.NoError(t, err)
	m.Map("WhatsApp", 0) // seen once: later calls only count
	for _, ct := range []string{"Incoming", "OUTGOING", " missed ", "Rejected", "WhatsApp"} {
		allocs := testing.AllocsPerRun(100, func() { m.Map(ct, 12) })
		require.Zero(t, allocs, "Map(%q) allocates", ct)
	}
}

func BenchmarkMap(b *testing.B) {
	for _, ct := range []string{"Incoming", " oUtGoInG ", "WhatsApp"} {
		b.Run(strings.TrimSpace(ct), func(b *testing.B) {
			m, err := statusmap.New(quiet())
			require.NoError(b, err)
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				m.Map(ct, i&3)
			}
		})
	}
	b.Run("parallel", func(b *testing.B) {
		m, err := statusmap.New(quiet())
		require.NoError(b, err)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				m.Map("Outgoing", i&3)
				i++
			}
		})
	})
	b.Run("parallel-unknown", func(b *testing.B) {
		m, err := statusmap.New(quiet())
		require.NoError(b, err)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				m.Map("WhatsApp", 0)
			}
		})
	})
}
