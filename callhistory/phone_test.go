package callhistory_test

import (
	"regexp"
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/require"

	"github.com/leadcalls/leadcalls/callhistory"
)

func TestNormalizePhone(t *testing.T) {
	t.Parallel()
	tests := []struct {
		raw, region, want string
	}{
		{"601 234 567", "PL", "+48601234567"},
		{"601-234-567", "PL", "+48601234567"},
		{"+48 601 234 567", "PL", "+48601234567"},
		{"0048601234567", "PL", "+48601234567"},
		{"(22) 123 45 67", "PL", "+48221234567"},
		{"+49 30 123456", "PL", "+4930123456"},
		{"030 123456", "DE", "+4930123456"},
		{"+1 650-253-0000", "PL", "+16502530000"},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			t.Parallel()
			got, err := callhistory.NormalizePhone(tt.raw, tt.region)
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

// TestNormalizePhoneRefusesLettersAndLongNumbers: libphonenumber reads
// keypad letters as digits, so a typo in the CRM would show another
// customer's calls, and it can format more than E.164's 15 digits.
func TestNormalizePhoneRefusesLettersAndLongNumbers(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, raw, region string }{
		{"KeypadLetters", "+48 601 ABC DEF", "PL"},
		{"KeypadLettersNational", "601 ABC DEF", "PL"},
		{"OneLetter", "601 234 56O", "PL"}, // a capital O for a zero
		{"LettersMakeSixteenDigits", "+492100000AA0A000", "PL"},
		{"SixteenDigits", "+4921000002202000", "PL"},
		{"NonLatinLetter", "601 234 56\u0416", "PL"},
		{"TelURI", "tel:+48-601-234-567", "PL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := callhistory.NormalizePhone(tt.raw, tt.region)
			require.ErrorIs(t, err, callhistory.ErrInvalidPhone, "got %q", got)
			require.Empty(t, got)
			require.NotContains(t, err.Error(), tt.raw, "errors never quote the input")
		})
	}
}

func TestNormalizePhoneRejects(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{
		"", "   ", "12", "abc", "601 234 56", "601 234 567 ext. 12", "+48 601 234 567 wew. 3",
		"+48 000 000 000", "+999 123456789", "123456789012345678901",
	} {
		t.Run(raw, func(t *testing.T) {
			t.Parallel()
			got, err := callhistory.NormalizePhone(raw, "PL")
			require.ErrorIs(t, err, callhistory.ErrInvalidPhone)
			require.Empty(t, got)
			require.Equal(t, callhistory.MsgInvalidPhone, callhistory.Message(err, callhistory.Polish))
		})
	}
}

var e164 = regexp.MustCompile(`^\+[1-9]\d{6,14}$`)

func FuzzNormalizePhone(f *testing.F) {
	for _, seed := range []string{
		"601 234 567", "+48601234567", "0048 601 234 567", "(22) 123 45 67", "+1 650 253 0000",
		"601 234 567 ext. 12", "++48", "+", "0", "tel:+48-601-234-567", "+48 601 234 567;ext=1",
		"\u0661\u0662\u0663", "+44 7911 123456", "  +49 (0) 30 123456 ",
		// Found by the fuzzer: keypad letters read as digits, and more
		// than 15 digits.
		"+48 601 ABC DEF", "+492100000AA0A000", "+4921000002202000",
	} {
		f.Add(seed, "PL")
	}
	f.Add("030 123456", "DE")
	f.Add("650 253 0000", "US")
	f.Fuzz(func(t *testing.T, raw, region string) {
		got, err := callhistory.NormalizePhone(raw, region)
		if err != nil {
			require.ErrorIs(t, err, callhistory.ErrInvalidPhone)
			require.Empty(t, got)
			return
		}
		require.Regexp(t, e164, got)
		require.False(t, strings.ContainsFunc(raw, unicode.IsLetter), "%q has a letter", raw)
		again, err := callhistory.NormalizePhone(got, region)
		require.NoError(t, err, "normalising %q again", got)
		require.Equal(t, got, again)
		// The output is region-independent E.164.
		again, err = callhistory.NormalizePhone(got, "PL")
		require.NoError(t, err)
		require.Equal(t, got, again)
	})
}

func TestMaskPhone(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"+48601234567", "+48 601 *** 567"},
		{"+16502530000", "+1 650 *** 000"},
		{"+4930123456", "+49 301 *** 456"},
		{"+4930123", "+49 *** 23"},
		{"+3531234", "+353 *** 34"},
		{"601234567", "***"},
		{"+48 601 234 567", "***"},
		{"+48601234567 ", "***"},
		{"+48601234567x", "***"},
		{"", "***"},
		{"+", "***"},
		{"secret-api-key", "***"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, callhistory.MaskPhone(tt.in))
		})
	}
}
