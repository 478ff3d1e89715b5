package callhistory

import (
	"errors"
	"strconv"
	"strings"
)

// Language selects a message catalogue.
type Language string

// The catalogues. Polish is the default.
const (
	Polish  Language = "pl"
	English Language = "en"
)

// The spec's messages, verbatim, and ours where the spec leaves the wording
// open; Message returns them.
const (
	msgUpdated      = "Historia połączeń została zaktualizowana"
	msgForbidden    = "Brak uprawnień do przeglądania historii połączeń"
	msgCallyzerAuth = "Błąd autoryzacji API Callyzer"
	msgTimeout      = "Przekroczono czas oczekiwania. Spróbuj ponownie."
	msgFailed       = "Wystąpił błąd podczas aktualizacji historii połączeń"
	msgLeadNotFound = "Nie znaleziono leada"
	msgInvalidPhone = "Nieprawidłowy format numeru telefonu leada"
	msgRateLimited  = "Callyzer chwilowo ogranicza liczbę zapytań. Spróbuj ponownie za chwilę."
)

type messageKey int

const (
	keyUpdated messageKey = iota
	keyForbidden
	keyLeadNotFound
	keyInvalidPhone
	keyCallyzerAuth
	keyTimeout
	keyRateLimited
	keyFailed
)

var catalogues = map[Language]map[messageKey]string{
	Polish: {
		keyUpdated:      msgUpdated,
		keyForbidden:    msgForbidden,
		keyLeadNotFound: msgLeadNotFound,
		keyInvalidPhone: msgInvalidPhone,
		keyCallyzerAuth: msgCallyzerAuth,
		keyTimeout:      msgTimeout,
		keyRateLimited:  msgRateLimited,
		keyFailed:       msgFailed,
	},
	English: {
		keyUpdated:      "The call history has been updated",
		keyForbidden:    "You are not allowed to view the call history",
		keyLeadNotFound: "Lead not found",
		keyInvalidPhone: "The lead's phone number is not valid",
		keyCallyzerAuth: "Callyzer API authorisation error",
		keyTimeout:      "The request timed out. Try again.",
		keyRateLimited:  "Callyzer is limiting requests right now. Try again in a moment.",
		keyFailed:       "An error occurred while updating the call history",
	},
}

// Message returns the user-facing message for the outcome err of Refresh or
// History in lang: the success message for a nil err, the message of the
// sentinel err wraps otherwise, and the general failure message for any
// other error. An unknown language falls back to Polish.
func Message(err error, lang Language) string {
	cat, ok := catalogues[lang]
	if !ok {
		cat = catalogues[Polish]
	}
	return cat[keyOf(err)]
}

func keyOf(err error) messageKey {
	switch {
	case err == nil:
		return keyUpdated
	case errors.Is(err, ErrForbidden):
		return keyForbidden
	case errors.Is(err, ErrLeadNotFound):
		return keyLeadNotFound
	case errors.Is(err, ErrInvalidPhone):
		return keyInvalidPhone
	case errors.Is(err, ErrCallyzerAuth):
		return keyCallyzerAuth
	case errors.Is(err, ErrTimeout):
		return keyTimeout
	case errors.Is(err, ErrRateLimited):
		return keyRateLimited
	default:
		return keyFailed
	}
}

// ParseLanguage picks the catalogue an Accept-Language header prefers among
// Polish and English; Polish when neither is named with a weight above
// zero ("q=0" means "not acceptable", RFC 9110).
func ParseLanguage(acceptLanguage string) Language {
	best, bestQ := Polish, 0.0
	for _, part := range strings.Split(acceptLanguage, ",") {
		tag, q := parseLangPart(part)
		if !(q > 0) { // also NaN
			continue
		}
		var lang Language
		switch {
		case strings.HasPrefix(tag, "pl"):
			lang = Polish
		case strings.HasPrefix(tag, "en"):
			lang = English
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
