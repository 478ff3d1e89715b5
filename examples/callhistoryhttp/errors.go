package callhistoryhttp

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/leadcalls/leadcalls/callhistory"
)

// Errors the handler finds before calling the service. errNoActor and
// errCrossOrigin wrap callhistory.ErrForbidden, each with a message of its
// own (message): a user whose session expired lacks no right, and a
// developer whose proxy drops the Origin header should not go looking at
// roles. errMalformedLeadID wraps callhistory.ErrLeadNotFound: an id no
// CRM issues is answered as a lead that does not exist. errNoRoute and
// errMethodNotAllowed answer API requests that match no route;
// errPageMethod a page route asked with a method it does not take.
var (
	errNoActor          = fmt.Errorf("%w: no signed-in user", callhistory.ErrForbidden)
	errCrossOrigin      = fmt.Errorf("%w: cross-origin request rejected", callhistory.ErrForbidden)
	errMalformedLeadID  = fmt.Errorf("%w: malformed lead id", callhistory.ErrLeadNotFound)
	errNoRoute          = errors.New("callhistoryhttp: no such route")
	errMethodNotAllowed = errors.New("callhistoryhttp: method not allowed")
	errPageMethod       = errors.New("callhistoryhttp: method not allowed on a page")
)

// maxLeadIDLen bounds a lead id in a URL, in bytes.
const maxLeadIDLen = 256

// checkLeadID refuses a lead id longer than maxLeadIDLen, not valid UTF-8,
// or holding a control character. It runs before anything else a request
// does (the session, the service, a log line, a cookie), so that such an id
// costs nothing and is never copied anywhere.
func checkLeadID(id string) error {
	if len(id) > maxLeadIDLen || !utf8.ValidString(id) || strings.IndexFunc(id, unicode.IsControl) >= 0 {
		return errMalformedLeadID
	}
	return nil
}

// MsgSignedOut is the message of a 401: nobody is signed in, or the
// session has expired. The spec's permission message (403) would tell a
// user whose session ran out that they lack a right they have.
const MsgSignedOut = "Sesja wygasła lub nie jesteś zalogowany. Zaloguj się ponownie."

// MsgCrossOrigin is the message of a 403 for a request that came from
// another site (http.CrossOriginProtection refused it). It names the
// headers, for the developer whose proxy or front end sends the wrong ones.
const MsgCrossOrigin = "Odrzucono żądanie z innej witryny: nagłówek Origin lub Sec-Fetch-Site nie wskazuje na CRM. Otwórz stronę leada w CRM i spróbuj ponownie."

// The handler's own messages, by language; the service's come from
// callhistory.Message.
var ownMessages = map[error]map[language]string{
	errNoActor: {
		polish:  MsgSignedOut,
		english: "Your session has expired or you are not signed in. Please sign in again.",
	},
	errCrossOrigin: {
		polish:  MsgCrossOrigin,
		english: "Request refused because it came from another site: its Origin or Sec-Fetch-Site header does not point at the CRM. Open the lead's page in the CRM and try again.",
	},
	errNoRoute: {
		polish:  "Nie ma takiego adresu w API historii połączeń.",
		english: "There is no such address in the call-history API.",
	},
	errPageMethod: {
		polish:  "Ta strona historii połączeń nie obsługuje tego rodzaju żądania.",
		english: "This call-history page does not accept this kind of request.",
	},
	errMethodNotAllowed: {
		polish:  "Ten adres API historii połączeń nie obsługuje tej metody HTTP.",
		english: "This call-history API address does not accept this HTTP method.",
	},
}

// message is the user-facing message of err in lang: the handler's own for
// the errors it finds itself, callhistory.Message's otherwise.
func message(err error, lang language) string {
	for own, msgs := range ownMessages {
		if errors.Is(err, own) {
			if m, ok := msgs[lang]; ok {
				return m
			}
			return msgs[polish]
		}
	}
	return callhistory.Message(err, string(lang))
}

// outcome ties an outcome of a request to its HTTP status and to the key
// that carries it, in the flash cookie, through the redirect of a
// no-JavaScript refresh.
type outcome struct {
	key    string
	err    error // nil for success
	status int
}

// Message keys of the redirect after a form refresh.
const (
	keyUpdated     = "updated"
	keyCrossOrigin = "cross_origin"
	keyFailed      = "failed"
)

// outcomes is the one place where errors become status codes. The first
// entry whose err matches (errors.Is) wins, so the specific errors come
// before callhistory.ErrForbidden.
var outcomes = []outcome{
	{keyUpdated, nil, http.StatusOK},
	{"signed_out", errNoActor, http.StatusUnauthorized},
	{"no_route", errNoRoute, http.StatusNotFound},
	{"method_not_allowed", errMethodNotAllowed, http.StatusMethodNotAllowed},
	{"method_not_allowed", errPageMethod, http.StatusMethodNotAllowed},
	{keyCrossOrigin, errCrossOrigin, http.StatusForbidden},
	{"forbidden", callhistory.ErrForbidden, http.StatusForbidden},
	{"lead_not_found", callhistory.ErrLeadNotFound, http.StatusNotFound},
	{"invalid_phone", callhistory.ErrInvalidPhone, http.StatusUnprocessableEntity},
	{"callyzer_auth", callhistory.ErrCallyzerAuth, http.StatusBadGateway},
	{"timeout", callhistory.ErrTimeout, http.StatusGatewayTimeout},
	{"rate_limited", callhistory.ErrRateLimited, http.StatusServiceUnavailable},
	{"upstream", callhistory.ErrUpstream, http.StatusBadGateway},
	{"store", callhistory.ErrStore, http.StatusInternalServerError},
}

// failed is the outcome of an error that wraps none of the known ones.
var failed = outcome{keyFailed, errors.New("callhistoryhttp: unexpected error"), http.StatusInternalServerError}

func outcomeOf(err error) outcome {
	if err == nil {
		return outcomes[0]
	}
	for _, o := range outcomes[1:] {
		if errors.Is(err, o.err) {
			return o
		}
	}
	return failed
}

// outcomeByKey returns the outcome of a flash cookie's message key; ok is
// false for an absent or unknown key, which then shows no message.
func outcomeByKey(key string) (o outcome, ok bool) {
	if key == failed.key {
		return failed, true
	}
	for _, o := range outcomes {
		if o.key == key {
			return o, true
		}
	}
	return outcome{}, false
}

// retryAfterSeconds is the Retry-After of a rate-limited answer: the wait
// Callyzer asked for when err carries one, else the configured default;
// whole seconds, rounded up, at least 1.
func retryAfterSeconds(err error, fallback time.Duration) string {
	wait := fallback
	if d, ok := callyzerRetryAfter(err); ok && d > 0 {
		wait = d
	}
	return strconv.Itoa(max(1, int(math.Ceil(wait.Seconds()))))
}
