// Package testenv tells tests which outside servers they may use.
//
// A test that needs PostgreSQL, MariaDB or Chromium reads its setting from an
// environment variable and skips, saying why, when it is not set. CI sets
// LEADCALLS_REQUIRE_ALL=1, which turns every such skip into a failure, so a
// green CI run never hides a skipped suite.
package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// Environment variables read by the tests.
const (
	PostgresDSNVar = "LEADCALLS_TEST_POSTGRES_DSN" // e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable
	MySQLDSNVar    = "LEADCALLS_TEST_MYSQL_DSN"    // e.g. root@tcp(127.0.0.1:3306)/test?parseTime=true
	ChromiumVar    = "LEADCALLS_TEST_CHROMIUM"     // path to a Chromium binary
	RequireAllVar  = "LEADCALLS_REQUIRE_ALL"       // "1": never skip, fail instead
)

// Skip skips t with reason, or fails it when LEADCALLS_REQUIRE_ALL is set.
func Skip(t testing.TB, reason string) {
	t.Helper()
	if os.Getenv(RequireAllVar) != "" {
		t.Fatalf("%s (and %s is set, so this test may not skip)", reason, RequireAllVar)
	}
	t.Skip(reason)
}

// PostgresDSN returns the PostgreSQL DSN for tests, or skips t.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	return lookup(t, PostgresDSNVar, "PostgreSQL")
}

// MySQLDSN returns the MariaDB/MySQL DSN for tests, or skips t.
func MySQLDSN(t testing.TB) string {
	t.Helper()
	return lookup(t, MySQLDSNVar, "MariaDB")
}

// Chromium returns the path of a Chromium binary, or skips t. Without the
// variable it looks for chromium on PATH.
func Chromium(t testing.TB) string {
	t.Helper()
	if p := os.Getenv(ChromiumVar); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	Skip(t, "skipped: no Chromium found; install Debian's chromium or set "+ChromiumVar)
	return ""
}

func lookup(t testing.TB, name, what string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		Skip(t, "skipped: "+what+" tests need "+name+" (see .ci/run for the value CI uses)")
	}
	return v
}
