// Command scrapeload is the scraper and measuring tool of the side-by-side
// agent benchmark in bench/agent (run by bench/agent/run.sh).
//
// It scrapes several exporters that already run (our agent and
// node_exporter, each on its own port) at the same rate, one after the
// other in every round, reads and discards each body while counting its
// series, and reads each process's CPU time (utime + stime) and memory
// (VmRSS, VmHWM) from /proc before and after the measured window. Agents
// that push instead of being scraped are measured over the same window
// without being scraped.
//
// Subcommands:
//
//	measure   scrape and measure, print a markdown table, write it and a JSON file
//	freeport  print a free TCP port on 127.0.0.1
//
// It uses the standard library only.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/saypro/monitor/bench/subcmd"
)

const toolName = "scrapeload"

// parseProcess parses "name,pid,url" (url may be empty for push agents).
func parseProcess(s string, role Role, mode Mode) (*Process, error) {
	parts := strings.SplitN(s, ",", 3)
	if len(parts) < 2 || parts[0] == "" {
		return nil, errors.New("want name,pid,url")
	}
	pid, err := strconv.Atoi(parts[1])
	if err != nil || pid <= 0 {
		return nil, fmt.Errorf("bad pid %q", parts[1])
	}
	p := &Process{Name: parts[0], PID: pid, Role: role, Mode: mode}
	if len(parts) == 3 {
		p.URL = parts[2]
	}
	if mode == ModePull && p.URL == "" {
		return nil, errors.New("a scraped process needs a URL: name,pid,url")
	}
	return p, nil
}

func cmdMeasure(ctx context.Context, args []string, stdout io.Writer, logger *slog.Logger) error {
	fs := subcmd.NewFlagSet(toolName, "measure", "Scrapes every --ours and --peer /metrics URL once per --interval, one after the other in\n"+
		"each round (the order rotates from round to round), --warmup rounds unmeasured and then\n"+
		"--scrapes measured rounds. CPU per collection is the process's utime+stime over the\n"+
		"measured window divided by its collections (scrapes; for --push agents, the collections\n"+
		"they made in the window). Prints a markdown table and writes it and a JSON file.")
	var (
		c              Config
		procs          []*Process
		outMD, outJSON string
		labels         = map[string]string{}
		addProc        = func(role Role, mode Mode) func(string) error {
			return func(s string) error {
				p, err := parseProcess(s, role, mode)
				if err != nil {
					return err
				}
				procs = append(procs, p)
				return nil
			}
		}
	)
	fs.Func("ours", "one of our agents scraped on /metrics: name,pid,url (repeatable)", addProc(RoleOurs, ModePull))
	fs.Func("peer", "a peer scraped on /metrics, e.g. node_exporter: name,pid,url (repeatable)", addProc(RolePeer, ModePull))
	fs.Func("push", "one of our agents that pushes and is not scraped: name,pid,url of its own /metrics\n"+
		"(read only outside the window, for its collection counter; may be empty) (repeatable)", addProc(RoleOurs, ModePush))
	fs.IntVar(&c.Scrapes, "scrapes", 300, "measured rounds (collections per scraped process)")
	fs.IntVar(&c.Warmup, "warmup", 10, "unmeasured rounds first")
	fs.DurationVar(&c.Interval, "interval", time.Second, "time between rounds; the scrape interval")
	fs.DurationVar(&c.PushInterval, "push-interval", time.Second, "collection interval of the --push agents (used when they expose no collection counter)")
	fs.DurationVar(&c.Timeout, "timeout", 10*time.Second, "timeout of one scrape")
	fs.BoolVar(&c.Gzip, "gzip", true, "ask for gzip, as Prometheus does")
	fs.Float64Var(&c.ClkTck, "clk-tck", 100, "clock ticks per second (getconf CLK_TCK)")
	fs.Float64Var(&c.Goal, "goal", 0.5, "largest ratio ours/peer that meets the goal")
	fs.StringVar(&outMD, "out-md", "", "file to write the markdown table to")
	fs.StringVar(&outJSON, "out-json", "", "file to write all numbers to (JSON)")
	fs.Func("label", "key=value noted in the report (repeatable), e.g. versions and the machine", subcmd.KeyValue(labels))
	if err := subcmd.Parse(fs, args); err != nil {
		return err
	}
	switch {
	case len(procs) == 0:
		return subcmd.Usagef("nothing to measure: give --ours, --peer or --push")
	case c.Scrapes < 1 || c.Warmup < 0 || c.Interval <= 0 || c.PushInterval <= 0 || c.Timeout <= 0:
		return subcmd.Usagef("--scrapes, --interval, --push-interval and --timeout must be positive, --warmup not negative")
	case c.ClkTck <= 0:
		return subcmd.Usagef("--clk-tck must be positive")
	}
	seen := map[string]bool{}
	for _, p := range procs {
		if seen[p.Name] {
			return subcmd.Usagef("process name %q given twice", p.Name)
		}
		seen[p.Name] = true
	}
	res, err := measure(ctx, c, procs, logger)
	if err != nil {
		return err
	}
	rep := buildReport(labels, c, res)
	md := rep.markdown()
	if outJSON != "" {
		if err := writeJSON(outJSON, rep); err != nil {
			return err
		}
	}
	if outMD != "" {
		if err := os.WriteFile(outMD, []byte(md), 0o644); err != nil {
			return err
		}
	}
	if _, err := io.WriteString(stdout, md); err != nil {
		return err
	}
	if failed := rep.failures(); len(failed) > 0 {
		return fmt.Errorf("incomplete measurement: %s", strings.Join(failed, "; "))
	}
	return nil
}

func main() {
	subcmd.Tool{Name: toolName, Commands: []subcmd.Command{
		{Name: "measure", Summary: "scrape the exporters at the same rate, measure CPU per collection and RSS from /proc", Run: cmdMeasure},
		subcmd.FreePort(toolName),
	}}.Main()
}
