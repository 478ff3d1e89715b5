package phone

import "strings"

// The one masking rule: a mask shows at most the last shown digits of a
// number (an E.164 number also its country code and first shown national
// digits), and only while at least minHidden other digits stay hidden.
const (
	hidden    = "***"
	shown     = 3
	minHidden = 3
)

// Mask hides a number for a log line or an error text. It shows at most the
// last three digits, and only while at least three other digits stay
// hidden. A number in E.164 form (as Split reads it) also keeps its country
// code, and its first three national digits when three stay hidden between
// them: "+48601234567" is "+48 601 *** 567", "+4930123456" "+49 *** 456",
// "+3531234" "+353 ***". Anything else is "***" and its last three digits:
// "601 234 567" is "***567"; "12345" and "secret" are "***".
func Mask(s string) string {
	if cc, national, ok := Split(s); ok {
		n := len(national)
		switch {
		case n >= 2*shown+minHidden:
			return "+" + cc + " " + national[:shown] + " " + hidden + " " + national[n-shown:]
		case n >= shown+minHidden:
			return "+" + cc + " " + hidden + " " + national[n-shown:]
		default:
			return "+" + cc + " " + hidden
		}
	}
	var last [shown]byte // the last digits of s, in order
	n := 0
	for i := len(s) - 1; i >= 0; i-- {
		if isDigit(s[i]) {
			if n < shown {
				last[shown-1-n] = s[i]
			}
			n++
		}
	}
	if n < shown+minHidden {
		return hidden
	}
	return hidden + string(last[:])
}

// minRun is how many digits make a run of digits in a text phone-like.
const minRun = 7

// MaskText masks every phone-like run of digits in text with Mask: seven or
// more digits, optionally after a "+", with single spaces allowed between
// them ("+48 601 234 567" is one run, read as "+48601234567"). Hyphens and
// other characters end a run, so dates and times ("2026-05-25T14:00:00Z")
// stay readable. A text without such a run is returned as it is.
func MaskText(text string) string {
	var b strings.Builder
	copied := 0 // text[:copied] is in b
	for i := 0; i < len(text); {
		start, j := i, i
		if text[j] == '+' {
			j++
		}
		if j == len(text) || !isDigit(text[j]) {
			i++
			continue
		}
		end, count := j, 0
		for end < len(text) {
			if isDigit(text[end]) {
				count++
				end++
			} else if text[end] == ' ' && end+1 < len(text) && isDigit(text[end+1]) {
				end++
			} else {
				break
			}
		}
		i = end
		if count < minRun {
			continue
		}
		if b.Len() == 0 {
			b.Grow(len(text))
		}
		b.WriteString(text[copied:start])
		run := digits(text[j:end])
		if j > start {
			run = "+" + run
		}
		b.WriteString(Mask(run))
		copied = end
	}
	if copied == 0 {
		return text
	}
	b.WriteString(text[copied:])
	return b.String()
}
