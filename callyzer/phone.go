package callyzer

import (
	"strconv"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// splitE164 splits an E.164 number ("+48601234567") into its country
// calling code ("48") and national significant number ("601234567").
// Country calling codes are prefix-free, so at most one split is valid.
func splitE164(e164 string) (cc, national string, ok bool) {
	if len(e164) < 8 || len(e164) > 16 || e164[0] != '+' || e164[1] == '0' {
		return "", "", false
	}
	digits := e164[1:]
	for _, r := range digits {
		if r < '0' || r > '9' {
			return "", "", false
		}
	}
	for n := 1; n <= 3 && n < len(digits); n++ {
		code, _ := strconv.Atoi(digits[:n])
		if phonenumbers.GetSupportedCallingCodes()[code] {
			return digits[:n], digits[n:], true
		}
	}
	return "", "", false
}

// toCCNumber turns an E.164 number into Callyzer's "48-601234567" form.
func toCCNumber(e164 string) (string, error) {
	cc, national, ok := splitE164(e164)
	if !ok {
		return "", invalidQuery("number %s is not in E.164 form (+ country code, digits)", maskPhone(e164))
	}
	return cc + "-" + national, nil
}

// fromCCNumber builds E.164 from Callyzer's country code and number fields.
// Separators in number are dropped. A number that already starts with "+"
// is taken as is. Without a country code the digits are returned without a
// "+" (Callyzer did not say which country), and an empty number stays empty.
func fromCCNumber(cc, number string) string {
	number = strings.TrimSpace(number)
	if number == "" {
		return ""
	}
	if strings.HasPrefix(number, "+") {
		return "+" + digitsOnly(number)
	}
	cc = digitsOnly(cc)
	if cc == "" {
		return digitsOnly(number)
	}
	return "+" + cc + digitsOnly(number)
}

func digitsOnly(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// maskPhone masks a phone number for logs and errors: "+48601234567"
// becomes "+48 601 *** 567". Anything that is not E.164 keeps at most its
// last two digits.
func maskPhone(s string) string {
	cc, national, ok := splitE164(s)
	if ok && len(national) >= 7 {
		return "+" + cc + " " + national[:3] + " *** " + national[len(national)-3:]
	}
	d := digitsOnly(s)
	if len(d) <= 2 {
		return "***"
	}
	return "***" + d[len(d)-2:]
}

func maskPhones(numbers []string) []string {
	out := make([]string, len(numbers))
	for i, n := range numbers {
		out[i] = maskPhone(n)
	}
	return out
}

// maskDigitRuns masks every run of seven or more digits in text (a phone
// number the server may echo), keeping its last three digits.
func maskDigitRuns(text string) string {
	var b strings.Builder
	run := 0
	flush := func(end int) {
		if run >= 7 {
			b.WriteString("***")
			b.WriteString(text[end-3 : end])
		} else {
			b.WriteString(text[end-run : end])
		}
		run = 0
	}
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c >= '0' && c <= '9' {
			run++
			continue
		}
		if run > 0 {
			flush(i)
		}
		b.WriteByte(c)
	}
	if run > 0 {
		flush(len(text))
	}
	return b.String()
}
