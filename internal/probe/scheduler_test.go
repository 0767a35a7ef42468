package probe

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/saypro/monitor/internal/config/checkconfig"
)

// funcProber runs a function as a check, for scheduling tests.
type funcProber struct {
	fn     func(ctx context.Context) Result
	closed atomic.Bool
}

func (f *funcProber) Probe(ctx context.Context) Result { return f.fn(ctx) }
func (f *funcProber) Close() error                     { f.closed.Store(true); return nil }

// collector gathers outcomes by check.
type collector struct {
	mu  sync.Mutex
	got map[string][]Outcome
}

func (c *collector) report(o Outcome) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.got == nil {
		c.got = map[string][]Outcome{}
	}
	c.got[o.Check] = append(c.got[o.Check], o)
}

func (c *collector) outcomes(name string) []Outcome {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Outcome(nil), c.got[name]...)
}

func testCheck(name string, interval, timeout time.Duration) checkconfig.Check {
	return checkconfig.Check{Name: name, Kind: checkconfig.KindTCP, Target: "127.0.0.1:1",
		Interval: model.Duration(interval), Timeout: model.Duration(timeout)}
}

func newTestScheduler(t *testing.T, concurrency int, probers map[string]*funcProber, col *collector, reg prometheus.Registerer) *Scheduler {
	t.Helper()
	s, err := NewScheduler(SchedulerOptions{Concurrency: concurrency, Report: col.report, Logger: slog.New(slog.DiscardHandler), Registerer: reg})
	require.NoError(t, err)
	s.build = func(c *checkconfig.Check, _ Env) (Prober, error) {
		p, ok := probers[c.Name]
		if !ok {
			return nil, fmt.Errorf("no prober for %s", c.Name)
		}
		return p, nil
	}
	return s
}

func runFor(t *testing.T, s *Scheduler, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), d)
	defer cancel()
	require.NoError(t, s.Run(ctx))
}

func TestPhaseSpreadsChecks(t *testing.T) {
	now := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	interval := 10 * time.Second
	buckets := make([]int, 10)
	for i := range 2000 {
		next := phase(now, interval, fmt.Sprintf("server/check-%d", i))
		require.True(t, next.After(now))
		require.LessOrEqual(t, next.Sub(now), interval)
		buckets[int(next.Sub(now)/time.Second)%10]++
	}
	for i, n := range buckets {
		require.InDelta(t, 200, n, 80, "second %d of the interval has %d of 2000 checks", i, n)
	}
	// The phase of a check does not move between calls.
	require.Equal(t, phase(now, interval, "server/a").Sub(now), phase(now.Add(interval), interval, "server/a").Sub(now.Add(interval)))
}

func TestHangingCheckDoesNotDelayOthers(t *testing.T) {
	probers := map[string]*funcProber{
		"hang": {fn: func(ctx context.Context) Result { <-ctx.Done(); return Result{} }},
	}
	checks := []checkconfig.Check{testCheck("hang", time.Second, 2*time.Second)}
	for i := range 20 {
		name := fmt.Sprintf("fast-%d", i)
		probers[name] = &funcProber{fn: func(context.Context) Result { return Result{Success: true} }}
		checks = append(checks, testCheck(name, time.Second, time.Second))
	}
	col := &collector{}
	reg := prometheus.NewRegistry()
	s := newTestScheduler(t, 8, probers, col, reg)
	require.NoError(t, s.Apply(checks))
	runFor(t, s, 4500*time.Millisecond)

	for i := range 20 {
		got := col.outcomes(fmt.Sprintf("fast-%d", i))
		require.GreaterOrEqual(t, len(got), 3, "fast-%d ran %d times in 4.5s at a 1s interval", i, len(got))
		for _, o := range got {
			require.Equal(t, StateUp, o.State)
		}
	}
	hang := col.outcomes("hang")
	require.NotEmpty(t, hang)
	require.Equal(t, StateDown, hang[0].State)
	// The timeout is capped at the interval.
	require.Contains(t, hang[0].Reason, "no answer within the 1s timeout")
	require.Less(t, hang[0].Duration, 1500*time.Millisecond)
}

func TestRunStillGoingIsSkipped(t *testing.T) {
	release := make(chan struct{})
	var running atomic.Int32
	// A prober that ignores its deadline: the case skipping guards against.
	probers := map[string]*funcProber{"slow": {fn: func(context.Context) Result {
		running.Add(1)
		defer running.Add(-1)
		<-release
		return Result{Success: true}
	}}}
	col := &collector{}
	reg := prometheus.NewRegistry()
	s := newTestScheduler(t, 4, probers, col, reg)
	require.NoError(t, s.Apply([]checkconfig.Check{testCheck("slow", time.Second, time.Second)}))
	// The first run (within the first second) lasts until 2.5s, so the
	// check falls due at least once while it is still going.
	time.AfterFunc(2500*time.Millisecond, func() { close(release) })
	runFor(t, s, 3500*time.Millisecond)
	require.LessOrEqual(t, running.Load(), int32(0))
	require.GreaterOrEqual(t, testutil.ToFloat64(s.skipped), 1.0)
}

func TestConcurrencyIsBounded(t *testing.T) {
	var now, peak atomic.Int32
	probers := map[string]*funcProber{}
	var checks []checkconfig.Check
	for i := range 12 {
		name := fmt.Sprintf("c-%d", i)
		probers[name] = &funcProber{fn: func(context.Context) Result {
			n := now.Add(1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			time.Sleep(200 * time.Millisecond)
			now.Add(-1)
			return Result{Success: true}
		}}
		checks = append(checks, testCheck(name, time.Second, time.Second))
	}
	col := &collector{}
	s := newTestScheduler(t, 3, probers, col, prometheus.NewRegistry())
	require.NoError(t, s.Apply(checks))
	runFor(t, s, 2500*time.Millisecond)
	require.LessOrEqual(t, peak.Load(), int32(3))
	require.Positive(t, peak.Load())
	// A full pool delays runs; it shows as lateness.
	require.Positive(t, testutil.CollectAndCount(s.lateness))
}

func TestApplyKeepsUnchangedChecks(t *testing.T) {
	ok := func(context.Context) Result { return Result{Success: true} }
	builds := map[string]int{}
	col := &collector{}
	s, err := NewScheduler(SchedulerOptions{Report: col.report, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	var made []*funcProber
	s.build = func(c *checkconfig.Check, _ Env) (Prober, error) {
		builds[c.Name]++
		p := &funcProber{fn: ok}
		made = append(made, p)
		return p, nil
	}
	a, b := testCheck("a", 10*time.Second, time.Second), testCheck("b", 10*time.Second, time.Second)
	require.NoError(t, s.Apply([]checkconfig.Check{a, b}))
	nextA := s.entries["a"].next
	require.NoError(t, s.Apply([]checkconfig.Check{a, b}))
	require.Equal(t, map[string]int{"a": 1, "b": 1}, builds, "unchanged checks keep their prober")
	require.Equal(t, nextA, s.entries["a"].next, "and their schedule")

	b.Target = "127.0.0.1:2"
	require.NoError(t, s.Apply([]checkconfig.Check{a, b}))
	require.Equal(t, 2, builds["b"])
	require.True(t, made[1].closed.Load(), "the replaced prober is closed")

	require.NoError(t, s.Apply([]checkconfig.Check{b}))
	require.True(t, made[0].closed.Load(), "a removed check's prober is closed")
	require.Len(t, s.entries, 1)
	require.Len(t, s.queue, 1)

	// A check whose prober cannot be built is named; the others apply.
	s.build = func(c *checkconfig.Check, _ Env) (Prober, error) {
		return nil, fmt.Errorf("ca_file holds no PEM certificate")
	}
	c := testCheck("c", time.Second, time.Second)
	err = s.Apply([]checkconfig.Check{b, c})
	require.ErrorContains(t, err, `check "c": ca_file holds no PEM certificate`)
	require.Len(t, s.entries, 1)
}

func TestPanickingProberIsDown(t *testing.T) {
	c := testCheck("boom", time.Second, time.Second)
	o := execute(t.Context(), &c, &funcProber{fn: func(context.Context) Result { panic("nil map") }}, "server")
	require.Equal(t, StateDown, o.State)
	require.Contains(t, o.Reason, "internal error in the prober: nil map")
}

func TestEvaluate(t *testing.T) {
	web := testCheck("web", time.Minute, 10*time.Second)
	web.Kind = checkconfig.KindHTTP
	db := testCheck("db", time.Minute, 10*time.Second)
	db.Kind = checkconfig.KindPostgres
	custom := web
	custom.Thresholds.Latency = model.Duration(100 * time.Millisecond)
	for _, tc := range []struct {
		name   string
		c      checkconfig.Check
		took   time.Duration
		r      Result
		state  State
		reason string
	}{
		{"up", web, 200 * time.Millisecond, Result{Success: true}, StateUp, ""},
		{"web slower than 3s", web, 3200 * time.Millisecond, Result{Success: true}, StateDegraded, "took 3.2s, above the 3s threshold"},
		{"database slower than 500ms", db, 600 * time.Millisecond, Result{Success: true}, StateDegraded, "took 600ms, above the 500ms threshold"},
		{"database under 500ms", db, 400 * time.Millisecond, Result{Success: true}, StateUp, ""},
		{"own threshold", custom, 150 * time.Millisecond, Result{Success: true}, StateDegraded, "above the 100ms threshold"},
		{"latency figure of the prober wins", db, 2 * time.Second, Result{Success: true, Latency: 10 * time.Millisecond}, StateUp, ""},
		{"warning", web, time.Millisecond, Result{Success: true, Warning: "certificate expires in 3 days"}, StateDegraded, "certificate expires in 3 days"},
		{"slow and warning", web, 4 * time.Second, Result{Success: true, Warning: "w"}, StateDegraded, "took 4s, above the 3s threshold; w"},
		{"down", web, time.Millisecond, Result{Reason: "connection refused"}, StateDown, "connection refused"},
		{"down without a reason", web, time.Millisecond, Result{}, StateDown, "failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := Evaluate(&tc.c, "server", time.Now(), tc.took, tc.r)
			require.Equal(t, tc.state, o.State)
			require.Contains(t, o.Reason, tc.reason)
			if tc.reason == "" {
				require.Empty(t, o.Reason)
			}
		})
	}
}

func TestOutcomeSeries(t *testing.T) {
	o := Outcome{Check: "web", Kind: "http", Target: "https://example.com", Location: "server",
		Labels: map[string]string{"team": "web"}, Duration: 1500 * time.Millisecond, State: StateDegraded}
	o.Metrics = []Metric{{Name: "probe_http_duration_seconds", Labels: []Label{{"phase", "connect"}}, Value: 0.01}}
	got := map[string]float64{}
	for _, s := range o.Series() {
		require.Equal(t, "__name__", s.Labels[0].Name)
		key := s.Labels[0].Value
		for _, l := range s.Labels[1:] {
			key += "," + l.Name + "=" + l.Value
		}
		got[key] = s.Value
	}
	base := ",check=web,instance=https://example.com,job=checks,kind=http,location=server"
	require.Equal(t, map[string]float64{
		"probe_http_duration_seconds" + base + ",phase=connect,team=web": 0.01,
		"probe_success" + base + ",team=web":                             1,
		"probe_duration_seconds" + base + ",team=web":                    1.5,
		"saypro_check_state" + base + ",state=up,team=web":               0,
		"saypro_check_state" + base + ",state=degraded,team=web":         1,
		"saypro_check_state" + base + ",state=down,team=web":             0,
	}, got)
}

func TestRedactTarget(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://monitor:s3cret@db:5432/app":         "postgres://monitor:xxxxx@db:5432/app",
		"root:s3cret@tcp(127.0.0.1:3306)/test":          "root:xxxxx@tcp(127.0.0.1:3306)/test",
		"host=db user=monitor password=s3cret dbname=x": "host=db user=monitor password=xxxxx dbname=x",
		"redis://:s3cret@cache:6379/0":                  "redis://:xxxxx@cache:6379/0",
		"https://example.com/health":                    "https://example.com/health",
		"db.example.com:5432":                           "db.example.com:5432",
		"https://user@example.com/":                     "https://user@example.com/",
	} {
		require.Equal(t, want, RedactTarget(in), in)
	}
}

func TestHTTPChecksShareTransports(t *testing.T) {
	env := Env{Transports: NewTransports()}
	mk := func(name, target string, h checkconfig.HTTP) *httpProber {
		c := checkconfig.Check{Name: name, Kind: checkconfig.KindHTTP, Target: target,
			Interval: model.Duration(time.Minute), Timeout: model.Duration(time.Second), HTTP: &h}
		p, err := New(&c, env)
		require.NoError(t, err)
		return p.(*httpProber)
	}
	a := mk("a", "http://127.0.0.1:1/a", checkconfig.HTTP{})
	b := mk("b", "http://127.0.0.1:1/b", checkconfig.HTTP{Method: "HEAD", BodyContains: "x"})
	c := mk("c", "http://127.0.0.1:1/c", checkconfig.HTTP{IPProtocol: "ip6"})
	d := mk("d", "http://127.0.0.1:1/d", checkconfig.HTTP{TLS: checkconfig.TLSConfig{InsecureSkipVerify: true}})
	require.Same(t, a.transport, b.transport, "request settings do not split transports")
	require.NotSame(t, a.transport, c.transport)
	require.NotSame(t, a.transport, d.transport)
	require.Len(t, env.Transports.m, 3)
}

func TestApplyAllIsWholeOrNothing(t *testing.T) {
	col := &collector{}
	s, err := NewScheduler(SchedulerOptions{Report: col.report, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	var made []*funcProber
	s.build = func(c *checkconfig.Check, _ Env) (Prober, error) {
		if c.Target == "bad" {
			return nil, fmt.Errorf("ca_file holds no PEM certificate")
		}
		p := &funcProber{fn: func(context.Context) Result { return Result{Success: true} }}
		made = append(made, p)
		return p, nil
	}
	a, b := testCheck("a", time.Minute, time.Second), testCheck("b", time.Minute, time.Second)
	require.NoError(t, s.ApplyAll([]checkconfig.Check{a}))
	bad := testCheck("c", time.Minute, time.Second)
	bad.Target = "bad"
	err = s.ApplyAll([]checkconfig.Check{a, b, bad})
	require.ErrorContains(t, err, `check "c": ca_file holds no PEM certificate`)
	require.Len(t, s.entries, 1, "nothing applied")
	require.False(t, made[0].closed.Load(), "the running check keeps its prober")
	require.True(t, made[1].closed.Load(), "the prober built for b is released")
}
