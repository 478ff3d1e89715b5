package statusmap

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"
)

// DefaultThreshold is the connected threshold, in seconds, of the default
// table and of a loaded table that does not set one.
const DefaultThreshold = 1

// MaxTableBytes caps the size of a table Load reads.
const MaxTableBytes = 1 << 20

// FallbackCallType is the call_type of the row that maps every call_type the
// table does not list, the empty one included.
const FallbackCallType = "*"

// ErrInvalidTable is wrapped by every error Load and Parse return for a table
// that cannot be used; the message lists each problem found.
var ErrInvalidTable = errors.New("statusmap: invalid table")

// ErrInvalidOption is wrapped by the error of an Option given a bad value.
var ErrInvalidOption = errors.New("statusmap: invalid option")

// The duration classes of a row, relative to the connected threshold.
const (
	durationAny          = "any"           // every duration
	durationConnected    = "connected"     // duration >= threshold
	durationNotConnected = "not_connected" // duration < threshold
)

// tableJSON is the JSON form of a table; doc.go describes it.
type tableJSON struct {
	ConnectedThresholdSeconds *int         `json:"connected_threshold_seconds,omitempty"`
	Statuses                  []statusJSON `json:"statuses"`
	Rows                      []rowJSON    `json:"rows"`
}

type statusJSON struct {
	Code   Code              `json:"code"`
	Labels map[string]string `json:"labels"` // language -> label; "pl" required
}

type rowJSON struct {
	CallType  string    `json:"call_type"`
	Duration  string    `json:"duration"`
	Direction Direction `json:"direction"`
	Status    Code      `json:"status"`
}

// defaultTable is the scheme of the spec's status mapping.
func defaultTable() tableJSON {
	threshold := DefaultThreshold
	return tableJSON{
		ConnectedThresholdSeconds: &threshold,
		Statuses: []statusJSON{
			{Answered, map[string]string{"pl": "Odebrane", "en": "Answered"}},
			{Missed, map[string]string{"pl": "Nieodebrane", "en": "Missed"}},
			{Rejected, map[string]string{"pl": "Odrzucone", "en": "Rejected"}},
			{Connected, map[string]string{"pl": "Połączone", "en": "Connected"}},
			{NotPickedUp, map[string]string{"pl": "Nieodebrane przez klienta", "en": "Not picked up by client"}},
			{Unknown, map[string]string{"pl": "Nieznany", "en": "Unknown"}},
		},
		Rows: []rowJSON{
			{"Incoming", durationConnected, Incoming, Answered},
			{"Incoming", durationNotConnected, Incoming, Missed},
			{"Missed", durationAny, Incoming, Missed},
			{"Rejected", durationAny, Incoming, Rejected},
			{"Outgoing", durationConnected, Outgoing, Connected},
			{"Outgoing", durationNotConnected, Outgoing, NotPickedUp},
			{FallbackCallType, durationAny, UnknownDirection, Unknown},
		},
	}
}

// Option configures a Mapper built by New, Load or Parse.
type Option func(*options) error

type options struct {
	threshold *int
	logger    *slog.Logger
}

// WithThreshold sets the connected threshold in seconds, overriding the
// table's. A negative value is an error.
func WithThreshold(seconds int) Option {
	return func(o *options) error {
		if seconds < 0 {
			return fmt.Errorf("%w: WithThreshold(%d): threshold must not be negative", ErrInvalidOption, seconds)
		}
		o.threshold = &seconds
		return nil
	}
}

// WithLogger sets the logger that receives one warning per distinct unknown
// call_type. Default (or nil): slog.Default().
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error {
		o.logger = l
		return nil
	}
}

// Default returns a Mapper with the default table and threshold
// DefaultThreshold, logging to slog.Default(). Each call returns a new Mapper
// with its own unknown-type counts.
func Default() *Mapper {
	m, err := New()
	if err != nil {
		panic(err) // the default table is tested
	}
	return m
}

// New returns a Mapper with the default table, configured by opts.
func New(opts ...Option) (*Mapper, error) {
	return build(defaultTable(), opts)
}

// DefaultJSON returns the default table in the format Load reads, indented,
// as a starting point for a host's own table.
func DefaultJSON() []byte {
	b, err := json.MarshalIndent(defaultTable(), "", "  ")
	if err != nil {
		panic(err)
	}
	return append(b, '\n')
}

// Load reads a table in JSON (see the package documentation) from r,
// validates it and returns its Mapper. Every problem of the table is reported
// at once, in an error wrapping ErrInvalidTable. r is read to its end or to
// MaxTableBytes.
func Load(r io.Reader, opts ...Option) (*Mapper, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxTableBytes+1))
	if err != nil {
		return nil, fmt.Errorf("statusmap: reading table: %w", err)
	}
	if len(data) > MaxTableBytes {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrInvalidTable, MaxTableBytes)
	}
	return Parse(data, opts...)
}

// Parse is Load from a byte slice.
func Parse(data []byte, opts ...Option) (*Mapper, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var t tableJSON
	if err := dec.Decode(&t); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidTable, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: unexpected data after the table", ErrInvalidTable)
	}
	return build(t, opts)
}

func build(t tableJSON, opts []Option) (*Mapper, error) {
	var o options
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	c, err := compile(t, o.threshold)
	if err != nil {
		return nil, err
	}
	return &Mapper{c: c, logger: o.logger}, nil
}

// maxProblems caps the problems one error lists.
const maxProblems = 20

// compile validates t and builds the form Map reads. threshold, when not
// nil, overrides the table's.
func compile(t tableJSON, threshold *int) (*compiled, error) {
	var problems []string
	problem := func(format string, args ...any) {
		problems = append(problems, fmt.Sprintf(format, args...))
	}

	c := &compiled{
		threshold: DefaultThreshold,
		rows:      make(map[string]entry),
		labels:    make(map[Code]map[string]string),
	}
	switch {
	case threshold != nil:
		c.threshold = *threshold
	case t.ConnectedThresholdSeconds != nil:
		c.threshold = *t.ConnectedThresholdSeconds
	}
	if c.threshold < 0 {
		problem("connected_threshold_seconds is %d, must not be negative", c.threshold)
	}
	norm := tableJSON{ConnectedThresholdSeconds: &c.threshold}

	if len(t.Statuses) == 0 {
		problem("statuses: none declared")
	}
	for i, s := range t.Statuses {
		where := fmt.Sprintf("statuses[%d]", i)
		switch {
		case s.Code == "":
			problem("%s: code is empty", where)
			continue
		case strings.TrimSpace(string(s.Code)) != string(s.Code):
			problem("%s: code %q has surrounding spaces", where, s.Code)
			continue
		}
		if _, dup := c.labels[s.Code]; dup {
			problem("%s: code %q declared twice", where, s.Code)
			continue
		}
		labels := make(map[string]string, len(s.Labels))
		for _, lang := range slices.Sorted(maps.Keys(s.Labels)) {
			label := s.Labels[lang]
			key := normLang(lang)
			switch {
			case key == "" || key != strings.ToLower(strings.TrimSpace(lang)):
				problem("%s (%s): language %q is not a plain language code such as \"pl\"", where, s.Code, lang)
			case strings.TrimSpace(label) == "":
				problem("%s (%s): label for %q is empty", where, s.Code, lang)
			}
			if _, dup := labels[key]; dup {
				problem("%s (%s): language %q given twice", where, s.Code, key)
			}
			labels[key] = label
		}
		if labels["pl"] == "" {
			problem("%s (%s): no Polish (\"pl\") label", where, s.Code)
		}
		c.labels[s.Code] = labels
		c.codes = append(c.codes, s.Code)
		norm.Statuses = append(norm.Statuses, statusJSON{Code: s.Code, Labels: labels})
	}

	// durations seen per call_type key, to find duplicate and incomplete rows
	seen := make(map[string]map[string]int) // key -> duration -> row index
	var order []string
	for i, r := range t.Rows {
		where := fmt.Sprintf("rows[%d]", i)
		callType := strings.TrimSpace(r.CallType)
		if callType == "" {
			problem("%s: call_type is empty (the fallback row uses %q)", where, FallbackCallType)
			continue
		}
		where = fmt.Sprintf("%s (call_type %q)", where, callType)
		ok := true
		switch r.Duration {
		case durationAny, durationConnected, durationNotConnected:
		default:
			problem("%s: duration %q is not one of %q, %q, %q", where, r.Duration, durationAny, durationConnected, durationNotConnected)
			ok = false
		}
		switch r.Direction {
		case Incoming, Outgoing, UnknownDirection:
		default:
			problem("%s: direction %q is not one of %q, %q, %q", where, r.Direction, Incoming, Outgoing, UnknownDirection)
			ok = false
		}
		if _, declared := c.labels[r.Status]; !declared {
			problem("%s: status %q is not declared in statuses", where, r.Status)
			ok = false
		}
		if !ok {
			continue
		}
		key := strings.ToLower(callType)
		durs := seen[key]
		if durs == nil {
			durs = make(map[string]int)
			seen[key] = durs
			order = append(order, key)
		}
		if prev, dup := durs[r.Duration]; dup {
			problem("%s: duplicates rows[%d]", where, prev)
			continue
		}
		_, hasAny := durs[durationAny]
		if hasAny || (r.Duration == durationAny && len(durs) > 0) {
			problem("%s: duration %q overlaps another row of the same call_type", where, r.Duration)
			continue
		}
		durs[r.Duration] = i

		o := outcome{code: r.Status, dir: r.Direction}
		e := c.rows[key]
		if key == FallbackCallType {
			e = c.fallback
		}
		switch r.Duration {
		case durationAny:
			e = entry{connected: o, notConnected: o}
		case durationConnected:
			e.connected = o
		case durationNotConnected:
			e.notConnected = o
		}
		if key == FallbackCallType {
			c.fallback = e
		} else {
			c.rows[key] = e
		}
		norm.Rows = append(norm.Rows, rowJSON{CallType: callType, Duration: r.Duration, Direction: r.Direction, Status: r.Status})
	}
	for _, key := range order {
		durs := seen[key]
		_, conn := durs[durationConnected]
		_, notConn := durs[durationNotConnected]
		if conn != notConn {
			missing := durationNotConnected
			if !conn {
				missing = durationConnected
			}
			problem("call_type %q: no %q row (a call_type split by duration needs both)", key, missing)
		}
	}
	if _, ok := seen[FallbackCallType]; !ok {
		problem("no fallback row (call_type %q)", FallbackCallType)
	}

	if len(problems) > 0 {
		if len(problems) > maxProblems {
			problems = append(problems[:maxProblems], fmt.Sprintf("and %d more", len(problems)-maxProblems))
		}
		return nil, fmt.Errorf("%w: %s", ErrInvalidTable, strings.Join(problems, "; "))
	}
	c.table = norm
	return c, nil
}
