package callhistoryhttp

import (
	"bytes"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/leadcalls/leadcalls/callhistory"
	"github.com/leadcalls/leadcalls/examples/internal/logclip"
	"github.com/leadcalls/leadcalls/statusmap"
)

// pageView is what page.html renders. Lead is nil when the history could
// not be loaded; Alert then says why.
type pageView struct {
	Lang   string
	T      uiText
	Header template.HTML
	Assets string // URL of the assets directory, relative to the page
	Lead   *leadView
	Alert  string // role="alert"
	Notice string // role="status"
	Failed string // the general failure message, for the script
}

type leadView struct {
	ID            string
	Name          string
	Phone         string // E.164
	PhoneDisplay  string
	LastSynced    string // "" when never synced
	LastSyncedISO string
	Zone          string // which zone the times are in, for people
	Calls         []callView
	RefreshAction string // the no-JavaScript form
	RefreshAPI    string // the JSON endpoint the script posts to
}

type callView struct {
	StartedAt     string
	StartedAtISO  string
	Direction     string
	DirectionIcon string
	DirectionCSS  string
	Status        string
	StatusCSS     string
	Duration      string // m:ss
	DurationISO   string // for <time datetime>
	EmployeeName  string
	EmployeePhone string
	RecordingURL  string // https only (recordingURL)
	Note          string
}

// uiText is the page's wording in one language.
type uiText struct {
	Title, LeadDetails, Section, LastSync, NeverSynced, ZoneNote    string
	ZoneWarsaw                                                      string
	Refresh, Refreshing, Empty, EmptyHint                           string
	ColDate, ColDirection, ColStatus, ColDuration, ColEmployee      string
	ColRecording, ColNote, Listen, NoRecording, NoNote, Unavailable string
	DateLayout                                                      string
	Directions                                                      map[statusmap.Direction]string
}

var ui = map[language]uiText{
	polish: {
		Title:        "Historia połączeń",
		LeadDetails:  "Szczegóły leada",
		Section:      "Historia połączeń",
		LastSync:     "Ostatnia synchronizacja:",
		NeverSynced:  "Historia nie była jeszcze synchronizowana z Callyzer.",
		ZoneNote:     "Godziny w strefie",
		ZoneWarsaw:   "Czas polski",
		Refresh:      "Odśwież historię połączeń",
		Refreshing:   "Odświeżanie… to może potrwać kilka sekund",
		Empty:        "Brak połączeń w historii",
		EmptyHint:    "Odśwież historię, aby pobrać połączenia z ostatnich 6 miesięcy z Callyzer.",
		ColDate:      "Data i godzina",
		ColDirection: "Kierunek",
		ColStatus:    "Status",
		ColDuration:  "Czas trwania",
		ColEmployee:  "Pracownik",
		ColRecording: "Nagranie",
		ColNote:      "Notatka",
		Listen:       "Odsłuchaj",
		NoRecording:  "brak nagrania",
		NoNote:       "brak notatki",
		Unavailable:  "Historia połączeń jest niedostępna.",
		DateLayout:   "02.01.2006, 15:04",
		Directions: map[statusmap.Direction]string{
			statusmap.Incoming:         "Przychodzące",
			statusmap.Outgoing:         "Wychodzące",
			statusmap.UnknownDirection: "Nieznany",
		},
	},
	english: {
		Title:        "Call history",
		LeadDetails:  "Lead details",
		Section:      "Call history",
		LastSync:     "Last synchronised:",
		NeverSynced:  "The history has not been synchronised with Callyzer yet.",
		ZoneNote:     "Times in",
		ZoneWarsaw:   "Polish time",
		Refresh:      "Refresh call history",
		Refreshing:   "Refreshing… this may take a few seconds",
		Empty:        "No calls in the history",
		EmptyHint:    "Refresh the history to fetch the last 6 months of calls from Callyzer.",
		ColDate:      "Date and time",
		ColDirection: "Direction",
		ColStatus:    "Status",
		ColDuration:  "Duration",
		ColEmployee:  "Employee",
		ColRecording: "Recording",
		ColNote:      "Note",
		Listen:       "Listen",
		NoRecording:  "no recording",
		NoNote:       "no note",
		Unavailable:  "The call history is not available.",
		DateLayout:   "2 Jan 2006, 15:04",
		Directions: map[statusmap.Direction]string{
			statusmap.Incoming:         "Incoming",
			statusmap.Outgoing:         "Outgoing",
			statusmap.UnknownDirection: "Unknown",
		},
	},
}

var directionIcons = map[statusmap.Direction]string{
	statusmap.Incoming: "↙",
	statusmap.Outgoing: "↗",
}

// newPageView starts the view of a page; assets is the assets directory
// relative to the page's URL.
func (h *handler) newPageView(r *http.Request, lang language, assets string) *pageView {
	v := &pageView{
		Lang:   string(lang),
		T:      ui[lang],
		Assets: assets,
		Failed: message(failed.err, lang),
	}
	if h.opts.Header != nil {
		v.Header = h.opts.Header(r)
	}
	return v
}

func (h *handler) leadView(res *callhistory.Result, lang language, leadID string) *leadView {
	t := ui[lang]
	esc := url.PathEscape(leadID)
	lv := &leadView{
		ID:           leadID,
		Name:         res.Lead.Name,
		Phone:        res.Phone,
		PhoneDisplay: displayPhone(res.Phone),
		Zone:         zoneNote(t, h.opts.Location),
		// Relative to /leads/{leadID}, so they hold under any mount prefix;
		// "./" keeps an id containing ":" from reading as a URL scheme.
		RefreshAction: "./" + esc + "/refresh",
		RefreshAPI:    "../api/leads/" + esc + "/call-history/refresh",
		Calls:         make([]callView, 0, len(res.Calls)),
	}
	if !res.LastSyncedAt.IsZero() {
		at := res.LastSyncedAt.In(h.opts.Location)
		lv.LastSynced = at.Format(t.DateLayout)
		lv.LastSyncedISO = at.Format(time.RFC3339)
	}
	for _, c := range res.Calls {
		at := c.StartedAt.In(h.opts.Location)
		dir := t.Directions[c.Direction]
		if dir == "" {
			dir = t.Directions[statusmap.UnknownDirection]
		}
		lv.Calls = append(lv.Calls, callView{
			StartedAt:     at.Format(t.DateLayout),
			StartedAtISO:  at.Format(time.RFC3339),
			Direction:     dir,
			DirectionIcon: directionIcons[c.Direction],
			DirectionCSS:  cssToken(string(c.Direction)),
			Status:        h.opts.Mapper.Label(c.Status, string(lang)),
			StatusCSS:     cssToken(string(c.Status)),
			Duration:      minutesSeconds(c.DurationSeconds),
			DurationISO:   "PT" + strconv.Itoa(max(c.DurationSeconds, 0)) + "S",
			EmployeeName:  c.EmployeeName,
			EmployeePhone: displayPhone(c.EmployeePhone),
			RecordingURL:  recordingURL(c.RecordingURL),
			Note:          c.Note,
		})
	}
	return lv
}

func (h *handler) writePage(w http.ResponseWriter, status int, v *pageView) {
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, v); err != nil {
		h.opts.Logger.Error("rendering the call-history page", "error", logclip.String(err.Error(), maxLoggedError))
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "text/html; charset=utf-8")
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("Vary", "Accept-Language")
	hdr.Set("Content-Security-Policy", contentSecurityPolicy)
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// The page loads only its own stylesheet and script, talks only to its own
// origin, and may be framed only by it.
const contentSecurityPolicy = "default-src 'none'; style-src 'self'; script-src 'self'; " +
	"connect-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'self'; base-uri 'none'"

// zoneNote says which zone the page's times are in: "Czas polski
// (Europe/Warsaw)" for the usual account, "Godziny w strefie America/New_York"
// for any other.
func zoneNote(t uiText, loc *time.Location) string {
	if loc.String() == "Europe/Warsaw" {
		return t.ZoneWarsaw + " (Europe/Warsaw)"
	}
	return t.ZoneNote + " " + loc.String()
}

// minutesSeconds formats a duration in seconds as m:ss ("1:27", "62:05").
func minutesSeconds(seconds int) string {
	seconds = max(seconds, 0)
	s := strconv.Itoa(seconds % 60)
	if len(s) == 1 {
		s = "0" + s
	}
	return strconv.Itoa(seconds/60) + ":" + s
}

// displayPhone groups a Polish E.164 number for reading ("+48 601 234 567")
// and returns any other number as it is.
func displayPhone(e164 string) string {
	rest, ok := strings.CutPrefix(e164, "+48")
	if !ok || len(rest) != 9 {
		return e164
	}
	return "+48 " + rest[:3] + " " + rest[3:6] + " " + rest[6:]
}

// cssToken keeps a status or direction code usable in a class name.
func cssToken(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '_', r == '-':
			return r
		case r >= 'A' && r <= 'Z':
			return r + ('a' - 'A')
		}
		return -1
	}, s)
}
