-- Version 1: calls and the sync state of each number.
-- Times are DATETIME(6) holding UTC wall-clock time; the store converts
-- explicitly, so neither the session time_zone nor the DSN's loc matters.
-- utf8mb4_bin keeps callyzer_id unique and ordered byte by byte, as in Go.
-- MariaDB/MySQL DDL is not transactional: every statement is idempotent.
CREATE TABLE IF NOT EXISTS {{prefix}}calls (
    id               BIGINT      NOT NULL AUTO_INCREMENT PRIMARY KEY,
    callyzer_id      VARCHAR(191) NOT NULL,
    phone            VARCHAR(64) NOT NULL,
    direction        VARCHAR(64) NOT NULL,
    status           VARCHAR(64) NOT NULL,
    started_at       DATETIME(6) NOT NULL,
    duration_seconds INT         NOT NULL,
    employee_name    TEXT        NOT NULL,
    employee_code    TEXT        NOT NULL,
    employee_phone   TEXT        NOT NULL,
    client_name      TEXT        NOT NULL,
    recording_url    TEXT        NOT NULL,
    note             TEXT        NOT NULL,
    raw_call_type    TEXT        NOT NULL,
    crm_status       TEXT        NOT NULL,
    callyzer_lead_id TEXT        NOT NULL,
    synced_at        DATETIME(6) NULL,
    modified_at      DATETIME(6) NULL,
    UNIQUE KEY {{prefix}}calls_callyzer_id (callyzer_id),
    KEY {{prefix}}calls_phone_started (phone, started_at, callyzer_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE TABLE IF NOT EXISTS {{prefix}}sync_state (
    phone          VARCHAR(64) NOT NULL PRIMARY KEY,
    last_synced_at DATETIME(6) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
