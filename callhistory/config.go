package callhistory

import (
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/leadcalls/leadcalls/internal/phone"
	"github.com/leadcalls/leadcalls/statusmap"
)

// prepare checks the config named config, then sets each of its fields
// that holds the zero value to the same field of defaults, or, for the
// fields every config has (Mapper, DefaultRegion, Now, Logger), to the
// shared default; the region must be one libphonenumber knows, so that the
// Refresher and the Syncer read numbers alike.
func prepare[T any](config string, cfg *T, defaults T, checks ...configCheck) error {
	for _, check := range checks {
		if err := check(config); err != nil {
			return err
		}
	}
	v, d := reflect.ValueOf(cfg).Elem(), reflect.ValueOf(defaults)
	for i := range v.NumField() {
		if f := v.Field(i); f.IsZero() {
			f.Set(d.Field(i))
		}
	}
	shared := map[string]any{
		"Mapper": statusmap.Default(), "DefaultRegion": defaultRegion, "Now": time.Now, "Logger": slog.Default(),
	}
	for name, def := range shared {
		if f := v.FieldByName(name); f.IsZero() {
			f.Set(reflect.ValueOf(def))
		}
	}
	if region := v.FieldByName("DefaultRegion").String(); !phone.RegionOK(region) {
		return fmt.Errorf("callhistory: %s.DefaultRegion %q is not a region libphonenumber knows", config, region)
	}
	return nil
}

// A configCheck finds one problem of a field of a config, or none.
type configCheck func(config string) error

func required(field string, missing bool) configCheck {
	return func(config string) error {
		if missing {
			return fmt.Errorf("callhistory: %s.%s is required", config, field)
		}
		return nil
	}
}

func notNegative[T int | time.Duration](field string, v T) configCheck {
	return func(config string) error {
		if v < 0 {
			return fmt.Errorf("callhistory: %s.%s %v is negative", config, field, v)
		}
		return nil
	}
}

// counts returns a log attribute for each name and count of pairs, given
// as name, count, name, count, ...
func counts(pairs ...any) []slog.Attr {
	attrs := make([]slog.Attr, 0, len(pairs)/2)
	for i := 0; i+1 < len(pairs); i += 2 {
		attrs = append(attrs, slog.Int(pairs[i].(string), pairs[i+1].(int)))
	}
	return attrs
}

// maxLeadIDLen bounds a lead id, in bytes.
const maxLeadIDLen = 256

// validLeadID reports whether id may be a lead's: at most maxLeadIDLen
// bytes of UTF-8 without control characters.
func validLeadID(id string) bool {
	if len(id) > maxLeadIDLen || !utf8.ValidString(id) {
		return false
	}
	return strings.IndexFunc(id, unicode.IsControl) < 0
}

// maxLogValue caps a value that comes from a request or from Callyzer in a
// log line, in bytes.
const maxLogValue = 64

// capText returns s cut to maxLogValue bytes (on a rune boundary), saying
// how much was cut, with control characters replaced.
func capText(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return '?'
		}
		return r
	}, strings.ToValidUTF8(s, "?"))
	if len(s) <= maxLogValue {
		return s
	}
	cut := maxLogValue
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s…(+%d bytes)", s[:cut], len(s)-cut)
}
