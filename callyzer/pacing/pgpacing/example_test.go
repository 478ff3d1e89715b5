package pgpacing_test

import (
	"context"
	"database/sql"
	"log"
	"os"

	_ "github.com/jackc/pgx/v5/stdlib" // the host's choice of driver

	"github.com/leadcalls/leadcalls/callyzer"
	"github.com/leadcalls/leadcalls/callyzer/pacing/pgpacing"
)

// Every replica shares one Callyzer request budget: wire the pacer into
// the client. (Compile-only: it needs a PostgreSQL server, so it has no Output.)
func ExampleNew() {
	ctx := context.Background()
	db, err := sql.Open("pgx", os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	// Once per deployment; safe when every replica runs it at start.
	if err := pgpacing.Migrate(ctx, db); err != nil {
		log.Fatal(err)
	}
	// Name the budget after the account, never after the key itself.
	pacer, err := pgpacing.New(db, pgpacing.Config{Name: "callyzer/acme"}) // 2s apart by default
	if err != nil {
		log.Fatal(err)
	}
	client, err := callyzer.NewClient(os.Getenv("CALLYZER_API_KEY"), callyzer.WithPacer(pacer))
	if err != nil {
		log.Fatal(err)
	}
	_ = client // hand it to callhistory
}
