package statusmap

// Code is the CRM status of a call: stable, English, stored.
type Code string

// The status codes of the default scheme (../shared/spec/status-mapping.md).
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

// Mapper maps Callyzer calls to CRM statuses. Safe for concurrent use.
type Mapper struct {
	// implemented in the statusmap issue work
}
