package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/leadcalls/leadcalls/internal/testenv"
)

// TestREADMECurlSession runs the README's curl session ("### The API with
// curl") against the demo, line by line, with the real curl in a
// directory of its own (for the cookie files), the demo's address put in
// for http://127.0.0.1:8080, and checks what each line prints.
func TestREADMECurlSession(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		testenv.Skip(t, "skipped: the README's curl session needs curl on PATH")
	}
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	block := regexp.MustCompile("(?s)\n### The API with curl\n.*?```sh\n(.*?)```").FindSubmatch(readme)
	require.NotNil(t, block, "the README has a curl session")
	var lines []string
	for _, l := range strings.Split(string(block[1]), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			require.True(t, strings.HasPrefix(l, "curl "), "every line is a curl command: %q", l)
			lines = append(lines, l)
		}
	}
	require.Len(t, lines, 5)

	base := startDemo(t)
	dir := t.TempDir()
	outputs := make([]string, len(lines))
	for i, l := range lines {
		l = strings.ReplaceAll(l, "http://127.0.0.1:8080", base)
		cmd := exec.CommandContext(t.Context(), "sh", "-c", l)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s:\n%s", l, out)
		outputs[i] = string(out)
	}

	require.Empty(t, outputs[0], "signing in prints nothing")
	var history struct {
		LeadID  string          `json:"lead_id"`
		Calls   []any           `json:"calls"`
		Summary json.RawMessage `json:"summary"`
	}
	require.NoError(t, json.Unmarshal([]byte(outputs[1]), &history), outputs[1])
	require.Equal(t, "L-0001", history.LeadID)
	require.NotEmpty(t, history.Summary)
	var refreshed struct {
		Status  string `json:"status"`
		Message string `json:"message"`
		Calls   []any  `json:"calls"`
		Summary struct {
			Calls int `json:"calls"`
		} `json:"summary"`
	}
	require.NoError(t, json.Unmarshal([]byte(outputs[2]), &refreshed), outputs[2])
	require.Equal(t, "ok", refreshed.Status)
	require.Equal(t, msgUpdated, refreshed.Message)
	require.NotEmpty(t, refreshed.Calls)
	require.Positive(t, refreshed.Summary.Calls)
	require.Empty(t, outputs[3], "the advisor signs in")
	require.Equal(t, `{"status":"error","message":"`+msgForbidden+`"}`+"\n403\n", outputs[4],
		"an advisor gets 403 for a lead that does not exist")
}
