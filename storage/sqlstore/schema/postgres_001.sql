-- Version 1: calls and the sync state of each number.
-- Identifiers use the "C" collation so that ordering by callyzer_id matches
-- Go's byte order in every locale.
CREATE TABLE IF NOT EXISTS {{prefix}}calls (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    callyzer_id      TEXT COLLATE "C" NOT NULL UNIQUE,
    phone            TEXT COLLATE "C" NOT NULL,
    direction        TEXT        NOT NULL,
    status           TEXT        NOT NULL,
    started_at       TIMESTAMPTZ NOT NULL,
    duration_seconds INTEGER     NOT NULL,
    employee_name    TEXT        NOT NULL,
    employee_code    TEXT        NOT NULL,
    employee_phone   TEXT        NOT NULL,
    client_name      TEXT        NOT NULL,
    recording_url    TEXT        NOT NULL,
    note             TEXT        NOT NULL,
    raw_call_type    TEXT        NOT NULL,
    crm_status       TEXT        NOT NULL,
    callyzer_lead_id TEXT        NOT NULL,
    synced_at        TIMESTAMPTZ NULL,
    modified_at      TIMESTAMPTZ NULL
);
CREATE INDEX IF NOT EXISTS {{prefix}}calls_phone_started
    ON {{prefix}}calls (phone, started_at DESC, callyzer_id);
CREATE TABLE IF NOT EXISTS {{prefix}}sync_state (
    phone          TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    last_synced_at TIMESTAMPTZ NOT NULL
);
