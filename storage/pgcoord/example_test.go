package pgcoord_test

import (
	"context"
	"database/sql"
	"fmt"
	"log"
	"os"

	_ "github.com/jackc/pgx/v5/stdlib" // the host's choice of driver

	"github.com/leadcalls/leadcalls/storage/pgcoord"
)

// Only one replica runs a sync pass at a time. (Compile-only: it needs a
// PostgreSQL server, so it has no Output.)
func ExampleTryLock() {
	ctx := context.Background()
	db, err := sql.Open("pgx", os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	release, ok, err := pgcoord.TryLock(ctx, db, "leadcalls/sync")
	if err != nil {
		log.Fatal(err)
	}
	if !ok {
		return // another replica runs this pass
	}
	defer func() {
		if err := release(); err != nil {
			log.Print(err) // pgcoord.ErrLockLost: the pass may have overlapped another
		}
	}()
	runPass(ctx)
}

func runPass(context.Context) {}

// LockKey tells an operator which row of pg_locks belongs to a name: a
// bigint advisory key shows as classid (high 32 bits) and objid (low 32
// bits) with objsubid 1.
func ExampleLockKey() {
	key := pgcoord.LockKey("leadcalls/sync")
	fmt.Println(key)
	fmt.Println(uint32(uint64(key)>>32), uint32(uint64(key)))
	// Output:
	// 3374291165870138850
	// 785638384 107849186
}
