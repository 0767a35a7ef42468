package probe

import (
	"container/heap"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/saypro/monitor/internal/config/checkconfig"
)

// DefaultConcurrency bounds the runs in flight when the options leave it
// out: enough for thousands of checks at a 10 s interval with some targets
// hanging until their timeout.
const DefaultConcurrency = 1024

// SchedulerOptions configure a Scheduler. Report and Logger are required.
type SchedulerOptions struct {
	// Location is the location label of every outcome: "server" or the
	// agent's instance.
	Location string
	// Concurrency bounds the runs in flight; a due run waits for a slot.
	Concurrency int
	Env         Env
	// Report receives every outcome, from the goroutine that ran it.
	Report     func(Outcome)
	Logger     *slog.Logger
	Registerer prometheus.Registerer
}

// Scheduler runs checks on their intervals. Each check has a fixed phase
// within its interval, taken from a hash of its name, so that thousands of
// checks spread over the interval instead of firing on the same tick, and
// keep their phase across restarts and reloads. A run still going when the
// check is due again is not doubled: the due run is skipped and counted.
type Scheduler struct {
	opts SchedulerOptions
	sem  chan struct{}
	wake chan struct{}
	now  func() time.Time
	// build makes a check's prober: New, or a test's own.
	build func(*checkconfig.Check, Env) (Prober, error)

	mu      sync.Mutex
	entries map[string]*entry
	queue   entryHeap

	lateness prometheus.Histogram
	runs     *prometheus.CounterVec
	skipped  prometheus.Counter
	inFlight prometheus.Gauge
	checks   prometheus.Gauge
}

type entry struct {
	check   checkconfig.Check
	prober  Prober
	hash    uint64
	next    time.Time
	index   int // in the heap; -1 when removed
	running bool
}

// NewScheduler returns a Scheduler with no checks.
func NewScheduler(o SchedulerOptions) (*Scheduler, error) {
	if o.Report == nil || o.Logger == nil {
		return nil, errors.New("probe: Report and Logger are required")
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.Location == "" {
		o.Location = "server"
	}
	if o.Env.Logger == nil {
		o.Env.Logger = o.Logger
	}
	if o.Env.Transports == nil {
		o.Env.Transports = NewTransports()
	}
	reg := o.Registerer
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	f := promauto.With(reg)
	return &Scheduler{
		opts:    o,
		sem:     make(chan struct{}, o.Concurrency),
		wake:    make(chan struct{}, 1),
		now:     time.Now,
		build:   New,
		entries: map[string]*entry{},
		lateness: f.NewHistogram(prometheus.HistogramOpts{
			Name:    "saypro_check_schedule_lateness_seconds",
			Help:    "How late check runs started after the time they were due.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}),
		runs: f.NewCounterVec(prometheus.CounterOpts{
			Name: "saypro_check_runs_total",
			Help: "Check runs by resulting state.",
		}, []string{"state"}),
		skipped: f.NewCounter(prometheus.CounterOpts{
			Name: "saypro_check_runs_skipped_total",
			Help: "Runs skipped because the check's previous run was still going.",
		}),
		inFlight: f.NewGauge(prometheus.GaugeOpts{
			Name: "saypro_check_runs_in_flight",
			Help: "Check runs going on now.",
		}),
		checks: f.NewGauge(prometheus.GaugeOpts{
			Name: "saypro_checks",
			Help: "Checks scheduled here.",
		}),
	}, nil
}

// Apply replaces the scheduled checks. Unchanged checks keep their prober
// and schedule; changed ones get a new prober at the same phase; removed
// ones stop (a run in flight finishes and is still reported). Checks whose
// prober cannot be built are left out and named in the returned error;
// the others are applied. Agents apply what the server assigns this way.
func (s *Scheduler) Apply(checks []checkconfig.Check) error {
	return s.apply(checks, false)
}

// ApplyAll is Apply for a configuration that must be taken whole: when a
// check's prober cannot be built, nothing changes and the error names it.
func (s *Scheduler) ApplyAll(checks []checkconfig.Check) error {
	return s.apply(checks, true)
}

func (s *Scheduler) apply(checks []checkconfig.Check, whole bool) error {
	var errs []error
	type built struct {
		prober Prober
		hash   uint64
	}
	fresh := map[string]built{}
	for i := range checks {
		c := &checks[i]
		h := hashCheck(c)
		s.mu.Lock()
		old, ok := s.entries[c.Name]
		s.mu.Unlock()
		if ok && old.hash == h {
			fresh[c.Name] = built{old.prober, h}
			continue
		}
		p, err := s.build(c, s.opts.Env)
		if err != nil {
			errs = append(errs, fmt.Errorf("check %q: %w", c.Name, err))
			continue
		}
		fresh[c.Name] = built{p, h}
	}
	if whole && len(errs) > 0 {
		s.mu.Lock()
		for name, b := range fresh {
			if e, ok := s.entries[name]; !ok || e.prober != b.prober {
				closeProber(b.prober, s.opts.Logger)
			}
		}
		s.mu.Unlock()
		return errors.Join(errs...)
	}
	now := s.now()
	s.mu.Lock()
	for name, e := range s.entries {
		if b, ok := fresh[name]; !ok || b.prober != e.prober {
			closeProber(e.prober, s.opts.Logger)
		}
		if _, ok := fresh[name]; !ok {
			heap.Remove(&s.queue, e.index)
			e.index = -1
			delete(s.entries, name)
		}
	}
	for i := range checks {
		c := checks[i]
		b, ok := fresh[c.Name]
		if !ok {
			continue
		}
		if e, ok := s.entries[c.Name]; ok {
			e.check, e.prober, e.hash = c, b.prober, b.hash
			interval := time.Duration(c.Interval)
			e.next = phase(now, interval, s.opts.Location+"/"+c.Name)
			heap.Fix(&s.queue, e.index)
			continue
		}
		e := &entry{check: c, prober: b.prober, hash: b.hash}
		e.next = phase(now, time.Duration(c.Interval), s.opts.Location+"/"+c.Name)
		s.entries[c.Name] = e
		heap.Push(&s.queue, e)
	}
	s.checks.Set(float64(len(s.entries)))
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return errors.Join(errs...)
}

// phase returns the first time after now at which a check with this
// interval and key is due: key's hash modulo the interval past a multiple
// of the interval.
func phase(now time.Time, interval time.Duration, key string) time.Time {
	h := fnv.New64a()
	h.Write([]byte(key))
	offset := time.Duration(h.Sum64() % uint64(interval))
	base := now.Truncate(interval)
	next := base.Add(offset)
	if !next.After(now) {
		next = next.Add(interval)
	}
	return next
}

func hashCheck(c *checkconfig.Check) uint64 {
	b, _ := json.Marshal(c)
	h := fnv.New64a()
	h.Write(b)
	// Secrets are not in the JSON (json:"-"); include those that matter.
	if c.Heartbeat != nil {
		h.Write([]byte(c.Heartbeat.Token))
	}
	return h.Sum64()
}

func closeProber(p Prober, logger *slog.Logger) {
	if c, ok := p.(io.Closer); ok {
		if err := c.Close(); err != nil {
			logger.Debug("closing a prober", "err", err)
		}
	}
}

// Run dispatches due checks until ctx is done, then waits for the runs in
// flight (each bounded by its timeout) to finish.
func (s *Scheduler) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		s.mu.Lock()
		var wait time.Duration = time.Hour
		if len(s.queue) > 0 {
			wait = s.queue[0].next.Sub(s.now())
		}
		s.mu.Unlock()
		if wait > 0 {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				return nil
			case <-s.wake:
				timer.Stop()
				continue
			case <-timer.C:
			}
		}
		// Take a slot before picking the check, so that a full pool
		// shows as lateness rather than as a burst of goroutines.
		select {
		case s.sem <- struct{}{}:
		case <-ctx.Done():
			return nil
		}
		now := s.now()
		s.mu.Lock()
		if len(s.queue) == 0 || s.queue[0].next.After(now) {
			s.mu.Unlock()
			<-s.sem
			continue
		}
		e := s.queue[0]
		due := e.next
		interval := time.Duration(e.check.Interval)
		e.next = due.Add(interval)
		if !e.next.After(now) {
			// Far behind (a suspended machine): skip the missed runs.
			e.next = due.Add(interval * (now.Sub(due)/interval + 1))
		}
		heap.Fix(&s.queue, 0)
		if e.running {
			s.mu.Unlock()
			<-s.sem
			s.skipped.Inc()
			continue
		}
		e.running = true
		c, p := e.check, e.prober
		s.mu.Unlock()
		s.lateness.Observe(now.Sub(due).Seconds())
		wg.Add(1)
		s.inFlight.Inc()
		go func() {
			defer func() {
				s.inFlight.Dec()
				s.mu.Lock()
				e.running = false
				s.mu.Unlock()
				<-s.sem
				wg.Done()
			}()
			o := s.run(ctx, &c, p)
			s.runs.WithLabelValues(string(o.State)).Inc()
			s.opts.Report(o)
		}()
	}
}

// run runs one check with its timeout and evaluates the result.
func (s *Scheduler) run(ctx context.Context, c *checkconfig.Check, p Prober) Outcome {
	return execute(ctx, c, p, s.opts.Location)
}

func execute(ctx context.Context, c *checkconfig.Check, p Prober, location string) Outcome {
	ctx, cancel := context.WithTimeout(ctx, c.EffectiveTimeout())
	defer cancel()
	start := time.Now()
	r := runProber(ctx, p)
	took := time.Since(start)
	if ctx.Err() != nil && !r.Success && r.Reason == "" {
		r.Reason = fmt.Sprintf("no answer within the %s timeout", c.EffectiveTimeout())
	}
	return Evaluate(c, location, start, took, r)
}

// runProber turns a panic in a prober into a failed result: one bad
// check must not take the process down.
func runProber(ctx context.Context, p Prober) (r Result) {
	defer func() {
		if v := recover(); v != nil {
			r = Result{Reason: fmt.Sprintf("internal error in the prober: %v", v)}
		}
	}()
	return p.Probe(ctx)
}

// RunOnce runs the named check now, outside its schedule, and returns its
// outcome without reporting it.
func (s *Scheduler) RunOnce(ctx context.Context, name string) (Outcome, error) {
	s.mu.Lock()
	e, ok := s.entries[name]
	var c checkconfig.Check
	var p Prober
	if ok {
		c, p = e.check, e.prober
	}
	s.mu.Unlock()
	if !ok {
		return Outcome{}, fmt.Errorf("no check named %q runs here", name)
	}
	return s.run(ctx, &c, p), nil
}

// Once builds and runs one check, for the command line.
func Once(ctx context.Context, c *checkconfig.Check, location string, env Env) (Outcome, error) {
	p, err := New(c, env)
	if err != nil {
		return Outcome{}, err
	}
	defer closeProber(p, slog.New(slog.DiscardHandler))
	return execute(ctx, c, p, location), nil
}

type entryHeap []*entry

func (h entryHeap) Len() int           { return len(h) }
func (h entryHeap) Less(i, j int) bool { return h[i].next.Before(h[j].next) }
func (h entryHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}
func (h *entryHeap) Push(x any) {
	e := x.(*entry)
	e.index = len(*h)
	*h = append(*h, e)
}
func (h *entryHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	e.index = -1
	return e
}
