package inventory

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"net"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/saypro/monitor/internal/agentapi"
	"github.com/saypro/monitor/internal/state"
)

// Limits on what a heartbeat may carry.
const (
	// MaxInstanceLength bounds the instance name, in bytes.
	MaxInstanceLength = 253
	// MaxFieldLength bounds the other text fields, in bytes.
	MaxFieldLength = 256
	// MaxLabels bounds the number of labels.
	MaxLabels = 64
	// MaxLabelNameLength bounds a label name, in bytes.
	MaxLabelNameLength = 128
	// MaxLabelValueLength bounds a label value, in bytes.
	MaxLabelValueLength = 1024
	// maxCPUs and maxInterval reject numbers no real host reports.
	maxCPUs     = 1 << 20
	maxInterval = 24 * time.Hour
)

// Sentinel errors.
var (
	// ErrInvalidHeartbeat is wrapped by the error of a heartbeat that
	// Heartbeat rejects; the message says what is wrong with it.
	ErrInvalidHeartbeat = errors.New("invalid heartbeat")
	// ErrNotFound is returned for an instance the inventory does not know.
	ErrNotFound = errors.New("host not found")
)

// labelNameRE is the Prometheus label name syntax, as the agent checks it.
var labelNameRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// validate returns an ErrInvalidHeartbeat error that lists every problem,
// or nil.
func validate(hb *agentapi.Heartbeat) error {
	var problems []string
	add := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }
	text := func(field, v string, limit int) {
		switch {
		case len(v) > limit:
			add("%s is %d bytes long, more than %d", field, len(v), limit)
		case !utf8.ValidString(v):
			add("%s is not valid UTF-8", field)
		case strings.ContainsFunc(v, unicode.IsControl):
			add("%s contains control characters", field)
		}
	}
	if strings.TrimSpace(hb.Instance) == "" {
		add("instance is required")
	} else {
		text("instance", hb.Instance, MaxInstanceLength)
	}
	for _, f := range []struct{ name, v string }{
		{"hostname", hb.Hostname}, {"os", hb.OS}, {"os_id", hb.OSID}, {"os_version", hb.OSVersion},
		{"kernel", hb.Kernel}, {"arch", hb.Arch}, {"agent_version", hb.AgentVersion},
	} {
		text(f.name, f.v, MaxFieldLength)
	}
	if hb.CPUs < 0 || hb.CPUs > maxCPUs {
		add("cpus %d is out of range 0 to %d", hb.CPUs, maxCPUs)
	}
	if hb.MemoryBytes > math.MaxInt64 {
		add("memory_bytes %d is out of range", hb.MemoryBytes)
	}
	if iv := float64(hb.Interval); math.IsNaN(iv) || iv < 0 || hb.Interval.D() > maxInterval {
		add("interval_seconds %v is out of range 0 to %d", iv, int(maxInterval.Seconds()))
	}
	for _, f := range []struct {
		name string
		t    time.Time
	}{{"boot_time", hb.BootTime}, {"agent_start_time", hb.AgentStartTime}} {
		if !f.t.IsZero() && f.t.Before(time.Unix(0, 0)) {
			add("%s %s is before 1970", f.name, f.t.Format(time.RFC3339))
		}
	}
	if len(hb.Labels) > MaxLabels {
		add("%d labels, more than %d", len(hb.Labels), MaxLabels)
	} else {
		for _, name := range slices.Sorted(maps.Keys(hb.Labels)) {
			v := hb.Labels[name]
			switch {
			case len(name) > MaxLabelNameLength:
				add("label name %.32q... is longer than %d bytes", name, MaxLabelNameLength)
			case !labelNameRE.MatchString(name) || strings.HasPrefix(name, "__"):
				add("invalid label name %q: use letters, digits and underscores, not starting with a digit or __", name)
			case name == "job" || name == "instance":
				add("label %q is set by the agent and cannot be a user label", name)
			case v == "":
				add("label %q has an empty value", name)
			default:
				text(fmt.Sprintf("label %q", name), v, MaxLabelValueLength)
			}
		}
	}
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s", ErrInvalidHeartbeat, strings.Join(problems, "; "))
}

// Heartbeat records a heartbeat that arrived from remoteAddr (host:port or
// any name, such as "in-process"): it validates it, creates or updates the
// host and records the events it implies, all in one transaction. An
// invalid heartbeat gets an error wrapping ErrInvalidHeartbeat.
func (inv *Inventory) Heartbeat(ctx context.Context, hb agentapi.Heartbeat, remoteAddr string) error {
	if err := validate(&hb); err != nil {
		inv.heartbeats.WithLabelValues(resultInvalid).Inc()
		return err
	}
	if host, _, err := net.SplitHostPort(remoteAddr); err == nil {
		remoteAddr = host
	}
	if len(remoteAddr) > MaxFieldLength {
		remoteAddr = remoteAddr[:MaxFieldLength]
	}
	cur := hostFromHeartbeat(&hb, remoteAddr)
	now := inv.now().UTC().Truncate(time.Millisecond)
	var rec recorded
	err := inv.db.WriteTx(ctx, func(tx *sql.Tx) error {
		var err error
		rec, err = recordHeartbeat(ctx, inv.db, tx, cur, now)
		return err
	})
	if err != nil {
		inv.heartbeats.WithLabelValues(resultError).Inc()
		return fmt.Errorf("recording the heartbeat of %q: %w", hb.Instance, err)
	}
	inv.heartbeats.WithLabelValues(resultOK).Inc()
	for _, ev := range rec.events {
		inv.logger.Info("host "+string(ev.Kind), "instance", hb.Instance, "event", ev.Message)
	}
	if rec.clockStep != 0 {
		inv.logger.Info("boot time moved while the agent kept running: taken for a step of the host's clock, not a reboot",
			"instance", hb.Instance, "shift", rec.clockStep, "boot_time", formatTime(cur.BootTime))
	}
	return nil
}

// hostFromHeartbeat is the stored form of a heartbeat, times in
// milliseconds.
func hostFromHeartbeat(hb *agentapi.Heartbeat, remoteAddr string) Host {
	return Host{
		Instance:          hb.Instance,
		Hostname:          hb.Hostname,
		OS:                hb.OS,
		OSID:              hb.OSID,
		OSVersion:         hb.OSVersion,
		Kernel:            hb.Kernel,
		Arch:              hb.Arch,
		CPUs:              hb.CPUs,
		MemoryBytes:       hb.MemoryBytes,
		AgentVersion:      hb.AgentVersion,
		Labels:            maps.Clone(hb.Labels),
		BootTime:          fromMillis(toMillis(hb.BootTime)),
		AgentStartTime:    fromMillis(toMillis(hb.AgentStartTime)),
		RemoteAddr:        remoteAddr,
		HeartbeatInterval: hb.Interval.D().Round(time.Millisecond),
	}
}

// recorded is what a heartbeat changed.
type recorded struct {
	// events were recorded, oldest kind first: up, then reboot or
	// agent_restart (or registered alone).
	events []Event
	// clockStep is how far the boot time moved under a running agent, if
	// more than BootTimeTolerance; it is not a reboot.
	clockStep time.Duration
}

// recordHeartbeat stores cur, seen at now, and returns what it recorded.
func recordHeartbeat(ctx context.Context, db *state.DB, tx *sql.Tx, cur Host, now time.Time) (recorded, error) {
	// A new instance is inserted as it is; ON CONFLICT makes two first
	// heartbeats of one instance on two servers register it once.
	res, err := tx.ExecContext(ctx, `INSERT INTO hosts (instance, hostname, os, os_id, os_version, kernel, arch, cpus, memory_bytes,
	agent_version, boot_time_ms, agent_start_time_ms, first_seen_ms, last_seen_ms, status, status_since_ms, remote_addr, heartbeat_interval_ms)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, $14, $13, $15, $16)
ON CONFLICT (instance) DO NOTHING`,
		cur.Instance, cur.Hostname, cur.OS, cur.OSID, cur.OSVersion, cur.Kernel, cur.Arch, cur.CPUs, int64(cur.MemoryBytes),
		cur.AgentVersion, toMillis(cur.BootTime), toMillis(cur.AgentStartTime), now.UnixMilli(), string(StatusUp),
		cur.RemoteAddr, cur.HeartbeatInterval.Milliseconds())
	if err != nil {
		return recorded{}, err
	}
	if n, err := res.RowsAffected(); err != nil {
		return recorded{}, err
	} else if n == 1 {
		if err := insertLabels(ctx, tx, cur.Instance, cur.Labels); err != nil {
			return recorded{}, err
		}
		ev := registeredEvent(now, cur)
		return recorded{events: []Event{ev}}, insertEvent(ctx, tx, cur.Instance, ev)
	}

	q := `SELECT ` + hostColumns + ` FROM hosts WHERE instance = $1`
	if db.Driver() == state.DriverPostgres {
		// Heartbeats of one host handled by two servers at once must not
		// both see the old boot time. SQLite has one writer anyway.
		q += ` FOR UPDATE`
	}
	prev, err := scanHost(tx.QueryRowContext(ctx, q, cur.Instance))
	if err != nil {
		return recorded{}, fmt.Errorf("reading the host: %w", err)
	}
	if prev.Labels, err = queryLabels(ctx, tx, cur.Instance); err != nil {
		return recorded{}, err
	}

	rec := detectEvents(prev, cur, now)
	statusSince := prev.StatusSince
	if prev.Status != StatusUp {
		statusSince = now
	}
	_, err = tx.ExecContext(ctx, `UPDATE hosts SET hostname = $2, os = $3, os_id = $4, os_version = $5, kernel = $6, arch = $7, cpus = $8,
	memory_bytes = $9, agent_version = $10, boot_time_ms = $11, agent_start_time_ms = $12, last_seen_ms = $13, status = $14,
	status_since_ms = $15, remote_addr = $16, heartbeat_interval_ms = $17
WHERE instance = $1`,
		cur.Instance, cur.Hostname, cur.OS, cur.OSID, cur.OSVersion, cur.Kernel, cur.Arch, cur.CPUs,
		int64(cur.MemoryBytes), cur.AgentVersion, toMillis(cur.BootTime), toMillis(cur.AgentStartTime), now.UnixMilli(), string(StatusUp),
		statusSince.UnixMilli(), cur.RemoteAddr, cur.HeartbeatInterval.Milliseconds())
	if err != nil {
		return recorded{}, fmt.Errorf("updating the host: %w", err)
	}
	if !maps.Equal(prev.Labels, cur.Labels) { // nil and empty are equal
		if _, err := tx.ExecContext(ctx, `DELETE FROM host_labels WHERE instance = $1`, cur.Instance); err != nil {
			return recorded{}, err
		}
		if err := insertLabels(ctx, tx, cur.Instance, cur.Labels); err != nil {
			return recorded{}, err
		}
	}
	for _, ev := range rec.events {
		if err := insertEvent(ctx, tx, cur.Instance, ev); err != nil {
			return recorded{}, err
		}
	}
	return rec, nil
}

// detectEvents compares a heartbeat (cur, arrived at now) with the stored
// host and returns the events it implies: up, then reboot or
// agent_restart.
func detectEvents(prev, cur Host, now time.Time) recorded {
	var events []Event
	if prev.Status == StatusDown {
		events = append(events, Event{
			Time: now,
			Kind: EventUp,
			Message: fmt.Sprintf("host is reporting again after %s without heartbeats (last heartbeat %s, marked down at %s)",
				now.Sub(prev.LastSeen).Round(time.Second), formatTime(prev.LastSeen), formatTime(prev.StatusSince)),
			Details: map[string]any{
				"last_seen":        detailTime(prev.LastSeen),
				"down_since":       detailTime(prev.StatusSince),
				"silent_seconds":   now.Sub(prev.LastSeen).Seconds(),
				"down_for_seconds": now.Sub(prev.StatusSince).Seconds(),
			},
		})
	}
	bootMoved := !prev.BootTime.IsZero() && !cur.BootTime.IsZero() &&
		cur.BootTime.Sub(prev.BootTime).Abs() > BootTimeTolerance
	agentKnown := !prev.AgentStartTime.IsZero() && !cur.AgentStartTime.IsZero()
	agentRestarted := agentKnown && !cur.AgentStartTime.Equal(prev.AgentStartTime)
	// A reboot restarts the agent; a boot time that moves under a running
	// agent is the clock being stepped. Without agent start times the boot
	// time alone decides.
	rebooted := bootMoved && (agentRestarted || !agentKnown)
	var clockStep time.Duration
	if bootMoved && !rebooted {
		clockStep = cur.BootTime.Sub(prev.BootTime)
	}
	switch {
	case rebooted:
		msg := fmt.Sprintf("host rebooted at %s (previous boot %s)", formatTime(cur.BootTime), formatTime(prev.BootTime))
		if cur.Kernel != prev.Kernel {
			msg += fmt.Sprintf("; kernel %s, was %s", cur.Kernel, prev.Kernel)
		}
		details := map[string]any{
			"boot_time":          detailTime(cur.BootTime),
			"previous_boot_time": detailTime(prev.BootTime),
			"kernel":             cur.Kernel,
			"previous_kernel":    prev.Kernel,
		}
		if agentRestarted {
			msg += fmt.Sprintf("; agent started at %s", formatTime(cur.AgentStartTime))
			details["agent_start_time"] = detailTime(cur.AgentStartTime)
			details["previous_agent_start_time"] = detailTime(prev.AgentStartTime)
			details["agent_version"] = cur.AgentVersion
			details["previous_agent_version"] = prev.AgentVersion
		}
		events = append(events, Event{Time: cur.BootTime, Kind: EventReboot, Message: msg, Details: details})
	case agentRestarted:
		msg := fmt.Sprintf("agent restarted at %s (previous start %s)", formatTime(cur.AgentStartTime), formatTime(prev.AgentStartTime))
		if cur.AgentVersion != prev.AgentVersion {
			msg += fmt.Sprintf("; version %s, was %s", cur.AgentVersion, prev.AgentVersion)
		}
		events = append(events, Event{
			Time:    cur.AgentStartTime,
			Kind:    EventAgentRestart,
			Message: msg,
			Details: map[string]any{
				"agent_start_time":          detailTime(cur.AgentStartTime),
				"previous_agent_start_time": detailTime(prev.AgentStartTime),
				"agent_version":             cur.AgentVersion,
				"previous_agent_version":    prev.AgentVersion,
			},
		})
	}
	return recorded{events: events, clockStep: clockStep}
}

func registeredEvent(now time.Time, h Host) Event {
	msg := fmt.Sprintf("host registered: %s", h.Hostname)
	if h.OS != "" {
		msg += ", " + h.OS
	}
	msg += fmt.Sprintf(", kernel %s %s, %d CPUs, %.1f GiB memory, agent %s", h.Kernel, h.Arch, h.CPUs, float64(h.MemoryBytes)/(1<<30), h.AgentVersion)
	if !h.BootTime.IsZero() {
		msg += ", booted " + formatTime(h.BootTime)
	}
	return Event{Time: now, Kind: EventRegistered, Message: msg, Details: map[string]any{
		"hostname":         h.Hostname,
		"os":               h.OS,
		"kernel":           h.Kernel,
		"arch":             h.Arch,
		"cpus":             h.CPUs,
		"memory_bytes":     h.MemoryBytes,
		"agent_version":    h.AgentVersion,
		"boot_time":        detailTime(h.BootTime),
		"agent_start_time": detailTime(h.AgentStartTime),
		"remote_addr":      h.RemoteAddr,
	}}
}

func downEvent(now, lastSeen time.Time, downAfter, interval time.Duration) Event {
	return Event{
		Time: now,
		Kind: EventDown,
		Message: fmt.Sprintf("no heartbeat since %s (%s ago; hosts are marked down after %s of silence)",
			formatTime(lastSeen), now.Sub(lastSeen).Round(time.Second), max(downAfter, MissedHeartbeats*interval)),
		Details: map[string]any{
			"last_seen":                  detailTime(lastSeen),
			"down_after_seconds":         downAfter.Seconds(),
			"heartbeat_interval_seconds": interval.Seconds(),
		},
	}
}

func insertEvent(ctx context.Context, tx *sql.Tx, instance string, ev Event) error {
	details, err := json.Marshal(ev.Details)
	if err != nil {
		return err
	}
	if ev.Details == nil {
		details = []byte("{}")
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO host_events (instance, time_ms, kind, message, details) VALUES ($1, $2, $3, $4, $5)`,
		instance, ev.Time.UnixMilli(), string(ev.Kind), ev.Message, string(details))
	if err != nil {
		return fmt.Errorf("recording the %s event: %w", ev.Kind, err)
	}
	return nil
}

func insertLabels(ctx context.Context, tx *sql.Tx, instance string, labels map[string]string) error {
	for _, name := range slices.Sorted(maps.Keys(labels)) {
		if _, err := tx.ExecContext(ctx, `INSERT INTO host_labels (instance, name, value) VALUES ($1, $2, $3)`, instance, name, labels[name]); err != nil {
			return fmt.Errorf("storing label %q: %w", name, err)
		}
	}
	return nil
}
