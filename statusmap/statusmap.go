package statusmap

import (
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"unicode/utf8"
)

// Code is the CRM status of a call: stable, English, stored.
type Code string

// The status codes of the default scheme (the spec's status mapping).
const (
	Answered    Code = "answered"
	Missed      Code = "missed"
	Rejected    Code = "rejected"
	Connected   Code = "connected"
	NotPickedUp Code = "not_picked_up"
	Unknown     Code = "unknown"
)

// Direction is the direction a call type implies.
type Direction string

// Directions.
const (
	Incoming         Direction = "incoming"
	Outgoing         Direction = "outgoing"
	UnknownDirection Direction = "unknown"
)

// Result is the mapped status of one Callyzer call.
type Result struct {
	Code        Code
	Direction   Direction
	RawCallType string // the Callyzer call_type exactly as received
}

// Mapper maps Callyzer calls to CRM statuses. Safe for concurrent use.
//
// The zero Mapper maps with the default table; Default, New, Load and Parse
// return ready Mappers. A Mapper must not be copied after first use.
type Mapper struct {
	once    sync.Once
	c       *compiled
	logger  *slog.Logger // nil: slog.Default() at the time of logging
	unknown unknownCounter
}

// outcome is what one duration class of one call type maps to.
type outcome struct {
	code Code
	dir  Direction
}

// entry holds the outcomes of one call type, split by the threshold.
type entry struct {
	connected    outcome // duration >= threshold
	notConnected outcome // duration < threshold
}

// compiled is a validated table in the form Map reads. Never mutated.
type compiled struct {
	threshold int
	rows      map[string]entry // key: call_type trimmed and lower-cased
	fallback  entry
	codes     []Code
	labels    map[Code]map[string]string // code -> language -> label
	table     tableJSON                  // normalised, for MarshalJSON
}

func (m *Mapper) state() *compiled {
	m.once.Do(func() {
		if m.c == nil {
			c, err := compile(defaultTable(), nil)
			if err != nil {
				panic("statusmap: default table invalid: " + err.Error())
			}
			m.c = c
		}
	})
	return m.c
}

// maxASCIIKey is the longest call_type Map lower-cases on the stack; longer
// or non-ASCII values take the allocating strings.ToLower path.
const maxASCIIKey = 64

// Map returns the status of a call with Callyzer call_type callType lasting
// durationSeconds. It is total: a call_type the table does not list (empty
// included) gets the fallback row, is counted and is logged once per value.
// A negative duration counts as 0. RawCallType is callType, untouched.
func (m *Mapper) Map(callType string, durationSeconds int) Result {
	c := m.state()
	trimmed := strings.TrimSpace(callType)
	e, ok := c.lookup(trimmed)
	if !ok {
		e = c.fallback
		m.noteUnknown(trimmed)
	}
	durationSeconds = max(durationSeconds, 0)
	o := e.notConnected
	if durationSeconds >= c.threshold {
		o = e.connected
	}
	return Result{Code: o.code, Direction: o.dir, RawCallType: callType}
}

func (c *compiled) lookup(s string) (entry, bool) {
	if len(s) <= maxASCIIKey {
		var buf [maxASCIIKey]byte
		ascii := true
		for i := 0; i < len(s); i++ {
			b := s[i]
			if b >= utf8.RuneSelf {
				ascii = false
				break
			}
			if 'A' <= b && b <= 'Z' {
				b += 'a' - 'A'
			}
			buf[i] = b
		}
		if ascii {
			e, ok := c.rows[string(buf[:len(s)])] // no allocation: map index by converted bytes
			return e, ok
		}
	}
	e, ok := c.rows[strings.ToLower(s)]
	return e, ok
}

// Threshold returns the connected threshold in seconds: a call of at least
// this duration counts as connected.
func (m *Mapper) Threshold() int { return m.state().threshold }

// Codes returns the status codes the table declares, in table order.
func (m *Mapper) Codes() []Code {
	return append([]Code(nil), m.state().codes...)
}

// Label returns the label of code in language lang ("pl", "en", ...; case and
// a region suffix such as "pl-PL" are ignored). A language without a label
// falls back to Polish; a code the table does not declare returns the code
// itself.
func (m *Mapper) Label(code Code, lang string) string {
	labels, ok := m.state().labels[code]
	if !ok {
		return string(code)
	}
	if l, ok := labels[normLang(lang)]; ok {
		return l
	}
	return labels["pl"] // every declared code has a Polish label
}

func normLang(lang string) string {
	lang = strings.TrimSpace(lang)
	if i := strings.IndexAny(lang, "-_"); i >= 0 {
		lang = lang[:i]
	}
	return strings.ToLower(lang)
}

// MarshalJSON returns the Mapper's table in the format Load reads, with the
// effective threshold. Load of the output maps exactly as m does.
func (m *Mapper) MarshalJSON() ([]byte, error) {
	return json.Marshal(m.state().table)
}
