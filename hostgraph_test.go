package leadcalls_test

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/leadcalls/leadcalls/internal/testenv"
)

// A host CRM that embeds the SDK must not get the examples' dependencies in
// its module graph: every requirement in our go.mod takes part in the host's
// version selection, so River or chromedp there would show up in every
// host's `go list -m all`. This test builds such a host in a temporary
// directory, pointed at this checkout, and reads its graph.
func TestHostModuleGraphHasNoExampleDependencies(t *testing.T) {
	t.Parallel()
	goTool, err := exec.LookPath("go")
	if err != nil {
		testenv.Skip(t, "skipped: the host-module test runs the go command, which is not on PATH")
	}
	root, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	goVersion := goDirective(t, filepath.Join(root, "go.mod"))

	host := t.TempDir()
	writeFile(t, filepath.Join(host, "go.mod"), fmt.Sprintf(`module example.com/leadcallshost

go %s

require github.com/leadcalls/leadcalls v0.0.0

replace github.com/leadcalls/leadcalls => %q
`, goVersion, root))
	writeFile(t, filepath.Join(host, "main.go"), `package main

import (
	_ "github.com/leadcalls/leadcalls/callhistory"
	_ "github.com/leadcalls/leadcalls/callyzer"
	_ "github.com/leadcalls/leadcalls/statusmap"
	_ "github.com/leadcalls/leadcalls/storage/sqlstore"
)

func main() {}
`)
	// The host's graph is a part of ours, so our go.sum has every checksum it
	// needs: with the modules in the cache, nothing is fetched and the
	// checksum database is not asked.
	sums, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(host, "go.sum"), string(sums))

	run := func(args ...string) []byte {
		t.Helper()
		cmd := exec.CommandContext(t.Context(), goTool, args...)
		cmd.Dir = host
		// GOWORK=off: our go.work must not take part; -mod=mod: tidy may
		// write the host's go.mod; GOTOOLCHAIN=local: never fetch a toolchain.
		cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod", "GOTOOLCHAIN=local")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
		}
		return out
	}
	run("mod", "tidy")
	out := run("list", "-m", "all")

	var modules, forbidden []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		modules = append(modules, line)
		path, _, _ := strings.Cut(line, " ")
		if strings.Contains(path, "riverqueue") || strings.Contains(path, "chromedp") {
			forbidden = append(forbidden, line)
		}
	}
	t.Logf("a host importing callyzer, callhistory, statusmap and storage/sqlstore has %d modules in go list -m all (itself included)", len(modules))
	if len(forbidden) > 0 {
		t.Errorf("the host's module graph has the examples' dependencies (move them to examples/go.mod):\n%s",
			strings.Join(forbidden, "\n"))
	}
}

// goDirective returns the version of the go line of a go.mod file.
func goDirective(t *testing.T, gomod string) string {
	t.Helper()
	data, err := os.ReadFile(gomod)
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(data)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "go "); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("%s has no go line", gomod)
	return ""
}

func writeFile(t *testing.T, name, content string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
