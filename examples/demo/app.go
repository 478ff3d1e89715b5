package main

import (
	"bytes"
	"embed"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
	"time"
	_ "time/tzdata" // Europe/Warsaw on machines without a zone database

	"github.com/leadcalls/leadcalls/callhistory"
)

//go:embed templates/*.html
var templateFS embed.FS

var pages = template.Must(template.New("").Funcs(template.FuncMap{
	"role": func(r callhistory.Role) string { return roleLabels[r] },
}).ParseFS(templateFS, "templates/*.html"))

// app is the demo CRM around the call-history handler: sign-in, the list
// of leads, and the header of every page.
type app struct {
	seed     *Seed
	users    map[string]User
	sessions *sessions
	co       *http.CrossOriginProtection
	logger   *slog.Logger
	syncer   *callhistory.Syncer // nil when the periodic sync is off
}

func newApp(seed *Seed, co *http.CrossOriginProtection, logger *slog.Logger) *app {
	a := &app{seed: seed, users: map[string]User{}, sessions: newSessions(), co: co, logger: logger}
	for _, u := range seed.Users {
		a.users[u.ID] = u
	}
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
	mux.Handle("/crm/", a.loginFirst(http.StripPrefix("/crm", calls)))
	return mux
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
	Advisor string
	Mine    bool
}

func (a *app) leadsPage(w http.ResponseWriter, r *http.Request) {
	u, ok := a.user(r)
	if !ok {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	// Every lead is listed, also to an advisor, so that the permission
	// message of the spec can be seen on a lead that is not theirs.
	rows := make([]leadRow, 0, len(a.seed.Leads))
	for _, l := range a.seed.Leads {
		rows = append(rows, leadRow{SeedLead: l, Advisor: a.users[l.AdvisorID].Name, Mine: l.AdvisorID == u.ID})
	}
	a.render(w, r, http.StatusOK, "leads.html", map[string]any{"User": u, "Leads": rows, "Sync": a.syncStatus(r)})
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

// syncStatusLabels name the sync's statuses for the CRM's users.
var syncStatusLabels = map[callhistory.SyncStatus]string{
	callhistory.SyncIdle:               "gotowa",
	callhistory.SyncRunning:            "w toku",
	callhistory.SyncFailedUnauthorized: "błąd autoryzacji API Callyzer",
	callhistory.SyncFailedRateLimited:  "przekroczony limit zapytań Callyzer",
	callhistory.SyncFailedOther:        "błąd",
}

// syncLine says when the sync last succeeded (time of day in the CRM's
// zone, with the date when not today) and what it is doing now.
func syncLine(st callhistory.SyncState, now time.Time) string {
	last := "jeszcze żadna udana"
	if !st.LastSuccess.IsZero() {
		t, n := st.LastSuccess.In(warsaw), now.In(warsaw)
		last = "ostatnia udana " + t.Format("15:04")
		if t.YearDay() != n.YearDay() || t.Year() != n.Year() {
			last = "ostatnia udana " + t.Format("02.01.2006 15:04")
		}
	}
	status := syncStatusLabels[st.Status]
	if status == "" {
		status = syncStatusLabels[callhistory.SyncIdle] // the zero state: never run
	}
	return "Synchronizacja: " + last + ", status: " + status
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
	a.sessions.set(w, id)
	a.logger.Info("demo sign-in", "user_id", id)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (a *app) logout(w http.ResponseWriter, r *http.Request) {
	a.sessions.clear(w)
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
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	w.WriteHeader(status)
	w.Write(b.Bytes())
}
