package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
)

// Report is the result of one run, as printed and saved.
type Report struct {
	Labels        map[string]string `json:"labels"`
	Config        Config            `json:"config"`
	WindowSeconds float64           `json:"window_seconds"`
	ScraperCPU    float64           `json:"scraper_cpu_seconds"`
	Rows          []Row             `json:"processes"`
	Ratios        []Ratio           `json:"ratios"`
}

// Row is one process's figures.
type Row struct {
	Name              string  `json:"name"`
	Role              Role    `json:"role"`
	Mode              Mode    `json:"mode"`
	PID               int     `json:"pid"`
	Series            float64 `json:"series_per_collection"` // median of the scrapes; push: the agent's own gauge
	SeriesMin         int     `json:"series_min,omitempty"`
	SeriesMax         int     `json:"series_max,omitempty"`
	Collections       int64   `json:"collections"`
	CollectionsSource string  `json:"collections_source"`
	CPUSeconds        float64 `json:"cpu_seconds"`
	CPUMsPerColl      float64 `json:"cpu_ms_per_collection"`
	CPUUsPerSeries    float64 `json:"cpu_us_per_series,omitempty"`
	PeakRSSBytes      int64   `json:"peak_rss_bytes"` // VmHWM at the end
	RSSBytes          int64   `json:"rss_bytes"`      // VmRSS at the end
	ScrapeMedianMs    float64 `json:"scrape_median_ms,omitempty"`
	ScrapeP90Ms       float64 `json:"scrape_p90_ms,omitempty"`
	BodyBytes         float64 `json:"body_bytes_median,omitempty"`
	WireBytes         float64 `json:"wire_bytes_median,omitempty"`
	Errors            int64   `json:"errors"` // failed scrapes, or collections the push agent counted as failed
	FirstError        string  `json:"first_error,omitempty"`
	Failure           string  `json:"failure,omitempty"`
	// Push agents: samples shipped in the window and left in the queue at
	// the end (-1: not exposed).
	SamplesShipped float64 `json:"samples_shipped"`
	QueuePending   float64 `json:"queue_pending_samples"`
}

// Ratio compares one of ours with one peer: ours / peer, lower is better.
type Ratio struct {
	Ours     string  `json:"ours"`
	Peer     string  `json:"peer"`
	CPU      float64 `json:"cpu_per_collection"`
	PeakRSS  float64 `json:"peak_rss"`
	CPUGoal  bool    `json:"cpu_meets_goal"`
	RSSGoal  bool    `json:"rss_meets_goal"`
	Goal     float64 `json:"goal"`
	Complete bool    `json:"complete"` // both were measured
}

func buildReport(labels map[string]string, c Config, res *Result) *Report {
	rep := &Report{Labels: labels, Config: c, WindowSeconds: res.WindowSeconds, ScraperCPU: res.ScraperCPU}
	for _, p := range res.Processes {
		r := Row{
			Name: p.Name, Role: p.Role, Mode: p.Mode, PID: p.PID,
			Collections: p.Collections, CollectionsSource: p.CollectionsSource,
			CPUSeconds: p.CPUSeconds, PeakRSSBytes: p.End.HWMBytes, RSSBytes: p.End.RSSBytes,
			Errors: int64(p.ScrapeErrs) + p.CollectionErrs, FirstError: p.FirstErr, Failure: p.Failure,
		}
		if p.Mode == ModePull {
			r.Series = median(p.Series)
			if len(p.Series) > 0 {
				r.SeriesMin, r.SeriesMax = slices.Min(p.Series), slices.Max(p.Series)
			}
			r.ScrapeMedianMs = median(p.Durations) * 1000
			r.ScrapeP90Ms = quantile(p.Durations, 0.9) * 1000
			r.BodyBytes = median(p.BodyBytes)
			r.WireBytes = median(p.WireBytes)
		} else {
			r.Series = p.PushSeries
			r.SamplesShipped, r.QueuePending = p.SamplesShipped, p.QueuePending
		}
		if p.Collections > 0 && p.Failure == "" {
			r.CPUMsPerColl = p.CPUSeconds / float64(p.Collections) * 1000
			if r.Series > 0 {
				r.CPUUsPerSeries = r.CPUMsPerColl * 1000 / r.Series
			}
		}
		rep.Rows = append(rep.Rows, r)
	}
	for _, o := range rep.Rows {
		if o.Role != RoleOurs {
			continue
		}
		for _, p := range rep.Rows {
			if p.Role != RolePeer {
				continue
			}
			ra := Ratio{Ours: o.Name, Peer: p.Name, Goal: c.Goal}
			ra.Complete = o.Failure == "" && p.Failure == "" && o.CPUMsPerColl > 0 && p.CPUMsPerColl > 0 &&
				o.PeakRSSBytes > 0 && p.PeakRSSBytes > 0
			if ra.Complete {
				ra.CPU = o.CPUMsPerColl / p.CPUMsPerColl
				ra.PeakRSS = float64(o.PeakRSSBytes) / float64(p.PeakRSSBytes)
				ra.CPUGoal = ra.CPU <= c.Goal
				ra.RSSGoal = ra.PeakRSS <= c.Goal
			}
			rep.Ratios = append(rep.Ratios, ra)
		}
	}
	return rep
}

// failures lists what makes the run incomplete.
func (rep *Report) failures() []string {
	var out []string
	for _, r := range rep.Rows {
		switch {
		case r.Failure != "":
			out = append(out, r.Name+": "+r.Failure)
		case r.Errors > 0:
			out = append(out, fmt.Sprintf("%s: %d failed collections (first: %s)", r.Name, r.Errors, r.FirstError))
		}
	}
	return out
}

func (rep *Report) markdown() string {
	var b strings.Builder
	c := rep.Config
	b.WriteString("# Agent benchmark: CPU per collection and peak RSS, side by side\n\n")
	for _, k := range slices.Sorted(maps.Keys(rep.Labels)) {
		fmt.Fprintf(&b, "- %s: %s\n", k, rep.Labels[k])
	}
	gz := "without"
	if c.Gzip {
		gz = "with"
	}
	fmt.Fprintf(&b, "- run: all processes at the same time; %d warm-up rounds, then %d measured rounds %s apart "+
		"(window %.1f s); in each round every scraped process is scraped once, one after the other, in a rotating order, "+
		"text format %s gzip; push agents are not scraped and collect on their own interval\n",
		c.Warmup, c.Scrapes, c.Interval, rep.WindowSeconds, gz)
	fmt.Fprintf(&b, "- CPU: utime+stime from /proc/PID/stat over the window (%.0f ticks/s) / collections in the window; "+
		"peak RSS: VmHWM from /proc/PID/status at the end; the scraper's own CPU (%.2f s) is not counted\n",
		c.ClkTck, rep.ScraperCPU)
	b.WriteString("- all figures and ratios come from this one run\n\n")

	b.WriteString("| process | mode | series per collection | collections | CPU s in window | **CPU ms per collection** | CPU µs per series | **peak RSS MiB** | RSS MiB at end | scrape ms (median / p90) | body KiB (on the wire) | errors |\n")
	b.WriteString("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range rep.Rows {
		series, scrapeMs, body := "-", "-", "-"
		switch {
		case r.Mode == ModePull && r.SeriesMin != r.SeriesMax:
			series = fmt.Sprintf("%.0f (%d–%d)", r.Series, r.SeriesMin, r.SeriesMax)
		case r.Series > 0:
			series = fmt.Sprintf("%.0f", r.Series)
		}
		if r.Mode == ModePull && r.Collections > 0 {
			scrapeMs = fmt.Sprintf("%.1f / %.1f", r.ScrapeMedianMs, r.ScrapeP90Ms)
			body = fmt.Sprintf("%.0f (%.0f)", r.BodyBytes/1024, r.WireBytes/1024)
		}
		mode := "scraped"
		if r.Mode == ModePush {
			mode = "push"
		}
		colls := fmt.Sprintf("%d", r.Collections)
		if r.CollectionsSource == "window / interval" {
			colls += " (est.)"
		}
		cpuMs, cpuUs := "-", "-"
		if r.CPUMsPerColl > 0 {
			cpuMs = fmt.Sprintf("**%.2f**", r.CPUMsPerColl)
		}
		if r.CPUUsPerSeries > 0 {
			cpuUs = fmt.Sprintf("%.2f", r.CPUUsPerSeries)
		}
		errs := fmt.Sprintf("%d", r.Errors)
		if r.Failure != "" {
			errs = "FAILED: " + r.Failure
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %.2f | %s | %s | **%s** | %s | %s | %s | %s |\n",
			r.Name, mode, series, colls, r.CPUSeconds, cpuMs, cpuUs, mib(r.PeakRSSBytes), mib(r.RSSBytes), scrapeMs, body, errs)
	}

	for _, r := range rep.Rows {
		if r.Mode != ModePush {
			continue
		}
		shipped, pending := "an unknown number of samples", "an unknown number of samples were"
		if r.SamplesShipped >= 0 {
			shipped = fmt.Sprintf("%.0f samples", r.SamplesShipped)
			if r.Collections > 0 {
				shipped += fmt.Sprintf(" (%.0f per collection)", r.SamplesShipped/float64(r.Collections))
			}
		}
		if r.QueuePending >= 0 {
			pending = fmt.Sprintf("%.0f samples were", r.QueuePending)
		}
		fmt.Fprintf(&b, "\n%s shipped %s to the server in the window; %s still in its queue at the end; collections counted from %s.\n",
			r.Name, shipped, pending, r.CollectionsSource)
	}

	if len(rep.Ratios) > 0 {
		fmt.Fprintf(&b, "\nRatios, ours / peer (lower is better; the goal is at most %.2f):\n\n", c.Goal)
		b.WriteString("| ours | peer | CPU per collection | goal | peak RSS | goal |\n")
		b.WriteString("|---|---|---:|---|---:|---|\n")
		for _, ra := range rep.Ratios {
			if !ra.Complete {
				fmt.Fprintf(&b, "| %s | %s | - | - | - | - |\n", ra.Ours, ra.Peer)
				continue
			}
			fmt.Fprintf(&b, "| %s | %s | **%.2f** | %s | **%.2f** | %s |\n",
				ra.Ours, ra.Peer, ra.CPU, verdict(ra.CPUGoal), ra.PeakRSS, verdict(ra.RSSGoal))
		}
	}
	return b.String()
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "missed"
}

func mib(b int64) string {
	if b <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f", float64(b)/(1<<20))
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
