package callhistoryhttp

import "testing"

func TestParseLanguage(t *testing.T) {
	t.Parallel()
	tests := map[string]language{
		"":                        polish,
		"en":                      english,
		"en-GB,en;q=0.9":          english,
		"pl-PL,pl;q=0.9,en;q=0.8": polish,
		"de-DE,en;q=0.5":          english,
		"en;q=0.3, pl;q=0.7":      polish,
		"fr":                      polish,
		"EN-us":                   english,
		"en;q=0":                  polish, // q=0: not acceptable
		"en;q=0.0, fr":            polish,
		"en;q=0, pl;q=0":          polish,
		"pl;q=0, en;q=0.1":        english,
		"en; q=0 ,de":             polish,
		"en;q=-1":                 polish,
		"en;q=NaN":                polish,
	}
	for header, want := range tests {
		if got := parseLanguage(header); got != want {
			t.Errorf("parseLanguage(%q) = %q, want %q", header, got, want)
		}
	}
}
