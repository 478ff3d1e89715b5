package callhistory

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"

	"github.com/nyaruka/phonenumbers"
)

// e164Form is what NormalizePhone returns: "+", a non-zero digit and 6 to
// 14 more digits (E.164 allows at most 15).
var e164Form = regexp.MustCompile(`^\+[1-9]\d{6,14}$`)

// NormalizePhone parses raw with libphonenumber's rules and returns it in
// E.164 form ("+48601234567"). A number written without a country code is
// read in region (an ISO 3166 code such as "PL"). The number must be valid
// for its region and may not carry an extension. Letters are refused (not
// read as phone-keypad digits, so a typo cannot turn into another
// customer's number), and so is a result that is not E.164 (more than 15
// digits). Errors wrap ErrInvalidPhone and never quote raw.
func NormalizePhone(raw, region string) (string, error) {
	if strings.TrimSpace(raw) == "" {
		return "", fmt.Errorf("%w: no phone number", ErrInvalidPhone)
	}
	if strings.IndexFunc(raw, unicode.IsLetter) >= 0 {
		// libphonenumber maps keypad letters to digits ("ABC" is "222"),
		// and reads "ext", "x" or "wew" as an extension: a letter is
		// either a typo or an extension, both refused.
		return "", fmt.Errorf("%w: letters are not allowed", ErrInvalidPhone)
	}
	num, err := phonenumbers.Parse(raw, region)
	if err != nil {
		// The library's errors do not quote the input; keep the cause.
		return "", fmt.Errorf("%w: %w", ErrInvalidPhone, err)
	}
	if num.GetExtension() != "" {
		return "", fmt.Errorf("%w: extensions are not supported", ErrInvalidPhone)
	}
	if !phonenumbers.IsValidNumber(num) {
		return "", fmt.Errorf("%w: not a valid number", ErrInvalidPhone)
	}
	out := phonenumbers.Format(num, phonenumbers.E164)
	if !e164Form.MatchString(out) {
		return "", fmt.Errorf("%w: not an E.164 number", ErrInvalidPhone)
	}
	return out, nil
}

// MaskPhone hides the middle of a phone number for logs:
// "+48601234567" becomes "+48 601 *** 567". The country code, the first three
// and the last three digits of the national number stay visible; national
// numbers shorter than eight digits show only their last two. Anything that
// is not a number in E.164 form becomes "***", so a log line never carries a
// full number whatever it is given.
func MaskPhone(e164 string) string {
	const hidden = "***"
	if !strings.HasPrefix(e164, "+") {
		return hidden
	}
	num, err := phonenumbers.Parse(e164, "")
	if err != nil {
		return hidden
	}
	national := phonenumbers.GetNationalSignificantNumber(num)
	cc := fmt.Sprintf("+%d", num.GetCountryCode())
	// Only mask what round-trips: the input must be exactly cc + national
	// digits, or the visible parts could come from something else.
	if cc+national != e164 {
		return hidden
	}
	if len(national) < 8 {
		if len(national) < 4 {
			return cc + " " + hidden
		}
		return cc + " " + hidden + " " + national[len(national)-2:]
	}
	return cc + " " + national[:3] + " " + hidden + " " + national[len(national)-3:]
}

// regionOrDefault checks the DefaultRegion field of the config named config:
// empty means DefaultRegion, anything else must be a region libphonenumber
// knows. The Refresher and the Syncer share it so both read numbers alike.
func regionOrDefault(config, region string) (string, error) {
	if region == "" {
		return DefaultRegion, nil
	}
	if phonenumbers.GetCountryCodeForRegion(region) == 0 {
		return "", fmt.Errorf("callhistory: %s.DefaultRegion %q is not a region libphonenumber knows", config, region)
	}
	return region, nil
}
