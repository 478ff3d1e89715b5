package callhistoryhttp

import (
	"context"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/leadcalls/leadcalls/callhistory"
	"github.com/leadcalls/leadcalls/examples/internal/logclip"
	"github.com/leadcalls/leadcalls/feedhealth"
	"github.com/leadcalls/leadcalls/statusmap"
)

// Service is what the handler needs of the call-history use cases.
// *callhistory.Refresher implements it.
type Service interface {
	// Refresh fetches the lead's calls from Callyzer, stores them and
	// returns the new history.
	Refresh(ctx context.Context, actor *callhistory.Actor, leadID string) (*callhistory.Result, error)
	// History returns the stored history without calling Callyzer.
	History(ctx context.Context, actor *callhistory.Actor, leadID string) (*callhistory.Result, error)
}

var _ Service = (*callhistory.Refresher)(nil)

// Options configures the handler. The zero value works, except that without
// Actor every request is answered 401.
type Options struct {
	// Actor returns the signed-in user of r, or nil when there is none. The
	// host CRM supplies it from its own session. Default: nobody is signed in.
	Actor func(r *http.Request) *callhistory.Actor
	// Location is the Callyzer account's time zone, in which call times are
	// shown and serialised. Default: Europe/Warsaw.
	Location *time.Location
	// Mapper labels status codes. Default: the default scheme of statusmap.
	Mapper *statusmap.Mapper
	// Logger receives a line per failed request: at info level for the
	// failures the handler finds itself (no signed-in user, a cross-site
	// POST), at debug level (route and status code) for those the service
	// returns, which the service logs itself. Default: slog.Default().
	Logger *slog.Logger
	// CrossOrigin rejects cross-site refresh POSTs. Default: a new
	// http.CrossOriginProtection that trusts same-origin requests only; to
	// trust other origins, pass one configured with AddTrustedOrigin.
	CrossOrigin *http.CrossOriginProtection
	// RetryAfter is the Retry-After sent with a 503 when Callyzer's answer
	// did not say how long to wait. Default: 5s.
	RetryAfter time.Duration
	// Header returns HTML placed at the top of the lead page, such as the
	// host's navigation and the signed-in user. It must be safe HTML.
	// Default: none.
	Header func(r *http.Request) template.HTML
	// SecureCookies marks the flash cookie Secure also on a request that
	// did not come over TLS: set it when the browser talks https to a
	// TLS-terminating proxy in front of the host. Default: Secure only
	// when the request came over TLS.
	SecureCookies bool
	// LastSyncPass returns when the last completed pass of the periodic
	// sync started (callhistory.Syncer's State().LastSuccess), or the zero
	// time. A pass stores every number's calls, so the page's "last
	// synchronised" shows the later of that and the lead's own last sync,
	// and says which it is. Default: no periodic sync.
	LastSyncPass func(r *http.Request) time.Time
	// RecordingURL returns the address the page's player and its link use
	// for call's recording, or "" for none. Default: Callyzer's address,
	// when it is an absolute https URL. Callyzer's addresses expire, so a
	// host that serves recordings itself (checking who may hear them)
	// returns its own route here; it may be relative to the page. The JSON
	// API's recording_url is always Callyzer's address.
	RecordingURL func(r *http.Request, leadID string, call callhistory.Call) string
	// LeadsURL is the address of the host's list of leads, for the page's
	// way back; relative to the page or absolute. Default: no such link.
	LeadsURL string
	// FeedNote returns the note shown above the call list (and sent as the
	// JSON's feed_note) when the phone of lead's assigned advisor may be
	// missing calls or recordings, in lang ("pl" or "en"); false for none.
	// A host with a feedhealth.Monitor finds the advisor's phone in its
	// State and returns State.Note. Default: no note.
	FeedNote func(r *http.Request, lead callhistory.Lead, lang string) (feedhealth.Note, bool)
}

const defaultRetryAfter = 5 * time.Second

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

var pageTemplate = template.Must(template.New("page.html").ParseFS(templateFS, "templates/page.html"))

type handler struct {
	svc  Service
	opts Options
	mux  *http.ServeMux
}

// NewHandler returns the call-history handler of svc. It serves, relative to
// where it is mounted (use http.StripPrefix):
//
//	GET  /api/leads/{leadID}/call-history          JSON: the stored history
//	POST /api/leads/{leadID}/call-history/refresh  JSON: refresh, then the history
//	GET  /leads/{leadID}                           HTML: the call-history section
//	POST /leads/{leadID}/refresh                   HTML form: refresh, then 303 back
//	GET  /assets/{file}                            the page's stylesheet and script
//
// The two POSTs are protected against cross-site requests; no GET refreshes.
func NewHandler(svc Service, opts Options) http.Handler {
	if opts.Actor == nil {
		opts.Actor = func(*http.Request) *callhistory.Actor { return nil }
	}
	if opts.Location == nil {
		loc, err := time.LoadLocation("Europe/Warsaw")
		if err != nil {
			panic("callhistoryhttp: loading Europe/Warsaw: " + err.Error() + " (set Options.Location, or import time/tzdata in the main package)")
		}
		opts.Location = loc
	}
	if opts.Mapper == nil {
		opts.Mapper = new(statusmap.Mapper) // the zero Mapper uses the default scheme
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.CrossOrigin == nil {
		opts.CrossOrigin = http.NewCrossOriginProtection()
	}
	if opts.RetryAfter <= 0 {
		opts.RetryAfter = defaultRetryAfter
	}
	if opts.RecordingURL == nil {
		opts.RecordingURL = func(_ *http.Request, _ string, c callhistory.Call) string { return recordingURL(c.RecordingURL) }
	}
	h := &handler{svc: svc, opts: opts, mux: http.NewServeMux()}
	h.mux.HandleFunc("GET /api/leads/{leadID}/call-history", h.apiHistory)
	h.mux.HandleFunc("/api/leads/{leadID}/call-history", h.apiMethodNotAllowed("GET, HEAD"))
	h.mux.HandleFunc("POST /api/leads/{leadID}/call-history/refresh", h.apiRefresh)
	h.mux.HandleFunc("/api/leads/{leadID}/call-history/refresh", h.apiMethodNotAllowed("POST"))
	h.mux.HandleFunc("/api/", h.apiNotFound)
	h.mux.HandleFunc("GET /leads/{leadID}", h.page)
	h.mux.HandleFunc("/leads/{leadID}", h.pageMethodNotAllowed("GET, HEAD"))
	h.mux.HandleFunc("POST /leads/{leadID}/refresh", h.formRefresh)
	h.mux.HandleFunc("/leads/{leadID}/refresh", h.pageMethodNotAllowed("POST"))
	h.mux.HandleFunc("GET /assets/{file}", serveAsset)
	return h
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "same-origin")
	if !cleanPath(r.URL.Path) {
		// ServeMux would redirect to the cleaned path, which under
		// http.StripPrefix leaves the mount ("/api/leads//call-history"
		// would go to "/api/leads/call-history" of the host). No lead
		// has an empty id: such a path names none.
		h.notFound(w, r)
		return
	}
	h.mux.ServeHTTP(w, r)
}

// cleanPath reports whether p is in the canonical form ServeMux routes
// without a redirect: no empty, "." or ".." segment.
func cleanPath(p string) bool {
	c := path.Clean(p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c == p
}

// notFound answers a path that names no lead: JSON under /api/, the page
// otherwise. It echoes nothing of the path.
func (h *handler) notFound(w http.ResponseWriter, r *http.Request) {
	lang := parseLanguage(r.Header.Get("Accept-Language"))
	if strings.HasPrefix(r.URL.Path, "/api/") {
		h.writeError(w, r, lang, "", errMalformedLeadID)
		return
	}
	o := outcomeOf(errMalformedLeadID)
	h.log(r, "", o, errMalformedLeadID)
	view := h.newPageView(r, lang)
	view.Alert = message(errMalformedLeadID, lang)
	h.writePage(w, o.status, view)
}

// apiMethodNotAllowed answers a method an API route does not take: 405 in
// the API's JSON, with the methods it takes in Allow.
func (h *handler) apiMethodNotAllowed(allow string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		h.writeError(w, r, parseLanguage(r.Header.Get("Accept-Language")), r.PathValue("leadID"), errMethodNotAllowed)
	}
}

// pageMethodNotAllowed answers a method a page route does not take: 405
// as a page, with the methods it takes in Allow.
func (h *handler) pageMethodNotAllowed(allow string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		lang := parseLanguage(r.Header.Get("Accept-Language"))
		h.log(r, "", outcomeOf(errPageMethod), errPageMethod)
		view := h.newPageView(r, lang)
		view.Alert = message(errPageMethod, lang)
		h.writePage(w, http.StatusMethodNotAllowed, view)
	}
}

// apiNotFound answers an /api/ path that matches no route: 404 in the
// API's JSON. A path of the lead routes' shape whose lead id is missing
// (".../leads/call-history") names no lead; any other names no route.
func (h *handler) apiNotFound(w http.ResponseWriter, r *http.Request) {
	err := errNoRoute
	if rest, ok := strings.CutPrefix(r.URL.Path, "/api/leads/"); ok &&
		(rest == "" || rest == "call-history" || rest == "call-history/refresh" || strings.HasSuffix(rest, "/call-history") || strings.HasSuffix(rest, "/call-history/refresh")) {
		err = errMalformedLeadID
	}
	h.writeError(w, r, parseLanguage(r.Header.Get("Accept-Language")), "", err)
}

func (h *handler) apiHistory(w http.ResponseWriter, r *http.Request) {
	lang := parseLanguage(r.Header.Get("Accept-Language"))
	leadID := r.PathValue("leadID")
	res, err := h.history(r, leadID)
	if err != nil {
		h.writeError(w, r, lang, leadID, err)
		return
	}
	writeJSON(w, http.StatusOK, h.historyJSON(r, res, string(lang)))
}

func (h *handler) apiRefresh(w http.ResponseWriter, r *http.Request) {
	lang := parseLanguage(r.Header.Get("Accept-Language"))
	leadID := r.PathValue("leadID")
	res, err := h.refresh(r, leadID)
	if err != nil {
		h.writeError(w, r, lang, leadID, err)
		return
	}
	writeJSON(w, http.StatusOK, h.refreshJSON(r, res, string(lang), message(nil, lang)))
}

func (h *handler) page(w http.ResponseWriter, r *http.Request) {
	lang := parseLanguage(r.Header.Get("Accept-Language"))
	leadID := r.PathValue("leadID")
	res, err := h.history(r, leadID)
	var flash string
	if !errors.Is(err, errMalformedLeadID) { // no cookie on the path of an id that was refused
		flash = h.takeFlash(w, r)
	}
	view := h.newPageView(r, lang)
	status := http.StatusOK
	if err != nil {
		o := outcomeOf(err)
		h.log(r, leadID, o, err)
		status = o.status
		view.Alert = message(err, lang)
		if !errors.Is(err, errMalformedLeadID) {
			view.LeadID = leadID // the id the user asked for, nothing of the lead
		}
	} else {
		view.Lead = h.leadView(r, res, lang, leadID)
		// The outcome of a no-JavaScript refresh, carried by key in a
		// one-time cookie: never text, and gone after this page.
		if o, ok := outcomeByKey(flash); ok {
			if o.err == nil {
				view.Notice = message(nil, lang)
			} else {
				view.Alert = message(o.err, lang)
			}
		}
	}
	h.writePage(w, status, view)
}

func (h *handler) formRefresh(w http.ResponseWriter, r *http.Request) {
	leadID := r.PathValue("leadID")
	_, err := h.refresh(r, leadID)
	o := outcomeOf(err)
	if err != nil {
		h.log(r, leadID, o, err)
	}
	if o.key == keyCrossOrigin || errors.Is(err, errMalformedLeadID) {
		// Answered here, not redirected: a cross-site form gets no
		// navigation into the CRM, and a refused id is not echoed in a
		// Location. This page is /leads/{leadID}/refresh, one level deeper
		// than the lead page.
		lang := parseLanguage(r.Header.Get("Accept-Language"))
		view := h.newPageView(r, lang)
		view.Alert = message(err, lang)
		h.writePage(w, o.status, view)
		return
	}
	h.setFlash(w, r, o.key)
	// A relative reference, resolved by the browser against the request URL,
	// so the redirect stays under whatever prefix the handler is mounted at
	// (http.Redirect would resolve it against the stripped path).
	w.Header().Set("Location", "../"+url.PathEscape(leadID))
	w.WriteHeader(http.StatusSeeOther)
}

// flashCookie carries the message key of a no-JavaScript refresh through
// its redirect to the lead page, which shows the message once and clears
// the cookie, so that reloading the page does not show it again.
const flashCookie = "leadcalls_flash"

// flashMaxAge bounds how long an unshown message waits for its page.
const flashMaxAge = 60 // seconds

// secureCookies reports whether the cookies of r's answer are Secure:
// over TLS, or always with Options.SecureCookies.
func (h *handler) secureCookies(r *http.Request) bool {
	return h.opts.SecureCookies || r.TLS != nil
}

// setFlash is called by POST /leads/{leadID}/refresh. The cookie names no
// Path, so the browser scopes it to the directory of the request's path:
// the lead page's own path, under whatever prefix the handler is mounted
// at, which the handler does not know.
func (h *handler) setFlash(w http.ResponseWriter, r *http.Request, key string) {
	http.SetCookie(w, &http.Cookie{
		Name:     flashCookie,
		Value:    key,
		MaxAge:   flashMaxAge,
		HttpOnly: true,
		Secure:   h.secureCookies(r),
		SameSite: http.SameSiteLaxMode,
	})
}

// takeFlash returns the key of the flash cookie, if r has one, and clears
// it. The Path of the clearing cookie is the page's path as the browser
// sent it (RequestURI, which http.StripPrefix leaves alone): the path the
// browser scoped the cookie to.
func (h *handler) takeFlash(w http.ResponseWriter, r *http.Request) string {
	c, err := r.Cookie(flashCookie)
	if err != nil {
		return ""
	}
	path, _, _ := strings.Cut(r.RequestURI, "?")
	if !strings.HasPrefix(path, "/") { // a request built without a server
		path = r.URL.EscapedPath()
	}
	http.SetCookie(w, &http.Cookie{
		Name:     flashCookie,
		Path:     path,
		MaxAge:   -1,
		HttpOnly: true,
		Secure:   h.secureCookies(r),
		SameSite: http.SameSiteLaxMode,
	})
	return c.Value
}

// history and refresh call the service after the checks that need no
// service: a well-formed lead id, a signed-in user, and for refresh the
// cross-origin check.
func (h *handler) history(r *http.Request, leadID string) (*callhistory.Result, error) {
	if err := checkLeadID(leadID); err != nil {
		return nil, err
	}
	actor := h.opts.Actor(r)
	if actor == nil {
		return nil, errNoActor
	}
	return h.svc.History(r.Context(), actor, leadID)
}

func (h *handler) refresh(r *http.Request, leadID string) (*callhistory.Result, error) {
	if err := checkLeadID(leadID); err != nil {
		return nil, err
	}
	if err := h.opts.CrossOrigin.Check(r); err != nil {
		return nil, errCrossOrigin
	}
	actor := h.opts.Actor(r)
	if actor == nil {
		return nil, errNoActor
	}
	return h.svc.Refresh(r.Context(), actor, leadID)
}

// Bounds of the values the handler logs, in bytes: the lead id comes from
// the request; an error's text may quote it.
const (
	maxLoggedValue = 64
	maxLoggedError = 512
)

// log records a failed request. A failure the service returned has been
// logged by the service already (callhistory.Refresher logs every outcome,
// with the lead and the masked number), so the handler adds only the route
// and the status code, at debug level. A failure found here (a malformed
// lead id, no signed-in user, a cross-site POST) never reached the service
// and is logged at info. Values are clipped (logclip), so a long id in the
// URL makes no long line.
func (h *handler) log(r *http.Request, leadID string, o outcome, err error) {
	level := slog.LevelDebug
	if errors.Is(err, errMalformedLeadID) || errors.Is(err, errNoActor) || errors.Is(err, errCrossOrigin) {
		level = slog.LevelInfo
	}
	ctx := r.Context()
	if !h.opts.Logger.Enabled(ctx, level) {
		return
	}
	h.opts.Logger.LogAttrs(ctx, level, "call history request failed",
		slog.String("route", r.Pattern),
		slog.String("lead_id", logclip.String(leadID, maxLoggedValue)),
		slog.Int("status", o.status),
		slog.String("error", logclip.String(err.Error(), maxLoggedError)))
}

// serveAsset serves the page's stylesheet and script, and nothing else of
// the embedded files (no directory listings).
func serveAsset(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	if _, err := fs.Stat(assetFS, "assets/"+name); err != nil || !fs.ValidPath(name) {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=300")
	http.ServeFileFS(w, r, assetFS, "assets/"+name)
}
