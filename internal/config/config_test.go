package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
)

func TestDefaults(t *testing.T) {
	c := Default()
	require.Equal(t, ":9900", c.Server.Listen)
	require.Equal(t, "./data", c.Server.DataDir)
	require.True(t, c.Server.SelfScrape)
	require.Equal(t, model.Duration(30*24*time.Hour), c.Storage.Retention)
	require.Equal(t, Bytes(0), c.Storage.RetentionSize)
	require.Equal(t, DefaultScrapeInterval, c.Prometheus.GlobalConfig.ScrapeInterval)
	require.Empty(t, c.Prometheus.ScrapeConfigs)
}

func TestGoodFiles(t *testing.T) {
	files, err := filepath.Glob("testdata/*.good.yml")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			_, err := LoadFile(f)
			require.NoError(t, err)
		})
	}
}

func TestFullFile(t *testing.T) {
	c, err := LoadFile("testdata/full.good.yml")
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1:9900", c.Server.Listen)
	require.False(t, c.Server.SelfScrape)
	require.Equal(t, 75, c.Server.GoGC)
	require.Equal(t, model.Duration(90*24*time.Hour), c.Storage.Retention)
	require.Equal(t, Bytes(50<<30), c.Storage.RetentionSize)
	require.Equal(t, model.Duration(30*time.Minute), c.Storage.OutOfOrderTimeWindow)
	require.Equal(t, []Secret{"6f1ad1c0b7e94b1e9f1d2c3a4b5c6d7e"}, c.Ingest.Tokens)
	require.Equal(t, Bytes(16<<20), c.Ingest.MaxBodySize)
	require.Equal(t, 16, c.Ingest.MaxConcurrentRequests)
	require.Equal(t, 10_000_000, c.Query.MaxSamples)
	// Untouched keys of a present section keep their defaults.
	require.Equal(t, DefaultQuery.LookbackDelta, c.Query.LookbackDelta)

	scfgs, err := c.Prometheus.GetScrapeConfigs()
	require.NoError(t, err)
	require.Len(t, scfgs, 2)
	require.Equal(t, "node", scfgs[0].JobName)
	// The global interval applies to jobs without their own.
	require.Equal(t, model.Duration(30*time.Second), scfgs[0].ScrapeInterval)
	require.Equal(t, model.Duration(time.Minute), scfgs[1].ScrapeInterval)
	require.Equal(t, "jhb", c.Prometheus.GlobalConfig.ExternalLabels.Get("site"))

	l := c.Logs
	require.True(t, l.Enabled, "logs keep enabled: true from the defaults")
	require.Equal(t, model.Duration(14*24*time.Hour), l.Retention)
	require.Equal(t, map[string]model.Duration{"auth": model.Duration(365 * 24 * time.Hour)}, l.SourceRetention)
	require.Equal(t, Bytes(20<<30), l.MaxDiskSize)
	require.Equal(t, Bytes(32<<10), l.MaxLineSize)
	require.Equal(t, DefaultLogs.MaxAhead, l.MaxAhead)
	require.True(t, l.Redact.Emails && l.Redact.IPAddresses && l.Redact.URLSecrets)
	require.Equal(t, ":5514", l.Syslog.UDP)
	require.Equal(t, DefaultLogs.Syslog.MaxConnections, l.Syslog.MaxConnections)
	require.False(t, l.BuiltinRules)
	require.Len(t, l.Rules, 1)
	require.Equal(t, LogRuleMatch{Services: []string{"payments"}, Text: "payment failed"}, l.Rules[0].Match)
	require.Equal(t, uint64(5), l.Rules[0].Threshold)
}

func TestGlobalWithoutIntervalGetsOurDefault(t *testing.T) {
	c, err := Parse([]byte("global:\n  scrape_timeout: 5s\nscrape_configs:\n  - job_name: a\n    static_configs: [{targets: ['x:1']}]\n"), "")
	require.NoError(t, err)
	require.Equal(t, DefaultScrapeInterval, c.Prometheus.ScrapeConfigs[0].ScrapeInterval)
	require.Equal(t, model.Duration(5*time.Second), c.Prometheus.ScrapeConfigs[0].ScrapeTimeout)
}

func TestBadFiles(t *testing.T) {
	// Each bad file and the lines its error must contain, in order.
	expected := map[string][]string{
		"bad-duration.bad.yml": {`bad-duration.bad.yml:2: unknown unit " days" in duration "30 days"`},
		"alertmanager-windows.bad.yml": {
			`alertmanager-windows.bad.yml:5: maintenance window "nightly": every "fortnight": use day, week or month`,
			`alertmanager-windows.bad.yml:6: maintenance window "nightly": start "25:00": use a time of day such as 02:30`,
			`alertmanager-windows.bad.yml:8: maintenance window "weekly": every: week needs weekdays`,
			`alertmanager-windows.bad.yml:12: maintenance window "weekly": needs a positive duration`,
			`alertmanager-windows.bad.yml:13: maintenance window "weekly": unknown time zone "Mars/Olympus"`,
		},
		"alertmanager-route.bad.yml": {`alertmanager-route.bad.yml:2: alertmanager.config: undefined receiver "nobody" used in route`},
		"bad-size.bad.yml":           {`bad-size.bad.yml:2: invalid size "lots"`},
		"agent-inventory-state.bad.yml": {
			`agent-inventory-state.bad.yml:4: agent.interval: must be at least 1s`,
			`agent-inventory-state.bad.yml:2: agent.labels: label "job" is set by the agent`,
			`agent-inventory-state.bad.yml:6: inventory.down_after: must be at least 10s`,
			`agent-inventory-state.bad.yml:8: state.driver: unknown driver "mysql": use sqlite or postgres`,
		},
		"logs.bad.yml": {
			`logs.bad.yml:2: logs.retention: must be at least 1d`,
			`logs.bad.yml:9: logs.redact.patterns: pattern 1: "(unclosed" is not a regular expression`,
			`logs.bad.yml:4: logs.syslog.udp: "5514" is not a listen address such as :5514`,
			`logs.bad.yml:5: logs.syslog.tls: a TLS listener needs cert_file and key_file`,
			`logs.bad.yml:11: log rule "Too many errors": name: must be a word`,
			`logs.bad.yml:13: log rule "Too many errors": window: must be at least 1s`,
			`logs.bad.yml:14: log rule "Too many errors": threshold: must be at least 1`,
			`logs.bad.yml:12: log rule "Too many errors": match: a rule must match something`,
			`logs.bad.yml:15: log rule "Spike": baseline_window: must be longer than window`,
		},
		"negative-retention.bad.yml": {"negative-retention.bad.yml:4: storage.retention: must be positive", "negative-retention.bad.yml:6: query.max_samples: must be positive"},
		"scrape-dup-job.bad.yml":     {`scrape-dup-job.bad.yml:4: found multiple scrape configs with job name "node"`},
		"scrape-timeout.bad.yml":     {`scrape-timeout.bad.yml:2: scrape timeout greater than scrape interval`},
		"scrape-unknown-key.bad.yml": {"scrape-unknown-key.bad.yml:5: unknown key lables"},
		"short-token.bad.yml":        {"short-token.bad.yml:2: ingest.tokens: token 1 is shorter than 16 characters"},
		"syntax.bad.yml":             {"syntax.bad.yml:2: did not find expected key"},
		"unknown-key.bad.yml":        {"unknown-key.bad.yml:3: unknown key lisen"},
		"unknown-top.bad.yml":        {"unknown-top.bad.yml:3: unknown key alerting_rules"},
	}
	files, err := filepath.Glob("testdata/*.bad.yml")
	require.NoError(t, err)
	require.Len(t, files, len(expected), "every bad file needs an expectation")
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			want, ok := expected[filepath.Base(f)]
			require.True(t, ok, "no expectation for %s", f)
			_, err := LoadFile(f)
			require.Error(t, err)
			var cerr *Error
			require.ErrorAs(t, err, &cerr)
			require.Len(t, cerr.Lines, len(want), "%v", err)
			for i, w := range want {
				require.Contains(t, cerr.Lines[i], "testdata/"+w)
			}
		})
	}
}

func TestMissingFile(t *testing.T) {
	_, err := LoadFile(filepath.Join(t.TempDir(), "nope.yml"))
	require.ErrorContains(t, err, "no such file")
}

func TestSecretsAreNotPrinted(t *testing.T) {
	c, err := LoadFile("testdata/full.good.yml")
	require.NoError(t, err)
	require.NotContains(t, fmtAll(c.Ingest.Tokens), "6f1ad1c0")
}

func fmtAll(ts []Secret) string {
	var b strings.Builder
	for _, t := range ts {
		b.WriteString(t.String())
	}
	return b.String()
}

// FuzzParse feeds arbitrary documents to the loader: it must return a
// configuration or an error, never panic or hang.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.yml")
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("storage: {retention: -1s}"))
	f.Add([]byte("scrape_configs: [null]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data, "fuzz.yml")
		if err == nil && c.Prometheus == nil {
			t.Fatal("valid configuration without its Prometheus part")
		}
	})
}

func TestAlertmanagerSection(t *testing.T) {
	c, err := LoadFile("testdata/alertmanager.good.yml")
	require.NoError(t, err)
	am := c.Alertmanager
	require.NotNil(t, am.Parsed)
	require.Equal(t, "oncall", am.Parsed.Route.Receiver)
	require.Len(t, am.Parsed.Receivers, 2)
	require.Len(t, am.Parsed.Receivers[0].WebhookConfigs, 1)
	require.Len(t, am.Extensions["oncall"].Twilio, 1, "twilio_configs are taken out for SayPro")
	require.NotContains(t, am.Original, "twilio_configs", "Alertmanager never sees SayPro's keys")
	require.Equal(t, model.Duration(30*time.Minute), am.SilenceReminder.Before)
	require.Len(t, am.MaintenanceWindows, 2)
	w := am.MaintenanceWindows[0]
	require.Equal(t, []time.Weekday{time.Tuesday}, w.Days)
	require.Equal(t, 2*time.Hour, w.StartOffset)
	require.Equal(t, "Africa/Johannesburg", w.Location.String())
	require.Len(t, w.Selectors, 2)

	// Without a section: the built-in configuration, one receiver with no
	// integrations.
	d := Default()
	require.Equal(t, "default", d.Alertmanager.Parsed.Route.Receiver)
	require.Equal(t, model.Duration(time.Hour), d.Alertmanager.SilenceReminder.Before)
}

func TestAlertmanagerConfigFile(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "am.yml"), []byte("route: {receiver: x}\nreceivers: [{name: x}]\ntemplates: ['tmpl/*.tmpl']\n"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "cfg.yml"), []byte("alertmanager:\n  config_file: am.yml\n"), 0o600))
	c, err := LoadFile(filepath.Join(dir, "cfg.yml"))
	require.NoError(t, err)
	require.Equal(t, "x", c.Alertmanager.Parsed.Route.Receiver)
	require.Equal(t, []string{filepath.Join(dir, "tmpl/*.tmpl")}, c.Alertmanager.Parsed.Templates, "template paths are relative to the file")

	require.NoError(t, os.WriteFile(filepath.Join(dir, "both.yml"), []byte("alertmanager:\n  config_file: am.yml\n  config: {route: {receiver: x}}\n"), 0o600))
	_, err = LoadFile(filepath.Join(dir, "both.yml"))
	require.ErrorContains(t, err, "config and config_file are mutually exclusive")

	_, err = LoadFile(filepath.Join(dir, "missing.yml"))
	require.Error(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "gone.yml"), []byte("alertmanager:\n  config_file: nothere.yml\n"), 0o600))
	_, err = LoadFile(filepath.Join(dir, "gone.yml"))
	require.ErrorContains(t, err, "nothere.yml")
}

// FuzzParseAlertmanager feeds Alertmanager configurations, with SayPro's
// receiver keys, to the parser: it returns a configuration or an error,
// never panics, and never hands Alertmanager a SayPro key.
func FuzzParseAlertmanager(f *testing.F) {
	f.Add([]byte(DefaultAlertmanagerYAML))
	b, err := os.ReadFile("testdata/alertmanager.good.yml")
	require.NoError(f, err)
	f.Add(b)
	f.Add([]byte("route: {receiver: a}\nreceivers:\n  - name: a\n    sms_configs: [{url: 'http://x/{{ .To }}', to: ['1']}]\n    alertmanager_configs: [{url: 'http://am:9093'}]\n"))
	f.Add([]byte("receivers: [{name: a, twilio_configs: 3}]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		parsed, _, original, err := ParseAlertmanager(data)
		if err != nil {
			return
		}
		if parsed == nil || parsed.Route == nil {
			t.Fatal("a configuration without a route was accepted")
		}
		if strings.Contains(original, "twilio_configs:") || strings.Contains(original, "sms_configs:") {
			t.Fatalf("a SayPro key reached Alertmanager:\n%s", original)
		}
	})
}

func TestStateDSN(t *testing.T) {
	for _, tc := range []struct {
		driver, dsn, dataDir, want string
	}{
		{"sqlite", "", "/var/lib/saypro", "/var/lib/saypro/state.db"},
		{"sqlite", "/srv/state.sqlite", "/var/lib/saypro", "/srv/state.sqlite"},
		{"postgres", "postgres://db/saypro", "/var/lib/saypro", "postgres://db/saypro"},
	} {
		c := Default()
		c.State.Driver, c.State.DSN, c.Server.DataDir = tc.driver, Secret(tc.dsn), tc.dataDir
		if got := c.StateDSN(); got != tc.want {
			t.Errorf("%s %q in %s: got %q, want %q", tc.driver, tc.dsn, tc.dataDir, got, tc.want)
		}
	}
}
