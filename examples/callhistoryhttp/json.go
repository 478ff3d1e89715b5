package callhistoryhttp

import (
	"encoding/json"
	"net/http"
	"net/url"
	"time"

	"github.com/leadcalls/leadcalls/callhistory"
	"github.com/leadcalls/leadcalls/feedhealth"
)

// The JSON API's documents. Field names are a contract with the host's
// front end: snake_case, and times in RFC 3339 with the account zone's
// offset.

type historyJSON struct {
	LeadID       string      `json:"lead_id"`
	Phone        string      `json:"phone"`
	LastSyncedAt *string     `json:"last_synced_at"` // null: never synced
	Calls        []callJSON  `json:"calls"`          // never null
	Summary      summaryJSON `json:"summary"`
	FeedNote     *noteJSON   `json:"feed_note"` // null: nothing to say of the advisor's phone
}

type refreshJSON struct {
	Status       string      `json:"status"` // "ok"
	Message      string      `json:"message"`
	LastSyncedAt *string     `json:"last_synced_at"`
	Calls        []callJSON  `json:"calls"`
	Report       reportJSON  `json:"report"`
	Summary      summaryJSON `json:"summary"`
	FeedNote     *noteJSON   `json:"feed_note"`
}

// noteJSON is feedhealth.Note: the assigned advisor's phone may be
// missing calls (status "offline" or "uninstalled") or recordings
// ("recording_off") since a time, so the list may be incomplete.
type noteJSON struct {
	Status  string `json:"status"`
	Since   string `json:"since"`
	Message string `json:"message"`
}

// summaryJSON is callhistory.Summary: the calls that started in the
// window, at a glance.
type summaryJSON struct {
	WindowFrom    *string          `json:"window_from"` // null when the service gave no window
	WindowTo      *string          `json:"window_to"`
	Calls         int              `json:"calls"`
	Connected     int              `json:"connected"`
	NotPickedUp   int              `json:"not_picked_up"`
	Missed        int              `json:"missed"`
	Rejected      int              `json:"rejected"`
	TalkSeconds   int              `json:"talk_seconds"`
	LastContact   *lastContactJSON `json:"last_contact"`   // null: no call in the window
	LastConnected *summaryCallJSON `json:"last_connected"` // null: no connected call
	MissedCall    *missedCallJSON  `json:"missed_call"`    // null: no missed incoming call
	Partial       bool             `json:"partial"`        // the list was cut inside the window
}

// summaryCallJSON is a call the summary points at: when, who, the outcome.
type summaryCallJSON struct {
	ID              string `json:"id"`
	StartedAt       string `json:"started_at"`
	Direction       string `json:"direction"`
	Status          string `json:"status"`
	StatusLabel     string `json:"status_label"`
	DurationSeconds int    `json:"duration_seconds"`
	EmployeeName    string `json:"employee_name"`
}

type lastContactJSON struct {
	summaryCallJSON
	DaysAgo int `json:"days_ago"` // calendar days in the account's zone: 0 today
}

// missedCallJSON is the latest incoming call nobody answered.
type missedCallJSON struct {
	summaryCallJSON
	CalledBack      *summaryCallJSON `json:"called_back"`      // null: not called back yet
	CallbackOverdue bool             `json:"callback_overdue"` // not called back and its day is over
}

type callJSON struct {
	ID               string `json:"id"`    // the Callyzer id
	Phone            string `json:"phone"` // E.164
	Direction        string `json:"direction"`
	Status           string `json:"status"`
	StatusLabel      string `json:"status_label"`
	CallyzerCallType string `json:"callyzer_call_type"`
	StartedAt        string `json:"started_at"`
	DurationSeconds  int    `json:"duration_seconds"`
	EmployeeName     string `json:"employee_name"`
	EmployeePhone    string `json:"employee_phone"`
	RecordingURL     string `json:"recording_url"` // "" when there is none or it is not https
	Note             string `json:"note"`
}

type reportJSON struct {
	Requests   int    `json:"requests"`
	Fetched    int    `json:"fetched"`
	Inserted   int    `json:"inserted"`
	Updated    int    `json:"updated"`
	Deleted    int    `json:"deleted"`
	Unchanged  int    `json:"unchanged"`
	Shared     bool   `json:"shared"`
	Path       string `json:"path"` // "spec" or "catch-up" (callhistory.Report.Path)
	DurationMS int64  `json:"duration_ms"`
}

type errorJSON struct {
	Status  string `json:"status"` // "error"
	Message string `json:"message"`
}

func (h *handler) historyJSON(r *http.Request, res *callhistory.Result, lang string) historyJSON {
	return historyJSON{
		LeadID:       res.Lead.ID,
		Phone:        res.Phone,
		LastSyncedAt: h.jsonTime(res.LastSyncedAt),
		Calls:        h.callsJSON(res.Calls, lang),
		Summary:      h.summaryJSON(res.Summary, lang),
		FeedNote:     h.noteJSON(r, res.Lead, lang),
	}
}

func (h *handler) refreshJSON(r *http.Request, res *callhistory.Result, lang, message string) refreshJSON {
	doc := refreshJSON{
		Status:       "ok",
		Message:      message,
		LastSyncedAt: h.jsonTime(res.LastSyncedAt),
		Calls:        h.callsJSON(res.Calls, lang),
		Summary:      h.summaryJSON(res.Summary, lang),
		FeedNote:     h.noteJSON(r, res.Lead, lang),
	}
	if rep := res.Report; rep != nil {
		doc.Report = reportJSON{
			Requests:   rep.Requests,
			Fetched:    rep.Fetched,
			Inserted:   rep.Inserted,
			Updated:    rep.Updated,
			Deleted:    rep.Deleted,
			Unchanged:  rep.Unchanged,
			Shared:     rep.Shared,
			Path:       rep.Path,
			DurationMS: rep.Duration.Milliseconds(),
		}
	}
	return doc
}

// noteJSON is Options.FeedNote's note of lead, or nil.
func (h *handler) noteJSON(r *http.Request, lead callhistory.Lead, lang string) *noteJSON {
	n, ok := h.feedNote(r, lead, lang)
	if !ok {
		return nil
	}
	return &noteJSON{Status: string(n.Status), Since: *h.jsonTime(n.Since), Message: n.Text}
}

// feedNote asks Options.FeedNote, when the host set one.
func (h *handler) feedNote(r *http.Request, lead callhistory.Lead, lang string) (feedhealth.Note, bool) {
	if h.opts.FeedNote == nil {
		return feedhealth.Note{}, false
	}
	return h.opts.FeedNote(r, lead, lang)
}

func (h *handler) callsJSON(calls []callhistory.Call, lang string) []callJSON {
	out := make([]callJSON, 0, len(calls))
	for _, c := range calls {
		out = append(out, callJSON{
			ID:               c.CallyzerID,
			Phone:            c.Phone,
			Direction:        string(c.Direction),
			Status:           string(c.Status),
			StatusLabel:      h.opts.Mapper.Label(c.Status, lang),
			CallyzerCallType: c.RawCallType,
			StartedAt:        c.StartedAt.In(h.opts.Location).Format(time.RFC3339),
			DurationSeconds:  c.DurationSeconds,
			EmployeeName:     c.EmployeeName,
			EmployeePhone:    c.EmployeePhone,
			RecordingURL:     recordingURL(c.RecordingURL),
			Note:             c.Note,
		})
	}
	return out
}

func (h *handler) summaryJSON(s callhistory.Summary, lang string) summaryJSON {
	doc := summaryJSON{
		WindowFrom:    h.jsonTime(s.Window.From),
		WindowTo:      h.jsonTime(s.Window.To),
		Calls:         s.Calls,
		Connected:     s.Connected,
		NotPickedUp:   s.NotPickedUp,
		Missed:        s.Missed,
		Rejected:      s.Rejected,
		TalkSeconds:   s.TalkSeconds,
		LastConnected: h.summaryCallJSON(s.LastConnected, lang),
		Partial:       s.Partial,
	}
	if c := h.summaryCallJSON(s.LastContact, lang); c != nil {
		doc.LastContact = &lastContactJSON{summaryCallJSON: *c, DaysAgo: s.LastContactDays}
	}
	if c := h.summaryCallJSON(s.LastMissed, lang); c != nil {
		doc.MissedCall = &missedCallJSON{summaryCallJSON: *c, CalledBack: h.summaryCallJSON(s.CalledBack, lang), CallbackOverdue: s.CallbackOverdue}
	}
	return doc
}

func (h *handler) summaryCallJSON(c *callhistory.Call, lang string) *summaryCallJSON {
	if c == nil {
		return nil
	}
	return &summaryCallJSON{
		ID:              c.CallyzerID,
		StartedAt:       c.StartedAt.In(h.opts.Location).Format(time.RFC3339),
		Direction:       string(c.Direction),
		Status:          string(c.Status),
		StatusLabel:     h.opts.Mapper.Label(c.Status, lang),
		DurationSeconds: c.DurationSeconds,
		EmployeeName:    c.EmployeeName,
	}
}

// recordingURL is the recording link of a call as the handler passes it
// on: only an absolute https URL with a host; anything else (http,
// javascript:, data:, a relative or scheme-relative reference, text that
// does not parse) is left out as if the call had no recording. The URL
// comes from Callyzer, and the host's front end or the page puts it in an
// href.
func recordingURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return ""
	}
	return raw
}

func (h *handler) jsonTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.In(h.opts.Location).Format(time.RFC3339)
	return &s
}

// writeError answers err as JSON with its status code and the user's
// message in lang; a rate-limited answer carries Retry-After.
func (h *handler) writeError(w http.ResponseWriter, r *http.Request, lang language, leadID string, err error) {
	o := outcomeOf(err)
	h.log(r, leadID, o, err)
	if o.status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", retryAfterSeconds(err, h.opts.RetryAfter))
	}
	writeJSON(w, o.status, errorJSON{Status: "error", Message: message(err, lang)})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil { // unreachable: the documents hold only strings, numbers and bools
		http.Error(w, `{"status":"error","message":"internal error"}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Vary", "Accept-Language")
	w.WriteHeader(status)
	w.Write(append(body, '\n'))
}
