package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/saypro/monitor/bench/subcmd"
)

// The alert names and labels the benchmark uses; config and run must agree.
const (
	ruleAlert  = "BenchHigh" // the rule's alert (part 1), grouped by trial
	loadAlert  = "BenchLoad" // the 10,000 posted alerts (part 2), grouped by group
	probeAlert = "BenchNew"  // the new groups whose latency part 2 measures, grouped by probe
	metricName = "bench_value"
	threshold  = 100
)

func cmdConfig(_ context.Context, args []string, _ io.Writer, _ *slog.Logger) error {
	fs := subcmd.NewFlagSet(toolName, "config", "Writes the saypro-monitor configuration (--out) and its rule file (next to it) for the benchmark.")
	out := fs.String("out", "", "configuration file to write (required); the rule file goes next to it as bench-rules.yml")
	webhook := fs.String("webhook", "", "host:port the run command's webhooks will listen on (required)")
	eval := fs.Duration("eval", 15*time.Second, "global.evaluation_interval")
	groupWait := fs.Duration("group-wait", time.Second, "the routes' group_wait")
	groupInterval := fs.Duration("group-interval", 5*time.Minute, "the routes' group_interval")
	if err := subcmd.Parse(fs, args); err != nil {
		return err
	}
	if *out == "" || *webhook == "" {
		return subcmd.Usagef("--out and --webhook are required")
	}
	rules := filepath.Join(filepath.Dir(*out), "bench-rules.yml")
	if err := os.WriteFile(rules, []byte(rulesYAML()), 0o644); err != nil {
		return err
	}
	return os.WriteFile(*out, []byte(configYAML(rules, *webhook, *eval, *groupWait, *groupInterval)), 0o644)
}

func rulesYAML() string {
	return fmt.Sprintf(`groups:
  - name: bench
    rules:
      - alert: %s
        expr: %s > %d
        for: 0s
        labels: {severity: bench}
        annotations:
          summary: 'bench_value of trial {{ $labels.trial }} is {{ $value }}'
`, ruleAlert, metricName, threshold)
}

// configYAML is the server's configuration: no agent, no self-scrape, no
// built-in rules, so that only the benchmark's rule and alerts exist.
// BenchHigh and BenchNew go to the fast webhook, BenchLoad to the slow one.
func configYAML(rules, webhook string, eval, groupWait, groupInterval time.Duration) string {
	return fmt.Sprintf(`global:
  evaluation_interval: %s
agent:
  enabled: false
server:
  self_scrape: false
builtin_rules:
  enabled: false
rule_files: [%q]
alertmanager:
  config:
    route:
      receiver: fast
      group_by: [alertname, trial]
      group_wait: %s
      group_interval: %s
      repeat_interval: 4h
      routes:
        - matchers: ['alertname="%s"']
          receiver: slow
          group_by: [alertname, group]
        - matchers: ['alertname="%s"']
          receiver: fast
          group_by: [alertname, probe]
    receivers:
      - name: fast
        webhook_configs:
          - url: http://%s/fast
            send_resolved: false
      - name: slow
        webhook_configs:
          - url: http://%s/slow
            send_resolved: false
`, promDuration(eval), rules, promDuration(groupWait), promDuration(groupInterval),
		loadAlert, probeAlert, webhook, webhook)
}

// promDuration writes d in Prometheus's duration syntax (whole
// milliseconds).
func promDuration(d time.Duration) string {
	ms := d.Milliseconds()
	if ms%1000 == 0 {
		return fmt.Sprintf("%ds", ms/1000)
	}
	return fmt.Sprintf("%dms", ms)
}
