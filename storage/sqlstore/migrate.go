package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"strings"
)

// schemaFiles holds the migrations, one per version (three digits): either
// one file for every dialect, all_<version>.sql, written with the type
// placeholders of dialect.types ({{text}}, {{time}}, {{int}}), or one file
// per dialect, <dialect>_<version>.sql, where the dialects differ. They are
// append-only: a change is a new version. A column added later is NULL-able
// (a NULL text reads as ""), so that no dialect needs a default for it.
//
//go:embed schema/*.sql
var schemaFiles embed.FS

// migration is one schema version of one dialect.
type migration struct {
	version    int
	statements []string
}

// migrations returns the dialect's migrations in version order, with the
// table prefix and the types filled in.
func (s *Store) migrations() ([]migration, error) {
	return s.migrationsIn(schemaFiles)
}

func (s *Store) migrationsIn(fsys fs.FS) ([]migration, error) {
	names, err := fs.Glob(fsys, "schema/*.sql")
	if err != nil {
		return nil, err
	}
	byVersion := map[int]string{}
	for _, name := range names {
		base := strings.TrimPrefix(name, "schema/")
		var version int
		for _, owner := range []string{"all", s.d.name} {
			if _, err := fmt.Sscanf(base, owner+"_%03d.sql", &version); err == nil && base == fmt.Sprintf("%s_%03d.sql", owner, version) {
				if byVersion[version] != "" {
					return nil, fmt.Errorf("sqlstore: migration %d twice: %s and %s", version, byVersion[version], name)
				}
				byVersion[version] = name
			}
		}
	}
	out := make([]migration, 0, len(byVersion))
	for v := 1; v <= len(byVersion); v++ {
		name, ok := byVersion[v]
		if !ok {
			return nil, fmt.Errorf("sqlstore: no migration %03d for %s", v, s.d.name)
		}
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, statements: splitStatements(s.withTypes(s.withPrefix(string(body))))})
	}
	return out, nil
}

// withTypes fills in the type placeholders of a dialect-neutral migration.
func (s *Store) withTypes(sql string) string {
	for placeholder, typ := range s.d.types {
		sql = strings.ReplaceAll(sql, "{{"+placeholder+"}}", typ)
	}
	return sql
}

func (s *Store) withPrefix(sql string) string {
	return strings.ReplaceAll(sql, "{{prefix}}", s.prefix)
}

// splitStatements splits a schema file into statements at semicolons that
// end a line, dropping comment lines (MySQL runs one statement per call).
func splitStatements(body string) []string {
	var out []string
	var cur strings.Builder
	for line := range strings.Lines(body) {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "--") {
			continue
		}
		cur.WriteString(line)
		if strings.HasSuffix(trimmed, ";") {
			out = append(out, strings.TrimSuffix(strings.TrimSpace(cur.String()), ";"))
			cur.Reset()
		}
	}
	if rest := strings.TrimSpace(cur.String()); rest != "" {
		out = append(out, rest)
	}
	return out
}

// Migrate creates or upgrades the store's tables to the newest schema
// version this code knows. It is idempotent, and safe when several
// processes run it at once: it holds the database's migration lock
// (PostgreSQL advisory lock, MariaDB/MySQL GET_LOCK, SQLite BEGIN
// IMMEDIATE) while it reads the version table and applies the missing
// versions. On PostgreSQL and SQLite each run is one transaction;
// MariaDB/MySQL commit DDL statement by statement, and every statement is
// idempotent, so an interrupted run completes on the next. A database
// whose schema is newer than this code returns ErrSchemaVersion.
func (s *Store) Migrate(ctx context.Context) error {
	migrations, err := s.migrations()
	if err != nil {
		return err
	}
	return s.migrate(ctx, migrations)
}

// migrate brings the database to the last version of migrations (a prefix
// of them when a test builds an older database).
func (s *Store) migrate(ctx context.Context, migrations []migration) error {
	return s.inTx(ctx, "migrate", []string{"schema"}, func(t *txn) error {
		if _, err := t.exec(ctx, s.withPrefix(s.d.versionTable)); err != nil {
			return err
		}
		var current sql.NullInt64
		if err := t.conn.QueryRowContext(ctx, "SELECT MAX(version) FROM "+s.table("schema_version")).Scan(&current); err != nil {
			return err
		}
		if int(current.Int64) > len(migrations) {
			return fmt.Errorf("%w: the database is at version %d, this code knows %d", ErrSchemaVersion, current.Int64, len(migrations))
		}
		for _, m := range migrations[current.Int64:] {
			for _, stmt := range m.statements {
				if _, err := t.exec(ctx, stmt); err != nil {
					return fmt.Errorf("version %d: %w", m.version, err)
				}
			}
			if _, err := t.exec(ctx, "INSERT INTO "+s.table("schema_version")+" (version) VALUES (?)", m.version); err != nil {
				return fmt.Errorf("version %d: %w", m.version, err)
			}
		}
		return nil
	})
}
