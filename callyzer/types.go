package callyzer

import (
	"time"

	"github.com/leadcalls/leadcalls/callyzer/pacing"
)

// HistoryQuery selects calls of /call-log/history. At least one of the
// call-time window (CallFrom, CallTo) or the upload-time window (SyncedFrom,
// SyncedTo) must be set. Both bounds of a window are inclusive.
type HistoryQuery struct {
	CallFrom, CallTo     time.Time
	SyncedFrom, SyncedTo time.Time
	ClientNumbers        []string        // E.164; sent in the form of WithClientNumberForm, "48-601234567" by default
	EmployeeNumbers      []string        // E.164; sent in Callyzer's "48-601234567" form
	CallTypes            []CallType      // empty means all
	Priority             pacing.Priority // pacing.Background unless set

	EmployeeTags []string // emp_tags filter; empty means all
	// Variant limits the query to one (call_method, call_mode)
	// combination; zero means every one of WithCallVariants. Must be zero
	// without WithCallVariants (API v2.1).
	Variant CallVariant

	// NewestFirst reads the chunks of the window newest first (the pages
	// of a chunk stay in Callyzer's order).
	NewestFirst bool
	// After resumes paging at a Cursor that a page of the same query
	// returned (HistoryPage.Next); the zero Cursor is the start. A chunk
	// resumed past its page 1 is not checked for distinct ids (see
	// HistoryPages).
	After Cursor
}

// Cursor is a position in the pages of a HistoryQuery: the chunk, call
// variant and page to read next, and what the chunk's pages before it
// reported. It marshals to JSON, so a caller can save it with what it
// committed and resume there later (HistoryQuery.After).
type Cursor struct {
	ChunkFrom time.Time `json:"chunk_from,omitzero"` // the chunk's bounds, whole seconds, UTC
	ChunkTo   time.Time `json:"chunk_to,omitzero"`
	Variant   int       `json:"variant,omitempty"`   // the call variant's index (API v2.2)
	NextPage  int       `json:"next_page,omitempty"` // 1-based
	Seen      int       `json:"seen,omitempty"`      // rows of the chunk on the pages before NextPage
	Total     int       `json:"total,omitempty"`     // the chunk's total_records, once known
	Done      bool      `json:"done,omitempty"`      // every page has been read
}

// HistoryPage is one decoded page of /call-log/history.
type HistoryPage struct {
	Calls        []Call
	PageNo       int       // 1-based
	TotalRecords int       // all matching rows of the chunk, across its pages
	ChunkFrom    time.Time // the window chunk this page belongs to
	ChunkTo      time.Time
	Attempts     int // HTTP requests this page took, retries and the 400s of wider chunks before it included

	Variant CallVariant // v2.2: the call_method/call_mode of the page; zero under v2.1
	Next    Cursor      // where paging goes on after this page
}
