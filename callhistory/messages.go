package callhistory

import (
	"errors"
	"strings"
)

// The catalogues, by language tag. Polish is the default.
const (
	polish  = "pl"
	english = "en"
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

var catalogues = map[string]map[messageKey]string{
	polish: {
		keyUpdated:      msgUpdated,
		keyForbidden:    msgForbidden,
		keyLeadNotFound: msgLeadNotFound,
		keyInvalidPhone: msgInvalidPhone,
		keyCallyzerAuth: msgCallyzerAuth,
		keyTimeout:      msgTimeout,
		keyRateLimited:  msgRateLimited,
		keyFailed:       msgFailed,
	},
	english: {
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
// History in lang, a language tag: English for "en" (and "en-GB", ...),
// Polish otherwise. It is the success message for a nil err, the message of
// the sentinel err wraps otherwise, and the general failure message for any
// other error.
func Message(err error, lang string) string {
	cat := catalogues[polish]
	if l := strings.ToLower(lang); l == english || strings.HasPrefix(l, english+"-") {
		cat = catalogues[english]
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
