package inventory

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/saypro/monitor/internal/agentapi"
	"github.com/saypro/monitor/internal/config/checkconfig"
	"github.com/saypro/monitor/internal/state"
)

const (
	// DefaultDownAfter is how long a host may stay silent before it is
	// marked down when Options.DownAfter is zero.
	DefaultDownAfter = 2 * time.Minute
	// BootTimeTolerance is how far the reported boot time may move without
	// being taken for a reboot.
	BootTimeTolerance = 2 * time.Second
	// MissedHeartbeats is how many heartbeat intervals a host may miss
	// before it is marked down, when that is longer than DownAfter: an
	// agent configured to report less often than DownAfter would
	// otherwise flap between up and down.
	MissedHeartbeats = 2
	// sweepEvery is how often Run looks for silent hosts.
	sweepEvery = 5 * time.Second
	// collectTimeout bounds the query behind the status metrics.
	collectTimeout = 10 * time.Second
)

// Options configure New. DB, Logger and Registerer are required.
type Options struct {
	// DB is the state store holding the inventory.
	DB *state.DB
	// DownAfter is how long a host may stay silent before it is marked
	// down; zero means DefaultDownAfter. A host whose agent reports less
	// often gets MissedHeartbeats of its intervals instead.
	DownAfter time.Duration
	// Logger receives registrations, reboots, restarts, downs and ups.
	Logger *slog.Logger
	// Registerer gets the inventory's metrics.
	Registerer prometheus.Registerer
	// EventRetention is how long host events are kept; zero means
	// DefaultEventRetention. Older events are deleted about once an hour,
	// so that a flapping host cannot grow the store without bound.
	EventRetention time.Duration
	// Now is the clock; nil means time.Now. Tests inject their own.
	Now func() time.Time
	// Checks returns the health checks an agent runs, sent back in the
	// answer to its heartbeat; nil sends none.
	Checks func(agentapi.Heartbeat) []checkconfig.Check
}

// DefaultEventRetention keeps a quarter of host events.
const DefaultEventRetention = 90 * 24 * time.Hour

// pruneEvery is how often old events are deleted.
const pruneEvery = time.Hour

// Inventory keeps the hosts that send heartbeats. It is safe for
// concurrent use.
type Inventory struct {
	db        *state.DB
	logger    *slog.Logger
	now       func() time.Time
	downAfter atomic.Int64
	retention atomic.Int64
	// started is when the inventory was created: no host is marked down
	// before started+DownAfter.
	started    time.Time
	sweepEvery time.Duration
	checks     func(agentapi.Heartbeat) []checkconfig.Check

	heartbeats *prometheus.CounterVec
}

// New returns an inventory on o.DB and registers its metrics.
func New(o Options) (*Inventory, error) {
	if o.DB == nil || o.Logger == nil || o.Registerer == nil {
		return nil, errors.New("inventory: DB, Logger and Registerer are required")
	}
	if o.DownAfter < 0 {
		return nil, fmt.Errorf("inventory: DownAfter must not be negative, got %s", o.DownAfter)
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	inv := &Inventory{
		db:         o.DB,
		logger:     o.Logger,
		now:        now,
		started:    now(),
		sweepEvery: sweepEvery,
		checks:     o.Checks,
		heartbeats: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "saypro_inventory_heartbeats_total",
			Help: "Agent heartbeats received, by result: ok, invalid (rejected with 400) or error (not stored).",
		}, []string{"result"}),
	}
	inv.SetDownAfter(o.DownAfter)
	inv.SetEventRetention(o.EventRetention)
	for _, r := range []string{resultOK, resultInvalid, resultError} {
		inv.heartbeats.WithLabelValues(r)
	}
	if err := o.Registerer.Register(inv.heartbeats); err != nil {
		return nil, fmt.Errorf("inventory: registering metrics: %w", err)
	}
	if err := o.Registerer.Register(newStatusCollector(inv)); err != nil {
		return nil, fmt.Errorf("inventory: registering metrics: %w", err)
	}
	return inv, nil
}

// SetDownAfter changes how long a host may stay silent before it is marked
// down; zero or less means DefaultDownAfter. It takes effect at the next
// sweep.
func (inv *Inventory) SetDownAfter(d time.Duration) {
	if d <= 0 {
		d = DefaultDownAfter
	}
	if old := time.Duration(inv.downAfter.Swap(int64(d))); old != d && old != 0 {
		inv.logger.Info("down_after changed", "from", old, "to", d)
	}
}

// SetEventRetention changes how long host events are kept; zero or less
// means DefaultEventRetention.
func (inv *Inventory) SetEventRetention(d time.Duration) {
	if d <= 0 {
		d = DefaultEventRetention
	}
	inv.retention.Store(int64(d))
}

// prune deletes the events older than the retention and returns how many.
func (inv *Inventory) prune(ctx context.Context) (int64, error) {
	cutoff := inv.now().Add(-time.Duration(inv.retention.Load())).UnixMilli()
	var n int64
	err := inv.db.WriteTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM host_events WHERE time_ms < $1`, cutoff)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

// DownAfter returns how long a host may stay silent before it is marked
// down.
func (inv *Inventory) DownAfter() time.Duration {
	return time.Duration(inv.downAfter.Load())
}

// Run marks silent hosts down every few seconds until ctx is done, then
// returns nil. A failed sweep is logged and tried again at the next tick.
func (inv *Inventory) Run(ctx context.Context) error {
	t := time.NewTicker(inv.sweepEvery)
	defer t.Stop()
	var lastPrune time.Time
	for {
		if err := inv.sweep(ctx); err != nil && ctx.Err() == nil {
			inv.logger.Error("looking for silent hosts failed; retrying", "err", err)
		}
		if now := inv.now(); now.Sub(lastPrune) >= pruneEvery {
			n, err := inv.prune(ctx)
			switch {
			case err != nil && ctx.Err() == nil:
				inv.logger.Error("deleting old host events failed; retrying in an hour", "err", err)
			case n > 0:
				inv.logger.Info("deleted old host events", "events", n, "retention", time.Duration(inv.retention.Load()))
			}
			lastPrune = now
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// sweep marks down the hosts whose last heartbeat is older than their
// deadline and records a down event for each.
func (inv *Inventory) sweep(ctx context.Context) error {
	now := inv.now().UTC().Truncate(time.Millisecond)
	downAfter := inv.DownAfter()
	if now.Sub(inv.started) <= downAfter {
		return nil
	}
	var down []Event
	var instances []string
	err := inv.db.WriteTx(ctx, func(tx *sql.Tx) error {
		down, instances = down[:0], instances[:0]
		type candidate struct {
			instance string
			lastSeen int64
			interval int64
		}
		rows, err := tx.QueryContext(ctx,
			`SELECT instance, last_seen_ms, heartbeat_interval_ms FROM hosts WHERE status = $1 AND last_seen_ms < $2 ORDER BY instance`,
			string(StatusUp), now.Add(-downAfter).UnixMilli())
		if err != nil {
			return err
		}
		var cands []candidate
		for rows.Next() {
			var c candidate
			if err := rows.Scan(&c.instance, &c.lastSeen, &c.interval); err != nil {
				rows.Close()
				return err
			}
			cands = append(cands, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, c := range cands {
			lastSeen := time.UnixMilli(c.lastSeen).UTC()
			interval := time.Duration(c.interval) * time.Millisecond
			if now.Sub(lastSeen) <= max(downAfter, MissedHeartbeats*interval) {
				continue // an agent that reports less often than DownAfter
			}
			// The last_seen guard skips a host whose heartbeat (or
			// another server's sweep) got in first.
			res, err := tx.ExecContext(ctx,
				`UPDATE hosts SET status = $1, status_since_ms = $2 WHERE instance = $3 AND status = $4 AND last_seen_ms = $5`,
				string(StatusDown), now.UnixMilli(), c.instance, string(StatusUp), c.lastSeen)
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil || n == 0 {
				continue
			}
			ev := downEvent(now, lastSeen, downAfter, interval)
			if err := insertEvent(ctx, tx, c.instance, ev); err != nil {
				return err
			}
			down = append(down, ev)
			instances = append(instances, c.instance)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("marking silent hosts down: %w", err)
	}
	for i, ev := range down {
		inv.logger.Warn("host down", "instance", instances[i], "event", ev.Message)
	}
	return nil
}

// hostStatus returns every known host's status by instance.
func (inv *Inventory) hostStatus(ctx context.Context) (map[string]Status, error) {
	rows, err := inv.db.SQL().QueryContext(ctx, `SELECT instance, status FROM hosts`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	status := map[string]Status{}
	for rows.Next() {
		var instance, s string
		if err := rows.Scan(&instance, &s); err != nil {
			return nil, err
		}
		status[instance] = Status(s)
	}
	return status, rows.Err()
}

// Metric results of saypro_inventory_heartbeats_total.
const (
	resultOK      = "ok"
	resultInvalid = "invalid"
	resultError   = "error"
)

// statusCollector exports the status of every known host, read from the
// store at each scrape so that it also reflects changes made by other
// servers sharing a PostgreSQL store.
type statusCollector struct {
	inv       *Inventory
	hostUp    *prometheus.Desc
	hostCount *prometheus.Desc
}

func newStatusCollector(inv *Inventory) statusCollector {
	return statusCollector{
		inv: inv,
		hostUp: prometheus.NewDesc("saypro_host_up",
			"Whether the host's agent reports (1) or has been silent longer than down_after (0). One series per known host.",
			[]string{"instance"}, nil),
		hostCount: prometheus.NewDesc("saypro_inventory_hosts",
			"Hosts in the inventory by status.",
			[]string{"status"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (c statusCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.hostUp
	ch <- c.hostCount
}

// Collect implements prometheus.Collector.
// If the store cannot be read, the error is logged and neither metric is
// exported.
func (c statusCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), collectTimeout)
	defer cancel()
	status, err := c.inv.hostStatus(ctx)
	if err != nil {
		c.inv.logger.Error("reading the host status for saypro_host_up failed", "err", err)
		return
	}
	counts := map[Status]int{StatusUp: 0, StatusDown: 0}
	for instance, s := range status {
		v := 0.0
		if s == StatusUp {
			v = 1
		}
		counts[s]++
		ch <- prometheus.MustNewConstMetric(c.hostUp, prometheus.GaugeValue, v, instance)
	}
	for s, n := range counts {
		ch <- prometheus.MustNewConstMetric(c.hostCount, prometheus.GaugeValue, float64(n), string(s))
	}
}
