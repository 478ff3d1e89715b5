// Package statusmap maps a Callyzer call (its call_type and duration) to a CRM
// status code, a direction and a label per language. It is pure data: no I/O
// besides reading a table the caller hands it, and only the standard library.
//
// The default table is the spec's status-mapping scheme:
//
//	call_type  duration         direction  status
//	Incoming   >= threshold     incoming   answered       Odebrane / Answered
//	Incoming   <  threshold     incoming   missed         Nieodebrane / Missed
//	Missed     any              incoming   missed         Nieodebrane / Missed
//	Rejected   any              incoming   rejected       Odrzucone / Rejected
//	Outgoing   >= threshold     outgoing   connected      Połączone / Connected
//	Outgoing   <  threshold     outgoing   not_picked_up  Nieodebrane przez klienta / Not picked up by client
//	*          any              unknown    unknown        Nieznany / Unknown
//
// The connected threshold defaults to 1 second (DefaultThreshold).
//
// # Usage
//
//	m := statusmap.Default() // or statusmap.New(statusmap.WithThreshold(3), statusmap.WithLogger(l))
//	r := m.Map(call.CallType, call.Duration)
//	// r.Code, r.Direction, r.RawCallType (verbatim)
//	label := m.Label(r.Code, "pl")
//
// Map is total: call_type is matched case-insensitively with surrounding spaces
// ignored; any other value, the empty one included, gets the fallback row
// (status unknown, direction unknown) and RawCallType keeps the raw value so
// stored calls can be re-mapped later. A negative duration counts as 0. Map
// does not allocate for a listed call_type of up to 64 ASCII bytes.
//
// Unknown call_type values are counted (UnknownTypes) and logged once per
// distinct value as a warning to the Mapper's logger (WithLogger; default
// slog.Default()). At most MaxUnknownTypes distinct values are tracked, each
// cut to 64 bytes; later ones are counted together under OtherUnknownTypes
// and that overflow is logged once.
//
// Label returns a code's label in "pl" or "en" (or any language the table
// labels; "pl-PL" and "PL" mean "pl"). Other languages fall back to Polish; a
// code the table does not declare is returned as is. Codes lists the declared
// codes in table order.
//
// A Mapper is safe for concurrent use. The zero Mapper maps with the default
// table; a Mapper must not be copied after first use.
//
// # Table format
//
// A host replaces the scheme without code changes by loading its own table
// with Load (from an io.Reader, at most MaxTableBytes) or Parse (from bytes).
// DefaultJSON returns the default table in this format as a starting point,
// and MarshalJSON writes any Mapper's table back out. A complete example, a
// host that waits 5 seconds before a call counts as connected and maps a
// "Blocked" call_type to its own status:
//
//	{
//	  "connected_threshold_seconds": 5,
//	  "statuses": [
//	    {"code": "answered", "labels": {"pl": "Odebrane", "en": "Answered"}},
//	    {"code": "missed", "labels": {"pl": "Nieodebrane", "en": "Missed"}},
//	    {"code": "rejected", "labels": {"pl": "Odrzucone", "en": "Rejected"}},
//	    {"code": "connected", "labels": {"pl": "Połączone", "en": "Connected"}},
//	    {"code": "not_picked_up", "labels": {"pl": "Nieodebrane przez klienta", "en": "Not picked up by client"}},
//	    {"code": "blocked", "labels": {"pl": "Zablokowane"}},
//	    {"code": "unknown", "labels": {"pl": "Nieznany", "en": "Unknown"}}
//	  ],
//	  "rows": [
//	    {"call_type": "Incoming", "duration": "connected", "direction": "incoming", "status": "answered"},
//	    {"call_type": "Incoming", "duration": "not_connected", "direction": "incoming", "status": "missed"},
//	    {"call_type": "Missed", "duration": "any", "direction": "incoming", "status": "missed"},
//	    {"call_type": "Rejected", "duration": "any", "direction": "incoming", "status": "rejected"},
//	    {"call_type": "Blocked", "duration": "any", "direction": "incoming", "status": "blocked"},
//	    {"call_type": "Outgoing", "duration": "connected", "direction": "outgoing", "status": "connected"},
//	    {"call_type": "Outgoing", "duration": "not_connected", "direction": "outgoing", "status": "not_picked_up"},
//	    {"call_type": "*", "duration": "any", "direction": "unknown", "status": "unknown"}
//	  ]
//	}
//
// The fields:
//
//   - connected_threshold_seconds: a call of at least this many seconds is
//     connected. Optional (default 1); must not be negative. WithThreshold
//     overrides it.
//   - statuses: the codes the table may map to, in order (Codes), each with
//     labels by language. A host may declare codes of its own; every code
//     needs a non-empty "pl" label, other languages are optional.
//   - rows: call_type (matched case-insensitively, spaces trimmed), duration
//     ("any", "connected" = at least the threshold, "not_connected" = below
//     it), direction ("incoming", "outgoing", "unknown") and status (a
//     declared code). A call_type has either one "any" row or both a
//     "connected" and a "not_connected" row. Exactly one fallback call_type
//     "*" maps every other value; a Callyzer value "*" is not special.
//
// Unknown fields and trailing data are rejected.
//
// # Errors
//
// Load and Parse validate the whole table before returning and report every
// problem at once in an error wrapping ErrInvalidTable: malformed JSON,
// unknown fields, a negative threshold, no or duplicate status codes, a code
// without a Polish label, an empty call_type, an unknown duration or
// direction, a status that is not declared, duplicate or overlapping rows, a
// call_type with only one of "connected"/"not_connected", and a missing
// fallback row. An Option given a bad value (a negative WithThreshold) makes
// New, Load and Parse fail with an error wrapping ErrInvalidOption. Once built,
// a Mapper never fails: Map, Label, Codes and UnknownTypes return no errors.
package statusmap
