package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/saypro/monitor/bench/procstat"
)

// Server kinds: how to settle the store after the load and which of its
// own counters tell how many samples it stored.
const (
	kindSaypro     = "saypro"
	kindPrometheus = "prometheus"
	kindVM         = "victoriametrics"
)

// runConfig is one server's whole measurement.
type runConfig struct {
	Name          string
	Kind          string
	BaseURL       string
	WritePath     string
	PID           int
	ClkTck        float64
	DataDir       string
	Ingest        ingestConfig
	QueryRuns     int
	SettleTimeout time.Duration
}

// RunResult is everything measured on one server.
type RunResult struct {
	Name   string        `json:"name"`
	Kind   string        `json:"kind"`
	Ingest *IngestResult `json:"ingest"`
	// Process samples: before and after the load, after settling, at the
	// end (after the queries).
	ProcBefore  procstat.Sample `json:"proc_before"`
	ProcIngest  procstat.Sample `json:"proc_after_ingest"`
	ProcSettled procstat.Sample `json:"proc_after_settle"`
	ProcEnd     procstat.Sample `json:"proc_end"`
	// IngestCPUSeconds is the server's CPU time while the load ran.
	IngestCPUSeconds float64 `json:"ingest_cpu_seconds"`
	// SettleCPUSeconds is its CPU time from the end of the load until the
	// head was compacted (Prometheus, ours) or the forced flush and merge
	// finished (VictoriaMetrics).
	SettleCPUSeconds  float64       `json:"settle_cpu_seconds"`
	SamplesPerCPUSec  float64       `json:"samples_per_cpu_second"`
	SettleSeconds     float64       `json:"settle_seconds"`
	Settle            string        `json:"settle"` // what settling found
	Compactions       float64       `json:"compactions,omitempty"`
	StoredByCounter   float64       `json:"stored_by_server_counter"`
	StoredCounterName string        `json:"stored_counter_name"`
	Disk              DiskUsage     `json:"disk"`
	DiskBytesPerSamp  float64       `json:"disk_bytes_per_sample"`
	BlockBytesPerSamp float64       `json:"block_bytes_per_sample,omitempty"`
	Checks            []Check       `json:"checks"`
	Queries           []QueryResult `json:"queries"`
	Errors            []string      `json:"errors,omitempty"`
}

// runServer measures one running server: load, settle, disk, checks,
// queries, with the process's CPU and memory in between.
func runServer(ctx context.Context, c runConfig, logger *slog.Logger) (*RunResult, error) {
	logger = logger.With("server", c.Name)
	res := &RunResult{Name: c.Name, Kind: c.Kind}
	var err error
	if res.ProcBefore, err = procstat.Read(c.PID, c.ClkTck); err != nil {
		return nil, fmt.Errorf("reading the server process: %w", err)
	}
	logger.Info("load starting", "hosts", c.Ingest.Hosts, "series", c.Ingest.Hosts*seriesPerHost, "rounds", c.Ingest.Rounds,
		"samples", int64(c.Ingest.Hosts)*seriesPerHost*int64(c.Ingest.Rounds))
	ic := c.Ingest
	ic.URL = c.BaseURL + c.WritePath
	res.Ingest, err = ingest(ctx, ic, logger)
	if err != nil {
		res.Errors = append(res.Errors, "load: "+err.Error())
		return res, fmt.Errorf("load: %w", err)
	}
	if res.ProcIngest, err = procstat.Read(c.PID, c.ClkTck); err != nil {
		return res, fmt.Errorf("the server process after the load: %w", err)
	}
	res.IngestCPUSeconds = res.ProcIngest.CPUSeconds - res.ProcBefore.CPUSeconds
	if res.IngestCPUSeconds > 0 {
		res.SamplesPerCPUSec = float64(res.Ingest.SamplesOK) / res.IngestCPUSeconds
	}
	logger.Info("load done", "accepted", res.Ingest.SamplesOK, "refused", res.Ingest.SamplesRefused, "failed", res.Ingest.SamplesFailed,
		"wall_s", fmt.Sprintf("%.1f", res.Ingest.WallSeconds), "server_cpu_s", fmt.Sprintf("%.1f", res.IngestCPUSeconds), "codes", res.Ingest.StatusCodes)
	for _, e := range res.Ingest.Errors {
		logger.Warn("server answered", "error", e)
	}

	client := &http.Client{Timeout: 5 * time.Minute}
	began := time.Now()
	if err := settle(ctx, c, res, client, logger); err != nil {
		res.Errors = append(res.Errors, "settle: "+err.Error())
		logger.Warn("settling", "err", err)
	}
	res.SettleSeconds = time.Since(began).Seconds()
	if res.ProcSettled, err = procstat.Read(c.PID, c.ClkTck); err != nil {
		return res, fmt.Errorf("the server process after settling: %w", err)
	}
	res.SettleCPUSeconds = res.ProcSettled.CPUSeconds - res.ProcIngest.CPUSeconds
	if res.Disk, err = diskUsage(c.DataDir); err != nil {
		return res, fmt.Errorf("disk usage: %w", err)
	}
	if res.Ingest.SamplesOK > 0 {
		res.DiskBytesPerSamp = float64(res.Disk.Bytes) / float64(res.Ingest.SamplesOK)
	}
	if res.Disk.BlockSamples > 0 {
		res.BlockBytesPerSamp = float64(res.Disk.BlockBytes) / float64(res.Disk.BlockSamples)
	}
	logger.Info("settled", "how", res.Settle, "took_s", fmt.Sprintf("%.1f", res.SettleSeconds), "disk_bytes", res.Disk.Bytes,
		"bytes_per_sample", fmt.Sprintf("%.3f", res.DiskBytesPerSamp), "blocks", res.Disk.Blocks)

	res.StoredCounterName = "prometheus_tsdb_head_samples_appended_total"
	if c.Kind == kindVM {
		res.StoredCounterName = "vm_rows_added_to_storage_total"
	}
	m, err := scrapeMetrics(ctx, client, c.BaseURL+"/metrics", res.StoredCounterName)
	if err != nil {
		res.Errors = append(res.Errors, "reading /metrics: "+err.Error())
	}
	res.StoredByCounter = m[res.StoredCounterName]

	api := &apiClient{base: c.BaseURL, client: client}
	res.Checks = runChecks(ctx, api, countChecks(ic.Hosts, ic.Rounds, ic.start(), ic.End))
	for _, ch := range res.Checks {
		logger.Info("check", "name", ch.Name, "want", ch.Want, "got", ch.Got, "ok", ch.OK, "err", ch.Error)
	}
	res.Queries = measureQueries(ctx, api, dashboardQueries(ic.start(), ic.End), c.QueryRuns)
	for _, q := range res.Queries {
		logger.Info("query", "name", q.Name, "median_ms", fmt.Sprintf("%.1f", q.MedianSeconds*1000), "series", q.Series, "points", q.Points, "err", q.Error)
	}
	if res.ProcEnd, err = procstat.Read(c.PID, c.ClkTck); err != nil {
		return res, fmt.Errorf("the server process at the end: %w", err)
	}
	return res, nil
}

// settle brings the store to its steady on-disk form after the load: the
// head compacted into a block (Prometheus TSDB; only once the head spans
// more than 3 h) or the in-memory rows flushed and the parts merged
// (VictoriaMetrics). Every wait is bounded by SettleTimeout.
func settle(ctx context.Context, c runConfig, res *RunResult, client *http.Client, logger *slog.Logger) error {
	metrics := c.BaseURL + "/metrics"
	switch c.Kind {
	case kindSaypro, kindPrometheus:
		// The head compacts once it spans more than 1.5 x the 2 h block
		// range.
		span := time.Duration(int64(c.Ingest.Rounds)*scrapeInterval) * time.Millisecond
		if span <= 3*time.Hour {
			res.Settle = fmt.Sprintf("no compaction expected (data spans %s <= 3h)", span)
			break
		}
		logger.Info("waiting for the head compaction", "timeout", c.SettleTimeout)
		ok, err := poll(ctx, c.SettleTimeout, 2*time.Second, func() (bool, error) {
			m, err := scrapeMetrics(ctx, client, metrics, "prometheus_tsdb_compactions_total")
			if err != nil {
				return false, err
			}
			res.Compactions = m["prometheus_tsdb_compactions_total"]
			return res.Compactions > 0, nil
		})
		if err != nil {
			return err
		}
		if !ok {
			res.Settle = fmt.Sprintf("no compaction within %s", c.SettleTimeout)
			return fmt.Errorf("head not compacted within %s", c.SettleTimeout)
		}
		res.Settle = fmt.Sprintf("head compacted (%g compactions)", res.Compactions)
	case kindVM:
		for _, p := range []string{"/internal/force_flush", "/internal/force_merge"} {
			if err := getOK(ctx, client, c.BaseURL+p); err != nil {
				return err
			}
		}
		// force_merge answers at once and merges in the background.
		time.Sleep(2 * time.Second)
		ok, err := poll(ctx, c.SettleTimeout, 2*time.Second, func() (bool, error) {
			m, err := scrapeMetrics(ctx, client, metrics, "vm_active_force_merges")
			if err != nil {
				return false, err
			}
			return m["vm_active_force_merges"] == 0, nil
		})
		if err != nil {
			return err
		}
		if !ok {
			res.Settle = fmt.Sprintf("force merge still running after %s", c.SettleTimeout)
			return fmt.Errorf("force merge not finished within %s", c.SettleTimeout)
		}
		res.Settle = "force_flush + force_merge done"
	default:
		return fmt.Errorf("unknown server kind %q", c.Kind)
	}
	// Old files (WAL segments, merged parts) are removed just after; wait
	// until the directory's size holds still for two polls.
	var last int64 = -1
	_, err := poll(ctx, 60*time.Second, 2*time.Second, func() (bool, error) {
		u, err := diskUsage(c.DataDir)
		if err != nil {
			return false, err
		}
		stable := u.Bytes == last
		last = u.Bytes
		return stable, nil
	})
	return err
}

// getOK sends a GET and fails unless the answer is 2xx.
func getOK(ctx context.Context, client *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return nil
}
