package callhistoryhttp_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/leadcalls/leadcalls/callhistory"
	"github.com/leadcalls/leadcalls/callyzer"
	"github.com/leadcalls/leadcalls/callyzer/callyzertest"
	"github.com/leadcalls/leadcalls/examples/callhistoryhttp"
	"github.com/leadcalls/leadcalls/storage/memstore"
)

// crmLeads is the host CRM's lead lookup.
type crmLeads struct{}

func (crmLeads) Lead(ctx context.Context, id string) (callhistory.Lead, error) {
	if id != "L-1" {
		return callhistory.Lead{}, fmt.Errorf("lead %q: %w", id, callhistory.ErrLeadNotFound)
	}
	return callhistory.Lead{ID: "L-1", Name: "Jan Kowalski", Phone: "601 234 567", AdvisorID: "u-7"}, nil
}

// currentUser is the host CRM's session lookup.
func currentUser(r *http.Request) *callhistory.Actor {
	return &callhistory.Actor{ID: "u-7", Name: "Anna Nowak", Role: callhistory.RoleAdvisor}
}

// Mounting the handler in a host CRM under /crm/ with http.StripPrefix.
func Example() {
	// A fake Callyzer with one call of the lead; a host leaves out
	// WithBaseURL and WithInterval and passes its own API key.
	fake := callyzertest.New(callyzertest.Options{Calls: []callyzertest.Call{
		callyzertest.NewCall("c-1", "+48601234567", time.Now().Add(-48*time.Hour)),
	}})
	defer fake.Close()
	apiKey := fake.APIKey()

	// --- README: Embedding the handler in an existing CRM ---
	client, err := callyzer.NewClient(apiKey,
		callyzer.WithBaseURL(fake.URL),             // default: the real Callyzer
		callyzer.WithInterval(10*time.Millisecond)) // default: 2s, Callyzer's limit
	if err != nil {
		log.Fatal(err)
	}
	refresher, err := callhistory.NewRefresher(callhistory.Config{
		Source: client,
		Store:  memstore.New(), // in production: sqlstore.New(db, sqlstore.Postgres)
		Leads:  crmLeads{},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer refresher.Wait() // at shutdown, after the HTTP server has stopped

	mux := http.NewServeMux()
	mux.Handle("/crm/", http.StripPrefix("/crm", callhistoryhttp.NewHandler(refresher, callhistoryhttp.Options{
		Actor: currentUser, // who is signed in; nil answers 401
	})))
	// The lead page is now at /crm/leads/L-1 and the JSON API at
	// /crm/api/leads/L-1/call-history.
	// --- end of README ---

	srv := httptest.NewServer(mux)
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/crm/api/leads/L-1/call-history/refresh", "application/json", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	var doc struct {
		Status  string `json:"status"`
		Message string `json:"message"`
		Calls   []struct {
			ID              string `json:"id"`
			Phone           string `json:"phone"`
			StatusLabel     string `json:"status_label"`
			DurationSeconds int    `json:"duration_seconds"`
		} `json:"calls"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.StatusCode, doc.Status, doc.Message)
	for _, c := range doc.Calls {
		fmt.Println(c.ID, c.Phone, c.StatusLabel, c.DurationSeconds)
	}
	// Output:
	// 200 ok Historia połączeń została zaktualizowana
	// c-1 +48601234567 Połączone 60
}
