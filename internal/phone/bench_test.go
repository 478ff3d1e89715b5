package phone_test

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/nyaruka/phonenumbers"

	"github.com/leadcalls/leadcalls/internal/phone"
)

var benchNumbers = []string{"+48601234567", "+4915112345678", "+12025550123", "+380441234567", "+390612345678"}

// BenchmarkSplit compares Split with the splitter callyzer had before this
// package (oldSplitE164) and with libphonenumber's parser.
func BenchmarkSplit(b *testing.B) {
	b.Run("new", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if _, _, ok := phone.Split(benchNumbers[i%len(benchNumbers)]); !ok {
				b.Fatal("not split")
			}
		}
	})
	b.Run("old", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if _, _, ok := oldSplitE164(benchNumbers[i%len(benchNumbers)]); !ok {
				b.Fatal("not split")
			}
		}
	})
	b.Run("parse", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			n, err := phonenumbers.Parse(benchNumbers[i%len(benchNumbers)], "")
			if err != nil {
				b.Fatal(err)
			}
			_ = phonenumbers.GetNationalSignificantNumber(n)
		}
	})
}

// BenchmarkMask compares Mask with callhistory's MaskPhone before this
// package (oldMaskPhone, which parsed the number).
func BenchmarkMask(b *testing.B) {
	b.Run("new", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			_ = phone.Mask(benchNumbers[i%len(benchNumbers)])
		}
	})
	b.Run("old", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			_ = oldMaskPhone(benchNumbers[i%len(benchNumbers)])
		}
	})
}

func BenchmarkMaskText(b *testing.B) {
	for _, text := range []string{
		"callyzer: 500 Internal Server Error: upstream timed out at 2026-05-25T14:00:00Z",
		"constraint failed for +48601200301 (601 200 301) at 2026-05-25T14:00:00Z",
	} {
		b.Run(strconv.Itoa(len(text)), func(b *testing.B) {
			for b.Loop() {
				_ = phone.MaskText(text)
			}
		})
	}
}

func BenchmarkFromCallyzer(b *testing.B) {
	for b.Loop() {
		_ = phone.FromCallyzer("48", "601234567")
	}
}

func BenchmarkNormalize(b *testing.B) {
	for i := 0; b.Loop(); i++ {
		if _, err := phone.Normalize(benchNumbers[i%len(benchNumbers)], "PL"); err != nil {
			b.Fatal(err)
		}
	}
}

// oldSplitE164 is callyzer's splitter before this package, kept to compare.
func oldSplitE164(e164 string) (cc, national string, ok bool) {
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

// oldMaskPhone is the E.164 part of callhistory's MaskPhone before this
// package, kept to compare.
func oldMaskPhone(e164 string) string {
	num, err := phonenumbers.Parse(e164, "")
	if err != nil {
		return "***"
	}
	national := phonenumbers.GetNationalSignificantNumber(num)
	cc := fmt.Sprintf("+%d", num.GetCountryCode())
	if cc+national != e164 || len(national) < 8 {
		return "***"
	}
	return cc + " " + national[:3] + " *** " + national[len(national)-3:]
}
