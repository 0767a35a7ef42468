package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"

	"github.com/saypro/monitor/bench/subcmd"
)

// Results is the JSON of a whole run.
type Results struct {
	Labels  map[string]string  `json:"labels"`
	Probers []*Measurement     `json:"probers"`
	Ratios  map[string]float64 `json:"ratios"`
}

func cmdReport(_ context.Context, args []string, stdout io.Writer, _ *slog.Logger) error {
	fs := subcmd.NewFlagSet(toolName, "report", "Combines the JSON files written by measure (--in, repeated, in the order of the\n"+
		"table's columns) into a markdown table (--out-md, also printed) and one JSON file.")
	var ins []string
	fs.Func("in", "a measure JSON file (repeatable)", func(s string) error { ins = append(ins, s); return nil })
	labels := map[string]string{}
	fs.Func("label", "key=value printed in the header (repeatable)", subcmd.KeyValue(labels))
	outMD := fs.String("out-md", "", "markdown file to write (required)")
	outJSON := fs.String("out-json", "", "JSON file to write (required)")
	if err := subcmd.Parse(fs, args); err != nil {
		return err
	}
	if len(ins) == 0 || *outMD == "" || *outJSON == "" {
		return subcmd.Usagef("--in, --out-md and --out-json are required")
	}
	res := &Results{Labels: labels, Ratios: map[string]float64{}}
	for _, p := range ins {
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		var m Measurement
		if err := json.Unmarshal(b, &m); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		res.Probers = append(res.Probers, &m)
	}
	computeRatios(res)
	md := markdown(res)
	if err := os.WriteFile(*outMD, []byte(md), 0o644); err != nil {
		return err
	}
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(*outJSON, append(b, '\n'), 0o644); err != nil {
		return err
	}
	_, err = io.WriteString(stdout, md)
	return err
}

// computeRatios divides every blackbox figure by each of ours.
func computeRatios(res *Results) {
	for _, bb := range res.Probers {
		if bb.Mode != "blackbox" {
			continue
		}
		for _, o := range res.Probers {
			if o.Mode == "blackbox" {
				continue
			}
			if o.CPUMicrosRun > 0 {
				res.Ratios[fmt.Sprintf("cpu_per_probe %s/%s", bb.Name, o.Name)] = bb.CPUMicrosRun / o.CPUMicrosRun
			}
			if o.PeakRSSBytes > 0 {
				res.Ratios[fmt.Sprintf("peak_rss %s/%s", bb.Name, o.Name)] = float64(bb.PeakRSSBytes) / float64(o.PeakRSSBytes)
			}
		}
	}
}

func markdown(res *Results) string {
	var b strings.Builder
	b.WriteString("# Health checks: our prober against blackbox_exporter\n\n")
	keys := make([]string, 0, len(res.Labels))
	for k := range res.Labels {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "- %s: %s\n", k, res.Labels[k])
	}
	b.WriteString("\n")
	ps := res.Probers
	b.WriteString("| measure |")
	for _, p := range ps {
		fmt.Fprintf(&b, " %s |", p.Name)
	}
	b.WriteString("\n|---|")
	for range ps {
		b.WriteString("---:|")
	}
	b.WriteString("\n")
	row := func(name string, f func(p *Measurement) string) {
		fmt.Fprintf(&b, "| %s |", name)
		for _, p := range ps {
			fmt.Fprintf(&b, " %s |", f(p))
		}
		b.WriteString("\n")
	}
	row("window (s)", func(p *Measurement) string { return fmt.Sprintf("%.1f", p.WindowSeconds) })
	row("probes completed in the window", func(p *Measurement) string { return fmt.Sprintf("%.0f", p.Runs) })
	row("probes/s (scheduled)", func(p *Measurement) string {
		return fmt.Sprintf("%.1f (%.0f)", p.RunsPerSecond, p.Scheduled)
	})
	row("kept up (≥ 99% of scheduled, nothing skipped or failed)", func(p *Measurement) string {
		if p.RunsPerSecond >= 0.99*p.Scheduled && p.Skipped == 0 && p.Errors == 0 {
			return "yes"
		}
		return "**no**"
	})
	row("CPU seconds in the window", func(p *Measurement) string { return fmt.Sprintf("%.2f", p.CPUSeconds) })
	row("CPU, share of one core", func(p *Measurement) string {
		return fmt.Sprintf("%.0f%%", 100*p.CPUSeconds/p.WindowSeconds)
	})
	row("**CPU µs per probe**", func(p *Measurement) string { return fmt.Sprintf("**%.0f**", p.CPUMicrosRun) })
	row("**peak RSS (MiB)**", func(p *Measurement) string { return fmt.Sprintf("**%s**", mib(p.PeakRSSBytes)) })
	row("RSS in the window, mean / max sampled (MiB)", func(p *Measurement) string {
		return mib(p.RSSMeanBytes) + " / " + mib(p.RSSMaxSampBytes)
	})
	row("lateness p50 / **p99** (ms)", func(p *Measurement) string {
		return fmt.Sprintf("%s / **%s**", ms(p.LatenessP50), ms(p.LatenessP99))
	})
	row("lateness mean (ms), max ≤ bucket (s)", func(p *Measurement) string {
		return fmt.Sprintf("%s, ≤ %s", ms(p.LatenessMean), secs(p.LatenessMaxBound))
	})
	row("lateness measured on", func(p *Measurement) string {
		if p.Mode == "blackbox" {
			return "the driver's sending"
		}
		return "the scheduler"
	})
	row("skipped runs (previous still going)", func(p *Measurement) string { return fmt.Sprintf("%.0f", p.Skipped) })
	row("failed /probe requests", func(p *Measurement) string {
		if p.Mode != "blackbox" {
			return "–"
		}
		return fmt.Sprintf("%.0f", p.Errors)
	})
	for _, k := range targetKinds {
		row(fmt.Sprintf("%s targets: up / degraded / down", k), func(p *Measurement) string {
			s := p.States[k]
			if s == nil {
				return "–"
			}
			out := fmt.Sprintf("%.0f / %.0f / %.0f", s["up"], s["degraded"], s["down"])
			for st, v := range s {
				if st != "up" && st != "degraded" && st != "down" && v > 0 {
					out += fmt.Sprintf(" (+%.0f %s)", v, st)
				}
			}
			return out
		})
	}
	row("states counted as", func(p *Measurement) string {
		switch {
		case p.StatesSource == "":
			return "–"
		case strings.HasPrefix(p.StatesSource, "state of each check"):
			return "checks by state at the end"
		}
		return "runs in the window"
	})
	row("target server CPU s (µs per request)", func(p *Measurement) string {
		if p.Runs == 0 {
			return fmt.Sprintf("%.2f", p.TargetsCPUSeconds)
		}
		return fmt.Sprintf("%.2f (%.0f)", p.TargetsCPUSeconds, p.TargetsCPUSeconds/p.Runs*1e6)
	})
	row("load driver / measuring CPU s (not counted)", func(p *Measurement) string { return fmt.Sprintf("%.2f", p.DriverCPUSeconds) })
	row("whole machine busy CPU s (2 = both cores)", func(p *Measurement) string {
		return fmt.Sprintf("%.1f (%.2f)", p.SystemBusySeconds, p.SystemBusySeconds/p.WindowSeconds)
	})
	row("of which other processes, CPU s", func(p *Measurement) string {
		other := p.SystemBusySeconds - p.CPUSeconds - p.TargetsCPUSeconds - p.DriverCPUSeconds
		if other < 1 {
			// /proc/stat and the processes' times are accounted apart
			// and differ by a few percent.
			return fmt.Sprintf("≈ 0 (%.1f)", other)
		}
		return fmt.Sprintf("%.1f", other)
	})
	row("load average (1 min), start → end", func(p *Measurement) string {
		return fmt.Sprintf("%.2f → %.2f", p.Load[0], p.Load[1])
	})
	b.WriteString("\n")
	if len(res.Ratios) > 0 {
		b.WriteString("Ratios (blackbox / ours; above 1 means ours uses less):\n\n| ratio | value |\n|---|---:|\n")
		rk := make([]string, 0, len(res.Ratios))
		for k := range res.Ratios {
			rk = append(rk, k)
		}
		slices.Sort(rk)
		for _, k := range rk {
			fmt.Fprintf(&b, "| %s | %.2f |\n", k, res.Ratios[k])
		}
		b.WriteString("\n")
	}
	for _, p := range ps {
		if p.StatesSource != "" {
			fmt.Fprintf(&b, "- %s states: %s.\n", p.Name, p.StatesSource)
		}
		fmt.Fprintf(&b, "- %s lateness: %s.\n", p.Name, p.LatenessSource)
		for i, u := range p.Unexpected {
			if i == 0 {
				extra := ""
				if p.Mode == "blackbox" {
					extra = ", warm-up included"
				}
				fmt.Fprintf(&b, "- %s, reasons of unexpected states (digits shown as N%s):\n", p.Name, extra)
			}
			if i == 8 {
				fmt.Fprintf(&b, "  - ... %d more reasons in the JSON\n", len(p.Unexpected)-i)
				break
			}
			fmt.Fprintf(&b, "  - %d × %s target %s: %s\n", u.Count, u.Kind, u.State, u.Reason)
		}
		if p.PprofFile != "" {
			fmt.Fprintf(&b, "- %s CPU profile (after the window): %s.\n", p.Name, p.PprofFile)
		}
	}
	return b.String()
}

func mib(b int64) string { return fmt.Sprintf("%.1f", float64(b)/(1<<20)) }

func ms(s float64) string {
	if s < 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f", s*1000)
}

func secs(s float64) string {
	switch {
	case s < 0:
		return "–"
	case s >= 1e9:
		return "+Inf"
	}
	return fmt.Sprintf("%g", s)
}
