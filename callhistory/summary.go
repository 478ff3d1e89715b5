package callhistory

import (
	"time"

	"github.com/leadcalls/leadcalls/statusmap"
)

// Summary is a lead's calls at a glance: what a manager asks first, without
// reading every row. Refresh and History compute it from the listed calls
// (Result.Calls) that started in the refreshed window.
//
// Days are calendar days in the account's time zone, which the use cases
// take from the location of Config.Now's times (as they do for the
// window's months): set Now to a clock in the account's zone, such as
// func() time.Time { return time.Now().In(warsaw) }. With the default,
// time.Now, they are days of the process's local zone.
type Summary struct {
	// Window is the interval the figures cover: [now - Config.HistoryMonths
	// months, now].
	Window Window
	// Calls counts the listed calls that started in Window.
	Calls int
	// Connected counts answered incoming and connected outgoing calls;
	// NotPickedUp outgoing calls the client did not pick up; Missed and
	// Rejected incoming calls nobody answered. A call of unknown status
	// counts in Calls only.
	Connected, NotPickedUp, Missed, Rejected int
	// TalkSeconds is the total duration of the connected calls.
	TalkSeconds int
	// LastContact is the newest call, whatever its direction and outcome;
	// nil when there is none. LastContactDays is how many calendar days
	// before today it was: 0 today, 1 yesterday.
	LastContact     *Call
	LastContactDays int
	// LastConnected is the newest connected call; nil when there is none.
	LastConnected *Call
	// LastMissed is the newest incoming call nobody answered (missed or
	// rejected); nil when there is none. CalledBack is the first call after
	// it that answers it: an outgoing call, whatever its outcome (someone
	// called back), or an answered incoming one (the client got through);
	// nil while there is none.
	LastMissed, CalledBack *Call
	// CallbackOverdue reports that LastMissed has not been called back and
	// the day it came in is over.
	CallbackOverdue bool
	// Partial reports that the list was cut at Config.ListLimit inside
	// Window: the figures cover only its newest calls.
	Partial bool
}

// summary is the Summary of calls, a Result's list, now.
func (r *Refresher) summary(calls []Call) Summary {
	now := r.cfg.Now()
	return summarize(calls, r.window(now), now, r.cfg.ListLimit)
}

// summarize computes the Summary of calls (a listed page of at most limit
// calls, limit 0 meaning all) in w, at now; days are those of now's
// location. It is pure: the same calls, window and now give the same
// Summary, whatever the order of calls.
func summarize(calls []Call, w Window, now time.Time, limit int) Summary {
	s := Summary{Window: w}
	var in []*Call
	var oldest *Call
	for i := range calls {
		c := &calls[i]
		if oldest == nil || earlier(c, oldest) {
			oldest = c
		}
		if w.contains(c.StartedAt) {
			in = append(in, c)
		}
	}
	s.Partial = limit > 0 && len(calls) >= limit && oldest != nil && w.contains(oldest.StartedAt)

	var lastContact, lastConnected, lastMissed *Call
	for _, c := range in {
		s.Calls++
		switch c.Status {
		case statusmap.Answered, statusmap.Connected:
			s.Connected++
			s.TalkSeconds += max(c.DurationSeconds, 0)
			if lastConnected == nil || earlier(lastConnected, c) {
				lastConnected = c
			}
		case statusmap.NotPickedUp:
			s.NotPickedUp++
		case statusmap.Missed:
			s.Missed++
		case statusmap.Rejected:
			s.Rejected++
		}
		if unanswered(c) && (lastMissed == nil || earlier(lastMissed, c)) {
			lastMissed = c
		}
		if lastContact == nil || earlier(lastContact, c) {
			lastContact = c
		}
	}

	loc := now.Location()
	if lastContact != nil {
		s.LastContact = copyCall(lastContact)
		s.LastContactDays = daysBetween(lastContact.StartedAt, now, loc)
	}
	s.LastConnected = copyCall(lastConnected)
	if lastMissed != nil {
		s.LastMissed = copyCall(lastMissed)
		var back *Call
		for _, c := range in {
			if earlier(lastMissed, c) && answers(c) && (back == nil || earlier(c, back)) {
				back = c
			}
		}
		s.CalledBack = copyCall(back)
		s.CallbackOverdue = back == nil && daysBetween(lastMissed.StartedAt, now, loc) > 0
	}
	return s
}

// unanswered reports whether c is an incoming call nobody answered.
func unanswered(c *Call) bool {
	return c.Direction == statusmap.Incoming && (c.Status == statusmap.Missed || c.Status == statusmap.Rejected)
}

// answers reports whether c, made after a missed call, answers it: an
// outgoing call (a callback, picked up or not) or an answered incoming one.
func answers(c *Call) bool {
	return c.Direction == statusmap.Outgoing || c.Status == statusmap.Answered
}

// earlier reports whether a comes before b in time. Calls that started at
// the same time are in the reverse of the list's order (StartedAt
// descending, then CallyzerID ascending), so that the newest call is the
// list's first.
func earlier(a, b *Call) bool {
	if !a.StartedAt.Equal(b.StartedAt) {
		return a.StartedAt.Before(b.StartedAt)
	}
	return a.CallyzerID > b.CallyzerID
}

// daysBetween is the number of calendar days, in loc, from the day of t to
// the day of now: 0 on the same day, 1 the day after.
func daysBetween(t, now time.Time, loc *time.Location) int {
	day := func(t time.Time) time.Time {
		y, m, d := t.In(loc).Date()
		return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	}
	return int(day(now).Sub(day(t)).Hours() / 24)
}

// copyCall returns a copy of *c, or nil: a Summary shares nothing with the
// list the caller may change.
func copyCall(c *Call) *Call {
	if c == nil {
		return nil
	}
	cp := *c
	return &cp
}
