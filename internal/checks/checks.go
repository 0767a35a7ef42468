// Package checks keeps the server's view of health checks: their
// configuration, the current state of each at each location (the server,
// or each agent that runs it), the recent results, the history of state
// changes in the state store and the uptime over any window computed from
// it. It stores the samples of the checks the server runs, receives the
// results of the checks agents run and the pings of heartbeat checks, and
// serves the read-only checks API.
//
// Probing itself is package probe's; this package does not run checks.
package checks

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"

	"github.com/saypro/monitor/internal/agentapi"
	"github.com/saypro/monitor/internal/config/checkconfig"
	"github.com/saypro/monitor/internal/probe"
	"github.com/saypro/monitor/internal/state"
)

// Defaults of Options.
const (
	// DefaultHistoryRetention keeps a year and a month of state changes.
	DefaultHistoryRetention = 400 * 24 * time.Hour
	// recentResults is how many results per check and location are kept
	// in memory for the API.
	recentResults = 60
	// staleAfter is how many intervals an agent may stay silent about a
	// check before its state there becomes unknown.
	staleAfter = 3
)

// LocationServer is the location of checks the server runs.
const LocationServer = "server"

// Options configure a Manager. DB and Logger are required.
type Options struct {
	DB *state.DB
	// Appendable receives the samples of the checks the server runs; nil
	// drops them (tests).
	Appendable       storage.Appendable
	HistoryRetention time.Duration
	Logger           *slog.Logger
	Registerer       prometheus.Registerer
}

// Manager is the server's register of checks.
type Manager struct {
	opts   Options
	store  store
	logger *slog.Logger
	now    func() time.Time

	mu        sync.RWMutex
	checks    []checkconfig.Check   // in configuration order
	byName    map[string]int        // index in checks
	byToken   map[string]string     // heartbeat token → check name
	status    map[key]*status       // by check and location
	pings     map[string]probe.Ping // last ping of heartbeat checks
	firstSeen map[string]time.Time  // when each check was first configured

	changes   *prometheus.CounterVec
	appendErr prometheus.Counter
	pingsRecv *prometheus.CounterVec
}

type key struct{ check, location string }

// status is the state of a check at one location.
type status struct {
	State    string
	Reason   string
	Since    time.Time
	LastRun  time.Time
	Duration time.Duration
	recent   []Result // ring, oldest overwritten
	next     int
}

// Result is one run of a check, as the API shows it.
type Result struct {
	Location string    `json:"location"`
	Time     time.Time `json:"time"`
	State    string    `json:"state"`
	Reason   string    `json:"reason,omitempty"`
	Duration float64   `json:"duration_seconds"`
}

// New opens the manager on the state store and loads the current states.
func New(ctx context.Context, o Options) (*Manager, error) {
	if o.DB == nil || o.Logger == nil {
		return nil, errors.New("checks: DB and Logger are required")
	}
	if o.HistoryRetention <= 0 {
		o.HistoryRetention = DefaultHistoryRetention
	}
	reg := o.Registerer
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	f := promauto.With(reg)
	m := &Manager{
		opts: o, store: store{o.DB}, logger: o.Logger, now: time.Now,
		byName: map[string]int{}, byToken: map[string]string{}, status: map[key]*status{},
		firstSeen: map[string]time.Time{},
		changes: f.NewCounterVec(prometheus.CounterOpts{
			Name: "saypro_check_state_changes_total",
			Help: "Changes of check states recorded, by new state.",
		}, []string{"state"}),
		appendErr: f.NewCounter(prometheus.CounterOpts{
			Name: "saypro_check_samples_refused_total",
			Help: "Samples of check runs the metrics store refused.",
		}),
		pingsRecv: f.NewCounterVec(prometheus.CounterOpts{
			Name: "saypro_heartbeat_pings_total",
			Help: "Pings received on heartbeat check URLs, by result (ok, fail, unknown_token).",
		}, []string{"result"}),
	}
	latest, err := m.store.latest(ctx)
	if err != nil {
		return nil, fmt.Errorf("loading check states: %w", err)
	}
	for _, c := range latest {
		m.status[key{c.Check, c.Location}] = &status{State: c.State, Reason: c.Reason, Since: c.Time}
	}
	if m.pings, err = m.store.pings(ctx); err != nil {
		return nil, fmt.Errorf("loading heartbeat pings: %w", err)
	}
	return m, nil
}

// SetChecks replaces the configured checks. Checks no longer configured
// keep their history; their current state becomes unknown.
func (m *Manager) SetChecks(ctx context.Context, cs []checkconfig.Check) error {
	names := make([]string, len(cs))
	for i := range cs {
		names[i] = cs[i].Name
	}
	first, err := m.store.register(ctx, names, m.now())
	if err != nil {
		return fmt.Errorf("registering checks: %w", err)
	}
	m.mu.Lock()
	m.checks = slices.Clone(cs)
	m.byName = make(map[string]int, len(cs))
	m.byToken = map[string]string{}
	for i, c := range m.checks {
		m.byName[c.Name] = i
		if c.Heartbeat != nil {
			m.byToken[string(c.Heartbeat.Token)] = c.Name
		}
	}
	m.firstSeen = first
	var gone []key
	for k, st := range m.status {
		if _, ok := m.byName[k.check]; !ok && st.State != StateUnknown {
			gone = append(gone, k)
		}
	}
	m.mu.Unlock()
	for _, k := range gone {
		m.setState(ctx, k, StateUnknown, "the check was removed from the configuration", m.now())
	}
	return nil
}

// ServerChecks returns the checks the server runs itself.
func (m *Manager) ServerChecks() []checkconfig.Check {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return checkconfig.OnServer(m.checks)
}

// ChecksFor returns the checks an agent with these labels (its instance
// included as "instance") runs.
func (m *Manager) ChecksFor(agentLabels map[string]string) []checkconfig.Check {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []checkconfig.Check
	for _, c := range m.checks {
		if c.RunOn.Matches(agentLabels) {
			out = append(out, c)
		}
	}
	return out
}

// Record stores an outcome of a check the server ran: its samples go to
// the metrics store, its state to the history when it changed.
func (m *Manager) Record(o probe.Outcome) {
	if m.opts.Appendable != nil {
		m.appendSamples(o)
	}
	m.record(context.Background(), o.Check, o.Location, Result{
		Location: o.Location, Time: o.Time, State: string(o.State), Reason: o.Reason, Duration: o.Duration.Seconds(),
	})
}

func (m *Manager) appendSamples(o probe.Outcome) {
	app := m.opts.Appendable.Appender(context.Background())
	ts := o.Time.UnixMilli()
	var b labels.ScratchBuilder
	for _, s := range o.Series() {
		b.Reset()
		for _, l := range s.Labels {
			b.Add(l.Name, l.Value)
		}
		if _, err := app.Append(0, b.Labels(), ts, s.Value); err != nil {
			m.appendErr.Inc()
		}
	}
	if err := app.Commit(); err != nil {
		m.logger.Warn("storing the samples of a check run", "check", o.Check, "err", err)
	}
}

// RecordRemote takes the results an agent reported.
func (m *Manager) RecordRemote(ctx context.Context, rs agentapi.CheckResults) error {
	for _, r := range rs.Results {
		if !slices.Contains(probe.States, probe.State(r.State)) {
			return fmt.Errorf("result of check %q has unknown state %q", r.Check, r.State)
		}
	}
	for _, r := range rs.Results {
		m.record(ctx, r.Check, rs.Instance, Result{
			Location: rs.Instance, Time: r.Time, State: r.State, Reason: r.Reason, Duration: float64(r.Duration),
		})
	}
	return nil
}

func (m *Manager) record(ctx context.Context, check, location string, r Result) {
	m.mu.Lock()
	if _, ok := m.byName[check]; !ok {
		// Removed from the configuration while the run was going.
		m.mu.Unlock()
		return
	}
	k := key{check, location}
	st := m.status[k]
	if st == nil {
		st = &status{State: StateUnknown, Since: r.Time}
		m.status[k] = st
	}
	if len(st.recent) < recentResults {
		st.recent = append(st.recent, r)
	} else {
		st.recent[st.next] = r
		st.next = (st.next + 1) % recentResults
	}
	if r.Time.After(st.LastRun) {
		st.LastRun, st.Duration = r.Time, time.Duration(r.Duration*float64(time.Second))
	}
	changed := st.State != r.State
	if !changed && r.State != "up" {
		// Keep the latest reason of a lasting problem for the API.
		st.Reason = r.Reason
	}
	m.mu.Unlock()
	if changed {
		m.setState(ctx, k, r.State, r.Reason, r.Time)
	}
}

// setState records a change of state in memory and in the history.
func (m *Manager) setState(ctx context.Context, k key, state, reason string, at time.Time) {
	m.setStates(ctx, []Change{{Check: k.check, Location: k.location, Time: at, State: state, Reason: reason}})
}

// setStates records changes of state in memory and, in one transaction,
// in the history. Changes to the state already held are dropped.
func (m *Manager) setStates(ctx context.Context, cs []Change) {
	var rows []Change
	m.mu.Lock()
	for _, c := range cs {
		k := key{c.Check, c.Location}
		st := m.status[k]
		if st == nil {
			st = &status{}
			m.status[k] = st
		}
		prev := st.State
		if prev == c.State {
			continue
		}
		st.State, st.Reason, st.Since = c.State, c.Reason, c.Time
		rows = append(rows, c)
		m.changes.WithLabelValues(c.State).Inc()
		if len(cs) == 1 {
			level := slog.LevelInfo
			if c.State == "down" {
				level = slog.LevelWarn
			}
			m.logger.Log(ctx, level, "check state changed", "check", c.Check, "location", c.Location, "from", cmp.Or(prev, StateUnknown), "to", c.State, "reason", c.Reason)
		}
	}
	m.mu.Unlock()
	if len(rows) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := m.store.insertChanges(ctx, rows); err != nil {
		m.logger.Error("recording check state changes; uptime figures will miss them", "changes", len(rows), "err", err)
	}
}

// Run sweeps stale agent results and prunes old history until ctx is
// done; then it marks every known state unknown, since the server no
// longer watches.
func (m *Manager) Run(ctx context.Context) error {
	tick := time.NewTicker(10 * time.Second)
	defer tick.Stop()
	lastPrune := time.Time{}
	for {
		select {
		case <-ctx.Done():
			m.stopAll()
			return nil
		case <-tick.C:
		}
		now := m.now()
		m.sweep(ctx, now)
		if now.Sub(lastPrune) > time.Hour {
			lastPrune = now
			n, err := m.store.prune(ctx, now.Add(-m.opts.HistoryRetention))
			if err != nil {
				m.logger.Warn("pruning check history", "err", err)
			} else if n > 0 {
				m.logger.Info("pruned check history", "rows", n, "older_than", now.Add(-m.opts.HistoryRetention).UTC())
			}
		}
	}
}

// sweep marks unknown the checks whose location (an agent) has reported
// nothing for several intervals.
func (m *Manager) sweep(ctx context.Context, now time.Time) {
	var found []Change
	m.mu.RLock()
	for k, st := range m.status {
		i, ok := m.byName[k.check]
		if !ok || st.State == StateUnknown || st.LastRun.IsZero() {
			continue
		}
		c := m.checks[i]
		limit := time.Duration(c.Interval)*staleAfter + time.Duration(c.Timeout)
		if k.location != LocationServer && now.Sub(st.LastRun) > limit {
			found = append(found, Change{Check: k.check, Location: k.location, Time: now, State: StateUnknown,
				Reason: fmt.Sprintf("no result from %s since %s", k.location, st.LastRun.UTC().Format(time.RFC3339))})
		}
	}
	m.mu.RUnlock()
	m.setStates(ctx, found)
}

// stopAll records that nothing is known from now on.
func (m *Manager) stopAll() {
	now := m.now()
	m.mu.RLock()
	cs := make([]Change, 0, len(m.status))
	for k := range m.status {
		cs = append(cs, Change{Check: k.check, Location: k.location, Time: now, State: StateUnknown, Reason: "the server stopped"})
	}
	m.mu.RUnlock()
	m.setStates(context.Background(), cs)
}
