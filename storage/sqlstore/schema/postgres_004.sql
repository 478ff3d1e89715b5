-- Version 4: feed health (feedhealth.State), one JSON document per name,
-- and an index on call time for counting a month's calls.
CREATE TABLE IF NOT EXISTS {{prefix}}feed_health (
    name       TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    state      JSON        NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX IF NOT EXISTS {{prefix}}calls_started ON {{prefix}}calls (started_at);
