package feedhealth

import (
	"fmt"
	"time"
)

// Note is what the lead page says above the call list when the assigned
// advisor's phone may be missing calls or recordings.
type Note struct {
	Status Status    `json:"status"` // Offline, Uninstalled or RecordingOff
	Since  time.Time `json:"since"`  // Phone.Since
	Text   string    `json:"text"`
}

// Note returns the lead-page note for the advisor whose phone is
// employeeNumber (E.164), in lang ("pl", the default, or "en"), at now:
// false when the phone is OK or Stale, or not in the roster. Days are
// whole days since the status began; dates are in loc.
func (s State) Note(employeeNumber, lang string, now time.Time, loc *time.Location) (Note, bool) {
	p, ok := s.Phone(employeeNumber)
	if !ok {
		return Note{}, false
	}
	days := int(now.Sub(p.Since) / (24 * time.Hour))
	date := p.Since.In(loc).Format("02.01.2006")
	var text string
	switch {
	case p.Status == Offline && lang == "en":
		text = fmt.Sprintf("The advisor's phone has not uploaded calls for %s — the history may be incomplete", plural(days, "day", "days", "days"))
	case p.Status == Offline:
		text = fmt.Sprintf("Telefon doradcy nie przesyła połączeń od %s — historia może być niepełna", plural(days, "dnia", "dni", "dni"))
	case p.Status == Uninstalled && lang == "en":
		text = "The Callyzer app was uninstalled from the advisor's phone (seen on " + date + ") — the history may be incomplete"
	case p.Status == Uninstalled:
		text = "Aplikacja Callyzer została odinstalowana z telefonu doradcy (stwierdzono " + date + ") — historia może być niepełna"
	case p.Status == RecordingOff && lang == "en":
		text = "Call recording is off on the advisor's phone (since " + date + ") — recordings may be missing"
	case p.Status == RecordingOff:
		text = "Nagrywanie rozmów na telefonie doradcy jest wyłączone (od " + date + ") — nagrań może brakować"
	default:
		return Note{}, false
	}
	return Note{Status: p.Status, Since: p.Since, Text: text}, true
}

// plural writes n with the form of its number: one for 1, few for 2-4
// (not 12-14), many otherwise (Polish; English passes few = many).
func plural(n int, one, few, many string) string {
	switch {
	case n == 1:
		return "1 " + one
	case n%10 >= 2 && n%10 <= 4 && (n%100 < 12 || n%100 > 14):
		return fmt.Sprint(n, " ", few)
	}
	return fmt.Sprint(n, " ", many)
}
