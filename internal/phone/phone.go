package phone

import (
	"errors"
	"strings"
	"unicode"

	"github.com/nyaruka/phonenumbers"
)

// ErrInvalid is matched by every error of Normalize.
var ErrInvalid = errors.New("invalid phone number")

// refusal is an error of Normalize. Its text is the reason alone, so a
// caller that wraps it under its own sentinel reads "...: letters are not
// allowed".
type refusal struct {
	reason string
	cause  error // libphonenumber's error, when it refused
}

func (e *refusal) Error() string        { return e.reason }
func (e *refusal) Unwrap() error        { return e.cause }
func (e *refusal) Is(target error) bool { return target == ErrInvalid }

// Normalize parses raw with libphonenumber's rules and returns it in E.164
// form ("+48601234567"). A number written without a country code is read in
// region (an ISO 3166 code such as "PL"). The number must be valid for its
// region and may not carry an extension. Letters are refused (not read as
// phone-keypad digits, so a typo cannot turn into another customer's
// number), and so is a result that is not E.164 (more than 15 digits).
// Errors match ErrInvalid and never quote raw.
func Normalize(raw, region string) (string, error) {
	if strings.TrimSpace(raw) == "" {
		return "", &refusal{reason: "no phone number"}
	}
	if strings.IndexFunc(raw, unicode.IsLetter) >= 0 {
		// libphonenumber maps keypad letters to digits ("ABC" is "222"),
		// and reads "ext", "x" or "wew" as an extension: a letter is
		// either a typo or an extension, both refused.
		return "", &refusal{reason: "letters are not allowed"}
	}
	num, err := phonenumbers.Parse(raw, region)
	if err != nil {
		// The library's errors do not quote the input; keep the cause.
		return "", &refusal{reason: err.Error(), cause: err}
	}
	if num.GetExtension() != "" {
		return "", &refusal{reason: "extensions are not supported"}
	}
	if !phonenumbers.IsValidNumber(num) {
		return "", &refusal{reason: "not a valid number"}
	}
	out := phonenumbers.Format(num, phonenumbers.E164)
	if !isE164(out) {
		return "", &refusal{reason: "not an E.164 number"}
	}
	return out, nil
}

// RegionOK reports whether libphonenumber knows region ("PL"), so that
// Normalize can read national numbers in it.
func RegionOK(region string) bool {
	return phonenumbers.GetCountryCodeForRegion(region) != 0
}

// isE164 reports whether s is "+", a non-zero digit and 6 to 14 more digits
// (E.164 allows at most 15).
func isE164(s string) bool {
	if len(s) < 8 || len(s) > 16 || s[0] != '+' || s[1] == '0' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// callingCodes holds the country calling codes libphonenumber knows (the
// same table its parser reads), indexed by code for a lookup without a
// map.
var callingCodes = func() (t [1000]bool) {
	for code := range phonenumbers.GetSupportedCallingCodes() {
		if code > 0 && code < len(t) {
			t[code] = true
		}
	}
	return t
}()

// Split splits a number in E.164 form ("+48601234567") into its country
// calling code ("48") and national significant number ("601234567"), as
// libphonenumber would, without parsing. Country calling codes are
// prefix-free, so at most one split exists. It does not check that the
// number is valid: ok is false only when e164 is not "+" and 7 to 15
// digits, or starts with no known country calling code.
func Split(e164 string) (cc, national string, ok bool) {
	if !isE164(e164) {
		return "", "", false
	}
	code := 0
	for n := 1; n <= 3; n++ {
		code = code*10 + int(e164[n]-'0')
		if callingCodes[code] {
			return e164[1 : n+1], e164[n+1:], true
		}
	}
	return "", "", false
}

// ToCallyzer turns a number in E.164 form into the form of Callyzer's
// client_numbers and emp_numbers filters: "+48601234567" becomes
// "48-601234567". ok is false when Split refuses e164.
func ToCallyzer(e164 string) (number string, ok bool) {
	cc, national, ok := Split(e164)
	if !ok {
		return "", false
	}
	return cc + "-" + national, true
}

// FromCallyzer builds a number in E.164 form from the country code and
// number fields of a Callyzer row. Separators are dropped. A number that
// already starts with "+" is taken as is. Without a country code the digits
// are returned without a "+" (Callyzer did not say which country), and an
// empty number stays empty. It does not check the result.
func FromCallyzer(cc, number string) string {
	number = strings.TrimSpace(number)
	if number == "" {
		return ""
	}
	if strings.HasPrefix(number, "+") {
		return "+" + digits(number)
	}
	cc = digits(cc)
	if cc == "" {
		return digits(number)
	}
	return "+" + cc + digits(number)
}

// digits returns the ASCII digits of s, and s itself when it has nothing
// else.
func digits(s string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if isDigit(s[i]) {
			n++
		}
	}
	if n == len(s) {
		return s
	}
	b := make([]byte, 0, n)
	for i := 0; i < len(s); i++ {
		if isDigit(s[i]) {
			b = append(b, s[i])
		}
	}
	return string(b)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
