package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/saypro/monitor/bench/procstat"
	"github.com/saypro/monitor/bench/subcmd"
	"github.com/saypro/monitor/internal/probe"
)

// Measurement is everything measured on one prober.
type Measurement struct {
	Name          string  `json:"name"`
	Mode          string  `json:"mode"` // saypro (its own scheduler) or blackbox (driven)
	PID           int     `json:"pid"`
	WarmupSeconds float64 `json:"warmup_seconds"`
	WindowSeconds float64 `json:"window_seconds"` // as measured
	Checks        int     `json:"checks"`
	Interval      float64 `json:"interval_seconds"`
	Scheduled     float64 `json:"scheduled_runs_per_second"`

	CPUSeconds    float64 `json:"cpu_seconds"`
	Runs          float64 `json:"runs"`
	RunsPerSecond float64 `json:"runs_per_second"`
	CPUMicrosRun  float64 `json:"cpu_us_per_run"`
	Skipped       float64 `json:"skipped"`
	Errors        float64 `json:"errors"` // driver's failed /probe requests (blackbox)

	PeakRSSBytes    int64 `json:"peak_rss_bytes"` // VmHWM at the end of the window (since start)
	RSSEndBytes     int64 `json:"rss_end_bytes"`
	RSSMeanBytes    int64 `json:"rss_mean_bytes"` // VmRSS sampled during the window
	RSSMaxSampBytes int64 `json:"rss_max_sampled_bytes"`

	Lateness         *Histogram `json:"lateness,omitempty"` // observations in the window
	LatenessP50      float64    `json:"lateness_p50_seconds"`
	LatenessP99      float64    `json:"lateness_p99_seconds"`
	LatenessMaxBound float64    `json:"lateness_max_bucket_seconds"`
	LatenessMean     float64    `json:"lateness_mean_seconds"`
	// LatenessSource says whose lateness it is (the scheduler's histogram,
	// or the load driver's sending for blackbox).
	LatenessSource string `json:"lateness_source"`

	// States by target kind and state; StatesSource says how they were counted.
	States       map[string]map[string]float64 `json:"states"`
	StatesSource string                        `json:"states_source"`

	TargetsCPUSeconds float64    `json:"targets_cpu_seconds"` // the target server, in the window
	DriverCPUSeconds  float64    `json:"driver_cpu_seconds"`  // this measuring process (and blackbox driver)
	SystemBusySeconds float64    `json:"system_busy_cpu_seconds"`
	Load              [2]float64 `json:"loadavg1_start_end"`
	ChecksAPISeconds  float64    `json:"checks_api_seconds,omitempty"`
	PprofFile         string     `json:"pprof_file,omitempty"`
	// Unexpected are the reasons of states a target kind should not end
	// in (fast not up, slow not degraded, hanging not down), digits masked.
	Unexpected []Unexpected `json:"unexpected,omitempty"`
}

func cmdMeasure(ctx context.Context, args []string, stdout io.Writer, logger *slog.Logger) error {
	fs := subcmd.NewFlagSet(toolName, "measure", "Measures one prober (process --pid) over --window after --warmup: CPU seconds\n"+
		"(utime+stime), RSS, runs, skipped runs and schedule lateness. For our probers the runs\n"+
		"and lateness come from their /metrics (--metrics-url), read just before and just after\n"+
		"the window. With --blackbox it drives blackbox_exporter itself: GET /probe for every\n"+
		"target once per --interval, each at a fixed phase, and counts completed probes.")
	var cf checkFlags
	cf.register(fs)
	name := fs.String("name", "", "name of the prober in the results (required)")
	pid := fs.Int("pid", 0, "pid of the prober (required)")
	metricsURL := fs.String("metrics-url", "", "our prober's /metrics URL")
	unexpectedURL := fs.String("unexpected-url", "", "the in-process prober's /unexpected URL, read after the window")
	checksAPI := fs.String("checks-api", "", "the server's base URL: read the checks' states from /api/v1/checks after the window")
	bbURL := fs.String("blackbox", "", "blackbox_exporter's base URL: drive it instead of reading /metrics")
	module := fs.String("module", "http_2xx", "blackbox module")
	latencyWarn := fs.Duration("latency-threshold", 3*time.Second, "a success slower than this counts as degraded (blackbox)")
	targetsPID := fs.Int("targets-pid", 0, "pid of the target server, to record its CPU")
	warmup := fs.Duration("warmup", 30*time.Second, "unmeasured time first")
	window := fs.Duration("window", 120*time.Second, "measured window")
	clkTck := fs.Float64("clk-tck", 100, "clock ticks per second (getconf CLK_TCK)")
	pprofURL := fs.String("pprof-url", "", "after the window, fetch a CPU profile from this /debug/pprof/profile URL")
	pprofSecs := fs.Int("pprof-seconds", 0, "length of that profile (0: none)")
	pprofOut := fs.String("pprof-out", "", "where to write it")
	out := fs.String("out", "", "JSON file to write (required)")
	if err := subcmd.Parse(fs, args); err != nil {
		return err
	}
	if *name == "" || *pid <= 0 || *out == "" {
		return subcmd.Usagef("--name, --pid and --out are required")
	}
	if (*metricsURL == "") == (*bbURL == "") {
		return subcmd.Usagef("give exactly one of --metrics-url and --blackbox")
	}
	ts, err := cf.targets()
	if err != nil {
		return err
	}
	m := &Measurement{
		Name: *name, Mode: "saypro", PID: *pid, WarmupSeconds: warmup.Seconds(), Checks: len(ts),
		Interval: cf.interval.Seconds(), Scheduled: float64(len(ts)) / cf.interval.Seconds(),
		States: map[string]map[string]float64{},
	}
	var drv *driver
	driverDone := make(chan struct{})
	dctx, stopDriver := context.WithCancel(ctx)
	defer stopDriver()
	if *bbURL != "" {
		m.Mode = "blackbox"
		drv = newDriver(*bbURL, *module, ts, cf.interval, cf.timeout, *latencyWarn)
		go func() { drv.run(dctx); close(driverDone) }()
	} else {
		close(driverDone)
	}
	logger.Info("warming up", "prober", *name, "warmup", *warmup)
	if err := sleepCtx(ctx, *warmup); err != nil {
		return err
	}

	// Start of the window: our /metrics first, then /proc.
	var sched0, sched1 SchedReading
	var drv0, drv1 driverCounts
	if *metricsURL != "" {
		if sched0, err = readSched(ctx, *metricsURL); err != nil {
			return fmt.Errorf("reading %s: %w", *metricsURL, err)
		}
	} else {
		drv0 = drv.counts()
	}
	p0, err := procstat.Read(*pid, *clkTck)
	if err != nil {
		return fmt.Errorf("%s (pid %d): %w", *name, *pid, err)
	}
	t0 := time.Now()
	tg0 := readOptional(*targetsPID, *clkTck)
	self0 := readOptional(os.Getpid(), *clkTck)
	busy0, _ := systemBusy(*clkTck)
	m.Load[0] = loadavg1()
	logger.Info("measuring", "prober", *name, "window", *window)

	var rssSum int64
	var rssN int64
	tick := time.NewTicker(2 * time.Second)
	end := time.NewTimer(*window)
sampling:
	for {
		select {
		case <-ctx.Done():
			tick.Stop()
			return ctx.Err()
		case <-tick.C:
			if s, err := procstat.Read(*pid, *clkTck); err == nil {
				rssSum += s.RSSBytes
				rssN++
				m.RSSMaxSampBytes = max(m.RSSMaxSampBytes, s.RSSBytes)
			} else {
				tick.Stop()
				return fmt.Errorf("%s (pid %d) during the window: %w", *name, *pid, err)
			}
		case <-end.C:
			break sampling
		}
	}
	tick.Stop()
	// End of the window: /proc first, then /metrics.
	p1, err := procstat.Read(*pid, *clkTck)
	if err != nil {
		return fmt.Errorf("%s (pid %d) at the end of the window: %w", *name, *pid, err)
	}
	t1 := time.Now()
	tg1 := readOptional(*targetsPID, *clkTck)
	self1 := readOptional(os.Getpid(), *clkTck)
	busy1, _ := systemBusy(*clkTck)
	m.Load[1] = loadavg1()
	if *metricsURL != "" {
		if sched1, err = readSched(ctx, *metricsURL); err != nil {
			return fmt.Errorf("reading %s: %w", *metricsURL, err)
		}
	} else {
		drv1 = drv.counts()
	}
	stopDriver()
	<-driverDone

	m.WindowSeconds = t1.Sub(t0).Seconds()
	m.CPUSeconds = p1.CPUSeconds - p0.CPUSeconds
	m.PeakRSSBytes = p1.HWMBytes
	m.RSSEndBytes = p1.RSSBytes
	if rssN > 0 {
		m.RSSMeanBytes = rssSum / rssN
	}
	m.TargetsCPUSeconds = tg1 - tg0
	m.DriverCPUSeconds = self1 - self0
	m.SystemBusySeconds = busy1 - busy0

	var lat Histogram
	if *metricsURL != "" {
		m.Runs = sched1.TotalRuns() - sched0.TotalRuns()
		m.Skipped = sched1.Skipped - sched0.Skipped
		if lat, err = sched1.Lateness.Sub(sched0.Lateness); err != nil {
			return err
		}
		m.LatenessSource = "the scheduler's " + mLateness + " over the window"
		if len(sched1.Outcomes) > 0 {
			for k, v := range sched1.Outcomes {
				kind, st, _ := strings.Cut(k, "/")
				addState(m.States, kind, st, v-sched0.Outcomes[k])
			}
			m.StatesSource = "outcomes reported in the window, by target kind"
		}
	} else {
		d := drv1.sub(drv0)
		m.Runs = d.total()
		m.Skipped = d.skipped
		m.Errors = d.errors
		for i, k := range targetKinds {
			for j, st := range driverStates {
				addState(m.States, k, st, d.states[i][j])
			}
		}
		m.StatesSource = "probes completed in the window, by target kind: probe_success 0 is down, a success slower than " + latencyWarn.String() + " degraded"
		lat = d.lateness
		m.Unexpected = drv.odd.snapshot() // warm-up included
		m.LatenessSource = "the load driver's sending (not blackbox's)"
	}
	m.Lateness = &lat
	m.LatenessP50, m.LatenessP99 = lat.Quantile(0.5), lat.Quantile(0.99)
	m.LatenessMaxBound = lat.MaxBound()
	if lat.Count > 0 {
		m.LatenessMean = lat.Sum / lat.Count
	}
	m.RunsPerSecond = m.Runs / m.WindowSeconds
	if m.Runs > 0 {
		m.CPUMicrosRun = m.CPUSeconds / m.Runs * 1e6
	}
	logger.Info("window done", "prober", *name, "cpu_seconds", m.CPUSeconds, "runs", m.Runs, "cpu_us_per_run", m.CPUMicrosRun)

	if *pprofURL != "" && *pprofSecs > 0 && *pprofOut != "" {
		logger.Info("profiling after the window", "seconds", *pprofSecs)
		if err := fetchTo(ctx, fmt.Sprintf("%s?seconds=%d", *pprofURL, *pprofSecs), *pprofOut, time.Duration(*pprofSecs+30)*time.Second); err != nil {
			logger.Warn("profile", "err", err)
		} else {
			m.PprofFile = *pprofOut
		}
	}
	if *checksAPI != "" {
		start := time.Now()
		states, odd, err := readChecksAPI(ctx, *checksAPI)
		m.ChecksAPISeconds = time.Since(start).Seconds()
		if err != nil {
			logger.Warn("reading the checks' states", "err", err)
		} else {
			m.States = states
			m.Unexpected = odd
			m.StatesSource = fmt.Sprintf("state of each check at the end, from GET /api/v1/checks (answered in %.1fs)", m.ChecksAPISeconds)
		}
	}
	if *unexpectedURL != "" {
		if err := getJSON(ctx, *unexpectedURL, &m.Unexpected); err != nil {
			logger.Warn("reading the unexpected outcomes", "err", err)
		}
	}
	b, err := json.MarshalIndent(jsonSafe(m), "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(*out, append(b, '\n'), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %.0f runs in %.0fs (%.1f/s), %.2f CPU s, %.1f us/run, peak RSS %.1f MiB, lateness p99 %.4fs\n",
		m.Name, m.Runs, m.WindowSeconds, m.RunsPerSecond, m.CPUSeconds, m.CPUMicrosRun, float64(m.PeakRSSBytes)/(1<<20), m.LatenessP99)
	return nil
}

func addState(states map[string]map[string]float64, kind, state string, v float64) {
	if states[kind] == nil {
		states[kind] = map[string]float64{}
	}
	states[kind][state] += v
}

// jsonSafe replaces NaN and infinite figures, which JSON cannot hold.
func jsonSafe(m *Measurement) *Measurement {
	c := *m
	for _, f := range []*float64{&c.LatenessP50, &c.LatenessP99, &c.LatenessMaxBound, &c.LatenessMean} {
		if math.IsNaN(*f) {
			*f = -1
		} else if math.IsInf(*f, 1) {
			*f = 1e9
		}
	}
	if c.Lateness != nil {
		h := *c.Lateness
		h.Bounds = append([]float64(nil), h.Bounds...)
		for i, b := range h.Bounds {
			if math.IsInf(b, 1) {
				h.Bounds[i] = 1e9 // +Inf
			}
		}
		c.Lateness = &h
	}
	return &c
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

var httpc = &http.Client{Timeout: 30 * time.Second}

func readSched(ctx context.Context, url string) (SchedReading, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return SchedReading{}, err
	}
	resp, err := httpc.Do(req)
	if err != nil {
		return SchedReading{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return SchedReading{}, fmt.Errorf("status %s", resp.Status)
	}
	return parseSched(resp.Body)
}

func getJSON(ctx context.Context, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := httpc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: status %s", url, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// readChecksAPI counts the checks by target kind and state, and the
// reasons of unexpected states.
func readChecksAPI(ctx context.Context, base string) (map[string]map[string]float64, []Unexpected, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(base, "/")+"/api/v1/checks", nil)
	if err != nil {
		return nil, nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("status %s", resp.Status)
	}
	return parseChecksAPI(resp.Body)
}

func parseChecksAPI(r io.Reader) (map[string]map[string]float64, []Unexpected, error) {
	var doc struct {
		Status string `json:"status"`
		Data   []struct {
			Name      string `json:"name"`
			State     string `json:"state"`
			Locations []struct {
				Reason string `json:"reason"`
			} `json:"locations"`
		} `json:"data"`
	}
	if err := json.NewDecoder(r).Decode(&doc); err != nil {
		return nil, nil, err
	}
	if doc.Status != "success" {
		return nil, nil, fmt.Errorf("status %q", doc.Status)
	}
	out := map[string]map[string]float64{}
	var odd unexpected
	kindIdx := map[string]int{kindFast: 0, kindSlow: 1, kindHang: 2}
	for _, c := range doc.Data {
		kind := kindOfCheck(c.Name)
		addState(out, kind, c.State, 1)
		if i, ok := kindIdx[kind]; ok && c.State != string(expectedState[i]) {
			reason := ""
			if len(c.Locations) > 0 {
				reason = c.Locations[0].Reason
			}
			odd.add(kind, probe.State(c.State), reason)
		}
	}
	return out, odd.snapshot(), nil
}

func fetchTo(ctx context.Context, url, path string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: status %s", url, resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// readOptional is the CPU seconds of pid, 0 when pid is 0 or unreadable.
func readOptional(pid int, clkTck float64) float64 {
	if pid <= 0 {
		return 0
	}
	s, err := procstat.Read(pid, clkTck)
	if err != nil {
		return 0
	}
	return s.CPUSeconds
}

// systemBusy is the machine's non-idle CPU seconds (all CPUs) from the
// cpu line of /proc/stat: everything but idle and iowait.
func systemBusy(clkTck float64) (float64, error) {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() {
		return 0, errors.New("/proc/stat is empty")
	}
	return parseProcStatBusy(sc.Text(), clkTck)
}

func parseProcStatBusy(line string, clkTck float64) (float64, error) {
	f := strings.Fields(line)
	if len(f) < 6 || f[0] != "cpu" {
		return 0, fmt.Errorf("unexpected /proc/stat line %q", line)
	}
	var busy float64
	for i, s := range f[1:] {
		if i >= 8 { // guest and guest_nice are already in user and nice
			break
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/stat: %w", err)
		}
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		busy += v
	}
	return busy / clkTck, nil
}

func loadavg1() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return -1
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return -1
	}
	return v
}
