package feedhealth_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"time"

	"github.com/leadcalls/leadcalls/callhistory"
	"github.com/leadcalls/leadcalls/callyzer"
	"github.com/leadcalls/leadcalls/callyzer/callyzertest"
	"github.com/leadcalls/leadcalls/feedhealth"
	"github.com/leadcalls/leadcalls/storage/memstore"
)

// A Syncer with feed health: after its pass, the monitor has read the
// roster and compared the closed months; a phone that has not checked in
// for three days is a problem, and its advisor's leads get a note.
func Example() {
	warsaw, err := time.LoadLocation("Europe/Warsaw")
	if err != nil {
		log.Fatal(err)
	}
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, warsaw)
	emp := callyzertest.Employee{Name: "Anna Nowak", Code: "A7", CountryCode: "48", Number: "511222333",
		LastSyncReqAt: now.Add(-74 * time.Hour), CallRecordingActive: true}
	fake := callyzertest.New(callyzertest.Options{Employees: []callyzertest.Employee{emp},
		Now: func() time.Time { return now }})
	defer fake.Close()
	client, err := callyzer.NewClient(fake.APIKey(), callyzer.WithBaseURL(fake.URL), callyzer.WithInterval(time.Millisecond),
		callyzer.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		log.Fatal(err)
	}
	store := memstore.New()
	clock := func() time.Time { return now }

	// --- README: Is the feed alive? ---
	mon, err := feedhealth.New(feedhealth.Config{Source: client, Store: store, Location: warsaw, Now: clock})
	if err != nil {
		log.Fatal(err)
	}
	syncer, err := callhistory.NewSyncer(callhistory.SyncConfig{Source: client, Store: store, Health: mon.Check, Now: clock})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := syncer.RunOnce(context.Background()); err != nil {
		log.Fatal(err)
	}
	state, err := mon.State(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range state.Problems() { // sorted and stable: alert when the list changes
		fmt.Println(p.Kind, p.Name, p.Since.In(warsaw).Format("02.01 15:04"))
	}
	if note, ok := state.Note("+48511222333", "pl", now, warsaw); ok { // the advisor's phone
		fmt.Println(note.Text)
	}
	// --- end of README ---

	// Output:
	// offline Anna Nowak 04.12 10:00
	// Telefon doradcy nie przesyła połączeń od 3 dni — historia może być niepełna
}
