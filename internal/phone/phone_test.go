package phone_test

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/nyaruka/phonenumbers"
	"github.com/stretchr/testify/require"

	"github.com/leadcalls/leadcalls/internal/phone"
)

func TestNormalize(t *testing.T) {
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
			got, err := phone.Normalize(tt.raw, tt.region)
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

// TestNormalizeRefusesLettersAndLongNumbers: libphonenumber reads keypad
// letters as digits, so a typo in the CRM would show another customer's
// calls, and it can format more than E.164's 15 digits.
func TestNormalizeRefusesLettersAndLongNumbers(t *testing.T) {
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
			got, err := phone.Normalize(tt.raw, tt.region)
			require.ErrorIs(t, err, phone.ErrInvalid, "got %q", got)
			require.Empty(t, got)
			require.NotContains(t, err.Error(), tt.raw, "errors never quote the input")
		})
	}
}

func TestNormalizeRejects(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{
		"", "   ", "12", "abc", "601 234 56", "601 234 567 ext. 12", "+48 601 234 567 wew. 3",
		"+48 000 000 000", "+999 123456789", "123456789012345678901",
	} {
		t.Run(raw, func(t *testing.T) {
			t.Parallel()
			got, err := phone.Normalize(raw, "PL")
			require.ErrorIs(t, err, phone.ErrInvalid)
			require.Empty(t, got)
		})
	}
}

func TestRegionOK(t *testing.T) {
	t.Parallel()
	for _, r := range []string{"PL", "DE", "US", "IT"} {
		require.True(t, phone.RegionOK(r), r)
	}
	for _, r := range []string{"", "pl", "XX", "001", "POL"} {
		require.False(t, phone.RegionOK(r), r)
	}
}

var e164 = regexp.MustCompile(`^\+[1-9]\d{6,14}$`)

func FuzzNormalize(f *testing.F) {
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
		got, err := phone.Normalize(raw, region)
		if err != nil {
			require.ErrorIs(t, err, phone.ErrInvalid)
			require.Empty(t, got)
			return
		}
		require.Regexp(t, e164, got)
		require.False(t, strings.ContainsFunc(raw, unicode.IsLetter), "%q has a letter", raw)
		again, err := phone.Normalize(got, region)
		require.NoError(t, err, "normalising %q again", got)
		require.Equal(t, got, again)
		// The output is region-independent E.164.
		again, err = phone.Normalize(got, "PL")
		require.NoError(t, err)
		require.Equal(t, got, again)
		// What Normalize returns, Split splits.
		cc, national, ok := phone.Split(got)
		require.True(t, ok, got)
		require.Equal(t, got, "+"+cc+national)
	})
}

func TestSplit(t *testing.T) {
	t.Parallel()
	for in, want := range map[string][2]string{
		"+48601234567":      {"48", "601234567"},
		"+4915112345678":    {"49", "15112345678"},
		"+12025550123":      {"1", "2025550123"},
		"+18765550123":      {"1", "8765550123"}, // Jamaica shares NANP's 1
		"+380441234567":     {"380", "441234567"},
		"+390612345678":     {"39", "0612345678"}, // Italian leading zero kept
		"+77011234567":      {"7", "7011234567"},  // Kazakhstan shares Russia's 7
		"+353851234567":     {"353", "851234567"},
		"+4930123":          {"49", "30123"},
		"+80012345678":      {"800", "12345678"}, // non-geographic
		"+882345678901":     {"882", "345678901"},
		"+4848601200302":    {"48", "48601200302"}, // split, not validated
		"+999123456789":     {"", ""},              // no such code
		"+48123":            {"", ""},              // too short
		"+4860123456789012": {"", ""},              // 16 digits
	} {
		cc, national, ok := phone.Split(in)
		require.Equal(t, want[0] != "", ok, in)
		require.Equal(t, want, [2]string{cc, national}, in)
	}
	for _, bad := range []string{
		"", "+", "601234567", "48601234567", "48-601234567", "+48 601 234 567", "+48601234567 ",
		"+0123456789", "++48601234567", "+48601234567x", "+4860123456\u0661",
	} {
		_, _, ok := phone.Split(bad)
		require.False(t, ok, bad)
	}
}

// TestSplitAgreesWithLibphonenumber splits the example numbers
// libphonenumber has for every region, every number type and every
// non-geographic code, and compares with its parser.
func TestSplitAgreesWithLibphonenumber(t *testing.T) {
	t.Parallel()
	types := []phonenumbers.PhoneNumberType{
		phonenumbers.FIXED_LINE, phonenumbers.MOBILE, phonenumbers.TOLL_FREE,
		phonenumbers.PREMIUM_RATE, phonenumbers.SHARED_COST, phonenumbers.VOIP,
		phonenumbers.PERSONAL_NUMBER, phonenumbers.PAGER, phonenumbers.UAN, phonenumbers.VOICEMAIL,
	}
	var examples []*phonenumbers.PhoneNumber
	for region := range phonenumbers.GetSupportedRegions() {
		for _, typ := range types {
			if n := phonenumbers.GetExampleNumberForType(region, typ); n != nil {
				examples = append(examples, n)
			}
		}
	}
	for code := range phonenumbers.GetSupportedGlobalNetworkCallingCodes() {
		if n := phonenumbers.GetExampleNumberForNonGeoEntity(code); n != nil {
			examples = append(examples, n)
		}
	}
	codes := map[int32]bool{}
	for _, n := range examples {
		in := phonenumbers.Format(n, phonenumbers.E164)
		if !e164.MatchString(in) {
			continue // a few examples are longer than E.164 allows
		}
		cc, national, ok := phone.Split(in)
		require.True(t, ok, in)
		require.Equal(t, strconv.Itoa(int(n.GetCountryCode())), cc, in)
		require.Equal(t, phonenumbers.GetNationalSignificantNumber(n), national, in)
		codes[n.GetCountryCode()] = true
	}
	require.Greater(t, len(codes), 200, "country calling codes covered")
}

// TestSplitKnowsEveryCallingCode checks the lookup table against the
// parser for every code of one to three digits.
func TestSplitKnowsEveryCallingCode(t *testing.T) {
	t.Parallel()
	for code := 1; code <= 999; code++ {
		in := "+" + strconv.Itoa(code) + "2345678"
		cc, _, ok := phone.Split(in)
		n, err := phonenumbers.Parse(in, "")
		if err != nil {
			require.ErrorIs(t, err, phonenumbers.ErrInvalidCountryCode, in)
			require.False(t, ok, in)
			continue
		}
		require.True(t, ok, in)
		require.Equal(t, strconv.Itoa(int(n.GetCountryCode())), cc, in)
	}
}

func TestCallyzerForms(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"+48601234567":   "48-601234567",
		"+4915112345678": "49-15112345678",
		"+12025550123":   "1-2025550123",
		"+380441234567":  "380-441234567",
		"+390612345678":  "39-0612345678", // Italian leading zero kept
	} {
		got, ok := phone.ToCallyzer(in)
		require.True(t, ok, in)
		require.Equal(t, want, got)
	}
	for _, bad := range []string{"", "48601234567", "+48 601 234 567", "+0123456789", "+999123456789", "+48", "+4860123456789012"} {
		got, ok := phone.ToCallyzer(bad)
		require.False(t, ok, bad)
		require.Empty(t, got)
	}
	for _, tc := range []struct{ cc, number, want string }{
		{"48", "601234567", "+48601234567"},
		{"+48", "601 234 567", "+48601234567"},
		{"48", "+48601234567", "+48601234567"},
		{"", "601234567", "601234567"},
		{"48", "", ""},
		{"48", "  ", ""},
		{" 48 ", "601-234-567", "+48601234567"},
	} {
		require.Equal(t, tc.want, phone.FromCallyzer(tc.cc, tc.number), "%+v", tc)
	}
}

func TestMask(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"+48601234567", "+48 601 *** 567"},
		{"+4915112345678", "+49 151 *** 678"},
		{"+16502530000", "+1 650 *** 000"},
		{"+4848601200302", "+48 486 *** 302"},
		{"+4930123456", "+49 *** 456"},
		{"+48601234", "+48 *** 234"},
		{"+4930123", "+49 ***"},
		{"+3531234", "+353 ***"},
		{"601234567", "***567"},
		{"+48 601 234 567", "***567"},
		{"+48601234567 ", "***567"},
		{"+48601234567x", "***567"},
		{"+999123456789", "***789"},
		{"123456", "***456"},
		{"12345", "***"},
		{"1", "***"},
		{"", "***"},
		{"+", "***"},
		{"secret-api-key", "***"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, phone.Mask(tt.in))
		})
	}
}

// TestMaskHidesEnough: whatever the input, a mask shows at most three
// digits (six for E.164) besides the country code, and shows any only
// while it hides at least three.
func TestMaskHidesEnough(t *testing.T) {
	t.Parallel()
	var inputs []string
	for n := 0; n <= 16; n++ {
		d := "9876543210987654"[:n]
		inputs = append(inputs, d, "+"+d, "+48"+d, "+1"+d, "+353"+d)
	}
	for _, in := range inputs {
		got := phone.Mask(in)
		require.Contains(t, got, "***", in)
		total := strings.Count(in, "") - 1 - strings.Count(in, "+")
		visible := 0
		for _, part := range strings.Fields(got) {
			if !strings.HasPrefix(part, "+") {
				visible += len(strings.TrimPrefix(part, "***"))
			}
		}
		cc, _, isE164 := phone.Split(in)
		require.LessOrEqual(t, visible, 6, "%s -> %s", in, got)
		if visible > 0 {
			require.GreaterOrEqual(t, total-len(cc)-visible, 3, "%s -> %s hides too little", in, got)
		}
		if !isE164 {
			require.LessOrEqual(t, visible, 3, "%s -> %s", in, got)
		}
	}
}

func TestMaskText(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, want string }{
		{"Mixed", "call 601234567 at 12:00, id 123456, +48601234567", "call ***567 at 12:00, id 123456, +48 601 *** 567"},
		{"Spaced", "lookup by phone 601 234 567 on 2026-11-25 failed", "lookup by phone ***567 on 2026-11-25 failed"},
		{"SpacedE164", "for +48 601 234 567.", "for +48 601 *** 567."},
		{"Store", "constraint failed for +48601200301 (601 200 301) at 2026-05-25T14:00:00Z",
			"constraint failed for +48 601 *** 301 (***301) at 2026-05-25T14:00:00Z"},
		{"Doubled", "+4848601200302", "+48 486 *** 302"},
		{"UnknownCode", "to +999123456789 failed", "to ***789 failed"},
		{"Bare", "48601234567", "***567"},
		{"Glued", "key=abc1234567def", "key=abc***567def"},
		{"TwoSpacesSplit", "1234  5678", "1234  5678"},
		{"Dates", "2026-05-25 14:00:00, 2026-05-25T14:00:00Z", "2026-05-25 14:00:00, 2026-05-25T14:00:00Z"},
		{"SixDigits", "id 123456 and +123456", "id 123456 and +123456"},
		{"PlusAlone", "a + b ++ 1", "a + b ++ 1"},
		{"PlusPlus", "++48601234567", "++48 601 *** 567"},
		{"TrailingSpace", "601234567 ", "***567 "},
		{"Empty", "", ""},
		{"Unicode", "numer 601234567 – błąd", "numer ***567 – błąd"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, phone.MaskText(tt.in))
		})
	}
}

// digitRun is the pattern MaskText scans for, as a regular expression.
var digitRun = regexp.MustCompile(`\+?\d(?: ?\d){6,}`)

// FuzzMaskText checks the scanner against the regular expression, and
// that no run of seven digits survives.
func FuzzMaskText(f *testing.F) {
	for _, seed := range []string{
		"call 601234567 at 12:00, id 123456, +48601234567", "1 2 3 4 5 6 7", "+ 1234567",
		"2026-05-25T14:00:00Z", "++48 601  234 567", "x1234567y+48 601 234 567 ",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		want := digitRun.ReplaceAllStringFunc(text, func(m string) string {
			d := strings.NewReplacer(" ", "", "+", "").Replace(m)
			if strings.HasPrefix(m, "+") {
				d = "+" + d
			}
			return phone.Mask(d)
		})
		got := phone.MaskText(text)
		require.Equal(t, want, got)
		require.NotRegexp(t, digitRun, got)
	})
}
