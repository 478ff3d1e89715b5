package leadcalls_test

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// The README's Go snippets are copies of regions of example tests, which run
// with // Output:. A region starts with "// --- README: <section> ---" and
// ends with "// --- end of README ---"; the README's first Go block under
// the heading "## <section>" must equal it, indentation aside. This keeps
// the README's code compiling and true.
func TestREADMESnippetsMatchExamples(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	sources := []string{"examples/callhistoryhttp/example_test.go"}
	region := regexp.MustCompile(`(?s)// --- README: ([^\n]*?) ---\n(.*?)\n\s*// --- end of README ---`)
	found := 0
	for _, src := range sources {
		code, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range region.FindAllStringSubmatch(string(code), -1) {
			found++
			section, want := m[1], dedent(m[2])
			got, ok := goBlockUnder(string(readme), "## "+section)
			if !ok {
				t.Errorf("README has no Go block under %q (copied from %s)", "## "+section, src)
				continue
			}
			if got != want {
				t.Errorf("README section %q differs from %s:\nREADME:\n%s\nexample:\n%s", section, src, got, want)
			}
		}
	}
	if found == 0 {
		t.Fatal("no README regions found in the example tests")
	}
}

func goBlockUnder(doc, heading string) (string, bool) {
	i := strings.Index(doc, "\n"+heading+"\n")
	if i < 0 {
		return "", false
	}
	rest := doc[i:]
	start := strings.Index(rest, "```go\n")
	if start < 0 {
		return "", false
	}
	rest = rest[start+len("```go\n"):]
	end := strings.Index(rest, "```")
	if end < 0 {
		return "", false
	}
	return dedent(strings.TrimRight(rest[:end], "\n")), true
}

// dedent removes the indentation common to all non-blank lines.
func dedent(s string) string {
	lines := strings.Split(s, "\n")
	common := -1
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		n := len(l) - len(strings.TrimLeft(l, "\t "))
		if common < 0 || n < common {
			common = n
		}
	}
	for i, l := range lines {
		if len(l) >= common && common > 0 {
			lines[i] = l[common:]
		}
	}
	return strings.Join(lines, "\n")
}
