package callhistory_test

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/leadcalls/leadcalls/callhistory"
	"github.com/leadcalls/leadcalls/callyzer"
	"github.com/leadcalls/leadcalls/callyzer/callyzertest"
	"github.com/leadcalls/leadcalls/storage/memstore"
)

// crmLeads is the host CRM's lead lookup.
type crmLeads map[string]callhistory.Lead

func (l crmLeads) Lead(_ context.Context, id string) (callhistory.Lead, error) {
	lead, ok := l[id]
	if !ok {
		return callhistory.Lead{}, callhistory.ErrLeadNotFound
	}
	return lead, nil
}

// Example wires a refresh end to end: a fake Callyzer with two calls of the
// lead, the in-memory store, the default role authoriser. A BIK advisor
// refreshes the lead assigned to them; another advisor is turned away.
func Example() {
	ctx := context.Background()
	warsaw, _ := time.LoadLocation("Europe/Warsaw")
	now := time.Date(2026, 11, 25, 15, 0, 0, 0, warsaw)

	outgoing := callyzertest.NewCall("c-10001", "+48601234567", time.Date(2026, 11, 20, 14, 30, 0, 0, warsaw))
	outgoing.Duration = 87
	missed := callyzertest.NewCall("c-10002", "+48601234567", time.Date(2026, 11, 21, 9, 5, 12, 0, warsaw))
	missed.CallType, missed.Duration = "Missed", 0
	fake := callyzertest.New(callyzertest.Options{Calls: []callyzertest.Call{outgoing, missed}})
	defer fake.Close()

	quiet := slog.New(slog.DiscardHandler)
	client, err := callyzer.NewClient(fake.APIKey(),
		callyzer.WithBaseURL(fake.URL), callyzer.WithInterval(0), callyzer.WithLogger(quiet))
	if err != nil {
		panic(err)
	}
	refresher, err := callhistory.NewRefresher(callhistory.Config{
		Source: client,
		Store:  memstore.New(),
		Leads: crmLeads{"L-1": {
			ID: "L-1", Name: "Jan Kowalski", Phone: "601 234 567", AdvisorID: "u-7",
		}},
		Authorizer: callhistory.RoleAuthorizer{},
		Now:        func() time.Time { return now },
		Logger:     quiet,
	})
	if err != nil {
		panic(err)
	}
	defer refresher.Wait()

	advisor := &callhistory.Actor{ID: "u-7", Name: "Anna Nowak", Role: callhistory.RoleAdvisor}
	res, err := refresher.Refresh(ctx, advisor, "L-1")
	fmt.Println(callhistory.Message(err, "pl"))
	if err != nil {
		return
	}
	fmt.Printf("%s (%s), last synced %s\n", res.Lead.Name, res.Phone, res.LastSyncedAt.In(warsaw).Format(time.DateTime))
	for _, c := range res.Calls {
		fmt.Printf("  %s  %-8s  %-9s  %3ds  %s\n",
			c.StartedAt.In(warsaw).Format("2006-01-02 15:04"), c.Direction, c.Status, c.DurationSeconds, c.EmployeeName)
	}
	fmt.Printf("requests %d, inserted %d, deleted %d\n", res.Report.Requests, res.Report.Inserted, res.Report.Deleted)

	stranger := &callhistory.Actor{ID: "u-8", Role: callhistory.RoleAdvisor}
	_, err = refresher.Refresh(ctx, stranger, "L-1")
	fmt.Println(callhistory.Message(err, "pl"))
	fmt.Println(callhistory.Message(err, "en"))
	fmt.Println("requests to Callyzer in all:", fake.RequestCount())

	// Output:
	// Historia połączeń została zaktualizowana
	// Jan Kowalski (+48601234567), last synced 2026-11-25 15:00:00
	//   2026-11-21 09:05  incoming  missed       0s  Anna Nowak
	//   2026-11-20 14:30  outgoing  connected   87s  Anna Nowak
	// requests 2, inserted 2, deleted 0
	// Brak uprawnień do przeglądania historii połączeń
	// You are not allowed to view the call history
	// requests to Callyzer in all: 2
}
