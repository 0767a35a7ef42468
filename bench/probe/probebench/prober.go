package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/model"

	"github.com/saypro/monitor/bench/subcmd"
	"github.com/saypro/monitor/internal/config/checkconfig"
	"github.com/saypro/monitor/internal/probe"
)

// buildChecks turns targets into validated http checks.
func buildChecks(ts []Target, interval, timeout time.Duration) ([]checkconfig.Check, error) {
	checks := make([]checkconfig.Check, len(ts))
	for i, t := range ts {
		checks[i] = checkconfig.Check{
			Name: t.Name, Kind: checkconfig.KindHTTP, Target: t.URL,
			Interval: model.Duration(interval), Timeout: model.Duration(timeout),
			HTTP: &checkconfig.HTTP{},
		}
	}
	if err := checkconfig.ValidateAll("checks", checks); err != nil {
		return nil, err
	}
	return checks, nil
}

func cmdConfig(_ context.Context, args []string, _ io.Writer, _ *slog.Logger) error {
	fs := subcmd.NewFlagSet(toolName, "config", "Writes to --out a saypro-monitor server configuration that runs the benchmark's\n"+
		"checks and nothing else: no in-process agent, no self-scrape.")
	var cf checkFlags
	cf.register(fs)
	out := fs.String("out", "", "the configuration file to write (required)")
	maxConc := fs.Int("max-concurrent", 0, "probe.max_concurrent (0: the server's default)")
	if err := subcmd.Parse(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return subcmd.Usagef("--out is required")
	}
	ts, err := cf.targets()
	if err != nil {
		return err
	}
	return os.WriteFile(*out, []byte(serverConfig(ts, cf.interval, cf.timeout, *maxConc)), 0o644)
}

// serverConfig is the YAML of a server that runs only the checks.
func serverConfig(ts []Target, interval, timeout time.Duration, maxConcurrent int) string {
	var b strings.Builder
	b.WriteString("# Written by probebench config for bench/probe/run.sh.\nserver:\n  self_scrape: false\nagent:\n  enabled: false\n")
	if maxConcurrent > 0 {
		fmt.Fprintf(&b, "probe:\n  max_concurrent: %d\n", maxConcurrent)
	}
	b.WriteString("checks:\n")
	for _, t := range ts {
		fmt.Fprintf(&b, "  - {name: %s, kind: http, target: %q, interval: %s, timeout: %s}\n",
			t.Name, t.URL, model.Duration(interval), model.Duration(timeout))
	}
	return b.String()
}

func cmdProber(ctx context.Context, args []string, _ io.Writer, logger *slog.Logger) error {
	fs := subcmd.NewFlagSet(toolName, "prober", "Runs probe.Scheduler in this process on the benchmark's checks, with a Report that only\n"+
		"counts outcomes by target kind and state: the probing engine without storage. Serves the\n"+
		"scheduler's metrics (saypro_check_*) and bench_probe_outcomes_total{target_kind,state} on\n"+
		"--listen /metrics, and /debug/pprof/. Prints the counts when stopped.")
	var cf checkFlags
	cf.register(fs)
	listen := fs.String("listen", "127.0.0.1:0", "address of /metrics and /debug/pprof/")
	conc := fs.Int("max-concurrent", 0, "runs in flight at most (0: probe.DefaultConcurrency)")
	if err := subcmd.Parse(fs, args); err != nil {
		return err
	}
	ts, err := cf.targets()
	if err != nil {
		return err
	}
	checks, err := buildChecks(ts, cf.interval, cf.timeout)
	if err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	// Counters per kind and state without a map lookup per run: the
	// Report only adds to an atomic, the collector reads them.
	var odd unexpected
	var counts [3][3]atomic.Int64 // [targetKinds][probe.States]
	kindIdx := map[string]int{}
	for i, k := range targetKinds {
		kindIdx[k] = i
	}
	stateIdx := map[probe.State]int{}
	for i, s := range probe.States {
		stateIdx[s] = i
	}
	kindOf := map[string]int{}
	for _, t := range ts {
		kindOf[t.Name] = kindIdx[t.Kind]
	}
	reg.MustRegister(countsCollector(func(ch chan<- prometheus.Metric, desc *prometheus.Desc) {
		for i, k := range targetKinds {
			for j, s := range probe.States {
				ch <- prometheus.MustNewConstMetric(desc, prometheus.CounterValue, float64(counts[i][j].Load()), k, string(s))
			}
		}
	}))
	sched, err := probe.NewScheduler(probe.SchedulerOptions{
		Concurrency: *conc,
		Report: func(o probe.Outcome) {
			k := kindOf[o.Check]
			counts[k][stateIdx[o.State]].Add(1)
			if o.State != expectedState[k] {
				odd.add(targetKinds[k], o.State, o.Reason)
			}
		},
		Logger:     logger,
		Registerer: reg,
	})
	if err != nil {
		return err
	}
	if err := sched.Apply(checks); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/unexpected", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(odd.snapshot())
	})
	mux.HandleFunc("/-/ready", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ready\n") })
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	logger.Info("prober running", "checks", len(checks), "listen", ln.Addr().String())
	err = sched.Run(ctx)
	var parts []string
	for i, k := range targetKinds {
		for j, s := range probe.States {
			parts = append(parts, fmt.Sprintf("%s/%s=%d", k, s, counts[i][j].Load()))
		}
	}
	logger.Info("prober stopped", "outcomes", strings.Join(parts, " "))
	for _, r := range odd.snapshot() {
		logger.Info("unexpected outcomes", "count", r.Count, "target_kind", r.Kind, "state", r.State, "reason", r.Reason)
	}
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// countsCollector exposes bench_probe_outcomes_total from counters kept
// outside the client library.
type countsCollector func(ch chan<- prometheus.Metric, desc *prometheus.Desc)

var outcomesDesc = prometheus.NewDesc("bench_probe_outcomes_total",
	"Outcomes reported, by the kind of target and the state.", []string{"target_kind", "state"}, nil)

func (c countsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- outcomesDesc }
func (c countsCollector) Collect(ch chan<- prometheus.Metric) { c(ch, outcomesDesc) }

// expectedState is the state each target kind should end in: fast up,
// slow degraded (slower than the 3 s default threshold), hanging down.
var expectedState = [3]probe.State{probe.StateUp, probe.StateDegraded, probe.StateDown}

// unexpected counts the reasons of outcomes in a state their target kind
// should not end in, with digits masked so that addresses and durations
// group; at most maxReasons distinct reasons are kept.
type unexpected struct {
	mu sync.Mutex
	m  map[[3]string]int64
}

const maxReasons = 50

// Unexpected is a reason and how often it was seen.
type Unexpected struct {
	Kind   string `json:"target_kind"`
	State  string `json:"state"`
	Reason string `json:"reason"`
	Count  int64  `json:"count"`
}

func (u *unexpected) add(kind string, st probe.State, reason string) {
	u.addRaw(kind, st, maskDigits(reason))
}

// addRaw is add without masking the digits.
func (u *unexpected) addRaw(kind string, st probe.State, reason string) {
	key := [3]string{kind, string(st), reason}
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.m == nil {
		u.m = map[[3]string]int64{}
	}
	if _, ok := u.m[key]; !ok && len(u.m) >= maxReasons {
		key[2] = "(other reasons)"
	}
	u.m[key]++
}

func (u *unexpected) snapshot() []Unexpected {
	u.mu.Lock()
	defer u.mu.Unlock()
	out := make([]Unexpected, 0, len(u.m))
	for k, n := range u.m {
		out = append(out, Unexpected{k[0], k[1], k[2], n})
	}
	slices.SortFunc(out, func(a, b Unexpected) int { return cmp.Compare(b.Count, a.Count) })
	return out
}

// maskDigits replaces every run of digits with "N".
func maskDigits(s string) string {
	var b strings.Builder
	inDigits := false
	for _, r := range s {
		if r >= '0' && r <= '9' {
			if !inDigits {
				b.WriteByte('N')
			}
			inDigits = true
			continue
		}
		inDigits = false
		b.WriteRune(r)
	}
	return b.String()
}
