package sqlstore

import (
	"strings"
	"testing"

	"github.com/leadcalls/leadcalls/callhistory"
)

// BenchmarkReplaceWindow replaces a 1,000-call window whose every call
// changed since the last refresh (ours), beside a baseline on the same
// database: one transaction that deletes the number's rows and inserts the
// 1,000 calls in multi-row INSERTs.
func BenchmarkReplaceWindow(b *testing.B) {
	const phone, n = "+48601234567", 1000
	answers := [2][]callhistory.Call{makeCalls(phone, "c", n), makeCalls(phone, "c", n)}
	for i := range answers[1] {
		answers[1][i].Note = "changed"
	}
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			db, _ := openFresh(b, be.name)
			s := newMigrated(b, db, be.dialect)
			b.Run("ours", func(b *testing.B) {
				i := 0
				for b.Loop() {
					if _, err := callhistory.ReplaceWindow(b.Context(), s, phone, window, answers[i%2], afterUploads); err != nil {
						b.Fatal(err)
					}
					i++
				}
			})
			b.Run("baseline", func(b *testing.B) {
				calls := answers[0]
				head := "INSERT INTO " + s.table("calls") + " (" + strings.Join(columnNames, ", ") + ") VALUES "
				row := "(" + placeholders(len(fields)) + ")"
				for b.Loop() {
					tx, err := db.BeginTx(b.Context(), nil)
					if err != nil {
						b.Fatal(err)
					}
					if _, err := tx.ExecContext(b.Context(), s.d.rebind("DELETE FROM "+s.table("calls")+" WHERE phone = ?"), phone); err != nil {
						b.Fatal(err)
					}
					for i := 0; i < len(calls); i += s.rowsPerStatement(len(fields)) {
						batch := calls[i:min(i+s.rowsPerStatement(len(fields)), len(calls))]
						var args []any
						for _, c := range batch {
							args = append(args, s.args(&c)...)
						}
						q := head + strings.TrimSuffix(strings.Repeat(row+", ", len(batch)), ", ")
						if _, err := tx.ExecContext(b.Context(), s.d.rebind(q), args...); err != nil {
							b.Fatal(err)
						}
					}
					if err := tx.Commit(); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// BenchmarkCalls reads a lead's 500-call page out of 1,000 stored calls
// (ours), beside a bare indexed SELECT of the same rows scanned into
// generic values (baseline).
func BenchmarkCalls(b *testing.B) {
	const phone = "+48601234567"
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			db, _ := openFresh(b, be.name)
			s := newMigrated(b, db, be.dialect)
			if _, err := callhistory.ReplaceWindow(b.Context(), s, phone, window, makeCalls(phone, "c", 1000), base); err != nil {
				b.Fatal(err)
			}
			b.Run("ours", func(b *testing.B) {
				for b.Loop() {
					calls, err := s.Calls(b.Context(), phone, 500)
					if err != nil || len(calls) != 500 {
						b.Fatal(len(calls), err)
					}
				}
			})
			b.Run("baseline", func(b *testing.B) {
				q := s.d.rebind("SELECT " + selectColumns + " FROM " + s.table("calls") +
					" WHERE phone = ? ORDER BY started_at DESC, callyzer_id LIMIT 500")
				vals := make([]any, len(fields)+1)
				ptrs := make([]any, len(vals))
				for i := range vals {
					ptrs[i] = &vals[i]
				}
				for b.Loop() {
					rows, err := db.QueryContext(b.Context(), q, phone)
					if err != nil {
						b.Fatal(err)
					}
					n := 0
					for rows.Next() {
						if err := rows.Scan(ptrs...); err != nil {
							b.Fatal(err)
						}
						n++
					}
					if err := rows.Close(); err != nil || n != 500 {
						b.Fatal(n, err)
					}
				}
			})
		})
	}
}
