-- Version 2: the state of each named periodic sync (callhistory.SyncState),
-- one JSON document per name. JSON is LONGTEXT checked with JSON_VALID on
-- MariaDB (a native JSON type on MySQL). Names are at most 191 characters,
-- the longest utf8mb4 key every InnoDB row format indexes.
-- MariaDB/MySQL DDL is not transactional: every statement is idempotent.
CREATE TABLE IF NOT EXISTS {{prefix}}syncer_state (
    name       VARCHAR(191) NOT NULL PRIMARY KEY,
    state      JSON        NOT NULL,
    updated_at DATETIME(6) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
