package callyzer

import (
	"fmt"
	"log/slog"
	"strings"
)

const redacted = "[REDACTED]"

// secret holds the API key. It redacts itself in every way Go prints or
// encodes a value, and it keeps the key behind a pointer so that a struct
// holding a secret in an unexported field (which fmt prints without calling
// methods) shows an address, never the key.
type secret struct{ p *string }

func newSecret(s string) secret { return secret{p: &s} }

// reveal returns the key; only the Authorization header and redact use it.
func (s secret) reveal() string {
	if s.p == nil {
		return ""
	}
	return *s.p
}

func (secret) String() string                { return redacted }
func (secret) GoString() string              { return redacted }
func (secret) LogValue() slog.Value          { return slog.StringValue(redacted) }
func (secret) MarshalJSON() ([]byte, error)  { return []byte(`"` + redacted + `"`), nil }
func (secret) MarshalText() ([]byte, error)  { return []byte(redacted), nil }
func (secret) Format(f fmt.State, verb rune) { _, _ = f.Write([]byte(redacted)) }
func (s secret) redact(text string) string {
	if k := s.reveal(); k != "" {
		text = strings.ReplaceAll(text, k, redacted)
	}
	return text
}
