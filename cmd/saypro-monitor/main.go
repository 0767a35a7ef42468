// Command saypro-monitor is the SayPro Monitor server and its tools.
//
// This file only parses the command line and the environment, and maps
// errors to exit codes: 0 success, 1 failure, 2 bad usage.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/prometheus/common/version"

	"github.com/saypro/monitor/internal/agentcmd"
	"github.com/saypro/monitor/internal/config"
	"github.com/saypro/monitor/internal/logging"
	"github.com/saypro/monitor/internal/server"
)

const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
}

const usage = `SayPro Monitor: metrics, checks and alerts for your servers in one binary.

Usage:
  saypro-monitor <command> [flags]

Commands:
  server               run the server (metrics store, query API, remote-write ingest, scraping, host inventory)
  agent                run the host agent: collect this host's metrics and ship them to a server
  check                run health checks once from this machine and print their state
  config check FILE    validate a configuration file; errors name file and line
  user reset-password NAME
                       set a user's password (the way back in for a lost admin password)
  version              print version, commit and build date

Run 'saypro-monitor <command> --help' for the flags of a command.
`

func run(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "server":
		return runServer(args[1:], stdout, stderr, getenv)
	case "agent":
		return agentcmd.Main("saypro-monitor agent", args[1:], stdout, stderr, getenv)
	case "check":
		return runCheck(args[1:], stdout, stderr, getenv)
	case "user":
		return runUser(args[1:], os.Stdin, stdout, stderr, getenv)
	case "config":
		if len(args) < 2 || args[1] != "check" {
			fmt.Fprintln(stderr, "usage: saypro-monitor config check FILE")
			return exitUsage
		}
		return runConfigCheck(args[2:], stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, version.Print("saypro-monitor"))
		return exitOK
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		fmt.Fprintf(stderr, "saypro-monitor: unknown command %q\n\n%s", args[0], usage)
		return exitUsage
	}
}

// serverFlag is a server flag that can also be set by an environment
// variable SAYPRO_<NAME> and by the configuration file. Precedence: flag,
// then environment, then file, then built-in default.
type serverFlag struct {
	name, help string
	apply      func(c *config.Config, v string) error
}

func (f serverFlag) env() string {
	return "SAYPRO_" + strings.ToUpper(strings.ReplaceAll(f.name, "-", "_"))
}

var serverFlags = []serverFlag{
	{"listen", "address to serve the UI, APIs and ingest on (config server.listen, default \":9900\")", func(c *config.Config, v string) error {
		c.Server.Listen = v
		return nil
	}},
	{"data-dir", "directory for the metrics store and state (config server.data_dir, default \"./data\")", func(c *config.Config, v string) error {
		c.Server.DataDir = v
		return nil
	}},
	{"retention", "how long to keep samples, e.g. 30d, 1y (config storage.retention, default 30d)", func(c *config.Config, v string) error {
		d, err := config.ParseDuration(v)
		if err != nil || d <= 0 {
			return fmt.Errorf("invalid retention %q: want a positive duration such as 30d or 12h", v)
		}
		c.Storage.Retention = d
		return nil
	}},
	{"retention-size", "maximum bytes of metrics on disk, e.g. 50GB; 0 for no limit (config storage.retention_size)", func(c *config.Config, v string) error {
		n, err := config.ParseBytes(v)
		if err != nil || n < 0 {
			return fmt.Errorf("invalid retention size %q: want a size such as 512MB or 50GB", v)
		}
		c.Storage.RetentionSize = n
		return nil
	}},
	{"ingest-token", "bearer token accepted on /api/v1/write, added to config ingest.tokens", func(c *config.Config, v string) error {
		if len(v) < 16 {
			return fmt.Errorf("ingest token is shorter than 16 characters; use a long random string (openssl rand -hex 32)")
		}
		c.Ingest.Tokens = append(c.Ingest.Tokens, config.Secret(v))
		return nil
	}},
}

func runServer(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configFile := fs.String("config", "", "configuration file (env SAYPRO_CONFIG); without one, built-in defaults are used")
	logLevel := fs.String("log-level", "", "log level: debug, info, warn, error (env SAYPRO_LOG_LEVEL, default info)")
	logFormat := fs.String("log-format", "", "log format: text or json (env SAYPRO_LOG_FORMAT, default text)")
	values := make([]*string, len(serverFlags))
	for i, f := range serverFlags {
		values[i] = fs.String(f.name, "", f.help+" (env "+f.env()+")")
	}
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: saypro-monitor server [flags]\n\nRuns the server. Every flag can also be set with the environment variable shown,\nand most in the configuration file; a flag wins over the environment, which wins over the file.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "saypro-monitor server: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	pick := func(name, env string, v *string) string {
		if set[name] {
			return *v
		}
		return getenv(env)
	}

	logger, err := logging.New(pick("log-level", "SAYPRO_LOG_LEVEL", logLevel), pick("log-format", "SAYPRO_LOG_FORMAT", logFormat), stderr)
	if err != nil {
		fmt.Fprintln(stderr, "saypro-monitor server:", err)
		return exitUsage
	}
	overrides := map[int]string{}
	for i, f := range serverFlags {
		if v := pick(f.name, f.env(), values[i]); v != "" {
			overrides[i] = v
		}
	}
	opts := server.Options{
		ConfigFile:    pick("config", "SAYPRO_CONFIG", configFile),
		Logger:        logger,
		AdminPassword: getenv("SAYPRO_ADMIN_PASSWORD"),
		Override: func(c *config.Config) error {
			for i, v := range overrides {
				if err := serverFlags[i].apply(c, v); err != nil {
					return err
				}
			}
			return nil
		},
	}
	// Validate flags and file before anything starts.
	if _, err := opts.Load(); err != nil {
		fmt.Fprintf(stderr, "saypro-monitor server: invalid configuration:\n%v\n", err)
		return exitUsage
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger.Info("starting saypro-monitor", "version", version.Version, "revision", version.Revision)
	if err := server.Run(ctx, opts); err != nil {
		logger.Error("server failed", "err", err)
		return exitError
	}
	logger.Info("stopped cleanly")
	return exitOK
}

func runConfigCheck(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("config check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: saypro-monitor config check FILE...\n\nValidates configuration files. Prints each problem as file:line: message and exits 1 if any file is invalid.")
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return exitUsage
	}
	code := exitOK
	for _, file := range fs.Args() {
		cfg, err := config.LoadFile(file)
		if err != nil {
			fmt.Fprintln(stderr, err)
			code = exitError
			continue
		}
		scfgs, _ := cfg.Prometheus.GetScrapeConfigs()
		fmt.Fprintf(stdout, "%s: valid (%d scrape configs, %d checks)\n", file, len(scfgs), len(cfg.Checks))
	}
	return code
}
