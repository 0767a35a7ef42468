package inventory

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Status is a host's reporting status.
type Status string

// Host statuses.
const (
	// StatusUp means the host's agent sends heartbeats.
	StatusUp Status = "up"
	// StatusDown means it has been silent for longer than DownAfter.
	StatusDown Status = "down"
)

// EventKind names what happened to a host.
type EventKind string

// Event kinds; see the package documentation for when each is recorded.
const (
	EventRegistered   EventKind = "registered"
	EventReboot       EventKind = "reboot"
	EventAgentRestart EventKind = "agent_restart"
	EventDown         EventKind = "down"
	EventUp           EventKind = "up"
)

// Host is what the inventory knows about one host. Times are UTC with
// millisecond precision; a zero time is unknown.
type Host struct {
	Instance     string
	Hostname     string
	OS           string
	OSID         string
	OSVersion    string
	Kernel       string
	Arch         string
	CPUs         int
	MemoryBytes  uint64
	AgentVersion string
	// Labels are the user labels the agent adds to every series.
	Labels map[string]string
	// BootTime and AgentStartTime are as last reported.
	BootTime       time.Time
	AgentStartTime time.Time
	FirstSeen      time.Time
	LastSeen       time.Time
	Status         Status
	// StatusSince is when the host last changed status (or registered).
	StatusSince time.Time
	// RemoteAddr is the address the last heartbeat came from, without port.
	RemoteAddr string
	// HeartbeatInterval is how often the agent says it sends heartbeats.
	HeartbeatInterval time.Duration
}

// MarshalJSON writes the host in the API's form: snake_case names, RFC 3339
// UTC times (null when unknown) and the interval in seconds.
func (h Host) MarshalJSON() ([]byte, error) {
	labels := h.Labels
	if labels == nil {
		labels = map[string]string{}
	}
	return json.Marshal(struct {
		Instance          string            `json:"instance"`
		Hostname          string            `json:"hostname"`
		OS                string            `json:"os"`
		OSID              string            `json:"os_id"`
		OSVersion         string            `json:"os_version"`
		Kernel            string            `json:"kernel"`
		Arch              string            `json:"arch"`
		CPUs              int               `json:"cpus"`
		MemoryBytes       uint64            `json:"memory_bytes"`
		AgentVersion      string            `json:"agent_version"`
		Labels            map[string]string `json:"labels"`
		BootTime          jsonTime          `json:"boot_time"`
		AgentStartTime    jsonTime          `json:"agent_start_time"`
		FirstSeen         jsonTime          `json:"first_seen"`
		LastSeen          jsonTime          `json:"last_seen"`
		Status            Status            `json:"status"`
		StatusSince       jsonTime          `json:"status_since"`
		RemoteAddr        string            `json:"remote_addr"`
		HeartbeatInterval float64           `json:"heartbeat_interval_seconds"`
	}{
		h.Instance, h.Hostname, h.OS, h.OSID, h.OSVersion, h.Kernel, h.Arch, h.CPUs, h.MemoryBytes, h.AgentVersion, labels,
		jsonTime(h.BootTime), jsonTime(h.AgentStartTime), jsonTime(h.FirstSeen), jsonTime(h.LastSeen),
		h.Status, jsonTime(h.StatusSince), h.RemoteAddr, h.HeartbeatInterval.Seconds(),
	})
}

// Event is something that happened to a host.
type Event struct {
	// Time is when it happened: a reboot at the new boot time, an agent
	// restart at the agent's new start time, the others when the server
	// noticed.
	Time time.Time
	Kind EventKind
	// Message says what happened in plain language.
	Message string
	// Details holds the values behind the message, for tools.
	Details map[string]any
}

// MarshalJSON writes the event in the API's form.
func (e Event) MarshalJSON() ([]byte, error) {
	details := e.Details
	if details == nil {
		details = map[string]any{}
	}
	return json.Marshal(struct {
		Time    jsonTime       `json:"time"`
		Kind    EventKind      `json:"kind"`
		Message string         `json:"message"`
		Details map[string]any `json:"details"`
	}{jsonTime(e.Time), e.Kind, e.Message, details})
}

// Filter selects hosts. The zero Filter selects all.
type Filter struct {
	// Status, if set, selects hosts with that status.
	Status Status
	// Labels selects hosts that have every one of these labels with
	// exactly that value.
	Labels map[string]string
}

// hostColumns are read by scanHost, in its order.
const hostColumns = `instance, hostname, os, os_id, os_version, kernel, arch, cpus, memory_bytes, agent_version,
	boot_time_ms, agent_start_time_ms, first_seen_ms, last_seen_ms, status, status_since_ms, remote_addr, heartbeat_interval_ms`

// Hosts returns the hosts that f selects, ordered by instance.
func (inv *Inventory) Hosts(ctx context.Context, f Filter) ([]Host, error) {
	if f.Status != "" && f.Status != StatusUp && f.Status != StatusDown {
		return nil, fmt.Errorf("unknown status %q: use %q or %q", f.Status, StatusUp, StatusDown)
	}
	var (
		where []string
		args  []any
	)
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if f.Status != "" {
		where = append(where, "status = "+arg(string(f.Status)))
	}
	for _, name := range slices.Sorted(maps.Keys(f.Labels)) {
		where = append(where, "EXISTS (SELECT 1 FROM host_labels l WHERE l.instance = hosts.instance AND l.name = "+
			arg(name)+" AND l.value = "+arg(f.Labels[name])+")")
	}
	q := "SELECT " + hostColumns + " FROM hosts"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY instance"

	// One read transaction, so that the labels match the hosts.
	tx, err := inv.db.SQL().BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback() //nolint:errcheck // read-only
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("listing hosts: %w", err)
	}
	hosts := []Host{}
	for rows.Next() {
		h, err := scanHost(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("listing hosts: %w", err)
		}
		hosts = append(hosts, h)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing hosts: %w", err)
	}
	if len(hosts) == 0 {
		return hosts, nil
	}
	labels, err := allLabels(ctx, tx)
	if err != nil {
		return nil, err
	}
	for i := range hosts {
		hosts[i].Labels = labels[hosts[i].Instance]
	}
	return hosts, nil
}

// DefaultEventLimit is how many events Host returns for a limit of zero or
// less; MaxEventLimit is the most it returns.
const (
	DefaultEventLimit = 100
	MaxEventLimit     = 10000
)

// Host returns one host and its newest events, newest first, at most
// eventLimit of them (DefaultEventLimit if zero or less). It returns
// ErrNotFound for an unknown instance.
func (inv *Inventory) Host(ctx context.Context, instance string, eventLimit int) (Host, []Event, error) {
	if eventLimit <= 0 {
		eventLimit = DefaultEventLimit
	}
	eventLimit = min(eventLimit, MaxEventLimit)
	tx, err := inv.db.SQL().BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return Host{}, nil, err
	}
	defer tx.Rollback() //nolint:errcheck // read-only
	h, err := scanHost(tx.QueryRowContext(ctx, "SELECT "+hostColumns+" FROM hosts WHERE instance = $1", instance))
	if errors.Is(err, sql.ErrNoRows) {
		return Host{}, nil, fmt.Errorf("%w: %q", ErrNotFound, instance)
	}
	if err != nil {
		return Host{}, nil, fmt.Errorf("reading host %q: %w", instance, err)
	}
	if h.Labels, err = queryLabels(ctx, tx, instance); err != nil {
		return Host{}, nil, err
	}
	rows, err := tx.QueryContext(ctx,
		`SELECT time_ms, kind, message, details FROM host_events WHERE instance = $1 ORDER BY time_ms DESC, id DESC LIMIT $2`,
		instance, eventLimit)
	if err != nil {
		return Host{}, nil, fmt.Errorf("reading the events of %q: %w", instance, err)
	}
	defer rows.Close()
	events := []Event{}
	for rows.Next() {
		var (
			ev      Event
			ms      int64
			kind    string
			details string
		)
		if err := rows.Scan(&ms, &kind, &ev.Message, &details); err != nil {
			return Host{}, nil, err
		}
		ev.Time, ev.Kind = fromMillis(ms), EventKind(kind)
		if err := json.Unmarshal([]byte(details), &ev.Details); err != nil {
			return Host{}, nil, fmt.Errorf("event details of %q: %w", instance, err)
		}
		events = append(events, ev)
	}
	if err := rows.Err(); err != nil {
		return Host{}, nil, err
	}
	return h, events, nil
}

// scanHost reads the hostColumns of one row; Labels stays nil.
func scanHost(row interface{ Scan(...any) error }) (Host, error) {
	var (
		h                                                   Host
		status                                              string
		memory                                              int64
		boot, agentStart, first, last, since, intervalMilli int64
	)
	err := row.Scan(&h.Instance, &h.Hostname, &h.OS, &h.OSID, &h.OSVersion, &h.Kernel, &h.Arch, &h.CPUs, &memory, &h.AgentVersion,
		&boot, &agentStart, &first, &last, &status, &since, &h.RemoteAddr, &intervalMilli)
	if err != nil {
		return Host{}, err
	}
	h.MemoryBytes = uint64(max(memory, 0))
	h.BootTime, h.AgentStartTime = fromMillis(boot), fromMillis(agentStart)
	h.FirstSeen, h.LastSeen, h.StatusSince = fromMillis(first), fromMillis(last), fromMillis(since)
	h.Status = Status(status)
	h.HeartbeatInterval = time.Duration(intervalMilli) * time.Millisecond
	return h, nil
}

// queryLabels returns one host's labels, nil if it has none.
func queryLabels(ctx context.Context, tx *sql.Tx, instance string) (map[string]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT name, value FROM host_labels WHERE instance = $1`, instance)
	if err != nil {
		return nil, fmt.Errorf("reading the labels of %q: %w", instance, err)
	}
	defer rows.Close()
	var labels map[string]string
	for rows.Next() {
		var name, value string
		if err := rows.Scan(&name, &value); err != nil {
			return nil, err
		}
		if labels == nil {
			labels = map[string]string{}
		}
		labels[name] = value
	}
	return labels, rows.Err()
}

// allLabels returns the labels of every host by instance.
func allLabels(ctx context.Context, tx *sql.Tx) (map[string]map[string]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT instance, name, value FROM host_labels`)
	if err != nil {
		return nil, fmt.Errorf("reading labels: %w", err)
	}
	defer rows.Close()
	labels := map[string]map[string]string{}
	for rows.Next() {
		var instance, name, value string
		if err := rows.Scan(&instance, &name, &value); err != nil {
			return nil, err
		}
		if labels[instance] == nil {
			labels[instance] = map[string]string{}
		}
		labels[instance][name] = value
	}
	return labels, rows.Err()
}

// toMillis stores a time as Unix milliseconds, 0 for the zero time.
func toMillis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// fromMillis is the inverse of toMillis, in UTC.
func fromMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// formatTime writes a time as RFC 3339 in UTC, "unknown" for the zero time.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return "unknown"
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// detailTime is a time for an event's details: RFC 3339 UTC, or nil
// (JSON null) when unknown.
func detailTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// jsonTime is a time written as RFC 3339 UTC, or null when zero.
type jsonTime time.Time

// MarshalJSON implements json.Marshaler.
func (t jsonTime) MarshalJSON() ([]byte, error) {
	if time.Time(t).IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(time.Time(t).UTC().Format(time.RFC3339Nano))
}
