package callhistoryhttp

import (
	"bytes"
	"fmt"
	"html/template"
	"math"
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
// not be loaded; Alert then says why, and LeadID names the lead asked for.
type pageView struct {
	Lang    string
	T       uiText
	Header  template.HTML
	Assets  string // URL of the assets directory, relative to the page
	BackURL string // the host's list of leads (Options.LeadsURL)
	Lead    *leadView
	LeadID  string // on a failed page: the id from the URL, when well-formed
	Alert   string // role="alert"
	Notice  string // role="status"
	Failed  string // the general failure message, for the script
}

type leadView struct {
	ID            string
	Name          string
	Phone         string // E.164
	PhoneDisplay  string
	LastSynced    string // "" when never synced
	LastSyncedISO string
	SyncSource    string    // which sync LastSynced is of
	Zone          string    // which zone the times are in, for people
	FeedNote      *noteView // the advisor's phone may be missing calls
	Summary       *summaryView
	Calls         []callView
	EmptyTitle    string // when there are no calls: what that means
	EmptyHint     string
	RefreshAction string // the no-JavaScript form
	RefreshAPI    string // the JSON endpoint the script posts to
}

// noteView is Options.FeedNote's note as the page shows it.
type noteView struct {
	Status   string // for styling and tests: offline, uninstalled, recording_off
	Text     string
	Since    string // in the page's date layout
	SinceISO string
}

// summaryView is callhistory.Summary as the page shows it: a few tiles.
type summaryView struct {
	Title   string
	Tiles   []tileView
	Partial string // a note when the figures cover only the newest calls
}

type tileView struct {
	Key    string // for tests and styling: calls, connected, talk, last-contact, last-connected, missed
	Label  string
	Value  string
	Detail string
	Tone   string // "", "ok", "warn" or "err"
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
	RecordingURL  string // Options.RecordingURL: by default Callyzer's, https only
	Note          string
}

// uiText is the page's wording in one language.
type uiText struct {
	Title, LeadDetails, Section, LastSync, NeverSynced, ZoneNote   string
	ZoneWarsaw                                                     string
	SyncOwn, SyncPass                                              string
	Refresh, Refreshing                                            string
	NeverFetched, NeverFetchedHint, NoCallsIn, NoCallsSince        string
	ColDate, ColDirection, ColStatus, ColDuration, ColEmployee     string
	ColRecording, ColNote, OpenRecording, NoRecording, NoNote      string
	Unavailable, BackToLeads, LeadWithID                           string
	DateLayout, DayLayout                                          string
	SummaryTitle, TileCalls, TileConnected, TileTalk, TileAverage  string
	TileLastContact, TileLastConnected, TileMissed, None, NoMissed string
	Today, Yesterday, DaysAgo, CalledBack, ClientGotThrough        string
	NotCalledBack, CallbackOverdue, Partial, Since                 string
	Months                                                         func(n int) string // "6 mies." in a label
	InMonths                                                       func(n int) string // "w ostatnich 6 miesiącach"
	TalkTime                                                       func(seconds int) string
	Directions                                                     map[statusmap.Direction]string
}

var ui = map[language]uiText{
	polish: {
		Title:             "Historia połączeń",
		LeadDetails:       "Szczegóły leada",
		Section:           "Historia połączeń",
		LastSync:          "Ostatnia synchronizacja:",
		NeverSynced:       "Historia nie była jeszcze synchronizowana z Callyzer.",
		ZoneNote:          "Godziny w strefie",
		ZoneWarsaw:        "Czas polski",
		SyncOwn:           "pobranie historii tego leada",
		SyncPass:          "okresowa synchronizacja wszystkich leadów",
		Refresh:           "Odśwież historię połączeń",
		Refreshing:        "Odświeżanie… to może potrwać kilka sekund",
		NeverFetched:      "Historia nie została jeszcze pobrana",
		NeverFetchedHint:  "Odśwież historię, aby pobrać połączenia z ostatnich 6 miesięcy z Callyzer.",
		NoCallsIn:         "Brak połączeń %s",
		NoCallsSince:      "Callyzer nie ma żadnego połączenia z tym numerem od %s.",
		ColDate:           "Data i godzina",
		ColDirection:      "Kierunek",
		ColStatus:         "Status",
		ColDuration:       "Czas trwania",
		ColEmployee:       "Pracownik",
		ColRecording:      "Nagranie",
		ColNote:           "Notatka",
		OpenRecording:     "Otwórz nagranie",
		NoRecording:       "brak nagrania",
		NoNote:            "brak notatki",
		Unavailable:       "Historia połączeń jest niedostępna.",
		BackToLeads:       "Wróć do listy leadów",
		LeadWithID:        "Lead %s",
		DateLayout:        "02.01.2006, 15:04",
		DayLayout:         "02.01.2006",
		SummaryTitle:      "Podsumowanie",
		TileCalls:         "Połączenia (%s)",
		TileConnected:     "Połączone",
		TileTalk:          "Łączny czas rozmów",
		TileAverage:       "średnio %s na rozmowę",
		TileLastContact:   "Ostatni kontakt",
		TileLastConnected: "Ostatnia rozmowa",
		TileMissed:        "Nieodebrane od klienta",
		None:              "brak",
		NoMissed:          "Klient nie czeka na oddzwonienie",
		Today:             "dziś, %s",
		Yesterday:         "wczoraj, %s",
		DaysAgo:           "%d dni temu",
		CalledBack:        "Oddzwoniono %s (%s)",
		ClientGotThrough:  "Klient dodzwonił się %s (%s)",
		NotCalledBack:     "Nikt jeszcze nie oddzwonił",
		CallbackOverdue:   "Nikt nie oddzwonił – zaległe",
		Partial:           "Podsumowanie obejmuje %d najnowszych połączeń z listy.",
		Since:             "od %s",
		Months:            func(n int) string { return strconv.Itoa(n) + " mies." },
		InMonths: func(n int) string {
			if n == 1 {
				return "w ostatnim miesiącu"
			}
			return "w ostatnich " + strconv.Itoa(n) + " miesiącach"
		},
		TalkTime: func(s int) string { return talkTime(s, "godz.", "min", "s") },
		Directions: map[statusmap.Direction]string{
			statusmap.Incoming:         "Przychodzące",
			statusmap.Outgoing:         "Wychodzące",
			statusmap.UnknownDirection: "Nieznany",
		},
	},
	english: {
		Title:             "Call history",
		LeadDetails:       "Lead details",
		Section:           "Call history",
		LastSync:          "Last synchronised:",
		NeverSynced:       "The history has not been synchronised with Callyzer yet.",
		ZoneNote:          "Times in",
		ZoneWarsaw:        "Polish time",
		SyncOwn:           "this lead's history fetched",
		SyncPass:          "periodic sync of all leads",
		Refresh:           "Refresh call history",
		Refreshing:        "Refreshing… this may take a few seconds",
		NeverFetched:      "The history has not been fetched yet",
		NeverFetchedHint:  "Refresh the history to fetch the last 6 months of calls from Callyzer.",
		NoCallsIn:         "No calls %s",
		NoCallsSince:      "Callyzer has no call with this number since %s.",
		ColDate:           "Date and time",
		ColDirection:      "Direction",
		ColStatus:         "Status",
		ColDuration:       "Duration",
		ColEmployee:       "Employee",
		ColRecording:      "Recording",
		ColNote:           "Note",
		OpenRecording:     "Open recording",
		NoRecording:       "no recording",
		NoNote:            "no note",
		Unavailable:       "The call history is not available.",
		BackToLeads:       "Back to the leads",
		LeadWithID:        "Lead %s",
		DateLayout:        "2 Jan 2006, 15:04",
		DayLayout:         "2 Jan 2006",
		SummaryTitle:      "Summary",
		TileCalls:         "Calls (%s)",
		TileConnected:     "Connected",
		TileTalk:          "Total talk time",
		TileAverage:       "%s per conversation on average",
		TileLastContact:   "Last contact",
		TileLastConnected: "Last conversation",
		TileMissed:        "Missed call from the client",
		None:              "none",
		NoMissed:          "The client is not waiting for a call back",
		Today:             "today, %s",
		Yesterday:         "yesterday, %s",
		DaysAgo:           "%d days ago",
		CalledBack:        "Called back %s (%s)",
		ClientGotThrough:  "The client got through %s (%s)",
		NotCalledBack:     "Nobody has called back yet",
		CallbackOverdue:   "Nobody has called back – overdue",
		Partial:           "The summary covers the %d newest calls of the list.",
		Since:             "since %s",
		Months: func(n int) string {
			if n == 1 {
				return "1 month"
			}
			return strconv.Itoa(n) + " months"
		},
		InMonths: func(n int) string {
			if n == 1 {
				return "in the last month"
			}
			return "in the last " + strconv.Itoa(n) + " months"
		},
		TalkTime: func(s int) string { return talkTime(s, "h", "min", "s") },
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

// newPageView starts the view of a page. Its links are relative to the
// page's URL, so they hold under any mount prefix: the assets directory is
// as many levels up as the page's path is deep.
func (h *handler) newPageView(r *http.Request, lang language) *pageView {
	v := &pageView{
		Lang:    string(lang),
		T:       ui[lang],
		Assets:  strings.Repeat("../", max(strings.Count(r.URL.Path, "/")-1, 0)) + "assets/",
		BackURL: h.opts.LeadsURL,
		Failed:  message(failed.err, lang),
	}
	if h.opts.Header != nil {
		v.Header = h.opts.Header(r)
	}
	return v
}

func (h *handler) leadView(r *http.Request, res *callhistory.Result, lang language, leadID string) *leadView {
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
	// The later of the lead's own last sync and the last pass of the
	// periodic sync, which stores every number's calls.
	synced, source := res.LastSyncedAt, t.SyncOwn
	if h.opts.LastSyncPass != nil {
		if pass := h.opts.LastSyncPass(r); pass.After(synced) {
			synced, source = pass, t.SyncPass
		}
	}
	if !synced.IsZero() {
		at := synced.In(h.opts.Location)
		lv.LastSynced = at.Format(t.DateLayout)
		lv.LastSyncedISO = at.Format(time.RFC3339)
		lv.SyncSource = source
	}
	if n, ok := h.feedNote(r, res.Lead, string(lang)); ok {
		at := n.Since.In(h.opts.Location)
		lv.FeedNote = &noteView{Status: cssToken(string(n.Status)), Text: n.Text, Since: at.Format(t.DateLayout), SinceISO: at.Format(time.RFC3339)}
	}
	months := monthsIn(res.Summary.Window)
	switch {
	case synced.IsZero():
		lv.EmptyTitle, lv.EmptyHint = t.NeverFetched, t.NeverFetchedHint
	case res.Summary.Window.From.IsZero():
		lv.EmptyTitle = fmt.Sprintf(t.NoCallsIn, t.InMonths(months))
	default:
		lv.EmptyTitle = fmt.Sprintf(t.NoCallsIn, t.InMonths(months))
		lv.EmptyHint = fmt.Sprintf(t.NoCallsSince, res.Summary.Window.From.In(h.opts.Location).Format(t.DayLayout))
	}
	if len(res.Calls) > 0 {
		lv.Summary = h.summaryView(res.Summary, lang, months)
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
			RecordingURL:  h.opts.RecordingURL(r, leadID, c),
			Note:          c.Note,
		})
	}
	return lv
}

// summaryView lays the summary out in tiles: the counts, the talk time,
// the last contact and conversation, and the latest missed call.
func (h *handler) summaryView(s callhistory.Summary, lang language, months int) *summaryView {
	t := ui[lang]
	label := func(c statusmap.Code) string { return h.opts.Mapper.Label(c, string(lang)) }
	when := func(c *callhistory.Call) string { return c.StartedAt.In(h.opts.Location).Format(t.DateLayout) }
	sv := &summaryView{Title: t.SummaryTitle}
	calls := tileView{Key: "calls", Label: fmt.Sprintf(t.TileCalls, t.Months(months)), Value: strconv.Itoa(s.Calls)}
	if !s.Window.From.IsZero() {
		calls.Detail = fmt.Sprintf(t.Since, s.Window.From.In(h.opts.Location).Format(t.DayLayout))
	}
	var others []string
	for _, n := range []struct {
		code  statusmap.Code
		count int
	}{{statusmap.NotPickedUp, s.NotPickedUp}, {statusmap.Missed, s.Missed}, {statusmap.Rejected, s.Rejected}} {
		if n.count > 0 {
			others = append(others, label(n.code)+": "+strconv.Itoa(n.count))
		}
	}
	connected := tileView{Key: "connected", Label: t.TileConnected, Value: strconv.Itoa(s.Connected), Detail: strings.Join(others, " · ")}
	talk := tileView{Key: "talk", Label: t.TileTalk, Value: t.TalkTime(s.TalkSeconds)}
	if s.Connected > 0 {
		talk.Detail = fmt.Sprintf(t.TileAverage, minutesSeconds(s.TalkSeconds/s.Connected))
	}
	last := tileView{Key: "last-contact", Label: t.TileLastContact, Value: t.None}
	if c := s.LastContact; c != nil {
		at := c.StartedAt.In(h.opts.Location)
		switch d := s.LastContactDays; {
		case d == 0:
			last.Value = fmt.Sprintf(t.Today, at.Format("15:04"))
		case d == 1:
			last.Value = fmt.Sprintf(t.Yesterday, at.Format("15:04"))
		default:
			last.Value = fmt.Sprintf(t.DaysAgo, d)
			last.Detail = at.Format(t.DateLayout) + " · "
		}
		last.Detail += joinNonEmpty(" · ", directionIcons[c.Direction]+" "+c.EmployeeName, label(c.Status))
	}
	conv := tileView{Key: "last-connected", Label: t.TileLastConnected, Value: t.None}
	if c := s.LastConnected; c != nil {
		conv.Value = when(c)
		conv.Detail = joinNonEmpty(" · ", c.EmployeeName, minutesSeconds(c.DurationSeconds))
	}
	missed := tileView{Key: "missed", Label: t.TileMissed, Value: t.None, Detail: t.NoMissed, Tone: "ok"}
	if c := s.LastMissed; c != nil {
		missed.Value = when(c)
		switch back := s.CalledBack; {
		case back != nil && back.Direction == statusmap.Outgoing:
			missed.Detail, missed.Tone = fmt.Sprintf(t.CalledBack, when(back), back.EmployeeName), "ok"
		case back != nil:
			missed.Detail, missed.Tone = fmt.Sprintf(t.ClientGotThrough, when(back), back.EmployeeName), "ok"
		case s.CallbackOverdue:
			missed.Detail, missed.Tone = t.CallbackOverdue, "err"
		default:
			missed.Detail, missed.Tone = t.NotCalledBack, "warn"
		}
	}
	sv.Tiles = []tileView{calls, connected, talk, last, conv, missed}
	if s.Partial {
		sv.Partial = fmt.Sprintf(t.Partial, s.Calls)
	}
	return sv
}

// monthsIn is the length of w in whole calendar months, rounded; 6, the
// Refresher's default, when w is unknown.
func monthsIn(w callhistory.Window) int {
	if w.From.IsZero() || !w.To.After(w.From) {
		return 6
	}
	const daysPerMonth = 365.2425 / 12
	return max(1, int(math.Round(w.To.Sub(w.From).Hours()/24/daysPerMonth)))
}

// talkTime formats a total of seconds for people: "1 h 12 min",
// "12 min 5 s", "45 s", with the language's units.
func talkTime(seconds int, hours, minutes, secs string) string {
	seconds = max(seconds, 0)
	h, m, s := seconds/3600, seconds/60%60, seconds%60
	switch {
	case h > 0:
		return fmt.Sprintf("%d %s %d %s", h, hours, m, minutes)
	case m > 0:
		return fmt.Sprintf("%d %s %d %s", m, minutes, s, secs)
	}
	return fmt.Sprintf("%d %s", s, secs)
}

// joinNonEmpty joins the parts that are not blank.
func joinNonEmpty(sep string, parts ...string) string {
	var out []string
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, sep)
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

// The page loads only its own stylesheet, script and icon, talks only to
// its own origin, plays recordings from it or over https (Callyzer's), and
// may be framed only by it.
const contentSecurityPolicy = "default-src 'none'; style-src 'self'; script-src 'self'; " +
	"connect-src 'self'; img-src 'self' data:; media-src 'self' https:; form-action 'self'; frame-ancestors 'self'; base-uri 'none'"

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
