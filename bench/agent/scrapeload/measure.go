package main

import (
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"time"

	"github.com/saypro/monitor/bench/procstat"
)

// Role says whether a process is one of ours or a peer we compare with.
type Role string

// Mode says how a process is driven: scraped on /metrics, or pushing on
// its own schedule.
type Mode string

const (
	RoleOurs Role = "ours"
	RolePeer Role = "peer"
	ModePull Mode = "pull"
	ModePush Mode = "push"
)

// Config is how one measurement runs.
type Config struct {
	Scrapes      int           `json:"scrapes"`
	Warmup       int           `json:"warmup"`
	Interval     time.Duration `json:"interval_ns"`
	PushInterval time.Duration `json:"push_interval_ns"`
	Timeout      time.Duration `json:"timeout_ns"`
	Gzip         bool          `json:"gzip"`
	ClkTck       float64       `json:"clk_tck"`
	Goal         float64       `json:"goal"`
}

// Process is one measured process and, after measure, what was measured.
type Process struct {
	Name string `json:"name"`
	PID  int    `json:"pid"`
	Role Role   `json:"role"`
	Mode Mode   `json:"mode"`
	URL  string `json:"url,omitempty"`

	Start procstat.Sample `json:"proc_start"` // at the start of the measured window
	End   procstat.Sample `json:"proc_end"`   // at its end

	// Collections in the measured window: successful scrapes, or for a
	// push agent the collections it counted (or the window / interval).
	Collections       int64  `json:"collections"`
	CollectionsSource string `json:"collections_source"`
	// CPUSeconds is utime+stime over the measured window.
	CPUSeconds float64 `json:"cpu_seconds"`

	// Per scrape (scraped processes): series (non-comment lines of the
	// text format), uncompressed and wire bytes, duration.
	Series     []int     `json:"-"`
	BodyBytes  []int64   `json:"-"`
	WireBytes  []int64   `json:"-"`
	Durations  []float64 `json:"-"`
	ScrapeErrs int       `json:"scrape_errors"`
	FirstErr   string    `json:"first_error,omitempty"`
	// CollectionErrs are collections the push agent itself counted as
	// failed (saypro_agent_collections_total{result!="ok"}) in the window.
	CollectionErrs int64 `json:"collection_errors,omitempty"`
	// PushSeries is the push agent's saypro_agent_collection_series at
	// the end, if it exposes it.
	PushSeries float64 `json:"push_series,omitempty"`
	// SamplesShipped is the increase of the push agent's
	// saypro_agent_remote_write_samples_sent_total over the window, and
	// QueuePending its saypro_agent_queue_pending_samples at the end (-1:
	// not exposed).
	SamplesShipped float64 `json:"samples_shipped"`
	QueuePending   float64 `json:"queue_pending_samples"`

	// Failure is set when the process could not be measured (it exited).
	Failure string `json:"failure,omitempty"`
}

// Result is everything measured in one run.
type Result struct {
	Processes     []*Process      `json:"processes"`
	WindowSeconds float64         `json:"window_seconds"`
	Scraper       procstat.Sample `json:"scraper_proc_end"`
	ScraperCPU    float64         `json:"scraper_cpu_seconds"` // over the window
}

// pushCounters are what a push agent says about its own collections.
type pushCounters struct {
	total, failed, series float64
	ok                    bool // the collections counter was there
	sent, pending         float64
	sentOK, pendingOK     bool
}

// measure runs the warm-up rounds, takes the /proc readings, runs the
// measured rounds and takes the readings again.
func measure(ctx context.Context, c Config, procs []*Process, logger *slog.Logger) (*Result, error) {
	client := &http.Client{
		Timeout: c.Timeout,
		// One connection per exporter, kept alive, as Prometheus scrapes.
		// Compression is asked for (or not) by hand so that the wire bytes
		// can be counted.
		Transport: &http.Transport{MaxIdleConnsPerHost: 1, DisableCompression: true, Proxy: nil},
	}
	var pulled, pushed []*Process
	for _, p := range procs {
		if p.Mode == ModePull {
			pulled = append(pulled, p)
		} else {
			pushed = append(pushed, p)
		}
	}
	self := os.Getpid()
	pushStart := make([]pushCounters, len(pushed))
	var (
		window      time.Time
		scraperCPU0 procstat.Sample
	)
	startWindow := func() error {
		// The push agents' own counters first: reading them costs them a
		// gather, which must fall outside the window.
		for i, p := range pushed {
			pushStart[i] = readPushCounters(ctx, client, p.URL)
		}
		for _, p := range procs {
			s, err := procstat.Read(p.PID, c.ClkTck)
			if err != nil {
				return fmt.Errorf("%s (pid %d) at the start of the window: %w", p.Name, p.PID, err)
			}
			p.Start = s
		}
		scraperCPU0, _ = procstat.Read(self, c.ClkTck)
		window = time.Now()
		return nil
	}

	rounds := c.Warmup + c.Scrapes
	logger.Info("scraping", "scraped", len(pulled), "pushing", len(pushed), "warmup_rounds", c.Warmup, "measured_rounds", c.Scrapes, "interval", c.Interval)
	tick := time.NewTicker(c.Interval)
	defer tick.Stop()
	lastLog := time.Now()
	for r := range rounds {
		if r == c.Warmup {
			if err := startWindow(); err != nil {
				return nil, err
			}
			logger.Info("measured window started")
		}
		measured := r >= c.Warmup
		// Rotate the order so that no exporter is always scraped first
		// (just after the others have used the CPU) or last.
		for j := range pulled {
			p := pulled[(r+j)%len(pulled)]
			s, err := scrape(ctx, client, p.URL, c.Gzip)
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if !measured {
				if err != nil && r == c.Warmup-1 {
					logger.Warn("scrape failed during warm-up", "process", p.Name, "err", err)
				}
				continue
			}
			if err != nil {
				p.ScrapeErrs++
				if p.FirstErr == "" {
					p.FirstErr = err.Error()
					logger.Warn("scrape failed", "process", p.Name, "err", err)
				}
				continue
			}
			p.Collections++
			p.Series = append(p.Series, s.series)
			p.BodyBytes = append(p.BodyBytes, s.body)
			p.WireBytes = append(p.WireBytes, s.wire)
			p.Durations = append(p.Durations, s.seconds)
		}
		if measured && time.Since(lastLog) >= 30*time.Second {
			logger.Info("scraping", "round", r-c.Warmup+1, "of", c.Scrapes)
			lastLog = time.Now()
		}
		// Wait for the next round; after the last one, for the end of its
		// interval, so that the window spans exactly --scrapes intervals.
		select {
		case <-tick.C:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	res := &Result{Processes: procs, WindowSeconds: time.Since(window).Seconds()}
	for _, p := range procs {
		s, err := procstat.Read(p.PID, c.ClkTck)
		if err != nil {
			p.Failure = fmt.Sprintf("could not be read at the end of the window (exited?): %v", err)
			continue
		}
		p.End = s
		p.CPUSeconds = s.CPUSeconds - p.Start.CPUSeconds
	}
	for _, p := range procs {
		if p.Failure == "" && p.CPUSeconds == 0 {
			p.Failure = fmt.Sprintf("no CPU time counted in the window: is pid %d the exporter itself, not a shell or wrapper around it?", p.PID)
		}
	}
	if s, err := procstat.Read(self, c.ClkTck); err == nil {
		res.Scraper = s
		res.ScraperCPU = s.CPUSeconds - scraperCPU0.CPUSeconds
	}
	for i, p := range pushed {
		end := readPushCounters(ctx, client, p.URL)
		if pushStart[i].ok && end.ok {
			p.Collections = int64(end.total - pushStart[i].total)
			p.CollectionErrs = int64(end.failed - pushStart[i].failed)
			p.CollectionsSource = "its saypro_agent_collections_total"
		} else {
			p.Collections = int64(res.WindowSeconds/c.PushInterval.Seconds() + 0.5)
			p.CollectionsSource = "window / interval"
		}
		p.PushSeries = end.series
		p.SamplesShipped, p.QueuePending = -1, -1
		if pushStart[i].sentOK && end.sentOK {
			p.SamplesShipped = end.sent - pushStart[i].sent
			if p.SamplesShipped <= 0 && p.Failure == "" {
				p.Failure = "shipped no samples to the server in the window (see its log)"
			}
		}
		if end.pendingOK {
			p.QueuePending = end.pending
		}
		if p.Collections <= 0 && p.Failure == "" {
			p.Failure = "made no collection in the window"
		}
	}
	for _, p := range pulled {
		p.CollectionsSource = "successful scrapes"
		if p.Collections == 0 && p.Failure == "" {
			p.Failure = "no successful scrape: " + p.FirstErr
		}
	}
	return res, nil
}

// scrapeResult is one scrape.
type scrapeResult struct {
	series     int
	body, wire int64
	seconds    float64
}

// scrape GETs a /metrics URL in the text format, reads the whole body and
// counts its series.
func scrape(ctx context.Context, client *http.Client, url string, gz bool) (scrapeResult, error) {
	var res scrapeResult
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return res, err
	}
	// The text format, which both node_exporter and ours serve, so that
	// both do the same kind of encoding.
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	if gz {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	began := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return res, err
	}
	defer resp.Body.Close()
	wire := &countingReader{r: resp.Body}
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, wire)
		return res, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	var body io.Reader = wire
	if resp.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(wire)
		if err != nil {
			return res, fmt.Errorf("GET %s: %w", url, err)
		}
		defer zr.Close()
		body = zr
	}
	var sc seriesCounter
	n, err := io.Copy(&sc, body)
	if err != nil {
		return res, fmt.Errorf("GET %s: reading the body: %w", url, err)
	}
	res.seconds = time.Since(began).Seconds()
	res.series = sc.series
	res.body = n
	res.wire = wire.n
	return res, nil
}

// readPushCounters reads a push agent's own collection counters from its
// /metrics; ok is false if it has no URL or does not expose them.
func readPushCounters(ctx context.Context, client *http.Client, url string) pushCounters {
	var pc pushCounters
	if url == "" {
		return pc
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return pc
	}
	resp, err := client.Do(req)
	if err != nil {
		return pc
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return pc
	}
	samples, err := parseSamples(resp.Body, "saypro_agent_collections_total", "saypro_agent_collection_series",
		"saypro_agent_remote_write_samples_sent_total", "saypro_agent_queue_pending_samples")
	if err != nil {
		return pc
	}
	for _, s := range samples {
		switch s.name {
		case "saypro_agent_collections_total":
			pc.ok = true
			pc.total += s.value
			if s.labels["result"] != "ok" {
				pc.failed += s.value
			}
		case "saypro_agent_collection_series":
			pc.series = s.value
		case "saypro_agent_remote_write_samples_sent_total":
			pc.sent += s.value
			pc.sentOK = true
		case "saypro_agent_queue_pending_samples":
			pc.pending += s.value
			pc.pendingOK = true
		}
	}
	return pc
}

// median returns the median of xs (0 for none).
func median[T int | int64 | float64](xs []T) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return float64(s[n/2])
	}
	return (float64(s[n/2-1]) + float64(s[n/2])) / 2
}

// quantile returns the q-quantile (nearest rank) of xs (0 for none).
func quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	i := int(q*float64(len(s)) + 0.5)
	if i < 1 {
		i = 1
	}
	if i > len(s) {
		i = len(s)
	}
	return s[i-1]
}
