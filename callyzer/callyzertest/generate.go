package callyzertest

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// GenerateConfig sizes a generated data set. The zero value works.
type GenerateConfig struct {
	// End is the newest possible call time. Default: time.Now(), which
	// makes the times (not the rest) differ between runs; set it for a
	// fully deterministic data set.
	End time.Time
	// Span is how far back calls go. Default: 183 days (six months).
	Span time.Duration
	// Location is the account zone working hours are laid out in.
	// Default: Europe/Warsaw.
	Location *time.Location
	// Employees, Leads and Calls are the sizes. Defaults: 8, 40, 600.
	Employees, Leads, Calls int
	// Quirks turns per-call wire quirks on for about a fifth to a third of
	// the calls: duration as a string, a zone suffix on synced_at and
	// modified_at, null for an empty note and recording URL.
	Quirks bool
	// IDPrefix starts every call id. Default: "c-".
	IDPrefix string
}

// Lead is a generated CRM lead: a client that the employees call.
type Lead struct {
	ID          string // "L-0001"
	Name        string
	Phone       string // E.164
	AdvisorCode string // Employee.Code of the advisor who calls the lead most
	Calls       int    // how many generated calls are with this lead
}

// Dataset is a generated account: the roster, its leads and the calls.
type Dataset struct {
	Employees []Employee
	Leads     []Lead
	Calls     []Call // oldest first; ids increase with time
}

// Generate returns realistic Polish data for a credit-advisory sales team
// (advisors tagged "BIK"): Polish names, valid +48 mobile numbers, a
// plausible mix of call types and durations, calls in working hours of the
// last Span in Location. The same seed and config give the same data set.
func Generate(seed int64, cfg GenerateConfig) Dataset {
	if cfg.End.IsZero() {
		cfg.End = time.Now()
	}
	cfg.End = cfg.End.Truncate(time.Second)
	cfg.Span = cmp.Or(cfg.Span, 183*24*time.Hour)
	if cfg.Location == nil {
		cfg.Location, _ = time.LoadLocation("Europe/Warsaw")
	}
	cfg.Employees = cmp.Or(cfg.Employees, 8)
	cfg.Leads = cmp.Or(cfg.Leads, 40)
	cfg.Calls = cmp.Or(cfg.Calls, 600)
	cfg.IDPrefix = cmp.Or(cfg.IDPrefix, "c-")

	g := &gen{r: rand.New(rand.NewPCG(uint64(seed), 0x6c656164)), used: map[string]bool{}}
	var ds Dataset
	start := cfg.End.Add(-cfg.Span)

	for i := range cfg.Employees {
		name := g.name()
		tags := []string{"BIK", teams[i%len(teams)]}
		if i == 0 {
			tags = append(tags, "Kierownik")
		}
		reg := start.Add(-time.Duration(30+g.r.IntN(400)) * 24 * time.Hour)
		ds.Employees = append(ds.Employees, Employee{
			Name:                name,
			Code:                fmt.Sprintf("D%02d", i+1),
			CountryCode:         "48",
			Number:              g.mobile(),
			Tags:                tags,
			RegisteredAt:        reg,
			CallRecordingActive: g.r.IntN(10) < 8,
			// Without random draws, so a seed's data stays what it was:
			// every eighth phone has the app uninstalled.
			AppUninstalled: i%8 == 7,
			AppVersion:     fmt.Sprintf("3.%d.%d", 4+i%2, i%3),
			DeviceModel:    deviceModels[i%len(deviceModels)],
			AndroidVersion: fmt.Sprint(12 + i%3),
		})
	}

	type leadInfo struct {
		saved  bool // the phones have the lead as a contact
		weight int
	}
	infos := make([]leadInfo, cfg.Leads)
	total := 0
	for i := range cfg.Leads {
		name := g.name()
		ds.Leads = append(ds.Leads, Lead{
			ID:          fmt.Sprintf("L-%04d", i+1),
			Name:        name,
			Phone:       "+48" + g.mobile(),
			AdvisorCode: ds.Employees[g.r.IntN(len(ds.Employees))].Code,
		})
		w := 0 // about one lead in ten is never called
		if g.r.IntN(10) > 0 {
			w = 1 + g.r.IntN(6)*g.r.IntN(4) // a few leads get many calls
		}
		infos[i] = leadInfo{saved: g.r.IntN(5) > 0, weight: w}
		total += w
	}
	empByCode := map[string]Employee{}
	for _, e := range ds.Employees {
		empByCode[e.Code] = e
	}

	for range cfg.Calls {
		var c Call
		var emp Employee
		li := -1
		if total > 0 && g.r.IntN(100) < 85 {
			k := g.r.IntN(total)
			for i, in := range infos {
				if k < in.weight {
					li = i
					break
				}
				k -= in.weight
			}
		}
		if li >= 0 {
			l := ds.Leads[li]
			emp = empByCode[l.AdvisorCode]
			if g.r.IntN(10) == 0 { // a colleague covers
				emp = ds.Employees[g.r.IntN(len(ds.Employees))]
			}
			c.ClientCountryCode, c.ClientNumber = "48", l.Phone[3:]
			c.ClientName = "Unknown"
			if infos[li].saved {
				c.ClientName = l.Name
			}
			ds.Leads[li].Calls++
		} else {
			emp = ds.Employees[g.r.IntN(len(ds.Employees))]
			c.ClientCountryCode, c.ClientNumber = "48", g.mobile()
			c.ClientName = "Unknown"
			if g.r.IntN(3) == 0 {
				c.ClientName = g.name()
			}
		}
		c.SetEmployee(emp)
		c.StartedAt = g.workTime(start, cfg.End, cfg.Location)
		g.callOutcome(&c)
		if emp.CallRecordingActive && c.Duration > 0 && g.r.IntN(10) > 0 {
			c.RecordingURL = "pending" // set once the id is known
		}
		if g.r.IntN(100) < 15 {
			c.Note = notes[g.r.IntN(len(notes))]
		}
		lag := time.Duration(10+g.r.IntN(1200)) * time.Second
		if g.r.IntN(20) == 0 {
			lag += time.Duration(1+g.r.IntN(20)) * time.Hour // the phone was offline
		}
		c.SyncedAt = minTime(c.StartedAt.Add(time.Duration(c.Duration)*time.Second+lag), cfg.End)
		c.ModifiedAt = c.SyncedAt
		if g.r.IntN(10) == 0 {
			c.ModifiedAt = minTime(c.SyncedAt.Add(time.Duration(g.r.IntN(48*60))*time.Minute), cfg.End)
		}
		c.CallMethod, c.CallMode = PhoneCall, Voice
		if g.r.IntN(10) == 0 {
			c.CallMethod = WhatsAppCall
			if g.r.IntN(10) == 0 {
				c.CallMode = Video
			}
		}
		if g.r.IntN(20) == 0 {
			c.CRMStatus = crmStatuses[g.r.IntN(len(crmStatuses))]
		}
		if cfg.Quirks {
			c.DurationAsString = g.r.IntN(5) == 0
			c.ZoneSuffix = g.r.IntN(3) == 0
			c.NullEmpty = g.r.IntN(3) == 0
		}
		ds.Calls = append(ds.Calls, c)
	}
	slices.SortStableFunc(ds.Calls, func(a, b Call) int { return a.StartedAt.Compare(b.StartedAt) })
	for i := range ds.Calls {
		c := &ds.Calls[i]
		c.ID = fmt.Sprintf("%s%06d", cfg.IDPrefix, 10001+i)
		if c.RecordingURL != "" {
			c.RecordingURL = "https://recordings.callyzer.example/" + c.ID + ".mp3"
		}
		for j := range ds.Employees {
			if e := &ds.Employees[j]; e.Code == c.EmpCode {
				e.LastCallAt = c.StartedAt
				e.LastSyncReqAt = c.SyncedAt
			}
		}
	}
	return ds
}

type gen struct {
	r    *rand.Rand
	used map[string]bool // numbers handed out, so every phone is distinct
}

// Mobile prefixes of Polish numbering that libphonenumber accepts as mobile.
var mobilePrefixes = []string{"50", "51", "53", "57", "60", "66", "69", "72", "73", "78", "79", "88"}

// mobile returns a new Polish mobile number's nine national digits.
func (g *gen) mobile() string {
	for {
		n := mobilePrefixes[g.r.IntN(len(mobilePrefixes))] + fmt.Sprintf("%07d", g.r.IntN(10_000_000))
		if !g.used[n] {
			g.used[n] = true
			return n
		}
	}
}

var (
	maleNames   = []string{"Jan", "Piotr", "Krzysztof", "Andrzej", "Tomasz", "Paweł", "Marcin", "Michał", "Marek", "Grzegorz", "Jakub", "Adam", "Łukasz", "Mateusz", "Wojciech", "Kamil", "Dariusz", "Rafał", "Szymon", "Bartosz"}
	femaleNames = []string{"Anna", "Maria", "Katarzyna", "Małgorzata", "Agnieszka", "Barbara", "Ewa", "Krystyna", "Magdalena", "Joanna", "Aleksandra", "Monika", "Zofia", "Natalia", "Karolina", "Beata", "Dorota", "Justyna", "Paulina", "Marta"}
	surnames    = []string{"Nowak", "Kowalski", "Wiśniewski", "Wójcik", "Kowalczyk", "Kamiński", "Lewandowski", "Zieliński", "Szymański", "Woźniak", "Dąbrowski", "Kozłowski", "Jankowski", "Mazur", "Kwiatkowski", "Krawczyk", "Piotrowski", "Grabowski", "Nowakowski", "Pawłowski", "Michalski", "Król", "Wieczorek", "Jabłoński", "Wróbel", "Majewski", "Olszewski", "Stępień", "Malinowski", "Jaworski", "Zawadzki", "Sadowski", "Górecki", "Chmielewski"}
	teams       = []string{"Kredyty hipoteczne", "Kredyty gotówkowe", "Konsolidacja"}
	notes       = []string{
		"Klient prosi o kontakt po 15:00",
		"Wysłano ofertę mailem",
		"Zainteresowany konsolidacją",
		"Raport BIK do omówienia",
		"Oddzwonić w poniedziałek",
		"Brak zdolności kredytowej",
		"Umówione spotkanie w oddziale",
		"Klient porównuje oferty",
	}
	crmStatuses = []string{"Interested", "Follow up", "Not interested", "Converted"}
)

// name returns a Polish full name, a man's or a woman's.
func (g *gen) name() string {
	sur := surnames[g.r.IntN(len(surnames))]
	if g.r.IntN(2) == 0 {
		return maleNames[g.r.IntN(len(maleNames))] + " " + sur
	}
	if strings.HasSuffix(sur, "ski") || strings.HasSuffix(sur, "cki") || strings.HasSuffix(sur, "dzki") {
		sur = strings.TrimSuffix(sur, "i") + "a"
	}
	return femaleNames[g.r.IntN(len(femaleNames))] + " " + sur
}

// workTime returns a time in [start, end]: mostly weekdays 8:00–18:59 in
// loc, sometimes a Saturday morning.
func (g *gen) workTime(start, end time.Time, loc *time.Location) time.Time {
	days := int(end.Sub(start)/(24*time.Hour)) + 1
	for {
		d := start.In(loc).AddDate(0, 0, g.r.IntN(days))
		hour := 8 + g.r.IntN(11)
		switch d.Weekday() {
		case time.Sunday:
			continue
		case time.Saturday:
			if g.r.IntN(4) > 0 {
				continue
			}
			hour = 9 + g.r.IntN(4)
		}
		t := time.Date(d.Year(), d.Month(), d.Day(), hour, g.r.IntN(60), g.r.IntN(60), 0, loc)
		if !t.Before(start) && !t.After(end) {
			return t
		}
	}
}

// callOutcome picks the call type and duration: about half outgoing (a
// quarter of them not picked up), a quarter incoming, then missed and
// rejected calls.
func (g *gen) callOutcome(c *Call) {
	talk := func() int { return min(15+int(g.r.ExpFloat64()*200), 3600) }
	switch p := g.r.IntN(100); {
	case p < 50:
		c.CallType = Outgoing
		if g.r.IntN(4) > 0 {
			c.Duration = talk()
		}
	case p < 75:
		c.CallType = Incoming
		c.Duration = talk()
	case p < 90:
		c.CallType = Missed
	default:
		c.CallType = Rejected
	}
}

func minTime(a, b time.Time) time.Time {
	if a.After(b) {
		return b
	}
	return a
}

// deviceModels are the phones a generated roster uses.
var deviceModels = []string{"SM-A546B", "Pixel 7a", "Redmi Note 12", "moto g54"}
