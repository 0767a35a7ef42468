-- Incidents (package incident). Times are Unix milliseconds, UTC, as BIGINT
-- so that the same queries run on SQLite; JSON documents are TEXT.

-- +goose Up
-- One row per incident: a span of time during which the alerts of one
-- Alertmanager group (group_key) were firing, with who acknowledged and
-- resolved it. acknowledged_ms and resolved_ms are NULL until then.
CREATE TABLE incidents (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    group_key       TEXT    NOT NULL,
    receiver        TEXT    NOT NULL DEFAULT '',
    title           TEXT    NOT NULL,
    service         TEXT    NOT NULL DEFAULT '',
    host            TEXT    NOT NULL DEFAULT '',
    severity        TEXT    NOT NULL CHECK (severity IN ('critical', 'warning', 'info')),
    status          TEXT    NOT NULL CHECK (status IN ('open', 'acknowledged', 'resolved')),
    opened_ms       BIGINT  NOT NULL,
    acknowledged_ms BIGINT,
    acknowledged_by TEXT    NOT NULL DEFAULT '',
    resolved_ms     BIGINT,
    resolved_by     TEXT    NOT NULL DEFAULT '',
    root_cause      TEXT    NOT NULL DEFAULT '',
    group_labels    TEXT    NOT NULL DEFAULT '{}',
    updated_ms      BIGINT  NOT NULL
);

CREATE INDEX incidents_status_opened ON incidents (status, opened_ms);
CREATE INDEX incidents_opened ON incidents (opened_ms);
CREATE INDEX incidents_group_key ON incidents (group_key, id);

-- The alerts of each incident, one row per alert fingerprint, with the
-- state last seen. ends_ms is set once the alert resolved.
CREATE TABLE incident_alerts (
    incident_id BIGINT  NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    fingerprint TEXT    NOT NULL,
    labels      TEXT    NOT NULL DEFAULT '{}',
    annotations TEXT    NOT NULL DEFAULT '{}',
    starts_ms   BIGINT  NOT NULL,
    ends_ms     BIGINT,
    state       TEXT    NOT NULL CHECK (state IN ('firing', 'resolved')),
    PRIMARY KEY (incident_id, fingerprint)
);

-- The timeline of each incident.
CREATE TABLE incident_events (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    incident_id BIGINT  NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    time_ms     BIGINT  NOT NULL,
    kind        TEXT    NOT NULL,
    actor       TEXT    NOT NULL DEFAULT '',
    message     TEXT    NOT NULL DEFAULT '',
    detail      TEXT    NOT NULL DEFAULT '{}'
);

CREATE INDEX incident_events_incident ON incident_events (incident_id, time_ms, id);

-- Settings of package incident, such as the secret that signs ack links.
CREATE TABLE incident_settings (
    name  TEXT NOT NULL PRIMARY KEY,
    value TEXT NOT NULL
);

-- +goose Down
DROP TABLE incident_settings;
DROP TABLE incident_events;
DROP TABLE incident_alerts;
DROP TABLE incidents;
