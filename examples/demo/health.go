package main

import (
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/leadcalls/leadcalls/callhistory"
	"github.com/leadcalls/leadcalls/callyzer/callyzertest"
	"github.com/leadcalls/leadcalls/feedhealth"
)

// The feed's health in the demo: the simulator's phones play every state
// and one closed month misses a page of calls; the Syncer's hook
// (feedhealth.Monitor.Check) reads the roster and checks the months; the
// lead page notes an advisor's phone that is not uploading, the leads list
// marks its leads, and /admin/phones lists every phone and month.

// playPhoneStates gives the simulator's advisors one phone state each, at
// now: the first checks in and records (ok), the second has not checked in
// for three days (offline: its leads' pages say so), the third has
// recording off, the fourth has been quiet overnight (stale, no problem);
// a fifth phone, with the app uninstalled, joins the roster without leads.
func playPhoneStates(ds *callyzertest.Dataset, now time.Time) {
	states := []func(e *callyzertest.Employee){
		func(e *callyzertest.Employee) { e.LastSyncReqAt = now.Add(-4 * time.Minute) },
		func(e *callyzertest.Employee) { e.LastSyncReqAt = now.Add(-(3*24 + 2) * time.Hour) },
		func(e *callyzertest.Employee) {
			e.LastSyncReqAt, e.CallRecordingActive = now.Add(-11*time.Minute), false
		},
		func(e *callyzertest.Employee) { e.LastSyncReqAt = now.Add(-8 * time.Hour) },
	}
	for i := range ds.Employees {
		e := &ds.Employees[i]
		e.CallRecordingActive, e.AppUninstalled = true, false
		states[i%len(states)](e)
	}
	ds.Employees = append(ds.Employees, callyzertest.Employee{
		Name: "Tomasz Zieliński", Code: "D99", CountryCode: "48", Number: "511000999",
		RegisteredAt: now.AddDate(0, -8, 0), LastCallAt: now.AddDate(0, 0, -12), LastSyncReqAt: now.AddDate(0, 0, -12),
		CallRecordingActive: true, AppUninstalled: true, AppVersion: "3.4.0", DeviceModel: "SM-A145R", AndroidVersion: "13",
	})
}

// missingPage returns what the simulator leaves out of its history
// answers, as if Callyzer lost a page: every third call of the month two
// months before now's (a closed month), which its /call-log/summary still
// counts. The monitor flags that month, re-reads it once, and keeps it
// flagged with its numbers.
func missingPage(now time.Time) func(callyzertest.Call) bool {
	start := feedhealth.MonthStart(now.In(warsaw), warsaw).AddDate(0, -2, 0)
	end := start.AddDate(0, 1, 0)
	return func(c callyzertest.Call) bool {
		if c.StartedAt.Before(start) || !c.StartedAt.Before(end) {
			return false
		}
		return c.StartedAt.Unix()%3 == 0
	}
}

// feedState reads the monitor's state; false when there is no monitor
// (the sync is off) or it cannot be read.
func (a *app) feedState(r *http.Request) (feedhealth.State, bool) {
	if a.health == nil {
		return feedhealth.State{}, false
	}
	st, err := a.health.State(r.Context())
	if err != nil {
		a.logger.Warn("reading the feed's health", "error", err)
		return feedhealth.State{}, false
	}
	return st, true
}

// advisorPhone finds the phone of the advisor with user id advisorID: the
// demo's advisors are the roster's employees, by employee code.
func advisorPhone(st feedhealth.State, advisorID string) (feedhealth.Phone, bool) {
	i := slices.IndexFunc(st.Phones, func(p feedhealth.Phone) bool { return advisorID != "" && p.Code == advisorID })
	if i < 0 {
		return feedhealth.Phone{}, false
	}
	return st.Phones[i], true
}

// feedNote is the handler's Options.FeedNote: the note of the lead's
// advisor's phone, if it says anything.
func (a *app) feedNote(r *http.Request, lead callhistory.Lead, lang string) (feedhealth.Note, bool) {
	st, ok := a.feedState(r)
	if !ok {
		return feedhealth.Note{}, false
	}
	p, ok := advisorPhone(st, lead.AdvisorID)
	if !ok {
		return feedhealth.Note{}, false
	}
	return st.Note(p.Number, lang, time.Now(), warsaw)
}

// seesPhones reports whether role may open the phones page: the
// Administrator and the Head of department.
func seesPhones(role callhistory.Role) bool {
	return role == callhistory.RoleAdministrator || role == callhistory.RoleHeadOfDepartment
}

// phoneStatusLabels name a phone's status for the CRM's users.
var phoneStatusLabels = map[feedhealth.Status]string{
	feedhealth.OK:           "działa",
	feedhealth.Stale:        "cisza od kilku godzin",
	feedhealth.Offline:      "nie przesyła połączeń",
	feedhealth.RecordingOff: "nagrywanie wyłączone",
	feedhealth.Uninstalled:  "aplikacja odinstalowana",
}

// phoneStatusTones colour a status: a problem is "err" or "warn".
var phoneStatusTones = map[feedhealth.Status]string{
	feedhealth.OK:           "ok",
	feedhealth.Stale:        "",
	feedhealth.Offline:      "err",
	feedhealth.RecordingOff: "warn",
	feedhealth.Uninstalled:  "err",
}

// leadBadge is the leads list's warning for a lead whose advisor's phone
// is not uploading calls or recordings; "" for none.
func leadBadge(st feedhealth.State, advisorID string) string {
	p, ok := advisorPhone(st, advisorID)
	if !ok {
		return ""
	}
	switch p.Status {
	case feedhealth.Offline, feedhealth.Uninstalled, feedhealth.RecordingOff:
		return "Telefon doradcy: " + phoneStatusLabels[p.Status]
	}
	return ""
}

type phoneRow struct {
	feedhealth.Phone
	Label, Tone, Since, CheckIn, LastCall string
}

type monthRow struct {
	Name, Theirs, Ours, CheckedAt, State, Tone string
	Complete                                   bool
}

// monthNames are the months in Polish, in the nominative.
var monthNames = [...]string{"styczeń", "luty", "marzec", "kwiecień", "maj", "czerwiec", "lipiec",
	"sierpień", "wrzesień", "październik", "listopad", "grudzień"}

// phonesPage is /admin/phones: every phone with its status, the last
// closed months' completeness and what is wrong now; for the
// Administrator and the Head of department.
func (a *app) phonesPage(w http.ResponseWriter, r *http.Request) {
	u, ok := a.user(r)
	if !ok {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	if !seesPhones(u.Role) {
		a.render(w, r, http.StatusForbidden, "phones.html", map[string]any{
			"Forbidden": "Stan telefonów widzą Administrator i Szef działu.",
		})
		return
	}
	data := map[string]any{"Sync": a.syncStatus(r)}
	st, ok := a.feedState(r)
	switch {
	case a.health == nil:
		data["Empty"] = "Stan telefonów sprawdza okresowa synchronizacja, która jest wyłączona (-sync-interval)."
	case !ok || st.CheckedAt.IsZero():
		data["Empty"] = "Stan telefonów pojawi się po pierwszej udanej synchronizacji."
	}
	if ok {
		data["CheckedAt"] = when(st.CheckedAt)
		data["LastError"] = st.LastError
		phones := make([]phoneRow, 0, len(st.Phones))
		for _, p := range st.Phones {
			row := phoneRow{Phone: p, Label: phoneStatusLabels[p.Status], Tone: phoneStatusTones[p.Status],
				CheckIn: when(p.LastCheckIn), LastCall: when(p.LastCall)}
			row.Number = displayPhone(p.Number)
			if p.Status != feedhealth.OK {
				row.Since = when(p.Since)
			}
			phones = append(phones, row)
		}
		data["Phones"] = phones
		months := make([]monthRow, 0, len(st.Months))
		for _, m := range st.Months {
			row := monthRow{
				Name:      fmt.Sprintf("%s %d", monthNames[m.Start.In(warsaw).Month()-1], m.Start.In(warsaw).Year()),
				Theirs:    countsLine(m.Theirs),
				Ours:      countsLine(m.Ours),
				CheckedAt: when(m.CheckedAt),
				Complete:  m.Complete(),
				State:     "zgodny",
				Tone:      "ok",
			}
			if !m.Complete() {
				row.State, row.Tone = "niezgodny z Callyzer", "err"
				if d := m.Theirs.Calls - m.Ours.Calls; d > 0 {
					row.State = fmt.Sprintf("w bazie brakuje %d z %d połączeń", d, m.Theirs.Calls)
				}
				if !m.RereadAt.IsZero() {
					row.State += " (po ponownym odczycie " + when(m.RereadAt) + ")"
				}
			}
			months = append(months, row)
		}
		data["Months"] = months
		data["Problems"] = len(st.Problems())
	}
	a.render(w, r, http.StatusOK, "phones.html", data)
}

// countsLine writes a month's counts: the total, then by type.
func countsLine(c feedhealth.Counts) string {
	return fmt.Sprintf("%d (przych. %d, wych. %d, nieodebr. %d, odrzuc. %d)", c.Calls, c.Incoming, c.Outgoing, c.Missed, c.Rejected)
}

// when writes t in the CRM's zone, "" for the zero time.
func when(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(warsaw).Format("02.01.2006 15:04")
}
