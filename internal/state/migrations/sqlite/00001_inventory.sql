-- Host inventory, filled from agent heartbeats (package inventory).
-- Times are Unix milliseconds, UTC; 0 means unknown.

-- +goose Up
CREATE TABLE hosts (
    instance              TEXT    NOT NULL PRIMARY KEY,
    hostname              TEXT    NOT NULL DEFAULT '',
    os                    TEXT    NOT NULL DEFAULT '',
    os_id                 TEXT    NOT NULL DEFAULT '',
    os_version            TEXT    NOT NULL DEFAULT '',
    kernel                TEXT    NOT NULL DEFAULT '',
    arch                  TEXT    NOT NULL DEFAULT '',
    cpus                  INTEGER NOT NULL DEFAULT 0,
    memory_bytes          INTEGER NOT NULL DEFAULT 0,
    agent_version         TEXT    NOT NULL DEFAULT '',
    boot_time_ms          INTEGER NOT NULL DEFAULT 0,
    agent_start_time_ms   INTEGER NOT NULL DEFAULT 0,
    first_seen_ms         INTEGER NOT NULL,
    last_seen_ms          INTEGER NOT NULL,
    status                TEXT    NOT NULL CHECK (status IN ('up', 'down')),
    status_since_ms       INTEGER NOT NULL,
    remote_addr           TEXT    NOT NULL DEFAULT '',
    heartbeat_interval_ms INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE INDEX hosts_status_last_seen ON hosts (status, last_seen_ms);

CREATE TABLE host_labels (
    instance TEXT NOT NULL REFERENCES hosts (instance) ON DELETE CASCADE,
    name     TEXT NOT NULL,
    value    TEXT NOT NULL,
    PRIMARY KEY (instance, name)
) STRICT;

CREATE INDEX host_labels_name_value ON host_labels (name, value);

CREATE TABLE host_events (
    id       INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    instance TEXT    NOT NULL REFERENCES hosts (instance) ON DELETE CASCADE,
    time_ms  INTEGER NOT NULL,
    kind     TEXT    NOT NULL CHECK (kind IN ('registered', 'reboot', 'agent_restart', 'down', 'up')),
    message  TEXT    NOT NULL,
    details  TEXT    NOT NULL DEFAULT '{}'
) STRICT;

CREATE INDEX host_events_instance_time ON host_events (instance, time_ms, id);

-- +goose Down
DROP TABLE host_events;
DROP TABLE host_labels;
DROP TABLE hosts;
