// Command loadgen is the load generator and measuring tool of the
// side-by-side benchmark in bench/ingest (run by bench/ingest/run.sh).
//
// It simulates a fleet of node_exporter-like hosts (100 series each),
// scraped every 15 s, and sends the samples with Prometheus remote-write
// 1.0 in compressed time: round r carries timestamp start + r*15s, and the
// rounds are sent as fast as the server takes them. The same flags produce
// byte-identical requests, so every server gets exactly the same load.
//
// Subcommands:
//
//	run      measure one running server: load, settle, disk, checks, queries
//	ingest   send the load only
//	query    run the dashboard queries only and print their median latency
//	report   combine the run results of a directory into a table and JSON
//	freeport print a free TCP port on 127.0.0.1
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/saypro/monitor/bench/subcmd"
)

const toolName = "loadgen"

func main() {
	subcmd.Tool{Name: toolName, Commands: []subcmd.Command{
		{Name: "run", Summary: "measure one running server: load, settle, disk, checks, queries (JSON to --out)", Run: cmdRun},
		{Name: "ingest", Summary: "send the load to a remote-write endpoint and print what it answered", Run: cmdIngest},
		{Name: "query", Summary: "run the dashboard range queries and print their median latency", Run: cmdQuery},
		{Name: "report", Summary: "combine <dir>/{saypro,prometheus,victoriametrics}.json into results.json and results.md", Run: cmdReport},
		subcmd.FreePort(toolName),
	}}.Main()
}

// loadFlags are the flags that define the load; every command that sends
// or queries the generated data takes them.
type loadFlags struct {
	hosts       int
	hours       float64
	end         int64
	batch       int
	senders     int
	seed        uint64
	jitterMs    int64
	token       string
	attempts    int
	loadTimeout time.Duration
}

func (l *loadFlags) register(fs *flag.FlagSet) {
	fs.IntVar(&l.hosts, "hosts", 1000, "simulated hosts (100 series each)")
	fs.Float64Var(&l.hours, "hours", 4, "hours of data, 240 rounds of 15 s per hour; ending at --end")
	fs.Int64Var(&l.end, "end", 0, "Unix time in ms at which the data ends (0: now); give all servers the same")
	fs.IntVar(&l.batch, "batch", 2000, "series-samples per remote-write request")
	fs.IntVar(&l.senders, "senders", 4, "concurrent senders; each series always goes through the same one, in order")
	fs.Uint64Var(&l.seed, "seed", 1, "seed of the generated values")
	fs.Int64Var(&l.jitterMs, "jitter-ms", 0, "random delay of each scrape's timestamp, 0 to 999 ms (0: aligned, as Prometheus sends)")
	fs.StringVar(&l.token, "token", "", "bearer token sent with every write (servers without auth ignore it)")
	fs.IntVar(&l.attempts, "attempts", 10, "tries per request on 5xx, 429 and network errors")
	fs.DurationVar(&l.loadTimeout, "load-timeout", 60*time.Minute, "give up the load after this long")
}

// config turns the flags into an ingestConfig (URL left empty).
func (l *loadFlags) config() (ingestConfig, error) {
	if l.hosts < 2 {
		return ingestConfig{}, subcmd.Usagef("--hosts must be at least 2 (queries use host-1)")
	}
	rounds := int(math.Round(l.hours * 3600 / 15))
	if rounds < 1 {
		return ingestConfig{}, subcmd.Usagef("--hours %g is less than one 15 s round", l.hours)
	}
	if l.batch < 1 || l.senders < 1 || l.attempts < 1 {
		return ingestConfig{}, subcmd.Usagef("--batch, --senders and --attempts must be positive")
	}
	if l.jitterMs < 0 || l.jitterMs >= 1000 {
		return ingestConfig{}, subcmd.Usagef("--jitter-ms must be in [0, 999]")
	}
	end := l.end
	if end == 0 {
		end = time.Now().UnixMilli() / scrapeInterval * scrapeInterval
	}
	return ingestConfig{
		Token: l.token, Hosts: l.hosts, Rounds: rounds, End: end, Batch: l.batch, Senders: l.senders,
		Seed: l.seed, JitterMs: l.jitterMs, MaxAttempts: l.attempts, Timeout: l.loadTimeout,
	}, nil
}

func cmdRun(ctx context.Context, args []string, stdout io.Writer, logger *slog.Logger) error {
	fs := subcmd.NewFlagSet(toolName, "run", "Measures one running server: sends the load while reading the server process's CPU time and\n"+
		"peak RSS from /proc, waits until the store has compacted (Prometheus TSDB) or forces a flush and\n"+
		"merge (VictoriaMetrics), measures the data directory, checks series and sample counts with\n"+
		"queries, and times the dashboard queries. Writes the result as JSON to --out.")
	var l loadFlags
	l.register(fs)
	var (
		c   runConfig
		out string
	)
	fs.StringVar(&c.Name, "name", "", "name of the server in the results (default: --kind)")
	fs.StringVar(&c.Kind, "kind", "", "server kind: saypro, prometheus or victoriametrics")
	fs.StringVar(&c.BaseURL, "url", "", "base URL of the server, e.g. http://127.0.0.1:9900")
	fs.StringVar(&c.WritePath, "write-path", "/api/v1/write", "remote-write path")
	fs.IntVar(&c.PID, "pid", 0, "process id of the server")
	fs.Float64Var(&c.ClkTck, "clk-tck", 100, "clock ticks per second (getconf CLK_TCK)")
	fs.StringVar(&c.DataDir, "data-dir", "", "the server's data directory")
	fs.IntVar(&c.QueryRuns, "query-runs", 20, "timed runs of each query")
	fs.DurationVar(&c.SettleTimeout, "settle-timeout", 10*time.Minute, "longest wait for the compaction or merge after the load")
	fs.StringVar(&out, "out", "", "file to write the JSON result to (default: stdout)")
	if err := subcmd.Parse(fs, args); err != nil {
		return err
	}
	switch {
	case c.Kind != kindSaypro && c.Kind != kindPrometheus && c.Kind != kindVM:
		return subcmd.Usagef("--kind %q: want saypro, prometheus or victoriametrics", c.Kind)
	case c.BaseURL == "" || c.PID <= 0 || c.DataDir == "":
		return subcmd.Usagef("--url, --pid and --data-dir are required")
	case c.ClkTck <= 0 || c.QueryRuns < 1:
		return subcmd.Usagef("--clk-tck and --query-runs must be positive")
	}
	if c.Name == "" {
		c.Name = c.Kind
	}
	c.BaseURL = strings.TrimSuffix(c.BaseURL, "/")
	var err error
	if c.Ingest, err = l.config(); err != nil {
		return err
	}
	res, runErr := runServer(ctx, c, logger)
	if res != nil {
		if err := writeJSON(out, stdout, res); err != nil {
			return err
		}
	}
	return runErr
}

func cmdIngest(ctx context.Context, args []string, stdout io.Writer, logger *slog.Logger) error {
	fs := subcmd.NewFlagSet(toolName, "ingest", "Sends the load to a remote-write 1.0 endpoint and prints (JSON) what it answered.")
	var l loadFlags
	l.register(fs)
	url := fs.String("url", "", "remote-write URL, e.g. http://127.0.0.1:9900/api/v1/write")
	if err := subcmd.Parse(fs, args); err != nil {
		return err
	}
	if *url == "" {
		return subcmd.Usagef("--url is required")
	}
	c, err := l.config()
	if err != nil {
		return err
	}
	c.URL = *url
	res, err := ingest(ctx, c, logger)
	if res != nil {
		if err := writeJSON("", stdout, res); err != nil {
			return err
		}
	}
	return err
}

func cmdQuery(ctx context.Context, args []string, stdout io.Writer, logger *slog.Logger) error {
	fs := subcmd.NewFlagSet(toolName, "query", "Runs the dashboard range queries over the data that ingest (with the same --hosts,\n"+
		"--hours and --end) sent, and prints (JSON) the median latency of each, plus the count checks.")
	var l loadFlags
	l.register(fs)
	base := fs.String("url", "", "base URL of the server, e.g. http://127.0.0.1:9900")
	runs := fs.Int("runs", 20, "timed runs of each query (after one warm-up)")
	if err := subcmd.Parse(fs, args); err != nil {
		return err
	}
	if *base == "" || l.end == 0 || *runs < 1 {
		return subcmd.Usagef("--url and --end (the same as the load's) are required, --runs must be positive")
	}
	c, err := l.config()
	if err != nil {
		return err
	}
	api := &apiClient{base: strings.TrimSuffix(*base, "/"), client: &http.Client{Timeout: 5 * time.Minute}}
	out := struct {
		Checks  []Check       `json:"checks"`
		Queries []QueryResult `json:"queries"`
	}{
		Checks:  runChecks(ctx, api, countChecks(c.Hosts, c.Rounds, c.start(), c.End)),
		Queries: measureQueries(ctx, api, dashboardQueries(c.start(), c.End), *runs),
	}
	for _, q := range out.Queries {
		logger.Info("query", "name", q.Name, "median_ms", fmt.Sprintf("%.1f", q.MedianSeconds*1000), "series", q.Series, "err", q.Error)
	}
	return writeJSON("", stdout, out)
}

func cmdReport(_ context.Context, args []string, stdout io.Writer, _ *slog.Logger) error {
	fs := subcmd.NewFlagSet(toolName, "report", "Reads the run results in --dir, prints a markdown table with the ratios of ours to the others,\n"+
		"and writes results.json and results.md into --dir.")
	dir := fs.String("dir", "", "directory with saypro.json, prometheus.json, victoriametrics.json")
	labels := map[string]string{}
	fs.Func("label", "key=value noted in the report (repeatable), e.g. versions and the command", subcmd.KeyValue(labels))
	if err := subcmd.Parse(fs, args); err != nil {
		return err
	}
	if *dir == "" {
		return subcmd.Usagef("--dir is required")
	}
	runs, err := loadRuns(*dir)
	if err != nil {
		return err
	}
	rep := buildReport(labels, runs)
	md := rep.markdown()
	if err := writeJSON(filepath.Join(*dir, "results.json"), stdout, rep); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(*dir, "results.md"), []byte(md), 0o644); err != nil {
		return err
	}
	_, err = io.WriteString(stdout, md)
	return err
}

// writeJSON writes v, indented, to the file path, or to stdout if path is
// empty.
func writeJSON(path string, stdout io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if path == "" {
		_, err = stdout.Write(b)
		return err
	}
	return os.WriteFile(path, b, 0o644)
}
