package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/dustin/go-humanize"
)

// Report is the combined result of one benchmark run.
type Report struct {
	Labels  map[string]string `json:"labels"` // how it was run: versions, command, machine
	Servers []*RunResult      `json:"servers"`
	Ratios  []Ratio           `json:"ratios"`
}

// Ratio compares ours with one other server on one measure.
type Ratio struct {
	Measure string  `json:"measure"`
	Other   string  `json:"other"`
	Ours    float64 `json:"ours"`
	Theirs  float64 `json:"theirs"`
	Ratio   float64 `json:"ratio"` // ours / theirs
	Better  string  `json:"better"`
	Verdict string  `json:"verdict"`
}

// serverOrder is the order of the columns; displayName their headings.
func serverOrder() []string { return []string{kindSaypro, kindPrometheus, kindVM} }

func displayName(kind string) string {
	switch kind {
	case kindSaypro:
		return "saypro-monitor"
	case kindPrometheus:
		return "Prometheus"
	case kindVM:
		return "VictoriaMetrics"
	}
	return kind
}

// loadRuns reads <dir>/<kind>.json for each kind that has one.
func loadRuns(dir string) ([]*RunResult, error) {
	var runs []*RunResult
	for _, k := range serverOrder() {
		b, err := os.ReadFile(filepath.Join(dir, k+".json"))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		var r RunResult
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, fmt.Errorf("%s.json: %w", k, err)
		}
		runs = append(runs, &r)
	}
	if len(runs) == 0 {
		return nil, fmt.Errorf("no results (%s) in %s", strings.Join(serverOrder(), ".json, ")+".json", dir)
	}
	return runs, nil
}

// buildReport computes the ratios of ours against each other server.
func buildReport(labels map[string]string, runs []*RunResult) *Report {
	rep := &Report{Labels: labels, Servers: runs}
	var ours *RunResult
	for _, r := range runs {
		if r.Kind == kindSaypro {
			ours = r
		}
	}
	if ours == nil {
		return rep
	}
	for _, other := range runs {
		if other == ours {
			continue
		}
		add := func(measure, better string, o, t float64) {
			r := Ratio{Measure: measure, Other: displayName(other.Kind), Ours: o, Theirs: t, Better: better}
			if t != 0 && o != 0 {
				r.Ratio = o / t
				good := r.Ratio >= 1
				if better == "lower" {
					good = r.Ratio <= 1
				}
				r.Verdict = "worse"
				if good {
					r.Verdict = "better"
				}
				if math.Abs(r.Ratio-1) < 0.05 {
					r.Verdict = "same"
				}
			}
			rep.Ratios = append(rep.Ratios, r)
		}
		add("samples per server CPU-second (ingest)", "higher", ours.SamplesPerCPUSec, other.SamplesPerCPUSec)
		add("peak RSS during ingest", "lower", float64(ours.ProcIngest.HWMBytes), float64(other.ProcIngest.HWMBytes))
		add("peak RSS overall (ingest + queries)", "lower", float64(ours.ProcEnd.HWMBytes), float64(other.ProcEnd.HWMBytes))
		add("disk bytes per sample (whole data dir)", "lower", ours.DiskBytesPerSamp, other.DiskBytesPerSamp)
		if ours.BlockBytesPerSamp > 0 && other.BlockBytesPerSamp > 0 {
			add("disk bytes per sample (persisted blocks)", "lower", ours.BlockBytesPerSamp, other.BlockBytesPerSamp)
		}
		for _, q := range ours.Queries {
			for _, oq := range other.Queries {
				if oq.Name == q.Name && q.Error == "" && oq.Error == "" {
					add("query median latency: "+q.Name, "lower", q.MedianSeconds, oq.MedianSeconds)
				}
			}
		}
	}
	return rep
}

// markdown renders the report as the table printed and saved.
func (rep *Report) markdown() string {
	var b strings.Builder
	b.WriteString("# saypro-monitor ingest/query benchmark\n\n")
	for _, k := range sortedKeys(rep.Labels) {
		fmt.Fprintf(&b, "- %s: %s\n", k, rep.Labels[k])
	}
	if len(rep.Servers) > 0 && rep.Servers[0].Ingest != nil {
		in := rep.Servers[0].Ingest
		fmt.Fprintf(&b, "- load: %d hosts x %d series = %d series, %d rounds 15 s apart (%.2f h of data), %d samples per server\n",
			in.Hosts, seriesPerHost, in.Series, in.Rounds, float64(in.Rounds)*15/3600, int64(in.Series)*int64(in.Rounds))
	}
	b.WriteString("\n")
	row := func(name string, f func(r *RunResult) string) {
		b.WriteString("| " + name + " |")
		for _, r := range rep.Servers {
			b.WriteString(" " + f(r) + " |")
		}
		b.WriteString("\n")
	}
	b.WriteString("| |")
	for _, r := range rep.Servers {
		b.WriteString(" " + displayName(r.Kind) + " |")
	}
	b.WriteString("\n|---|")
	for range rep.Servers {
		b.WriteString("---:|")
	}
	b.WriteString("\n")
	in := func(r *RunResult) *IngestResult {
		if r.Ingest == nil {
			return &IngestResult{}
		}
		return r.Ingest
	}
	row("samples sent", func(r *RunResult) string { return thousands(in(r).SamplesSent) })
	row("samples accepted (2xx answers)", func(r *RunResult) string { return thousands(in(r).SamplesOK) })
	row("samples refused (4xx) / failed", func(r *RunResult) string {
		return thousands(in(r).SamplesRefused) + " / " + thousands(in(r).SamplesFailed)
	})
	row("requests (retries)", func(r *RunResult) string {
		return fmt.Sprintf("%s (%d)", thousands(in(r).Requests), in(r).Retries)
	})
	row("stored, by the server's own counter", func(r *RunResult) string { return thousands(int64(r.StoredByCounter)) })
	for i, ch := range firstChecks(rep.Servers) {
		row("check: "+ch.Name+" (want "+thousands(int64(ch.Want))+")", func(r *RunResult) string {
			if i >= len(r.Checks) {
				return "-"
			}
			c := r.Checks[i]
			switch {
			case c.Error != "":
				return "ERROR"
			case c.OK:
				return "ok"
			}
			return "got " + thousands(int64(c.Got))
		})
	}
	row("ingest wall time (s)", func(r *RunResult) string { return fmt.Sprintf("%.1f", in(r).WallSeconds) })
	row("server CPU during ingest (s)", func(r *RunResult) string { return fmt.Sprintf("%.1f", r.IngestCPUSeconds) })
	row("**samples per CPU-second**", func(r *RunResult) string { return "**" + thousands(int64(r.SamplesPerCPUSec)) + "**" })
	row("server CPU after ingest until settled (s)", func(r *RunResult) string { return fmt.Sprintf("%.1f", r.SettleCPUSeconds) })
	row("settled by", func(r *RunResult) string { return r.Settle })
	row("**peak RSS during ingest (MiB)**", func(r *RunResult) string { return "**" + mib(r.ProcIngest.HWMBytes) + "**" })
	row("peak RSS overall, incl. queries (MiB)", func(r *RunResult) string { return mib(r.ProcEnd.HWMBytes) })
	row("data dir after settling (MiB)", func(r *RunResult) string { return mib(r.Disk.Bytes) })
	row("**disk bytes per sample (whole data dir)**", func(r *RunResult) string { return fmt.Sprintf("**%.3f**", r.DiskBytesPerSamp) })
	row("disk bytes per sample (persisted blocks only)", func(r *RunResult) string {
		if r.Disk.Blocks == 0 {
			return "-"
		}
		return fmt.Sprintf("%.3f (%d blocks, %s samples)", r.BlockBytesPerSamp, r.Disk.Blocks, thousands(r.Disk.BlockSamples))
	})
	for i, q := range firstQueries(rep.Servers) {
		row(fmt.Sprintf("query `%s` median ms", q.Name), func(r *RunResult) string {
			if i >= len(r.Queries) {
				return "-"
			}
			x := r.Queries[i]
			if x.Error != "" {
				return "ERROR"
			}
			return fmt.Sprintf("%.1f (%d series)", x.MedianSeconds*1000, x.Series)
		})
	}
	if len(rep.Ratios) > 0 {
		b.WriteString("\n| ours vs | measure | ours | theirs | ours/theirs | better is | verdict |\n|---|---|---:|---:|---:|---|---|\n")
		for _, r := range rep.Ratios {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %.2f | %s | %s |\n", r.Other, r.Measure, short(r.Measure, r.Ours), short(r.Measure, r.Theirs), r.Ratio, r.Better, r.Verdict)
		}
	}
	b.WriteString("\nQueries (range queries, median of the runs after one warm-up):\n\n")
	for _, q := range firstQueries(rep.Servers) {
		fmt.Fprintf(&b, "- `%s`: `%s`, step %ds, %s\n", q.Name, q.Expr, q.Step/1000, windowName(q.dashboardQuery))
	}
	var errs []string
	for _, r := range rep.Servers {
		for _, e := range r.Errors {
			errs = append(errs, displayName(r.Kind)+": "+e)
		}
		if r.Ingest != nil {
			for _, e := range r.Ingest.Errors {
				errs = append(errs, displayName(r.Kind)+" answered "+e)
			}
		}
		for _, q := range r.Queries {
			if q.Error != "" {
				errs = append(errs, displayName(r.Kind)+" query "+q.Name+": "+q.Error)
			}
		}
		for _, c := range r.Checks {
			if c.Error != "" {
				errs = append(errs, displayName(r.Kind)+" check "+c.Name+": "+c.Error)
			}
		}
	}
	if len(errs) > 0 {
		b.WriteString("\nErrors and refusals:\n\n")
		for _, e := range errs {
			b.WriteString("- " + e + "\n")
		}
	}
	return b.String()
}

func windowName(q dashboardQuery) string {
	return fmt.Sprintf("%d min window", (q.End-q.Start)/60_000)
}

func firstChecks(rs []*RunResult) []Check {
	for _, r := range rs {
		if len(r.Checks) > 0 {
			return r.Checks
		}
	}
	return nil
}

func firstQueries(rs []*RunResult) []QueryResult {
	for _, r := range rs {
		if len(r.Queries) > 0 {
			return r.Queries
		}
	}
	return nil
}

// short formats a ratio's operands in the unit of its measure.
func short(measure string, v float64) string {
	switch {
	case strings.HasPrefix(measure, "peak RSS"):
		return mib(int64(v)) + " MiB"
	case strings.HasPrefix(measure, "query"):
		return fmt.Sprintf("%.1f ms", v*1000)
	case strings.HasPrefix(measure, "disk"):
		return fmt.Sprintf("%.3f B", v)
	}
	return thousands(int64(v))
}

func mib(b int64) string { return fmt.Sprintf("%.0f", float64(b)/(1<<20)) }

// thousands formats n with commas between groups of three digits.
func thousands(n int64) string { return humanize.Comma(n) }

func sortedKeys(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) }
