package callyzer

import "github.com/leadcalls/leadcalls/internal/phone"

// numberForm is a form of a number in a request's number filter
// (WithClientNumberForm).
type numberForm uint8

const (
	formDashed   numberForm = iota // 48-601234567, Callyzer's documented form
	formNational                   // 601234567
	formE164                       // +48601234567
	formDigits                     // 48601234567
)

var numberForms = map[string]numberForm{
	"dashed": formDashed, "national": formNational, "e164": formE164, "digits": formDigits,
}

func (f numberForm) String() string {
	for name, g := range numberForms {
		if g == f {
			return name
		}
	}
	return "unknown"
}

// inForm turns E.164 numbers into form f.
func inForm(e164 []string, f numberForm) ([]string, error) {
	out := make([]string, 0, len(e164))
	for _, n := range e164 {
		cc, national, ok := phone.Split(n)
		if !ok {
			return nil, invalidQuery("number %s is not in E.164 form (+ country code, digits)", phone.Mask(n))
		}
		switch f {
		case formNational:
			out = append(out, national)
		case formE164:
			out = append(out, n)
		case formDigits:
			out = append(out, cc+national)
		default:
			out = append(out, cc+"-"+national)
		}
	}
	return out, nil
}
