package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/prometheus/common/model"

	"github.com/saypro/monitor/internal/config"
	"github.com/saypro/monitor/internal/config/checkconfig"
	"github.com/saypro/monitor/internal/probe"
)

const checkUsage = `Usage:
  saypro-monitor check --config FILE [NAME...]      run the configured checks (all, or those named) once
  saypro-monitor check --kind KIND --target TARGET  run one check given on the command line

Runs checks from this machine, now, and prints each one's state, reason and
time; heartbeat checks are skipped (they are received by the server). Exit
status: 0 when every check is up, 1 when one is degraded or down or cannot
run, 2 on a usage error.

Flags:
`

func runCheck(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configFile := fs.String("config", "", "configuration file whose checks are run (env SAYPRO_CONFIG)")
	kind := fs.String("kind", "", "kind of a check given on the command line: "+fmt.Sprint(checkconfig.Kinds))
	target := fs.String("target", "", "target of a check given on the command line")
	timeout := fs.Duration("timeout", 10*time.Second, "timeout of a check given on the command line")
	verbose := fs.Bool("v", false, "also print every sample of each run")
	fs.Usage = func() {
		fmt.Fprint(stderr, checkUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if *configFile == "" {
		*configFile = getenv("SAYPRO_CONFIG")
	}
	var checks []checkconfig.Check
	switch {
	case *kind != "":
		configSet := false
		fs.Visit(func(f *flag.Flag) { configSet = configSet || f.Name == "config" })
		if configSet || fs.NArg() > 0 {
			fmt.Fprintln(stderr, "saypro-monitor check: --kind runs one check; do not also give --config or names")
			return exitUsage
		}
		c := checkconfig.Check{Name: "cli", Kind: *kind, Target: *target,
			Interval: model.Duration(max(*timeout, time.Second)), Timeout: model.Duration(*timeout)}
		checks = []checkconfig.Check{c}
		if err := checkconfig.ValidateAll("checks", checks); err != nil {
			fmt.Fprintln(stderr, "saypro-monitor check:", err)
			return exitUsage
		}
	case *configFile != "":
		cfg, err := config.LoadFile(*configFile)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return exitError
		}
		for _, name := range fs.Args() {
			if !slices.ContainsFunc(cfg.Checks, func(c checkconfig.Check) bool { return c.Name == name }) {
				fmt.Fprintf(stderr, "saypro-monitor check: %s has no check named %q\n", *configFile, name)
				return exitError
			}
		}
		for _, c := range cfg.Checks {
			if (fs.NArg() == 0 || slices.Contains(fs.Args(), c.Name)) && c.Kind != checkconfig.KindHeartbeat {
				checks = append(checks, c)
			}
		}
	default:
		fs.Usage()
		return exitUsage
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	env := probe.Env{Logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	outcomes := make([]probe.Outcome, len(checks))
	errs := make([]error, len(checks))
	var wg sync.WaitGroup
	for i := range checks {
		wg.Go(func() { outcomes[i], errs[i] = probe.Once(ctx, &checks[i], "cli", env) })
	}
	wg.Wait()

	code := exitOK
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CHECK\tKIND\tSTATE\tTIME\tREASON")
	for i, c := range checks {
		if errs[i] != nil {
			fmt.Fprintf(tw, "%s\t%s\t%s\t-\tcannot run: %v\n", c.Name, c.Kind, "error", errs[i])
			code = exitError
			continue
		}
		o := outcomes[i]
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.Name, c.Kind, o.State, roundTook(o.Duration), o.Reason)
		if o.State != probe.StateUp {
			code = exitError
		}
	}
	tw.Flush()
	if *verbose {
		for _, o := range outcomes {
			for _, s := range o.Series() {
				fmt.Fprintf(stdout, "%s{", s.Labels[0].Value)
				for j, l := range s.Labels[1:] {
					if j > 0 {
						fmt.Fprint(stdout, ",")
					}
					fmt.Fprintf(stdout, "%s=%q", l.Name, l.Value)
				}
				fmt.Fprintf(stdout, "} %g\n", s.Value)
			}
		}
	}
	return code
}

// roundTook keeps three significant figures or so of a run's time.
func roundTook(d time.Duration) time.Duration {
	if d < time.Millisecond {
		return d.Round(time.Microsecond)
	}
	return d.Round(time.Millisecond)
}
