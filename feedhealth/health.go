package feedhealth

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/leadcalls/leadcalls/callyzer"
)

// Status is the state of one phone's feed.
type Status string

// The phone statuses, from the worst: when several hold, a phone has the
// first of them. Uninstalled and Offline mean calls are not uploaded,
// RecordingOff that recordings are not; Stale is an idle phone (a night),
// not a problem.
const (
	Uninstalled  Status = "uninstalled"   // the Callyzer app is uninstalled
	Offline      Status = "offline"       // no check-in for Config.OfflineAfter (24 h)
	RecordingOff Status = "recording_off" // call recording is switched off
	Stale        Status = "stale"         // no check-in for Config.StaleAfter (6 h)
	OK           Status = "ok"
)

// Phone is one employee's phone as the last roster read saw it.
type Phone struct {
	Name            string    `json:"name"`
	Code            string    `json:"code,omitempty"`
	Number          string    `json:"number"`                 // E.164
	LastCheckIn     time.Time `json:"last_check_in,omitzero"` // last_sync_req_at; zero if never
	LastCall        time.Time `json:"last_call,omitzero"`     // last_call_at
	RegisteredAt    time.Time `json:"registered_at,omitzero"` //
	RecordingActive bool      `json:"recording_active"`       //
	AppUninstalled  bool      `json:"app_uninstalled"`        //
	AppVersion      string    `json:"app_version,omitempty"`  //
	DeviceModel     string    `json:"device_model,omitempty"` //
	AndroidVersion  string    `json:"android_version,omitempty"`
	Status          Status    `json:"status"`
	// Since is when Status began: for Stale and Offline the last check-in
	// (or, for a phone that never checked in, its registration or the
	// first read that saw it); otherwise the first roster read that saw
	// this status.
	Since time.Time `json:"since,omitzero"`
}

// Counts are calls of one month, in total and by Callyzer call type.
type Counts struct {
	Calls    int `json:"calls"`
	Incoming int `json:"incoming"`
	Outgoing int `json:"outgoing"`
	Missed   int `json:"missed"`
	Rejected int `json:"rejected"`
}

// Month is the completeness of one closed calendar month of the account's
// zone: Callyzer's totals (Theirs) against the store's count (Ours).
type Month struct {
	Start     time.Time `json:"start"` // the month's first instant in the account's zone
	Theirs    Counts    `json:"theirs"`
	Ours      Counts    `json:"ours"`
	CheckedAt time.Time `json:"checked_at"`
	// RereadAt is when the month's calls were last re-read to repair a
	// difference; zero if never.
	RereadAt time.Time `json:"reread_at,omitzero"`
}

// Complete reports whether the store holds what Callyzer counts.
func (m Month) Complete() bool { return m.Theirs == m.Ours }

// State is what a Monitor saved after its last check: plain data that
// marshals to JSON. The zero State is that of a Monitor that never ran.
type State struct {
	// CheckedAt is when the roster was last read successfully.
	CheckedAt time.Time `json:"checked_at,omitzero"`
	// Phones are the roster's phones, by number.
	Phones []Phone `json:"phones,omitempty"`
	// Months are the checked closed months, newest first (at most
	// Config.Months).
	Months []Month `json:"months,omitempty"`
	// LastError is the last check's failure, masked; empty after a success.
	LastError string `json:"last_error,omitempty"`
}

// Phone returns the phone with number (E.164).
func (s State) Phone(number string) (Phone, bool) {
	i := slices.IndexFunc(s.Phones, func(p Phone) bool { return p.Number == number })
	if i < 0 {
		return Phone{}, false
	}
	return s.Phones[i], true
}

// Problem is one thing wrong now.
type Problem struct {
	Kind   string    `json:"kind"`             // a phone's Status (not Stale or OK), or "incomplete_month"
	Number string    `json:"number,omitempty"` // the phone's number; "" for a month
	Name   string    `json:"name,omitempty"`   // the employee's name; "" for a month
	Month  string    `json:"month,omitempty"`  // "2026-03" for a month; "" for a phone
	Since  time.Time `json:"since,omitzero"`   // Phone.Since, or a month's RereadAt
	Detail string    `json:"detail,omitempty"` // a month's numbers: "Callyzer 398, stored 396"
}

// IncompleteMonth is Problem.Kind of a month whose stored calls differ
// from Callyzer's totals after its re-read.
const IncompleteMonth = "incomplete_month"

// Problems returns what is wrong now: every phone that is Uninstalled,
// Offline or RecordingOff, and every checked month whose counts still
// differ (after its re-read, when there was one), sorted by Kind, Number, Month. Two reads of an
// unchanged state give equal lists (slices.Equal), so a host can alert
// only when the list changes.
func (s State) Problems() []Problem {
	var out []Problem
	for _, p := range s.Phones {
		switch p.Status {
		case Uninstalled, Offline, RecordingOff:
			out = append(out, Problem{Kind: string(p.Status), Number: p.Number, Name: p.Name, Since: p.Since})
		}
	}
	for _, m := range s.Months {
		if m.Complete() {
			continue
		}
		out = append(out, Problem{Kind: IncompleteMonth, Month: m.Start.Format("2006-01"), Since: m.RereadAt,
			Detail: fmt.Sprintf("Callyzer %d, stored %d", m.Theirs.Calls, m.Ours.Calls)})
	}
	slices.SortFunc(out, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Number, b.Number), cmp.Compare(a.Month, b.Month))
	})
	return out
}

// thresholds are the silences that make a phone Stale and Offline.
type thresholds struct{ stale, offline time.Duration }

// phoneOf reads one roster row at now; prev is the phone's previous
// reading (zero if none), whose Since carries over while the status holds.
func (th thresholds) phoneOf(e callyzer.Employee, prev Phone, now time.Time) Phone {
	p := Phone{
		Name: e.Name, Code: e.Code, Number: e.Number, LastCheckIn: e.LastSyncRequestAt, LastCall: e.LastCallAt,
		RegisteredAt: e.RegisteredAt, RecordingActive: e.CallRecordingActive, AppUninstalled: e.AppUninstalled,
		AppVersion: e.AppVersion, DeviceModel: e.DeviceModel, AndroidVersion: e.AndroidVersion,
	}
	seen := cmp.Or(e.LastSyncRequestAt, e.RegisteredAt, prev.Since, now)
	silent := now.Sub(seen)
	switch {
	case e.AppUninstalled:
		p.Status = Uninstalled
	case silent >= th.offline:
		p.Status, p.Since = Offline, seen
	case !e.CallRecordingActive:
		p.Status = RecordingOff
	case silent >= th.stale:
		p.Status, p.Since = Stale, seen
	default:
		p.Status = OK
	}
	if p.Since.IsZero() {
		p.Since = now
		if prev.Status == p.Status && !prev.Since.IsZero() {
			p.Since = prev.Since
		}
	}
	return p
}
