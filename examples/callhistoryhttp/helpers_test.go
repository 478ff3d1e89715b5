package callhistoryhttp_test

import (
	"context"
	"encoding/xml"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadcalls/leadcalls/callhistory"
	"github.com/leadcalls/leadcalls/examples/callhistoryhttp"
	"github.com/leadcalls/leadcalls/statusmap"
)

// fakeService answers Refresh and History with what a test configured and
// counts the calls.
type fakeService struct {
	mu         sync.Mutex
	result     *callhistory.Result
	historyErr error
	refreshErr error
	refreshes  int
	histories  int
	actors     []*callhistory.Actor
}

func (f *fakeService) Refresh(ctx context.Context, actor *callhistory.Actor, leadID string) (*callhistory.Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refreshes++
	f.actors = append(f.actors, actor)
	if f.refreshErr != nil {
		return nil, f.refreshErr
	}
	res := *f.result
	res.Report = &callhistory.Report{Requests: 2, Fetched: 3, Inserted: 1, Updated: 1, Deleted: 1, Unchanged: 1, Path: "spec", Duration: 2345 * time.Millisecond}
	return &res, nil
}

func (f *fakeService) History(ctx context.Context, actor *callhistory.Actor, leadID string) (*callhistory.Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.histories++
	f.actors = append(f.actors, actor)
	if f.historyErr != nil {
		return nil, f.historyErr
	}
	res := *f.result
	return &res, nil
}

func (f *fakeService) counts() (refreshes, histories int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.refreshes, f.histories
}

var warsaw = mustLoad("Europe/Warsaw")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// sampleResult is lead L-1 with three calls: the times are UTC in the
// store and must show in Europe/Warsaw (CET in winter, CEST in summer).
func sampleResult() *callhistory.Result {
	res := sampleCalls()
	// What callhistory.Refresher computes for these calls on 25 November.
	c3, c2 := res.Calls[0], res.Calls[1]
	res.Summary = callhistory.Summary{
		Window: callhistory.Window{From: time.Date(2026, 5, 25, 13, 5, 0, 0, time.UTC), To: time.Date(2026, 11, 25, 13, 5, 0, 0, time.UTC)},
		Calls:  3, Connected: 1, Missed: 1, TalkSeconds: 87,
		LastContact: &c3, LastContactDays: 5,
		LastConnected: &c3,
		LastMissed:    &c2,
		CalledBack:    &c3,
	}
	return res
}

func sampleCalls() *callhistory.Result {
	return &callhistory.Result{
		Lead:         callhistory.Lead{ID: "L-1", Name: "Jan Kowalski", Phone: "601 234 567", AdvisorID: "u-adv"},
		Phone:        "+48601234567",
		LastSyncedAt: time.Date(2026, 11, 25, 13, 5, 0, 0, time.UTC),
		Calls: []callhistory.Call{
			{
				CallyzerID: "c-3", Phone: "+48601234567",
				Direction: statusmap.Outgoing, Status: statusmap.Connected, RawCallType: "Outgoing",
				StartedAt:       time.Date(2026, 11, 20, 13, 30, 0, 0, time.UTC), // 14:30 CET
				DurationSeconds: 87, EmployeeName: "Anna Nowak", EmployeePhone: "+48511222333",
				RecordingURL: "https://rec.example.com/c-3.mp3", Note: "Klient prosi o ofertę",
			},
			{
				CallyzerID: "c-2", Phone: "+48601234567",
				Direction: statusmap.Incoming, Status: statusmap.Missed, RawCallType: "Missed",
				StartedAt:       time.Date(2026, 7, 1, 7, 5, 9, 0, time.UTC), // 09:05 CEST
				DurationSeconds: 0, EmployeeName: "Anna Nowak", EmployeePhone: "+48511222333",
			},
			{
				CallyzerID: "c-1", Phone: "+48601234567",
				Direction: statusmap.UnknownDirection, Status: statusmap.Unknown, RawCallType: "VoIP",
				StartedAt:       time.Date(2026, 6, 2, 22, 15, 0, 0, time.UTC), // 00:15 CEST on 3 June
				DurationSeconds: 3725, EmployeeName: "Piotr Wiśniewski",
			},
		},
	}
}

const actorHeader = "X-Test-Actor"

// actorFromHeader stands in for a host's session: the test names the user
// in a header.
func actorFromHeader(r *http.Request) *callhistory.Actor {
	id := r.Header.Get(actorHeader)
	if id == "" {
		return nil
	}
	return &callhistory.Actor{ID: id, Name: "Test User", Role: callhistory.RoleAdvisor}
}

// newServer mounts the handler of svc under /crm/ on a test server.
func newServer(t *testing.T, svc callhistoryhttp.Service, opts callhistoryhttp.Options) *httptest.Server {
	t.Helper()
	if opts.Actor == nil {
		opts.Actor = actorFromHeader
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	mux := http.NewServeMux()
	mux.Handle("/crm/", http.StripPrefix("/crm", callhistoryhttp.NewHandler(svc, opts)))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// do sends one request and returns the response with its body read.
func do(t *testing.T, client *http.Client, method, url string, header http.Header, body io.Reader) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, body)
	require.NoError(t, err)
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(b)
}

func signedIn(extra ...string) http.Header {
	h := http.Header{actorHeader: {"u-adv"}}
	for i := 0; i+1 < len(extra); i += 2 {
		h.Set(extra[i], extra[i+1])
	}
	return h
}

// noRedirects is a client that returns a redirect instead of following it.
func noRedirects(srv *httptest.Server) *http.Client {
	c := *srv.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

func withJar(t *testing.T, srv *httptest.Server) *http.Client {
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	c := *srv.Client()
	c.Jar = jar
	return &c
}

// node is an element of a parsed HTML page.
type node struct {
	Name     string
	Attr     map[string]string
	Children []*node
	Text     string // of a "#text" node
}

// parseHTML parses a page with encoding/xml in its lenient HTML mode, which
// is enough for the well-formed markup the handler writes.
func parseHTML(t *testing.T, page string) *node {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(page))
	d.Strict = false
	d.AutoClose = xml.HTMLAutoClose
	d.Entity = xml.HTMLEntity
	root := &node{Name: "#document"}
	stack := []*node{root}
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		switch tok := tok.(type) {
		case xml.StartElement:
			n := &node{Name: tok.Name.Local, Attr: map[string]string{}}
			for _, a := range tok.Attr {
				n.Attr[a.Name.Local] = a.Value
			}
			top := stack[len(stack)-1]
			top.Children = append(top.Children, n)
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			top := stack[len(stack)-1]
			top.Children = append(top.Children, &node{Name: "#text", Text: string(tok)})
		}
	}
	return root
}

// textContent is the whitespace-collapsed text of n and its descendants.
func (n *node) textContent() string {
	var b strings.Builder
	var walk func(*node)
	walk = func(n *node) {
		b.WriteString(n.Text)
		for _, c := range n.Children {
			walk(c)
		}
	}
	walk(n)
	return strings.Join(strings.Fields(b.String()), " ")
}

// findAll returns the descendants of n that match.
func (n *node) findAll(match func(*node) bool) []*node {
	var out []*node
	for _, c := range n.Children {
		if match(c) {
			out = append(out, c)
		}
		out = append(out, c.findAll(match)...)
	}
	return out
}

func byTag(name string) func(*node) bool {
	return func(n *node) bool { return n.Name == name }
}

func byAttr(key, value string) func(*node) bool {
	return func(n *node) bool { return n.Attr[key] == value }
}

func byID(id string) func(*node) bool { return byAttr("id", id) }
