package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/prometheus/prompb"

	"github.com/saypro/monitor/internal/agentapi"
	"github.com/saypro/monitor/internal/collector"
	"github.com/saypro/monitor/internal/config/agentconfig"
)

// Sink receives what the agent produces. Write must not wait for the
// network: the remote sink queues on disk.
type Sink interface {
	// Write stores or queues one collection's series.
	Write(ctx context.Context, series []prompb.TimeSeries) error
	// Heartbeat reports the host's identity and liveness; the answer
	// carries the checks the agent runs.
	Heartbeat(ctx context.Context, hb agentapi.Heartbeat) (agentapi.HeartbeatResponse, error)
	// CheckResults reports the states of the checks the agent ran.
	CheckResults(ctx context.Context, rs agentapi.CheckResults) error
}

// Options configure an Agent. Logger is required.
type Options struct {
	// Collect says what to collect, how often and with which labels.
	Collect agentconfig.Collect
	// Version is reported in saypro_agent_info and heartbeats.
	Version string
	// Sink receives samples and heartbeats; nil runs pull-only (/metrics).
	Sink Sink
	// Registerer receives the agent's own metrics. Nil registers them
	// in a registry of the agent's that is gathered, pushed and served
	// with the host collectors.
	Registerer prometheus.Registerer
	// Extra is gathered and pushed along with the host collectors, for
	// example the standalone agent's Go runtime and queue metrics.
	Extra  prometheus.Gatherer
	Logger *slog.Logger
	// Hostname returns the default instance label; nil uses os.Hostname.
	Hostname func() (string, error)
}

// Agent collects host metrics and ships them to a Sink.
type Agent struct {
	opts     Options
	logger   *slog.Logger
	node     *collector.Node
	gatherer prometheus.Gatherer
	builder  *seriesBuilder
	instance string
	started  time.Time

	collections   *prometheus.CounterVec
	collectTime   prometheus.Gauge
	seriesWritten prometheus.Gauge
	heartbeats    *prometheus.CounterVec
	clockOffset   prometheus.Gauge

	writes, sends failState
	checks        *checkRunner
}

// failState logs a repeating failure once, and its recovery once.
type failState struct {
	mu      sync.Mutex
	failing bool
	logger  *slog.Logger
	failed  string // logged with the error when failures start
	healed  string // logged when they stop
}

// report counts err (nil is a success) in results by "ok" or "error",
// logs a change of state, and reports whether it was a success.
func (f *failState) report(err error, results *prometheus.CounterVec) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err != nil {
		results.WithLabelValues("error").Inc()
		if !f.failing {
			f.logger.Warn(f.failed, "err", err)
		}
		f.failing = true
		return false
	}
	results.WithLabelValues("ok").Inc()
	if f.failing {
		f.logger.Info(f.healed)
	}
	f.failing = false
	return true
}

// New builds an Agent and its collectors.
func New(o Options) (*Agent, error) {
	if o.Logger == nil {
		return nil, errors.New("agent: Logger is required")
	}
	c := o.Collect
	node, err := collector.New(collector.Options{
		ProcPath:                     c.Paths.Proc,
		SysPath:                      c.Paths.Sys,
		RootPath:                     c.Paths.Root,
		AgentVersion:                 o.Version,
		Disabled:                     c.Collectors.Disabled,
		DiskDeviceExclude:            c.Collectors.Disk.DeviceExclude,
		FilesystemMountPointsExclude: c.Collectors.Filesystem.MountPointsExclude,
		FilesystemFSTypesExclude:     c.Collectors.Filesystem.FSTypesExclude,
		NetworkDeviceExclude:         c.Collectors.Network.DeviceExclude,
		StatfsTimeout:                time.Duration(c.Collectors.Filesystem.StatfsTimeout),
		Logger:                       o.Logger.With("component", "collector"),
	})
	if err != nil {
		return nil, err
	}
	instance := c.Instance
	if instance == "" {
		hostname := o.Hostname
		if hostname == nil {
			hostname = os.Hostname
		}
		if instance, err = hostname(); err != nil || instance == "" {
			return nil, fmt.Errorf("agent: cannot tell the host name (%v); set instance in the configuration or --instance", err)
		}
	}
	target := map[string]string{"job": "node", "instance": instance}
	for k, v := range c.Labels {
		target[k] = v
	}
	a := &Agent{
		opts:     o,
		logger:   o.Logger,
		node:     node,
		builder:  newSeriesBuilder(target),
		instance: instance,
		started:  time.Now(),
		writes: failState{logger: o.Logger,
			failed: "collection could not be stored; retrying every interval",
			healed: "collections are stored again"},
		sends: failState{logger: o.Logger,
			failed: "heartbeat failed; samples are kept in the queue and the heartbeat is retried every interval",
			healed: "heartbeats reach the server again"},
	}
	// The host collectors are gathered directly: Node.Gather skips the
	// registry's per-sample checks.
	gatherers := concat{node}
	if o.Extra != nil {
		gatherers = append(gatherers, o.Extra)
	}
	r := o.Registerer
	if r == nil {
		own := prometheus.NewRegistry()
		r = own
		gatherers = append(gatherers, own)
	}
	a.gatherer = gatherers
	f := promauto.With(r)
	a.collections = f.NewCounterVec(prometheus.CounterOpts{
		Name: "saypro_agent_collections_total",
		Help: "Collections of the host metrics by result (ok or error: the sink refused them).",
	}, []string{"result"})
	a.collectTime = f.NewGauge(prometheus.GaugeOpts{
		Name: "saypro_agent_collection_duration_seconds",
		Help: "How long the last collection took, gathering and queueing.",
	})
	a.seriesWritten = f.NewGauge(prometheus.GaugeOpts{
		Name: "saypro_agent_collection_series",
		Help: "Series in the last collection.",
	})
	a.heartbeats = f.NewCounterVec(prometheus.CounterOpts{
		Name: "saypro_agent_heartbeats_total",
		Help: "Heartbeats sent to the server by result.",
	}, []string{"result"})
	a.clockOffset = f.NewGauge(prometheus.GaugeOpts{
		Name: "saypro_agent_server_clock_offset_seconds",
		Help: "Server clock minus this host's clock, from the last heartbeat (half the round trip is allowed for).",
	})
	if o.Sink != nil {
		if a.checks, err = newCheckRunner(a, r); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// Instance returns the instance label the agent uses.
func (a *Agent) Instance() string { return a.instance }

// Gatherer returns what /metrics serves: the host collectors plus Extra.
func (a *Agent) Gatherer() prometheus.Gatherer { return a.gatherer }

// Run collects and sends heartbeats every interval until ctx is done. A
// failing collector or sink is logged and retried on the next tick; Run
// returns nil when ctx is cancelled.
func (a *Agent) Run(ctx context.Context) error {
	if a.opts.Sink == nil {
		a.logger.Info("no server configured: serving /metrics only (pull mode, like node_exporter)")
		<-ctx.Done()
		return nil
	}
	interval := time.Duration(a.opts.Collect.Interval)
	a.logger.Info("agent running", "instance", a.instance, "interval", interval)
	var wg sync.WaitGroup
	wg.Add(4)
	go func() {
		defer wg.Done()
		_ = a.checks.sched.Run(ctx)
	}()
	go func() {
		defer wg.Done()
		a.every(ctx, checkFlushInterval, func(time.Time) { a.checks.flush(ctx) })
		a.checks.flush(context.WithoutCancel(ctx))
	}()
	go func() {
		defer wg.Done()
		a.every(ctx, interval, func(now time.Time) { a.collect(ctx, now) })
	}()
	go func() {
		defer wg.Done()
		a.every(ctx, interval, func(time.Time) { a.heartbeat(ctx) })
	}()
	wg.Wait()
	return nil
}

// every runs fn at once and then on every tick of interval until ctx is
// done.
func (a *Agent) every(ctx context.Context, interval time.Duration, fn func(time.Time)) {
	fn(time.Now())
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			fn(now)
		}
	}
}

// Collect gathers once and returns the labelled series stamped with now.
func (a *Agent) Collect(now time.Time) ([]prompb.TimeSeries, error) {
	mfs, err := a.gatherer.Gather()
	// Gather returns what it could along with the error of a broken
	// collector; the failing collector reports node_scrape_collector_success 0.
	series := a.builder.build(make([]prompb.TimeSeries, 0, 1024), mfs, now.UnixMilli())
	if len(series) == 0 && err != nil {
		return nil, err
	}
	if err != nil {
		a.logger.Debug("gathering reported problems", "err", err)
	}
	return series, nil
}

func (a *Agent) collect(ctx context.Context, now time.Time) {
	start := time.Now()
	series, err := a.Collect(now)
	if err == nil {
		err = a.opts.Sink.Write(ctx, series)
	}
	a.collectTime.Set(time.Since(start).Seconds())
	a.seriesWritten.Set(float64(len(series)))
	a.writes.report(err, a.collections)
}

// HeartbeatMessage describes the host for the inventory.
func (a *Agent) HeartbeatMessage() (agentapi.Heartbeat, error) {
	info, err := a.node.HostInfo()
	if err != nil {
		return agentapi.Heartbeat{}, err
	}
	return agentapi.Heartbeat{
		Instance:       a.instance,
		Hostname:       info.Hostname,
		OS:             info.OS,
		OSID:           info.OSID,
		OSVersion:      info.OSVersion,
		Kernel:         info.Kernel,
		Arch:           info.Arch,
		CPUs:           info.CPUs,
		MemoryBytes:    info.MemoryBytes,
		AgentVersion:   a.opts.Version,
		AgentStartTime: a.started.UTC(),
		BootTime:       info.BootTime.UTC(),
		Labels:         a.opts.Collect.Labels,
		Interval:       agentapi.Seconds(time.Duration(a.opts.Collect.Interval)),
		Time:           time.Now().UTC(),
	}, nil
}

func (a *Agent) heartbeat(ctx context.Context) {
	hb, err := a.HeartbeatMessage()
	var resp agentapi.HeartbeatResponse
	sent := time.Now()
	if err == nil {
		resp, err = a.opts.Sink.Heartbeat(ctx, hb)
	}
	if err != nil && ctx.Err() != nil {
		return
	}
	if !a.sends.report(err, a.heartbeats) {
		return
	}
	a.checks.apply(resp.Checks)
	if !resp.ServerTime.IsZero() {
		rtt := time.Since(sent)
		a.clockOffset.Set(resp.ServerTime.Sub(sent.Add(rtt / 2)).Seconds())
	}
}

// concat gathers several gatherers whose metric names do not overlap (the
// host collectors, the agent's own metrics, the Go runtime's) and returns
// their families sorted by name. Unlike prometheus.Gatherers it does not
// re-check every sample; a name found twice has its series appended.
type concat []prometheus.Gatherer

// Gather implements prometheus.Gatherer.
func (c concat) Gather() ([]*dto.MetricFamily, error) {
	var (
		out  []*dto.MetricFamily
		errs []error
	)
	for _, g := range c {
		mfs, err := g.Gather()
		if err != nil {
			errs = append(errs, err)
		}
		out = append(out, mfs...)
	}
	slices.SortStableFunc(out, func(a, b *dto.MetricFamily) int { return strings.Compare(a.GetName(), b.GetName()) })
	merged := out[:0]
	for _, mf := range out {
		if n := len(merged); n > 0 && merged[n-1].GetName() == mf.GetName() {
			merged[n-1].Metric = append(merged[n-1].Metric, mf.Metric...)
			continue
		}
		merged = append(merged, mf)
	}
	return merged, errors.Join(errs...)
}
