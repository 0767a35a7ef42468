package agent

import (
	"context"
	"encoding/json"
	"hash/fnv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/prometheus/prometheus/prompb"

	"github.com/saypro/monitor/internal/agentapi"
	"github.com/saypro/monitor/internal/config/checkconfig"
	"github.com/saypro/monitor/internal/probe"
)

const (
	// checkFlushInterval is how often finished check runs are shipped.
	checkFlushInterval = time.Second
	// maxPendingOutcomes bounds the outcomes kept while the sink fails;
	// the oldest are dropped beyond it (their samples are in the queue
	// only once shipped, so the state history may miss them).
	maxPendingOutcomes = 10_000
)

// checkRunner runs the checks the server assigns to this agent (those
// whose run_on matches its labels) and ships their outcomes: samples
// through the sink's queue like the host's, states to the server's
// history.
type checkRunner struct {
	agent *Agent
	sched *probe.Scheduler

	mu      sync.Mutex
	pending []probe.Outcome        // finished runs not yet shipped
	unsent  []agentapi.CheckResult // states the server has not taken yet
	applied uint64
	dropped prometheus.Counter
	ships   failState
	results *prometheus.CounterVec
}

func newCheckRunner(a *Agent, reg prometheus.Registerer) (*checkRunner, error) {
	r := &checkRunner{agent: a, ships: failState{logger: a.logger,
		failed: "check results could not be sent; retrying every second",
		healed: "check results reach the server again"}}
	sched, err := probe.NewScheduler(probe.SchedulerOptions{
		Location: a.instance,
		Env:      probe.Env{Logger: a.logger.With("component", "probe"), ProcPath: a.opts.Collect.Paths.Proc},
		Report:   r.report,
		// No Registerer: the scheduler's metrics stay in a registry of
		// its own, unexposed, because the in-process agent shares the
		// server's registry, which has the server scheduler's metrics of
		// the same names.
		Logger: a.logger.With("component", "checks"),
	})
	if err != nil {
		return nil, err
	}
	r.sched = sched
	f := promauto.With(reg)
	r.dropped = f.NewCounter(prometheus.CounterOpts{
		Name: "saypro_agent_check_results_dropped_total",
		Help: "Check results dropped because the server could not be reached for too long.",
	})
	r.results = f.NewCounterVec(prometheus.CounterOpts{
		Name: "saypro_agent_check_result_batches_total",
		Help: "Batches of check results sent to the server by result.",
	}, []string{"result"})
	return r, nil
}

// hashChecks identifies a set of assigned checks.
func hashChecks(checks []checkconfig.Check) uint64 {
	if len(checks) == 0 {
		return 0
	}
	b, _ := json.Marshal(checks)
	h := fnv.New64a()
	h.Write(b)
	return h.Sum64()
}

// apply replaces the running checks with those of a heartbeat answer,
// when they changed.
func (r *checkRunner) apply(checks []checkconfig.Check) {
	sum := hashChecks(checks)
	r.mu.Lock()
	same := sum == r.applied
	r.applied = sum
	r.mu.Unlock()
	if same {
		return
	}
	names := make([]string, len(checks))
	for i, c := range checks {
		names[i] = c.Name
	}
	if err := r.sched.Apply(checks); err != nil {
		r.agent.logger.Warn("some checks from the server cannot run on this host", "err", err)
	}
	r.agent.logger.Info("checks assigned by the server", "count", len(checks), "checks", names)
}

func (r *checkRunner) report(o probe.Outcome) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.pending) >= maxPendingOutcomes {
		r.pending = r.pending[1:]
		r.dropped.Inc()
	}
	r.pending = append(r.pending, o)
}

// flush ships the finished runs: samples to the queue (which keeps them
// while the server is away), states to the server. States that could not
// be sent are kept, up to maxPendingOutcomes, for the next flush.
func (r *checkRunner) flush(ctx context.Context) {
	r.mu.Lock()
	batch, unsent := r.pending, r.unsent
	r.pending, r.unsent = nil, nil
	r.mu.Unlock()
	if len(batch) == 0 && len(unsent) == 0 {
		return
	}
	var series []prompb.TimeSeries
	rs := agentapi.CheckResults{Instance: r.agent.instance, Results: unsent}
	for i := range batch {
		o := &batch[i]
		series = appendOutcome(series, o)
		rs.Results = append(rs.Results, agentapi.CheckResult{
			Check: o.Check, Time: o.Time.UTC(), State: string(o.State), Reason: o.Reason, Duration: agentapi.Seconds(o.Duration),
		})
	}
	if len(series) > 0 {
		if err := r.agent.opts.Sink.Write(ctx, series); err != nil {
			r.agent.logger.Debug("queueing check samples", "err", err)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := r.agent.opts.Sink.CheckResults(ctx, rs); !r.ships.report(err, r.results) {
		r.mu.Lock()
		r.unsent = append(rs.Results, r.unsent...)
		if n := len(r.unsent) - maxPendingOutcomes; n > 0 {
			r.unsent = r.unsent[n:]
			r.dropped.Add(float64(n))
		}
		r.mu.Unlock()
	}
}

// appendOutcome adds the samples of a run as remote-write series.
func appendOutcome(dst []prompb.TimeSeries, o *probe.Outcome) []prompb.TimeSeries {
	ts := o.Time.UnixMilli()
	for _, s := range o.Series() {
		ls := make([]prompb.Label, len(s.Labels))
		for i, l := range s.Labels {
			ls[i] = prompb.Label{Name: l.Name, Value: l.Value}
		}
		dst = append(dst, prompb.TimeSeries{Labels: ls, Samples: []prompb.Sample{{Value: s.Value, Timestamp: ts}}})
	}
	return dst
}
