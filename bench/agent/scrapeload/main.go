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
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const usage = `Usage: scrapeload <command> [flags]

Commands:
  measure   scrape the exporters at the same rate, measure CPU per collection and RSS from /proc
  freeport  print a free TCP port on 127.0.0.1

Run "scrapeload <command> --help" for the flags of a command.
`

func main() {
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, logger)
	stop()
	os.Exit(code)
}

// run executes one subcommand and returns the exit code: 0 success,
// 1 failure, 2 bad usage.
func run(ctx context.Context, args []string, stdout io.Writer, logger *slog.Logger) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(os.Stderr, usage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	var err error
	switch args[0] {
	case "measure":
		err = cmdMeasure(ctx, args[1:], stdout, logger)
	case "freeport":
		err = cmdFreePort(args[1:], stdout)
	default:
		fmt.Fprintf(os.Stderr, "scrapeload: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, new(usageError)):
		fmt.Fprintf(os.Stderr, "scrapeload %s: %v\n", args[0], err)
		return 2
	}
	logger.Error("failed", "command", args[0], "err", err)
	return 1
}

// usageError is a bad flag or argument.
type usageError struct{ error }

func newFlagSet(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: scrapeload %s [flags]\n\n%s\n\nFlags:\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected arguments %q", fs.Args())}
	}
	return nil
}

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
	fs := newFlagSet("measure", "Scrapes every --ours and --peer /metrics URL once per --interval, one after the other in\n"+
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
	fs.Func("label", "key=value noted in the report (repeatable), e.g. versions and the machine", func(s string) error {
		k, v, ok := strings.Cut(s, "=")
		if !ok || k == "" {
			return errors.New("want key=value")
		}
		labels[k] = v
		return nil
	})
	if err := parse(fs, args); err != nil {
		return err
	}
	switch {
	case len(procs) == 0:
		return usageError{errors.New("nothing to measure: give --ours, --peer or --push")}
	case c.Scrapes < 1 || c.Warmup < 0 || c.Interval <= 0 || c.PushInterval <= 0 || c.Timeout <= 0:
		return usageError{errors.New("--scrapes, --interval, --push-interval and --timeout must be positive, --warmup not negative")}
	case c.ClkTck <= 0:
		return usageError{errors.New("--clk-tck must be positive")}
	}
	seen := map[string]bool{}
	for _, p := range procs {
		if seen[p.Name] {
			return usageError{fmt.Errorf("process name %q given twice", p.Name)}
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

func cmdFreePort(args []string, stdout io.Writer) error {
	fs := newFlagSet("freeport", "Prints a TCP port on 127.0.0.1 that was free a moment ago.")
	if err := parse(fs, args); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	if err := ln.Close(); err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, port)
	return err
}
