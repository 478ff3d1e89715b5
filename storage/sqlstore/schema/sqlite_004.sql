-- Version 4: feed health (feedhealth.State), one JSON document per name,
-- and an index on call time for counting a month's calls.
CREATE TABLE IF NOT EXISTS {{prefix}}feed_health (
    name       TEXT    NOT NULL PRIMARY KEY,
    state      TEXT    NOT NULL CHECK (json_valid(state)),
    updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS {{prefix}}calls_started ON {{prefix}}calls (started_at);
