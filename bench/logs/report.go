package main

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/dustin/go-humanize"
)

func (rp *report) searchesOK() bool {
	for _, r := range append(append([]queryResult{}, rp.Searches...), rp.Merged...) {
		if !r.OK {
			return false
		}
	}
	return true
}

// format writes the report as text with markdown tables.
func (rp *report) format() string {
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	g := &rp.Gen
	n := g.Lines
	p("# Log benchmark (bench/logs)\n\n")
	p("- date: %s; commit %s; %s; %s\n", rp.Started.UTC().Format(time.RFC3339), rp.Commit, rp.Machine, runtime.Version())
	p("- load average (1, 5, 15 min) at the start: %s; at the end: %s (other processes share the CPUs: wall times are noisy, CPU-seconds much less so)\n", rp.LoadStart, rp.LoadEnd)
	p("- command: `%s`\n", rp.Command)
	p("- peak RSS of the whole run: %s\n", mib(rp.PeakRSS))
	if rp.DropFields != "" {
		p("- **experiment**: parsed fields left out of the store: %s (the counting-store pass still has them)\n", rp.DropFields)
	}
	if rp.KeptDir != "" {
		p("- data kept in %s\n", rp.KeptDir)
	}

	p("\n## Data\n\n")
	p("- %s lines over 24 h (%s to %s), %d hosts; raw text %s (%.1f bytes per line with its newline), generated in %s (not counted)\n",
		num(n), g.Start.Format(time.RFC3339), g.End.Format(time.RFC3339), len(g.Hosts), mib(g.Bytes), float64(g.Bytes)/float64(n), secs(rp.GenWall))
	var kinds []string
	for k := range numKinds {
		kinds = append(kinds, fmt.Sprintf("%s %s (%s)", kindInfo[k].source, num(g.ByKind[k]), pct(float64(g.ByKind[k]), float64(n))))
	}
	p("- lines by source: %s\n", strings.Join(kinds, ", "))
	p("- searched: term `%s` in %s lines (%s on host %s), regex `%s` in %s, needle `%s` in %d (line %s); OOM kills %s, disk I/O errors %s, failed ssh passwords %s\n",
		Term, num(g.TermCount), num(g.TermHostCount), TermHost, Regex, num(g.RegexCount), Needle, g.NeedleCount, num(g.NeedleLine),
		num(g.OOMCount), num(g.IOErrorCount), num(g.SSHFailed))
	p("- path: raw file + sidecar (host, source, time) read line by line -> agentapi.LogBatch per host of up to %d entries -> %d concurrent logs.Pipeline.IngestAgent -> vlstore\n", rp.Batch, rp.Workers)
	p("- pipeline: config.DefaultLogs (max_line_size 64 KiB, max_age 7d, max_ahead 1h, redact %s, access_metrics on); rate limit %s\n", rp.PipelineRedactions, rp.RateLimit)
	p("- store: vlstore with config.DefaultLogs (retention 30d, memory_limit %s, min_free_disk %s)\n", mib(rp.MemoryLimit), mib(rp.MinFreeDisk))
	c := rp.Counters
	p("- pipeline counters after the store pass: received %s, stored %s, dropped %s, time adjusted %s, security events %s, kernel events %s, HTTP requests %s, response times %s\n",
		fnum(c["saypro_logs_received_total"]), fnum(c["saypro_logs_stored_total"]), fnum(c["saypro_logs_dropped_total"]),
		fnum(c["saypro_logs_time_adjusted_total"]), fnum(c["saypro_security_events_total"]), fnum(c["saypro_kernel_events_total"]),
		fnum(c["saypro_http_requests_total"]), fnum(c["saypro_http_request_duration_seconds_count"]))
	p("- store after reopening: %s rows (dropped as too old %d, too new %d)\n", num(int(rp.StoreRows)), rp.DroppedTooOld, rp.DroppedFuture)
	if rp.PipelineEntries > 0 {
		p("- parsed fields per entry (counting store): %.2f\n", float64(rp.PipelineFields)/float64(rp.PipelineEntries))
	}

	p("\n## Ingest\n\n")
	p("| phase | CPU s (user + sys) | wall s | lines per CPU-second | lines per second (wall) |\n|---|---:|---:|---:|---:|\n")
	row := func(ph phase) {
		p("| %s | %.2f (%.2f + %.2f) | %.2f | %s | %s |\n", ph.Name, ph.CPU().Seconds(), ph.User.Seconds(), ph.Sys.Seconds(), ph.Wall.Seconds(),
			num(int(ph.LinesPerCPUSecond())), num(int(float64(ph.Lines)/ph.Wall.Seconds())))
	}
	for _, ph := range rp.Phases {
		row(ph)
	}
	row(rp.Full)
	row(rp.Close)
	incl := phase{Name: "**ingest through the store, including the close**", Lines: n, Wall: rp.Full.Wall + rp.Close.Wall,
		User: rp.Full.User + rp.Close.User, Sys: rp.Full.Sys + rp.Close.Sys}
	row(incl)
	if rp.CPUProfile != "" {
		p("\nCPU profile of the store pass: %s (`go tool pprof -top %s`)\n", rp.CPUProfile, rp.CPUProfile)
	}
	if len(rp.Phases) == 2 {
		read, pipe := rp.Phases[0], rp.Phases[1]
		perM := func(d time.Duration) float64 { return d.Seconds() / (float64(n) / 1e6) }
		pipeOnly := pipe.CPU() - read.CPU()
		storeOnly := rp.Full.CPU() - pipe.CPU()
		total := incl.CPU()
		p("\nCost breakdown, CPU-seconds per million lines (differences between the passes):\n\n")
		p("| part | CPU-s per 1M lines | share |\n|---|---:|---:|\n")
		p("| reading the file and building batches | %.2f | %s |\n", perM(read.CPU()), pct(read.CPU().Seconds(), total.Seconds()))
		p("| pipeline (sanitise, parse, events, access metrics, limits, redaction) | %.2f | %s |\n", perM(pipeOnly), pct(pipeOnly.Seconds(), total.Seconds()))
		p("| store: vlstore.Add and the engine's work during ingest | %.2f | %s |\n", perM(storeOnly), pct(storeOnly.Seconds(), total.Seconds()))
		p("| store: close (flush to disk) | %.2f | %s |\n", perM(rp.Close.CPU()), pct(rp.Close.CPU().Seconds(), total.Seconds()))
		p("| total | %.2f | 100%% |\n", perM(total))
	}

	p("\n## Disk\n\n")
	p("| state | files | bytes | bytes per line | allocated bytes per line (du) | vs raw text |\n|---|---:|---:|---:|---:|---:|\n")
	drow := func(name string, d diskUse) {
		p("| %s | %d | %s | %.1f | %.1f | %.2f× |\n", name, d.Files, num(int(d.Apparent)), d.perLine(n), d.allocatedPerLine(n), float64(d.Apparent)/float64(g.Bytes))
	}
	drow("closed and reopened after ingest", rp.Disk)
	if rp.Merge != nil {
		drow(fmt.Sprintf("after a forced merge (%.1f CPU-s, %.1f s wall)", rp.Merge.CPU().Seconds(), rp.Merge.Wall.Seconds()), rp.DiskMerged)
	}
	p("\nReopening took %s.\n", rp.Reopen.Round(time.Millisecond))

	p("\n## Search over the 24 hours\n\n")
	p("State: %s. Count = Histogram total (%d buckets); newest 100 = Search(limit 100). Cold = the first run after the reopen (the engine's caches empty; the OS page cache not dropped); warm = median of %d runs.\n\n", rp.SearchStateReopened, histogramBuckets, rp.Runs)
	p("| query | count (expected) | count: cold | count: warm | newest 100: cold | newest 100: warm | ok |\n|---|---:|---:|---:|---:|---:|---|\n")
	for _, r := range rp.Searches {
		p("| %s | %s (%s) | %s | %s | %s | %s | %s |\n", r.Name, num(int(r.Total)), num(r.Want), ms(r.HistCold), ms(r.HistWarm), ms(r.SearchCold), ms(r.SearchWarm), okText(r))
	}
	if len(rp.Merged) > 0 {
		p("\nAfter the forced merge (warm medians):\n\n| query | count | count: warm | newest 100: warm | ok |\n|---|---:|---:|---:|---|\n")
		for _, r := range rp.Merged {
			p("| %s | %s | %s | %s | %s |\n", r.Name, num(int(r.Total)), ms(r.HistWarm), ms(r.SearchWarm), okText(r))
		}
	}

	p("\n## grep over the same raw text (the floor)\n\n")
	p("`grep -c` over the %s raw file (in the page cache), median of its runs.\n\n", mib(g.Bytes))
	p("| grep | LC_ALL | count | wall | CPU |\n|---|---|---:|---:|---:|\n")
	grepWall := map[string]time.Duration{}
	for _, r := range rp.Greps {
		cnt := num(r.Count)
		if r.Count != r.Want {
			cnt += " (expected " + num(r.Want) + ")"
		}
		p("| `grep %s` | %s | %s | %s | %s |\n", strings.Join(r.Args, " "), r.Locale, cnt, ms(r.Wall), ms(r.CPU))
		if d, ok := grepWall[r.Name]; !ok || r.Wall < d {
			grepWall[r.Name] = r.Wall
		}
	}
	p("\nStore latency / fastest grep wall time for the same search (below 1 is faster than grep):\n\n")
	p("| query | count: warm / grep | newest 100: warm / grep | count: cold / grep |\n|---|---:|---:|---:|\n")
	for _, r := range rp.Searches {
		gw := grepWall[strings.Replace(r.Name, "host "+TermHost+" + ", "", 1)]
		if gw <= 0 {
			continue
		}
		p("| %s | %.4f | %.4f | %.4f |\n", r.Name, r.HistWarm.Seconds()/gw.Seconds(), r.SearchWarm.Seconds()/gw.Seconds(), r.HistCold.Seconds()/gw.Seconds())
	}
	p("\n(The host + term row is compared with grep for the term over all hosts: grep cannot filter by host.)\n")

	p("\n## Goals\n\n")
	p("| measure | result | goal | |\n|---|---:|---:|---|\n")
	lps := incl.LinesPerCPUSecond()
	p("| lines per CPU-second, ingest through the store including the close | %s | ≥ %s | %s |\n", num(int(lps)), num(goalLinesPerCPUSecond), met(lps >= goalLinesPerCPUSecond))
	p("| lines per CPU-second, ingest through the store until the last batch is added | %s | ≥ %s | %s |\n", num(int(rp.Full.LinesPerCPUSecond())), num(goalLinesPerCPUSecond), met(rp.Full.LinesPerCPUSecond() >= goalLinesPerCPUSecond))
	bpl := rp.Disk.perLine(n)
	p("| bytes on disk per line (closed and reopened) | %.1f | ≤ %d | %s |\n", bpl, goalBytesPerLine, met(bpl <= goalBytesPerLine))
	if rp.Merge != nil {
		p("| bytes on disk per line (after a forced merge) | %.1f | ≤ %d | %s |\n", rp.DiskMerged.perLine(n), goalBytesPerLine, met(rp.DiskMerged.perLine(n) <= goalBytesPerLine))
	}
	if len(rp.Searches) > 0 {
		r := rp.Searches[0]
		worst := max(r.HistCold, r.HistWarm, r.SearchCold, r.SearchWarm)
		p("| 24-hour term search (%s), slowest of count and newest 100, cold and warm | %s | < %s | %s |\n", r.Name, ms(worst), ms(goalSearch), met(worst < goalSearch && r.OK))
	}
	return b.String()
}

func okText(r queryResult) string {
	if r.OK {
		return "ok"
	}
	return "**WRONG**: " + r.Problem
}

func met(ok bool) string {
	if ok {
		return "MET"
	}
	return "**MISSED**"
}

func ms(d time.Duration) string {
	switch {
	case d >= 10*time.Second:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	case d >= 10*time.Millisecond:
		return fmt.Sprintf("%.0f ms", float64(d)/1e6)
	default:
		return fmt.Sprintf("%.2f ms", float64(d)/1e6)
	}
}

func secs(d time.Duration) string { return fmt.Sprintf("%.1f s", d.Seconds()) }

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

func pct(a, b float64) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f%%", 100*a/b)
}

func fnum(f float64) string { return num(int(f)) }

// num writes n with thousands separators.
func num(n int) string { return humanize.Comma(int64(n)) }

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func machine() string {
	mem := "? GiB"
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				if f := strings.Fields(rest); len(f) > 0 {
					if kb, err := strconv.ParseFloat(f[0], 64); err == nil {
						mem = fmt.Sprintf("%.1f GiB", kb/(1<<20))
					}
				}
			}
		}
	}
	kernel := "?"
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		kernel = strings.TrimSpace(string(b))
	}
	return fmt.Sprintf("%d CPUs, %s RAM, Linux %s", runtime.NumCPU(), mem, kernel)
}

func gitCommit() string {
	out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	c := strings.TrimSpace(string(out))
	if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(st) > 0 {
		c += " (with uncommitted changes)"
	}
	return c
}

func shellJoin(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t'\"$`\\") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		q[i] = a
	}
	return strings.Join(q, " ")
}
