-- Health check history (package checks). Times are Unix milliseconds, UTC,
-- as BIGINT so that the same queries run on SQLite.

-- +goose Up
-- One row per change of a check's state at one location ("server" or an
-- agent's instance); a state lasts until the next row of its check and
-- location. Uptime over any window is computed from these rows.
CREATE TABLE check_states (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    check_name TEXT   NOT NULL,
    location   TEXT   NOT NULL,
    state      TEXT   NOT NULL CHECK (state IN ('up', 'degraded', 'down', 'unknown')),
    reason     TEXT   NOT NULL DEFAULT '',
    since_ms   BIGINT NOT NULL
);

CREATE INDEX check_states_key_time ON check_states (check_name, location, since_ms);
CREATE INDEX check_states_time ON check_states (since_ms);

-- The last ping of each heartbeat check.
CREATE TABLE heartbeat_pings (
    check_name  TEXT    NOT NULL PRIMARY KEY,
    time_ms     BIGINT  NOT NULL,
    failed      INTEGER NOT NULL DEFAULT 0,
    runtime_ms  BIGINT  NOT NULL DEFAULT 0,
    message     TEXT    NOT NULL DEFAULT '',
    remote_addr TEXT    NOT NULL DEFAULT ''
);

-- When each check was first configured: a heartbeat check that never
-- received a ping is late from here plus its period and grace.
CREATE TABLE check_registry (
    check_name    TEXT   NOT NULL PRIMARY KEY,
    first_seen_ms BIGINT NOT NULL
);

-- +goose Down
DROP TABLE check_registry;
DROP TABLE heartbeat_pings;
DROP TABLE check_states;
