package riversync_test

import (
	"context"
	"database/sql"
	"log"
	"os"
	"os/signal"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"

	"github.com/leadcalls/leadcalls/callhistory"
	"github.com/leadcalls/leadcalls/callyzer"
	"github.com/leadcalls/leadcalls/callyzer/pacing/pgpacing"
	"github.com/leadcalls/leadcalls/examples/riversync"
	"github.com/leadcalls/leadcalls/storage/pgcoord"
	"github.com/leadcalls/leadcalls/storage/sqlstore"
)

// Example shows the start-up of a replica that runs the sync as a River
// periodic job. It needs PostgreSQL and a Callyzer API key, so it is only
// compiled.
func Example() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	// River gets a pool of its own; the store, the pass lock and the pacer
	// share a separate *sql.DB, so that neither starves the other of
	// connections (see Connections in the package documentation).
	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	db, err := sql.Open("pgx", os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(10) // at least 4: the pass lock holds one for a whole pass

	// Tables: River's, the call store's, and the shared pacer's.
	if err := riversync.Migrate(ctx, pool); err != nil {
		log.Fatal(err)
	}
	store, err := sqlstore.New(db, sqlstore.Postgres)
	if err != nil {
		log.Fatal(err)
	}
	if err := store.Migrate(ctx); err != nil {
		log.Fatal(err)
	}
	if err := pgpacing.Migrate(ctx, db); err != nil {
		log.Fatal(err)
	}

	// One request budget for the Callyzer account across every replica.
	pacer, err := pgpacing.New(db, pgpacing.Config{Name: "callyzer/main-account"})
	if err != nil {
		log.Fatal(err)
	}
	client, err := callyzer.NewClient(os.Getenv("CALLYZER_API_KEY"), callyzer.WithPacer(pacer))
	if err != nil {
		log.Fatal(err)
	}
	syncer, err := callhistory.NewSyncer(callhistory.SyncConfig{
		Source: client,
		Store:  store,
		Lock:   pgcoord.PassLock{DB: db},
	})
	if err != nil {
		log.Fatal(err)
	}

	riverClient, err := riversync.NewRiverClient(pool, syncer, 5*time.Minute)
	if err != nil {
		log.Fatal(err)
	}
	if err := riverClient.Start(ctx); err != nil {
		log.Fatal(err)
	}
	<-ctx.Done()
	stopCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := riverClient.Stop(stopCtx); err != nil {
		log.Print(err)
	}
}
