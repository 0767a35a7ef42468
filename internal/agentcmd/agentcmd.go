// Package agentcmd is the command line of the host agent, shared by
// `saypro-monitor agent` and the small `saypro-agent` binary: flags,
// SAYPRO_AGENT_* environment variables and the configuration file, merged
// with the precedence flag > environment > file > default.
package agentcmd

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
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/common/version"

	"github.com/saypro/monitor/internal/agent"
	"github.com/saypro/monitor/internal/config/agentconfig"
	"github.com/saypro/monitor/internal/config/yamlconf"
	"github.com/saypro/monitor/internal/logging"
)

// Exit codes, as for saypro-monitor.
const (
	ExitOK    = 0
	ExitError = 1
	ExitUsage = 2
)

// option is a flag that can also come from SAYPRO_AGENT_<NAME>.
type option struct {
	name, help string
	bool       bool
	apply      func(c *agentconfig.Config, v string) error
}

// Env is the environment variable of the option.
func (o option) Env() string {
	r := strings.NewReplacer("-", "_", ".", "_")
	return "SAYPRO_AGENT_" + strings.ToUpper(r.Replace(o.name))
}

func setDuration(dst *model.Duration, what, v string) error {
	d, err := model.ParseDuration(v)
	if err != nil || d <= 0 {
		return fmt.Errorf("invalid %s %q: want a positive duration such as 15s or 1m", what, v)
	}
	*dst = d
	return nil
}

var options = []option{
	{name: "server", help: "server base URL to ship to, e.g. https://monitor:9900; empty serves /metrics only (config server.url)", apply: func(c *agentconfig.Config, v string) error {
		c.Server.URL = v
		return nil
	}},
	{name: "token", help: "bearer token for the server; prefer --token-file or the environment over the command line (config server.token)", apply: func(c *agentconfig.Config, v string) error {
		c.Server.Token, c.Server.TokenFile = yamlconf.Secret(v), ""
		return nil
	}},
	{name: "token-file", help: "file holding the bearer token (config server.token_file)", apply: func(c *agentconfig.Config, v string) error {
		c.Server.TokenFile, c.Server.Token = v, ""
		return nil
	}},
	{name: "listen", help: "address for /metrics and /-/healthy; empty turns it off (config listen, default \":9901\")", apply: func(c *agentconfig.Config, v string) error {
		c.Listen = v
		return nil
	}},
	{name: "instance", help: "instance label of every series (config instance, default the host name)", apply: func(c *agentconfig.Config, v string) error {
		c.Instance = v
		return nil
	}},
	{name: "labels", help: "extra labels for every series, name=value[,name=value...] (config labels)", apply: func(c *agentconfig.Config, v string) error {
		if c.Labels == nil {
			c.Labels = map[string]string{}
		}
		for _, kv := range strings.Split(v, ",") {
			k, val, ok := strings.Cut(strings.TrimSpace(kv), "=")
			if !ok || k == "" {
				return fmt.Errorf("invalid label %q: want name=value", kv)
			}
			c.Labels[k] = val
		}
		return nil
	}},
	{name: "interval", help: "collection and heartbeat interval (config interval, default 15s)", apply: func(c *agentconfig.Config, v string) error {
		return setDuration(&c.Interval, "interval", v)
	}},
	{name: "timeout", help: "timeout of each request to the server (config server.timeout, default 30s)", apply: func(c *agentconfig.Config, v string) error {
		return setDuration(&c.Server.Timeout, "timeout", v)
	}},
	{name: "queue-dir", help: "directory of the durable queue (config queue.dir, default ./data/queue)", apply: func(c *agentconfig.Config, v string) error {
		c.Queue.Dir = v
		return nil
	}},
	{name: "queue-max-size", help: "queue size limit on disk, e.g. 512MiB; when full the oldest data is dropped (config queue.max_size)", apply: func(c *agentconfig.Config, v string) error {
		n, err := yamlconf.ParseBytes(v)
		if err != nil {
			return err
		}
		c.Queue.MaxSize = n
		return nil
	}},
	{name: "tls-ca-file", help: "PEM file of the CAs that sign the server's certificate (config server.tls.ca_file)", apply: func(c *agentconfig.Config, v string) error {
		c.Server.TLS.CAFile = v
		return nil
	}},
	{name: "tls-fingerprint", help: "pin the server's certificate by its SHA-256 fingerprint (config server.tls.fingerprint)", apply: func(c *agentconfig.Config, v string) error {
		c.Server.TLS.Fingerprint = v
		return nil
	}},
	{name: "tls-server-name", help: "name to verify the server's certificate against (config server.tls.server_name)", apply: func(c *agentconfig.Config, v string) error {
		c.Server.TLS.ServerName = v
		return nil
	}},
	{name: "tls-insecure-skip-verify", bool: true, help: "do not verify the server's certificate; for tests only (config server.tls.insecure_skip_verify)", apply: func(c *agentconfig.Config, v string) error {
		b, err := parseBool(v)
		c.Server.TLS.InsecureSkipVerify = b
		return err
	}},
	{name: "collectors-disabled", help: "collectors to turn off, comma-separated, e.g. tcpstat,netstat (config collectors.disabled)", apply: func(c *agentconfig.Config, v string) error {
		c.Collectors.Disabled = nil
		for _, n := range strings.Split(v, ",") {
			if n = strings.TrimSpace(n); n != "" {
				c.Collectors.Disabled = append(c.Collectors.Disabled, n)
			}
		}
		return nil
	}},
	{name: "path.procfs", help: "procfs mount point (config paths.proc, default /proc)", apply: func(c *agentconfig.Config, v string) error {
		c.Paths.Proc = v
		return nil
	}},
	{name: "path.sysfs", help: "sysfs mount point (config paths.sys, default /sys)", apply: func(c *agentconfig.Config, v string) error {
		c.Paths.Sys = v
		return nil
	}},
	{name: "path.rootfs", help: "root file system, for os-release and file system sizes (config paths.root, default /)", apply: func(c *agentconfig.Config, v string) error {
		c.Paths.Root = v
		return nil
	}},
}

func parseBool(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "1", "true", "yes", "on":
		return true, nil
	case "0", "false", "no", "off", "":
		return false, nil
	}
	return false, fmt.Errorf("invalid boolean %q: use true or false", v)
}

// Load builds the agent configuration from the file (or defaults) and the
// options set by flags or the environment.
func Load(file string, set map[int]string) (*agentconfig.Config, error) {
	var (
		cfg *agentconfig.Config
		err error
	)
	if file == "" {
		cfg = agentconfig.Default()
	} else if cfg, err = agentconfig.LoadFile(file); err != nil {
		return nil, err
	}
	for i, v := range set {
		if err := options[i].apply(cfg, v); err != nil {
			return nil, fmt.Errorf("--%s: %w", options[i].name, err)
		}
	}
	if err := cfg.Validate(); err != nil {
		// Flags and environment have no line; say which setting.
		return nil, yamlconf.Annotate("command line and environment", nil, err)
	}
	return cfg, nil
}

// Main runs the agent command: prog is its name in messages, args the
// arguments after it. It returns the exit code.
func Main(prog string, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	fs := flag.NewFlagSet(prog, flag.ContinueOnError)
	fs.SetOutput(stderr)
	configFile := fs.String("config", "", "agent configuration file (env SAYPRO_AGENT_CONFIG)")
	logLevel := fs.String("log-level", "", "log level: debug, info, warn, error (env SAYPRO_AGENT_LOG_LEVEL, default info)")
	logFormat := fs.String("log-format", "", "log format: text or json (env SAYPRO_AGENT_LOG_FORMAT, default text)")
	showVersion := fs.Bool("version", false, "print the version and exit")
	checkOnly := fs.Bool("check-config", false, "validate the configuration (file, flags and environment) and exit: 0 valid, 2 invalid")
	values := make([]*string, len(options))
	for i, o := range options {
		values[i] = new(string)
		help := o.help + " (env " + o.Env() + ")"
		if o.bool {
			// --flag alone means true; --flag=false is accepted too.
			v := values[i]
			fs.BoolFunc(o.name, help, func(s string) error { *v = s; return nil })
		} else {
			fs.StringVar(values[i], o.name, "", help)
		}
	}
	fs.Usage = func() {
		fmt.Fprintf(stderr, `Usage: %s [flags]

Collects this host's metrics (node_exporter names) every interval, ships them
to a SayPro server with remote-write through a disk queue that survives the
server being away, reports the host to the server's inventory, and serves
/metrics on :9901 so it can also be scraped.

Example:
  %s --server https://monitor.example.com:9900 --token-file /etc/saypro/token

Every flag can also be set with the environment variable shown, and in the
configuration file; a flag wins over the environment, which wins over the file.

Flags:
`, prog, prog)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK
		}
		return ExitUsage
	}
	if *showVersion {
		fmt.Fprintln(stdout, version.Print("saypro-agent"))
		return ExitOK
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "%s: unexpected argument %q\n", prog, fs.Arg(0))
		return ExitUsage
	}
	seen := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { seen[f.Name] = true })
	pick := func(name, env string, v *string) (string, bool) {
		if seen[name] {
			return *v, true
		}
		e := getenv(env)
		return e, e != ""
	}
	level, _ := pick("log-level", "SAYPRO_AGENT_LOG_LEVEL", logLevel)
	format, _ := pick("log-format", "SAYPRO_AGENT_LOG_FORMAT", logFormat)
	logger, err := logging.New(level, format, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", prog, err)
		return ExitUsage
	}
	set := map[int]string{}
	for i, o := range options {
		if v, ok := pick(o.name, o.Env(), values[i]); ok {
			set[i] = v
		}
	}
	file, _ := pick("config", "SAYPRO_AGENT_CONFIG", configFile)
	cfg, err := Load(file, set)
	if err != nil {
		fmt.Fprintf(stderr, "%s: invalid configuration:\n%v\n", prog, err)
		return ExitUsage
	}
	if *checkOnly {
		where := file
		if where == "" {
			where = "built-in defaults"
		}
		fmt.Fprintf(stdout, "%s: valid agent configuration (server %q, instance %q, interval %s)\n", where, cfg.Server.URL, cfg.Instance, cfg.Interval)
		return ExitOK
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger.Info("starting saypro agent", "version", version.Version, "revision", version.Revision)
	start := time.Now()
	if err := agent.Standalone(ctx, cfg, version.Version, logger); err != nil {
		logger.Error("agent failed", "err", err)
		return ExitError
	}
	logger.Info("agent stopped", "ran", time.Since(start).Round(time.Second))
	return ExitOK
}
