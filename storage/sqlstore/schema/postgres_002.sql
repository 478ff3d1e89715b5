-- Version 2: the state of each named periodic sync (callhistory.SyncState),
-- one JSON document per name. The type is json, not jsonb: json keeps the
-- text as written, so every state round-trips exactly (jsonb refuses the
-- \u0000 a LastError may hold); it is still checked as JSON and can be
-- queried with ->> by an operator.
CREATE TABLE IF NOT EXISTS {{prefix}}syncer_state (
    name       TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    state      JSON        NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
