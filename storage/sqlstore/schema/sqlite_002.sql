-- Version 2: the state of each named periodic sync (callhistory.SyncState),
-- one JSON document per name; updated_at in microseconds, as every time.
CREATE TABLE IF NOT EXISTS {{prefix}}syncer_state (
    name       TEXT    NOT NULL PRIMARY KEY,
    state      TEXT    NOT NULL CHECK (json_valid(state)),
    updated_at INTEGER NOT NULL
);
