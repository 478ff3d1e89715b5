package callhistoryhttp_test

import (
	"encoding/json"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadcalls/leadcalls/callhistory"
	"github.com/leadcalls/leadcalls/examples/callhistoryhttp"
	"github.com/leadcalls/leadcalls/feedhealth"
)

// The advisor's phone note: above the list on the page, feed_note in both
// JSON answers, in the request's language; null and absent when the host
// has nothing to say.
func TestFeedNote(t *testing.T) {
	t.Parallel()
	since := time.Date(2026, 11, 22, 9, 30, 0, 0, time.UTC)
	var (
		mu    sync.Mutex
		asked []string
	)
	opts := callhistoryhttp.Options{FeedNote: func(_ *http.Request, lead callhistory.Lead, lang string) (feedhealth.Note, bool) {
		mu.Lock()
		asked = append(asked, lead.ID+" "+lang)
		mu.Unlock()
		text := "Telefon doradcy nie przesyła połączeń od 3 dni — historia może być niepełna"
		if lang == "en" {
			text = "The advisor's phone has not uploaded calls for 3 days — the history may be incomplete"
		}
		return feedhealth.Note{Status: feedhealth.Offline, Since: since, Text: text}, true
	}}
	srv := newServer(t, &fakeService{result: sampleResult()}, opts)

	resp, body := do(t, srv.Client(), http.MethodGet, srv.URL+"/crm/leads/L-1", signedIn(), nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	doc := parseHTML(t, body)
	notes := doc.findAll(byAttr("data-feed-status", "offline"))
	require.Len(t, notes, 1)
	require.Equal(t, "Telefon doradcy nie przesyła połączeń od 3 dni — historia może być niepełna", notes[0].textContent())
	require.Equal(t, "note", notes[0].Attr["role"])
	require.Equal(t, "22.11.2026, 10:30", notes[0].Attr["title"])
	require.Equal(t, "2026-11-22T10:30:00+01:00", notes[0].Attr["data-since"])
	body2 := doc.findAll(byID("call-history-body"))
	require.Len(t, body2, 1)
	require.Len(t, body2[0].findAll(byAttr("data-feed-status", "offline")), 1, "inside the part a refresh replaces")

	for _, tc := range []struct{ method, path, lang, message string }{
		{http.MethodGet, "/crm/api/leads/L-1/call-history", "pl", "Telefon doradcy nie przesyła połączeń od 3 dni — historia może być niepełna"},
		{http.MethodPost, "/crm/api/leads/L-1/call-history/refresh", "en", "The advisor's phone has not uploaded calls for 3 days — the history may be incomplete"},
	} {
		resp, body := do(t, srv.Client(), tc.method, srv.URL+tc.path, signedIn("Accept-Language", tc.lang), nil)
		require.Equal(t, http.StatusOK, resp.StatusCode, body)
		var doc struct {
			FeedNote map[string]string `json:"feed_note"`
		}
		require.NoError(t, json.Unmarshal([]byte(body), &doc))
		require.Equal(t, map[string]string{"status": "offline", "since": "2026-11-22T10:30:00+01:00", "message": tc.message}, doc.FeedNote, tc.path)
	}
	mu.Lock()
	require.Equal(t, []string{"L-1 pl", "L-1 pl", "L-1 en"}, asked)
	mu.Unlock()

	none := newServer(t, &fakeService{result: sampleResult()}, callhistoryhttp.Options{
		FeedNote: func(*http.Request, callhistory.Lead, string) (feedhealth.Note, bool) { return feedhealth.Note{}, false },
	})
	resp, body = do(t, none.Client(), http.MethodGet, none.URL+"/crm/leads/L-1", signedIn(), nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.Empty(t, parseHTML(t, body).findAll(byAttr("class", "alert alert-warning feed-note")))
	require.NotContains(t, body, "data-feed-status")
}
