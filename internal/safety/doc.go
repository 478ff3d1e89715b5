// Package safety holds no code, only tests: the proof, on every store
// (memory, SQLite, PostgreSQL, MariaDB) and through the real client and the
// fake Callyzer, that no call Callyzer still holds is lost to an answer
// that is well-formed and wrong: an empty answer, calls held without a
// country code, pages that shift or repeat, calls of other numbers, a
// redirect, a call dated years ahead, a recording link that is not https.
//
// Run the server stores with their DSNs set, as CI does:
//
//	LEADCALLS_TEST_POSTGRES_DSN=... LEADCALLS_TEST_MYSQL_DSN=... go test ./internal/safety/
package safety
