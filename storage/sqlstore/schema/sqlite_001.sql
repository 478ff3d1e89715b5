-- Version 1: calls and the sync state of each number.
-- Times are INTEGER microseconds since the Unix epoch, UTC, so that they sort
-- and compare exactly.
CREATE TABLE IF NOT EXISTS {{prefix}}calls (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    callyzer_id      TEXT    NOT NULL UNIQUE,
    phone            TEXT    NOT NULL,
    direction        TEXT    NOT NULL,
    status           TEXT    NOT NULL,
    started_at       INTEGER NOT NULL,
    duration_seconds INTEGER NOT NULL,
    employee_name    TEXT    NOT NULL,
    employee_code    TEXT    NOT NULL,
    employee_phone   TEXT    NOT NULL,
    client_name      TEXT    NOT NULL,
    recording_url    TEXT    NOT NULL,
    note             TEXT    NOT NULL,
    raw_call_type    TEXT    NOT NULL,
    crm_status       TEXT    NOT NULL,
    callyzer_lead_id TEXT    NOT NULL,
    synced_at        INTEGER NULL,
    modified_at      INTEGER NULL
);
CREATE INDEX IF NOT EXISTS {{prefix}}calls_phone_started
    ON {{prefix}}calls (phone, started_at DESC, callyzer_id);
CREATE TABLE IF NOT EXISTS {{prefix}}sync_state (
    phone          TEXT    NOT NULL PRIMARY KEY,
    last_synced_at INTEGER NOT NULL
);
