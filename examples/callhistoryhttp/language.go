package callhistoryhttp

import (
	"strconv"
	"strings"
)

// language is the language of an answer: its messages (callhistory.Message
// takes the tag) and its page.
type language string

const (
	polish  language = "pl"
	english language = "en"
)

// parseLanguage picks the language an Accept-Language header prefers among
// Polish and English; Polish when neither is named with a weight above
// zero ("q=0" means "not acceptable", RFC 9110).
func parseLanguage(acceptLanguage string) language {
	best, bestQ := polish, 0.0
	for _, part := range strings.Split(acceptLanguage, ",") {
		tag, q := parseLangPart(part)
		if !(q > 0) { // also NaN
			continue
		}
		var lang language
		switch {
		case strings.HasPrefix(tag, "pl"):
			lang = polish
		case strings.HasPrefix(tag, "en"):
			lang = english
		default:
			continue
		}
		if q > bestQ {
			best, bestQ = lang, q
		}
	}
	return best
}

func parseLangPart(part string) (tag string, q float64) {
	fields := strings.Split(strings.TrimSpace(part), ";")
	tag = strings.ToLower(strings.TrimSpace(fields[0]))
	q = 1
	for _, f := range fields[1:] {
		f = strings.TrimSpace(f)
		if v, ok := strings.CutPrefix(f, "q="); ok {
			if parsed, err := strconv.ParseFloat(v, 64); err == nil {
				q = parsed
			}
		}
	}
	return tag, q
}
