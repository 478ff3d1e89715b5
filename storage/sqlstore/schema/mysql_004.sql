-- Version 4: feed health (feedhealth.State), one JSON document per name,
-- and an index on call time for counting a month's calls. The index comes
-- last: CREATE INDEX has no IF NOT EXISTS on MySQL 8.
CREATE TABLE IF NOT EXISTS {{prefix}}feed_health (
    name       VARCHAR(191) NOT NULL PRIMARY KEY,
    state      JSON        NOT NULL,
    updated_at DATETIME(6) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE INDEX {{prefix}}calls_started ON {{prefix}}calls (started_at);
