package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/leadcalls/leadcalls/callhistory"
	"github.com/leadcalls/leadcalls/callyzer/callyzertest"
	"github.com/leadcalls/leadcalls/internal/phone"
)

// Seed is the demo's CRM: who may sign in, and the leads. The -seed flag
// reads one from a JSON file (see seed.example.json).
type Seed struct {
	Users []User     `json:"users"`
	Leads []SeedLead `json:"leads"`
}

// User is a demo user.
type User struct {
	ID   string           `json:"id"`
	Name string           `json:"name"`
	Role callhistory.Role `json:"role"`
}

// SeedLead is a demo lead.
type SeedLead struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Phone     string `json:"phone"`
	AdvisorID string `json:"advisor_id"`
}

var roleLabels = map[callhistory.Role]string{
	callhistory.RoleAdministrator:    "Administrator",
	callhistory.RoleHeadOfDepartment: "Szef działu",
	callhistory.RoleTeamLeader:       "Kierownik zespołu",
	callhistory.RoleAdvisor:          "Doradca klienta BIK",
}

// loadSeed reads and checks a seed file.
func loadSeed(path string) (*Seed, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	var s Seed
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("seed %s: %w", path, err)
	}
	if err := s.validate(); err != nil {
		return nil, fmt.Errorf("seed %s: %w", path, err)
	}
	return &s, nil
}

func (s *Seed) validate() error {
	if len(s.Users) == 0 || len(s.Leads) == 0 {
		return errors.New("needs at least one user and one lead")
	}
	users := map[string]bool{}
	for i, u := range s.Users {
		switch {
		case u.ID == "" || u.Name == "":
			return fmt.Errorf("user %d: id and name are required", i)
		case users[u.ID]:
			return fmt.Errorf("user %q: duplicate id", u.ID)
		case roleLabels[u.Role] == "":
			return fmt.Errorf("user %q: role %q is not one of admin, head_of_department, team_leader, advisor", u.ID, u.Role)
		}
		users[u.ID] = true
	}
	leads := map[string]bool{}
	for i, l := range s.Leads {
		switch {
		case l.ID == "" || l.Name == "":
			return fmt.Errorf("lead %d: id and name are required", i)
		case leads[l.ID]:
			return fmt.Errorf("lead %q: duplicate id", l.ID)
		case l.AdvisorID != "" && !users[l.AdvisorID]:
			return fmt.Errorf("lead %q: advisor_id %q is not a user", l.ID, l.AdvisorID)
		}
		leads[l.ID] = true
	}
	return nil
}

// builtinSeed is the demo's own CRM, drawn from the simulator's generator
// so that its leads are the clients of the simulated calls: the team
// (advisors are the generated employees, by employee code), every
// generated lead, and two leads that show the empty state and the
// invalid-number message.
func builtinSeed(ds callyzertest.Dataset) *Seed {
	s := &Seed{Users: []User{
		{ID: "admin", Name: "Katarzyna Lewandowska", Role: callhistory.RoleAdministrator},
		{ID: "szef", Name: "Marek Dąbrowski", Role: callhistory.RoleHeadOfDepartment},
		{ID: "kierownik", Name: "Agnieszka Wójcik", Role: callhistory.RoleTeamLeader},
	}}
	for _, e := range ds.Employees {
		s.Users = append(s.Users, User{ID: e.Code, Name: e.Name, Role: callhistory.RoleAdvisor})
	}
	for _, l := range ds.Leads {
		s.Leads = append(s.Leads, SeedLead{ID: l.ID, Name: l.Name, Phone: l.Phone, AdvisorID: l.AdvisorCode})
	}
	first := ""
	if len(ds.Employees) > 0 {
		first = ds.Employees[0].Code
	}
	s.Leads = append(s.Leads,
		SeedLead{ID: "L-NEW", Name: "Nowy lead (bez połączeń)", Phone: "+48 789 000 111", AdvisorID: first},
		SeedLead{ID: "L-BAD", Name: "Lead z błędnym numerem", Phone: "12-34", AdvisorID: first},
	)
	return s
}

// simulatedCalls returns the calls the built-in Callyzer simulator serves
// for seed: the generated calls, with the clients of the generated leads
// moved onto the seed's leads in turn, so that a seed file's own leads
// have calls too.
func simulatedCalls(ds callyzertest.Dataset, seed *Seed) ([]callyzertest.Call, error) {
	type target struct{ cc, national, name string }
	var targets []target
	for _, l := range seed.Leads {
		e164, err := phone.Normalize(l.Phone, "PL")
		if err != nil {
			continue // an invalid number has no calls
		}
		cc, nat, _ := phone.Split(e164) // a normalised number splits
		targets = append(targets, target{cc, nat, l.Name})
	}
	if len(targets) == 0 {
		return nil, errors.New("seed: no lead has a valid phone number")
	}
	moved := map[string]target{}
	for i, l := range ds.Leads {
		moved[l.Phone] = targets[i%len(targets)]
	}
	calls := make([]callyzertest.Call, 0, len(ds.Calls))
	for _, c := range ds.Calls {
		if t, ok := moved[c.ClientE164()]; ok {
			c.ClientCountryCode, c.ClientNumber = t.cc, t.national
			if c.ClientName != "Unknown" {
				c.ClientName = t.name
			}
		}
		calls = append(calls, c)
	}
	return calls, nil
}

// leadBook is the demo's callhistory.Leads.
type leadBook map[string]callhistory.Lead

func newLeadBook(s *Seed) leadBook {
	b := leadBook{}
	for _, l := range s.Leads {
		b[l.ID] = callhistory.Lead{ID: l.ID, Name: l.Name, Phone: l.Phone, AdvisorID: l.AdvisorID}
	}
	return b
}

func (b leadBook) Lead(_ context.Context, id string) (callhistory.Lead, error) {
	l, ok := b[id]
	if !ok {
		return callhistory.Lead{}, fmt.Errorf("lead %q: %w", id, callhistory.ErrLeadNotFound)
	}
	return l, nil
}

// generateDataset is the simulator's account: four advisors, a dozen
// leads, each of them with calls, over the last six months up to now.
func generateDataset(now time.Time) callyzertest.Dataset {
	ds := callyzertest.Generate(20261125, callyzertest.GenerateConfig{
		End:       now,
		Employees: 4,
		Leads:     12,
		Calls:     220,
	})
	giveEveryLeadCalls(&ds, 4)
	return ds
}

// giveEveryLeadCalls moves n calls of numbers that are no lead's onto each
// lead the generator left without calls (about one in ten), with the
// lead's advisor on the phone. In the demo an ordinary lead without calls
// would look like a fault; "Nowy lead (bez połączeń)" is the one that
// shows the empty state.
func giveEveryLeadCalls(ds *callyzertest.Dataset, n int) {
	leads := map[string]bool{}
	for _, l := range ds.Leads {
		leads[l.Phone] = true
	}
	employees := map[string]callyzertest.Employee{}
	for _, e := range ds.Employees {
		employees[e.Code] = e
	}
	next := 0 // the next call to consider moving
	for i := range ds.Leads {
		l := &ds.Leads[i]
		cc, national, ok := phone.Split(l.Phone)
		if l.Calls > 0 || !ok {
			continue
		}
		for l.Calls < n {
			for next < len(ds.Calls) && leads[ds.Calls[next].ClientE164()] {
				next++
			}
			if next == len(ds.Calls) {
				return
			}
			c := &ds.Calls[next]
			c.ClientCountryCode, c.ClientNumber, c.ClientName = cc, national, l.Name
			if e, ok := employees[l.AdvisorCode]; ok {
				c.SetEmployee(e)
			}
			l.Calls++
			next++
		}
	}
}
