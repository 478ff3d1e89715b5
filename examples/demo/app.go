package main

import (
	"bytes"
	"embed"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // Europe/Warsaw on machines without a zone database

	"github.com/leadcalls/leadcalls/callhistory"
	"github.com/leadcalls/leadcalls/examples/callhistoryhttp"
	"github.com/leadcalls/leadcalls/examples/internal/logclip"
	"github.com/leadcalls/leadcalls/feedhealth"
	"github.com/leadcalls/leadcalls/internal/phone"
	"github.com/leadcalls/leadcalls/statusmap"
)

//go:embed templates/*.html
var templateFS embed.FS

var pages = template.Must(template.New("").Funcs(template.FuncMap{
	"role":  func(r callhistory.Role) string { return roleLabels[r] },
	"admin": seesPhones,
}).ParseFS(templateFS, "templates/*.html"))

// app is the demo CRM around the call-history handler: sign-in, the list
// of leads, the simulator's recordings, and the header of every page.
type app struct {
	seed     *Seed
	users    map[string]User
	sessions *sessions
	co       *http.CrossOriginProtection
	logger   *slog.Logger
	history  callhistoryhttp.Service // the leads list's summaries, the recordings' permission
	syncer   *callhistory.Syncer     // nil when the periodic sync is off
	health   *feedhealth.Monitor     // the Syncer's hook; nil when the sync is off
}

// newApp returns the demo CRM of seed; secureCookies makes its session
// cookie Secure and __Host- also over plain HTTP (behind a TLS proxy). A
// cross-site sign-in or sign-out is refused with the demo's sign-in page
// and the handler's message, not Go's plain text.
func newApp(seed *Seed, history callhistoryhttp.Service, co *http.CrossOriginProtection, logger *slog.Logger, secureCookies bool) *app {
	a := &app{seed: seed, users: map[string]User{}, sessions: newSessions(secureCookies), co: co, logger: logger, history: history}
	for _, u := range seed.Users {
		a.users[u.ID] = u
	}
	co.SetDenyHandler(http.HandlerFunc(a.crossSiteRefused))
	return a
}

// routes mounts calls (the callhistoryhttp handler) under /crm/, the way a
// host CRM would, beside the demo's own pages.
func (a *app) routes(calls http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", a.leadsPage)
	mux.HandleFunc("GET /login", a.loginPage)
	mux.Handle("POST /login", a.co.Handler(http.HandlerFunc(a.login)))
	mux.Handle("POST /logout", a.co.Handler(http.HandlerFunc(a.logout)))
	mux.HandleFunc("GET /recordings/{leadID}/{callID}", a.recording)
	mux.HandleFunc("GET /admin/phones", a.phonesPage)
	mux.Handle("GET /favicon.ico", http.RedirectHandler("/crm/assets/favicon.svg", http.StatusMovedPermanently))
	crm := a.loginFirst(http.StripPrefix("/crm", calls))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Every path under /crm/ goes to the handler as it came: ServeMux
		// would first redirect one that is not in canonical form
		// (/crm/api/leads//call-history) to its cleaned form, which names
		// no lead; the handler answers it 404 itself.
		if strings.HasPrefix(r.URL.Path, "/crm/") {
			crm.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// crossSiteRefused answers a sign-in or sign-out that came from another
// site: the sign-in page, 403, with the handler's message for it.
func (a *app) crossSiteRefused(w http.ResponseWriter, r *http.Request) {
	a.logger.Info("demo: cross-site request refused", "path", r.URL.Path)
	a.render(w, r, http.StatusForbidden, "login.html", map[string]any{
		"Users": a.seed.Users,
		"Alert": callhistoryhttp.MsgCrossOrigin,
	})
}

// user returns the signed-in user, if any.
func (a *app) user(r *http.Request) (User, bool) {
	u, ok := a.users[a.sessions.userID(r)]
	return u, ok
}

// actor is the handler's Options.Actor.
func (a *app) actor(r *http.Request) *callhistory.Actor {
	u, ok := a.user(r)
	if !ok {
		return nil
	}
	return &callhistory.Actor{ID: u.ID, Name: u.Name, Role: u.Role}
}

// header is the handler's Options.Header: the demo's top bar.
func (a *app) header(r *http.Request) template.HTML {
	u, ok := a.user(r)
	if !ok {
		return ""
	}
	var b bytes.Buffer
	if err := pages.ExecuteTemplate(&b, "topbar", u); err != nil {
		a.logger.Error("rendering the top bar", "error", err)
		return ""
	}
	return template.HTML(b.String()) // rendered by html/template: escaped
}

// loginFirst sends a visitor without a session from a lead page to the
// sign-in page; the JSON API answers 401 itself.
func (a *app) loginFirst(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := a.user(r); !ok && r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/crm/leads/") {
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		next.ServeHTTP(w, r)
	})
}

type leadRow struct {
	SeedLead
	PhoneDisplay string // grouped as on the lead page: +48 667 019 382
	Advisor      string
	Mine         bool
	Activity     string // calls and last contact, for a user who may view the lead
	FeedBadge    string // the advisor's phone is not uploading calls or recordings
}

func (a *app) leadsPage(w http.ResponseWriter, r *http.Request) {
	u, ok := a.user(r)
	if !ok {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	// Every lead is listed, also to an advisor, so that the permission
	// message of the spec can be seen on a lead that is not theirs.
	actor := a.actor(r)
	health, _ := a.feedState(r)
	rows := make([]leadRow, 0, len(a.seed.Leads))
	for _, l := range a.seed.Leads {
		rows = append(rows, leadRow{SeedLead: l, PhoneDisplay: displayPhone(l.Phone), Advisor: a.users[l.AdvisorID].Name, Mine: l.AdvisorID == u.ID,
			Activity: a.activity(r, actor, l), FeedBadge: leadBadge(health, l.AdvisorID)})
	}
	data := map[string]any{"User": u, "Leads": rows, "Sync": a.syncStatus(r)}
	if n := len(health.Problems()); n > 0 && seesPhones(u.Role) {
		data["Problems"] = n
	}
	a.render(w, r, http.StatusOK, "leads.html", data)
}

// activity is a lead's line in the list: how many calls in the window and
// the last contact (when, who, outcome), from the stored history's
// summary. It is empty for a lead the user may not view: the list shows
// every lead, but only the permitted ones' calls. The permission is asked
// first of the RoleAuthorizer the Refresher uses, so that an advisor's
// list does not log a refused history for every other advisor's lead.
func (a *app) activity(r *http.Request, actor *callhistory.Actor, l SeedLead) string {
	lead := callhistory.Lead{ID: l.ID, Name: l.Name, Phone: l.Phone, AdvisorID: l.AdvisorID}
	if (callhistory.RoleAuthorizer{}).Authorize(r.Context(), actor, &lead) != nil {
		return ""
	}
	res, err := a.history.History(r.Context(), actor, l.ID)
	switch {
	case errors.Is(err, callhistory.ErrInvalidPhone):
		return "Nieprawidłowy numer telefonu"
	case err != nil:
		return "" // logged by the Refresher
	}
	return activityLine(res.Summary, !res.LastSyncedAt.IsZero() || !a.lastSyncPass(r).IsZero())
}

// activityLine says, in Polish, how many calls the summary counts and when
// the last contact was, by whom and with what outcome.
func activityLine(s callhistory.Summary, synced bool) string {
	switch {
	case s.Calls == 0 && !synced:
		return "Historia jeszcze nie pobrana"
	case s.Calls == 0:
		return "Brak połączeń w ostatnich 6 miesiącach"
	}
	line := callsPL(s.Calls) + " w 6 mies."
	if c := s.LastContact; c != nil {
		at := c.StartedAt.In(warsaw)
		when := at.Format("02.01.2006")
		switch s.LastContactDays {
		case 0:
			when = "dziś, " + at.Format("15:04")
		case 1:
			when = "wczoraj, " + at.Format("15:04")
		}
		line += " · ostatni kontakt: " + when + " (" + strings.Join(nonEmpty(c.EmployeeName, statusLabels.Label(c.Status, "pl")), ", ") + ")"
	}
	return line
}

// statusLabels names call statuses in the leads list.
var statusLabels = statusmap.Default()

// callsPL is n calls in Polish: 1 połączenie, 2–4 połączenia (but 12–14
// połączeń), 5 połączeń.
func callsPL(n int) string {
	switch {
	case n == 1:
		return "1 połączenie"
	case n%10 >= 2 && n%10 <= 4 && (n%100 < 12 || n%100 > 14):
		return strconv.Itoa(n) + " połączenia"
	}
	return strconv.Itoa(n) + " połączeń"
}

func nonEmpty(parts ...string) []string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

// lastSyncPass is when the last completed pass of the periodic sync
// started (the handler's Options.LastSyncPass); zero when the sync is off,
// has not completed a pass, or its state cannot be read.
func (a *app) lastSyncPass(r *http.Request) time.Time {
	if a.syncer == nil {
		return time.Time{}
	}
	st, err := a.syncer.State(r.Context())
	if err != nil {
		a.logger.Warn("reading the sync state", "error", err)
		return time.Time{}
	}
	return st.LastSuccess
}

// syncStatus is the one line about the periodic sync on the leads page;
// empty when the sync is off or its state cannot be read.
func (a *app) syncStatus(r *http.Request) string {
	if a.syncer == nil {
		return ""
	}
	st, err := a.syncer.State(r.Context())
	if err != nil {
		a.logger.Warn("reading the sync state", "error", err)
		return ""
	}
	return syncLine(st, time.Now())
}

// syncFailureLabels say why the last pass failed, for the CRM's users.
var syncFailureLabels = map[callhistory.SyncStatus]string{
	callhistory.SyncFailedUnauthorized: "błąd autoryzacji API Callyzer",
	callhistory.SyncFailedRateLimited:  "Callyzer ograniczył liczbę zapytań",
	callhistory.SyncFailedOther:        "wystąpił błąd (szczegóły w logu serwera)",
}

// syncLine says when the sync last succeeded (time of day in the CRM's
// zone, with the date when not today) and what it is doing now.
func syncLine(st callhistory.SyncState, now time.Time) string {
	failure := syncFailureLabels[st.Status]
	if st.LastSuccess.IsZero() {
		switch {
		case st.Status == callhistory.SyncRunning:
			return "Trwa pierwsza synchronizacja"
		case failure != "":
			return "Synchronizacja nie powiodła się: " + failure
		default: // the zero state: never run
			return "Synchronizacja jeszcze się nie odbyła"
		}
	}
	t, n := st.LastSuccess.In(warsaw), now.In(warsaw)
	when := t.Format("15:04")
	if t.YearDay() != n.YearDay() || t.Year() != n.Year() {
		when = t.Format("02.01.2006 15:04")
	}
	line := "Ostatnia udana synchronizacja: " + when
	switch {
	case st.Status == callhistory.SyncRunning:
		line += " (trwa kolejna)"
	case failure != "":
		line += "; ostatnia próba nie powiodła się: " + failure
	}
	return line
}

// displayPhone groups a lead's Polish number for reading, as the lead page
// does ("+48 667 019 382"); a number that does not parse is shown as
// written.
func displayPhone(raw string) string {
	e164, err := phone.Normalize(raw, "PL")
	if err != nil {
		return raw
	}
	rest, ok := strings.CutPrefix(e164, "+48")
	if !ok || len(rest) != 9 {
		return e164
	}
	return "+48 " + rest[:3] + " " + rest[3:6] + " " + rest[6:]
}

// warsaw is the CRM's time zone (Callyzer's account zone).
var warsaw = mustLoadLocation("Europe/Warsaw")

func mustLoadLocation(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err) // cannot happen: time/tzdata is linked in
	}
	return loc
}

func (a *app) loginPage(w http.ResponseWriter, r *http.Request) {
	a.render(w, r, http.StatusOK, "login.html", map[string]any{"Users": a.seed.Users})
}

func (a *app) login(w http.ResponseWriter, r *http.Request) {
	id := r.PostFormValue("user_id")
	if _, ok := a.users[id]; !ok {
		a.render(w, r, http.StatusBadRequest, "login.html", map[string]any{
			"Users": a.seed.Users,
			"Alert": "Wybierz użytkownika z listy.",
		})
		return
	}
	a.sessions.set(w, r, id)
	a.logger.Info("demo sign-in", "user_id", logclip.String(id, 64))
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (a *app) logout(w http.ResponseWriter, r *http.Request) {
	a.sessions.clear(w, r)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

func (a *app) render(w http.ResponseWriter, r *http.Request, status int, name string, data map[string]any) {
	data["Header"] = a.header(r)
	var b bytes.Buffer
	if err := pages.ExecuteTemplate(&b, name, data); err != nil {
		a.logger.Error("rendering a demo page", "page", name, "error", err)
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	w.WriteHeader(status)
	w.Write(b.Bytes())
}
