package config

import (
	"fmt"
	"net"
	"regexp"
	"slices"
	"time"

	"github.com/prometheus/common/model"

	"github.com/saypro/monitor/internal/config/yamlconf"
)

// LogsConfig is the logs section: the embedded log store, the syslog
// receiver, what is done to each line before it is stored, and log rules.
type LogsConfig struct {
	// Enabled turns log ingestion, search and log rules on.
	Enabled bool `yaml:"enabled"`
	// Retention is how long entries are kept, in whole days.
	Retention model.Duration `yaml:"retention"`
	// SourceRetention keeps the named sources for a different time, for
	// example auth: 365d.
	SourceRetention map[string]model.Duration `yaml:"source_retention,omitempty"`
	// MaxDiskSize drops the oldest days beyond this size; 0 is no bound.
	MaxDiskSize yamlconf.Bytes `yaml:"max_disk_size"`
	// MinFreeDisk stops accepting logs (read-only) when the data
	// directory's disk has less free space than this.
	MinFreeDisk yamlconf.Bytes `yaml:"min_free_disk"`
	// MemoryLimit bounds the log store's caches.
	MemoryLimit yamlconf.Bytes `yaml:"memory_limit"`
	// MaxLineSize truncates longer lines, with a marker.
	MaxLineSize yamlconf.Bytes `yaml:"max_line_size"`
	// MaxAge and MaxAhead bound an entry's own time against the time it
	// arrives; an entry outside gets its arrival time and keeps the
	// original in the original_time field.
	MaxAge   model.Duration `yaml:"max_age"`
	MaxAhead model.Duration `yaml:"max_ahead"`
	// RateLimit bounds lines per second from each host and source.
	RateLimit LogsRateLimit `yaml:"rate_limit"`
	// Redact says what is removed from lines before they are stored.
	Redact LogsRedact `yaml:"redact"`
	// Syslog is the syslog receiver (off unless an address is set).
	Syslog SyslogConfig `yaml:"syslog"`
	// AccessMetrics turns access-log lines into HTTP request metrics.
	AccessMetrics bool `yaml:"access_metrics"`
	// BuiltinRules turns the built-in log rules on.
	BuiltinRules bool `yaml:"builtin_rules"`
	// RuleInterval is how often log rules run.
	RuleInterval model.Duration `yaml:"rule_interval"`
	// Rules are log alert rules.
	Rules []LogRule `yaml:"rules,omitempty"`
}

// LogsRateLimit is a token bucket per host and source.
type LogsRateLimit struct {
	LinesPerSecond float64 `yaml:"lines_per_second"`
	Burst          int     `yaml:"burst"`
}

// LogsRedact lists what is replaced before storage.
type LogsRedact struct {
	// Emails replaces e-mail addresses with <email>.
	Emails bool `yaml:"emails"`
	// IPAddresses replaces IPv4 and IPv6 addresses with a keyed
	// pseudonym (ip-1a2b3c4d): the same address gets the same pseudonym,
	// so counts by address (failed logins) still work.
	IPAddresses bool `yaml:"ip_addresses"`
	// URLSecrets replaces user:password@ in URLs and the values of
	// token, password, secret, key, ... query parameters with <redacted>.
	URLSecrets bool `yaml:"url_secrets"`
	// Patterns are more regular expressions whose matches are replaced.
	Patterns []RedactPattern `yaml:"patterns,omitempty"`
}

// RedactPattern is a regular expression and its replacement ($1 expands).
type RedactPattern struct {
	Regex   string `yaml:"regex"`
	Replace string `yaml:"replace"`
}

// SyslogConfig is the syslog receiver.
type SyslogConfig struct {
	// UDP and TCP are listen addresses such as :514 or 0.0.0.0:5514; empty
	// is off.
	UDP string `yaml:"udp,omitempty"`
	TCP string `yaml:"tcp,omitempty"`
	// TLS is a TCP listener with TLS (RFC 5425), on when set.
	TLS SyslogTLS `yaml:"tls"`
	// MaxConnections bounds TCP and TLS connections.
	MaxConnections int `yaml:"max_connections"`
	// IdleTimeout closes a TCP connection silent for this long.
	IdleTimeout model.Duration `yaml:"idle_timeout"`
}

// SyslogTLS is the TLS syslog listener.
type SyslogTLS struct {
	Listen   string `yaml:"listen,omitempty"`
	CertFile string `yaml:"cert_file,omitempty"`
	KeyFile  string `yaml:"key_file,omitempty"`
	// ClientCAFile requires client certificates signed by these CAs.
	ClientCAFile string `yaml:"client_ca_file,omitempty"`
}

// LogRule counts matching entries over a window and fires when a group's
// count reaches the threshold.
type LogRule struct {
	Name  string       `yaml:"name"`
	Match LogRuleMatch `yaml:"match"`
	// GroupBy are the fields an alert is raised per (host, src_ip, ...).
	GroupBy []string       `yaml:"group_by,omitempty"`
	Window  model.Duration `yaml:"window"`
	// Threshold is the count at which a group fires.
	Threshold uint64 `yaml:"threshold"`
	// BaselineFactor, when set, also requires the count to be this many
	// times the average count per window over the preceding
	// BaselineWindow: a spike, not a steady rate.
	BaselineFactor float64           `yaml:"baseline_factor,omitempty"`
	BaselineWindow model.Duration    `yaml:"baseline_window,omitempty"`
	Labels         map[string]string `yaml:"labels,omitempty"`
	Annotations    map[string]string `yaml:"annotations,omitempty"`
}

// LogRuleMatch selects the entries a rule counts (all given parts must
// match; a list matches any of its values).
type LogRuleMatch struct {
	Hosts      []string          `yaml:"host,omitempty"`
	Sources    []string          `yaml:"source,omitempty"`
	Services   []string          `yaml:"service,omitempty"`
	Severities []string          `yaml:"severity,omitempty"`
	Fields     map[string]string `yaml:"fields,omitempty"`
	Text       string            `yaml:"text,omitempty"`
	Regex      string            `yaml:"regex,omitempty"`
}

// DefaultLogs is the default logs section.
var DefaultLogs = LogsConfig{
	Enabled:       true,
	Retention:     model.Duration(30 * 24 * time.Hour),
	MinFreeDisk:   1 << 30,
	MemoryLimit:   256 << 20,
	MaxLineSize:   64 << 10,
	MaxAge:        model.Duration(7 * 24 * time.Hour),
	MaxAhead:      model.Duration(time.Hour),
	RateLimit:     LogsRateLimit{LinesPerSecond: 5000, Burst: 50000},
	Redact:        LogsRedact{URLSecrets: true},
	Syslog:        SyslogConfig{MaxConnections: 1000, IdleTimeout: model.Duration(10 * time.Minute)},
	AccessMetrics: true,
	BuiltinRules:  true,
	RuleInterval:  model.Duration(time.Minute),
}

// UnmarshalYAML sets the defaults before decoding.
func (c *LogsConfig) UnmarshalYAML(unmarshal func(any) error) error {
	*c = DefaultLogs
	type plain LogsConfig
	return unmarshal((*plain)(c))
}

var (
	logRuleName  = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
	logFieldName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_.]*$`)
)

func (c *LogsConfig) validate() []error {
	var errs []error
	field := func(msg string, path ...string) {
		errs = append(errs, yamlconf.Field(msg, append([]string{"logs"}, path...)...))
	}
	if c.Retention < model.Duration(24*time.Hour) {
		field("must be at least 1d (the store keeps whole days)", "retention")
	}
	for src, r := range c.SourceRetention {
		if r < model.Duration(24*time.Hour) {
			field("must be at least 1d (the store keeps whole days)", "source_retention", src)
		}
	}
	if c.MaxDiskSize < 0 {
		field("must not be negative", "max_disk_size")
	}
	if c.MinFreeDisk < 0 {
		field("must not be negative", "min_free_disk")
	}
	if c.MemoryLimit < 16<<20 {
		field("must be at least 16MiB", "memory_limit")
	}
	if c.MaxLineSize < 1<<10 || c.MaxLineSize > 1<<20 {
		field("must be between 1KiB and 1MiB", "max_line_size")
	}
	if c.MaxAge <= 0 {
		field("must be positive", "max_age")
	}
	if c.MaxAhead <= 0 {
		field("must be positive", "max_ahead")
	}
	if c.RateLimit.LinesPerSecond <= 0 {
		field("must be positive", "rate_limit", "lines_per_second")
	}
	if c.RateLimit.Burst < 1 {
		field("must be at least 1", "rate_limit", "burst")
	}
	for i, p := range c.Redact.Patterns {
		if _, err := regexp.Compile(p.Regex); err != nil || p.Regex == "" {
			field(fmt.Sprintf("logs.redact.patterns: pattern %d: %q is not a regular expression: %v", i+1, p.Regex, err), "redact", "patterns", yamlconf.ItemAt(i), "regex")
		}
	}
	for _, l := range []struct{ name, addr string }{{"udp", c.Syslog.UDP}, {"tcp", c.Syslog.TCP}} {
		name, addr := l.name, l.addr
		if addr == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(addr); err != nil {
			field(fmt.Sprintf("%q is not a listen address such as :5514: %v", addr, err), "syslog", name)
		}
	}
	if t := c.Syslog.TLS; t.Listen != "" {
		if _, _, err := net.SplitHostPort(t.Listen); err != nil {
			field(fmt.Sprintf("%q is not a listen address such as :6514: %v", t.Listen, err), "syslog", "tls", "listen")
		}
		if t.CertFile == "" || t.KeyFile == "" {
			field("a TLS listener needs cert_file and key_file", "syslog", "tls")
		}
	}
	if c.Syslog.MaxConnections < 1 {
		field("must be at least 1", "syslog", "max_connections")
	}
	if c.RuleInterval < model.Duration(time.Second) {
		field("must be at least 1s", "rule_interval")
	}
	seen := map[string]bool{}
	for i, r := range c.Rules {
		path := []string{"rules", yamlconf.ItemByKey("name", r.Name)}
		if r.Name == "" {
			path = []string{"rules", yamlconf.ItemAt(i)}
		}
		errs = append(errs, r.validate(i, append([]string{"logs"}, path...))...)
		if seen[r.Name] {
			field(fmt.Sprintf("log rule %q is defined twice", r.Name), path...)
		}
		seen[r.Name] = true
	}
	return errs
}

func (r *LogRule) validate(i int, path []string) []error {
	var errs []error
	field := func(msg string, sub ...string) {
		where := fmt.Sprintf("log rule %d", i+1)
		if r.Name != "" {
			where = fmt.Sprintf("log rule %q", r.Name)
		}
		if len(sub) > 0 {
			where += ": " + sub[0]
		}
		errs = append(errs, yamlconf.Field(where+": "+msg, append(slices.Clone(path), sub...)...))
	}
	if !logRuleName.MatchString(r.Name) {
		field("must be a word such as SSHBruteForce (letters, digits, _)", "name")
	}
	if r.Window < model.Duration(time.Second) {
		field("must be at least 1s (for example 5m)", "window")
	}
	if r.Threshold < 1 {
		field("must be at least 1", "threshold")
	}
	if r.BaselineFactor < 0 {
		field("must not be negative", "baseline_factor")
	}
	if r.BaselineFactor > 0 && r.BaselineWindow <= r.Window {
		field("must be longer than window when baseline_factor is set (for example 1h)", "baseline_window")
	}
	for _, g := range r.GroupBy {
		if !logFieldName.MatchString(g) {
			field(fmt.Sprintf("%q is not a field name", g), "group_by")
		}
	}
	for k := range r.Match.Fields {
		if !logFieldName.MatchString(k) {
			field(fmt.Sprintf("%q is not a field name", k), "match", "fields")
		}
	}
	if r.Match.Regex != "" {
		if _, err := regexp.Compile(r.Match.Regex); err != nil {
			field(fmt.Sprintf("%q is not a regular expression: %v", r.Match.Regex, err), "match", "regex")
		}
	}
	if r.Match.isEmpty() {
		field("a rule must match something (host, source, service, severity, fields, text or regex)", "match")
	}
	return errs
}

func (m LogRuleMatch) isEmpty() bool {
	return len(m.Hosts)+len(m.Sources)+len(m.Services)+len(m.Severities)+len(m.Fields) == 0 && m.Text == "" && m.Regex == ""
}
