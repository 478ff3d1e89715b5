package callyzer

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func FuzzDecodeHistory(f *testing.F) {
	files, err := filepath.Glob("testdata/*.json")
	if err != nil {
		f.Fatal(err)
	}
	more, _ := filepath.Glob("testdata/malformed/*.json")
	for _, name := range append(files, more...) {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		``, `null`, `[]`, `{}`, `{"result":[],"total_records":0}`, `{"result":[{}],"total_records":1}`,
		`{"result":[{"id":1,"duration":"1e3","call_date":"2026-01-01","call_time":"00:00:00"}],"total_records":1}`,
		`{"result":[{"id":"x","duration":-1}],"total_records":1}`, `{"result":[],"total_records":-5}`,
		`{"result":[],"total_records":1e99}`, `{"result":[{"id":"x","duration":1,"call_date":"2026-01-01","call_time":"00:00:00","synced_at":"2026-01-01 00:00:00 +"}],"total_records":1}`,
	} {
		f.Add([]byte(s))
	}
	loc, err := time.LoadLocation("Europe/Warsaw")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		page, err := decodeHistory(body, loc)
		if err == nil && (page == nil || page.calls == nil) {
			t.Fatalf("nil result with a nil error for %q", body)
		}
		if err != nil && page != nil {
			t.Fatalf("a result with an error for %q", body)
		}
		if err == nil {
			if page.total < 0 {
				t.Fatalf("negative total %d", page.total)
			}
			for _, c := range page.calls {
				if c.ID == "" || c.Duration < 0 || c.StartedAt.IsZero() {
					t.Fatalf("accepted an untrustworthy call %+v", c)
				}
			}
		}
	})
}

func FuzzParseRetryAfter(f *testing.F) {
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	for _, s := range []string{
		"", "0", "5", " 120 ", "-1", "1.5", "99999999999999999999", "soon",
		"Fri, 20 Nov 2026 12:01:00 GMT", "Friday, 20-Nov-26 12:00:30 GMT", "Fri Nov 20 12:01:00 2026",
		"Mon, 01 Jan 0001 00:00:00 GMT", "Fri, 31 Dec 9999 23:59:59 GMT",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		d, ok := parseRetryAfter(v, now)
		if d < 0 || d > maxRetryAfterValue {
			t.Fatalf("%q: %v out of range", v, d)
		}
		if !ok && d != 0 {
			t.Fatalf("%q: unreadable but %v", v, d)
		}
	})
}
