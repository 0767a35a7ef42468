package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/common/model"
	promconfig "github.com/prometheus/prometheus/config"
	"go.yaml.in/yaml/v2"

	"github.com/saypro/monitor/internal/config/agentconfig"
	"github.com/saypro/monitor/internal/config/checkconfig"
	"github.com/saypro/monitor/internal/config/yamlconf"
)

// Aliases of the shared YAML types, so that users of this package need not
// import yamlconf.
type (
	// Bytes is a size in bytes written with a unit in YAML.
	Bytes = yamlconf.Bytes
	// Secret is a string that is never printed.
	Secret = yamlconf.Secret
	// Error is a configuration error with one "file:line: message" per problem.
	Error = yamlconf.Error
)

// ParseBytes parses a size such as 512MB or 50GB; a bare number is bytes.
func ParseBytes(s string) (Bytes, error) { return yamlconf.ParseBytes(s) }

// Default values. Every field of Config has one, so a missing file is a
// valid configuration.
var (
	// DefaultServer is the default server section.
	DefaultServer = ServerConfig{
		Listen:     ":9900",
		DataDir:    "./data",
		SelfScrape: true,
		GoGC:       DefaultGoGC,
	}
	// DefaultStorage is the default storage section.
	DefaultStorage = StorageConfig{
		Retention:     model.Duration(30 * 24 * time.Hour),
		RetentionSize: 0,
		// Agents send their disk backlog when the server comes back;
		// a day of it must be accepted even though newer samples from
		// other hosts have arrived since.
		OutOfOrderTimeWindow: model.Duration(24 * time.Hour),
	}
	// DefaultAgent runs the in-process agent on the server's own host.
	DefaultAgent = AgentConfig{Enabled: true, Collect: agentconfig.DefaultCollect}
	// DefaultInventory is the default host inventory section.
	DefaultInventory = InventoryConfig{DownAfter: model.Duration(2 * time.Minute), EventRetention: model.Duration(90 * 24 * time.Hour)}
	// DefaultAuth is the default auth section.
	DefaultAuth = AuthConfig{SessionIdleTimeout: model.Duration(24 * time.Hour), SessionMaxAge: model.Duration(7 * 24 * time.Hour), SecureCookies: "auto"}
	// DefaultProbe is the default probe section: a year of check history,
	// so that monthly and yearly uptime can be reported.
	DefaultProbe = ProbeConfig{MaxConcurrent: 1024, HistoryRetention: model.Duration(400 * 24 * time.Hour)}
	// DefaultState keeps state in SQLite under the data directory.
	DefaultState = StateConfig{Driver: "sqlite"}
	// DefaultIngest is the default ingest section.
	DefaultIngest = IngestConfig{
		MaxBodySize:           32 << 20,
		MaxDecodedSize:        256 << 20,
		MaxConcurrentRequests: 64,
		MaxAheadTime:          model.Duration(10 * time.Minute),
	}
	// DefaultQuery is the default query section.
	DefaultQuery = QueryConfig{
		Timeout:       model.Duration(2 * time.Minute),
		MaxSamples:    50_000_000,
		MaxConcurrent: 20,
		LookbackDelta: model.Duration(5 * time.Minute),
	}
	// DefaultGoGC trades a little ingest CPU for a smaller heap than Go's
	// default of 100 (measured in bench/: see docs/configuration.md).
	DefaultGoGC = 50
	// DefaultScrapeInterval replaces Prometheus's one-minute default: a
	// monitoring product is expected to notice things within seconds.
	DefaultScrapeInterval = model.Duration(15 * time.Second)
)

// Config is the whole content of saypro-monitor.yml.
type Config struct {
	Server  ServerConfig  `yaml:"server"`
	Storage StorageConfig `yaml:"storage"`
	Ingest  IngestConfig  `yaml:"ingest"`
	Query   QueryConfig   `yaml:"query"`
	// Agent is the in-process agent that monitors the server's own host.
	Agent AgentConfig `yaml:"agent"`
	// Inventory is the host inventory filled from agent heartbeats.
	Inventory InventoryConfig `yaml:"inventory"`
	// State is the SQL store for the inventory and, later, users and incidents.
	State StateConfig `yaml:"state"`
	// Checks are health checks written in this file; CheckFiles are globs
	// of more files, each with a checks: list. After loading, Checks holds
	// all of them, validated, with each kind's defaults filled in.
	Checks     []checkconfig.Check `yaml:"checks,omitempty"`
	CheckFiles []string            `yaml:"check_files,omitempty"`
	// Probe tunes the server's check scheduler.
	Probe ProbeConfig `yaml:"probe"`
	// BuiltinRules is the rule pack shipped with the server.
	BuiltinRules BuiltinRulesConfig `yaml:"builtin_rules"`

	// Auth tunes sign-in: session lifetimes and the session cookie.
	Auth AuthConfig `yaml:"auth"`

	// Alertmanager configures notifications: the embedded Alertmanager's
	// routes and receivers, maintenance windows and silence reminders.
	Alertmanager AlertmanagerConfig `yaml:"alertmanager"`

	// Logs configures log collection, the log store and log rules.
	Logs LogsConfig `yaml:"logs"`

	// The keys below have exactly the meaning they have in prometheus.yml.
	// They are decoded here so that unknown keys are reported with their
	// line; the loaded Prometheus view of them is in Prometheus.
	Global            promconfig.GlobalConfig    `yaml:"global,omitempty"`
	ScrapeConfigs     []*promconfig.ScrapeConfig `yaml:"scrape_configs,omitempty"`
	ScrapeConfigFiles []string                   `yaml:"scrape_config_files,omitempty"`
	// RuleFiles are globs of Prometheus rule files (alerting and recording
	// rules), evaluated against the embedded store.
	RuleFiles []string `yaml:"rule_files,omitempty"`
	// RuleAlerts are the alert names the rule files define, read when the
	// configuration was loaded; built-in rules of these names are left out.
	RuleAlerts map[string]bool `yaml:"-"`

	// Prometheus is the Prometheus configuration built from global,
	// scrape_configs and scrape_config_files, loaded and validated by
	// Prometheus's own config package. It is what the scrape manager reads.
	Prometheus *promconfig.Config `yaml:"-"`

	// File is the path the configuration was read from, empty for defaults.
	File string `yaml:"-"`
}

// ServerConfig holds the process-level settings. They take effect at start;
// a reload that changes them logs that a restart is needed.
type ServerConfig struct {
	// Listen is the address of the HTTP server (UI, APIs, ingest).
	Listen string `yaml:"listen"`
	// DataDir holds metrics/, the ingest token and later state.
	DataDir string `yaml:"data_dir"`
	// SelfScrape adds a scrape job for the server's own /metrics.
	SelfScrape bool `yaml:"self_scrape"`
	// GoGC is the Go garbage collector's target percentage: lower uses
	// less memory and more CPU. The GOGC environment variable, when set,
	// wins, as it does for every Go program.
	GoGC int `yaml:"go_gc"`
	// ExternalURL is the URL people reach the server at, for links in
	// notifications (incident pages, ack links, generator links); empty
	// means http://<listen address>, which only works on this host.
	ExternalURL string `yaml:"external_url,omitempty"`
}

// StorageConfig configures the embedded metrics store.
type StorageConfig struct {
	// Retention is how long samples are kept.
	Retention model.Duration `yaml:"retention"`
	// RetentionSize caps the bytes kept on disk (0: no cap).
	RetentionSize Bytes `yaml:"retention_size"`
	// OutOfOrderTimeWindow accepts samples this far behind the newest one
	// of their series (0: only in-order samples).
	OutOfOrderTimeWindow model.Duration `yaml:"out_of_order_time_window"`
}

// IngestConfig configures the remote-write receiver.
type IngestConfig struct {
	// Tokens are the bearer tokens accepted on /api/v1/write. When empty,
	// the server generates one and keeps it in the data directory.
	Tokens []Secret `yaml:"tokens,omitempty"`
	// MaxBodySize is the largest compressed request body accepted.
	MaxBodySize Bytes `yaml:"max_body_size"`
	// MaxDecodedSize is the largest uncompressed request accepted.
	MaxDecodedSize Bytes `yaml:"max_decoded_size"`
	// MaxConcurrentRequests bounds the write requests decoded at once;
	// more are answered 429 so that senders back off.
	MaxConcurrentRequests int `yaml:"max_concurrent_requests"`
	// MaxAheadTime rejects samples further in the future than this.
	MaxAheadTime model.Duration `yaml:"max_ahead_time"`
}

// QueryConfig configures the PromQL engine.
type QueryConfig struct {
	Timeout       model.Duration `yaml:"timeout"`
	MaxSamples    int            `yaml:"max_samples"`
	MaxConcurrent int            `yaml:"max_concurrent"`
	LookbackDelta model.Duration `yaml:"lookback_delta"`
}

// AgentConfig configures the agent that runs inside the server.
type AgentConfig struct {
	// Enabled turns the in-process agent on (the default).
	Enabled bool `yaml:"enabled"`
	// Collect has the same keys as in an agent's configuration file.
	agentconfig.Collect `yaml:",inline"`
}

// InventoryConfig configures the host inventory.
type InventoryConfig struct {
	// DownAfter is how long a host may stay silent before it is marked down.
	DownAfter model.Duration `yaml:"down_after"`
	// EventRetention is how long reboots, restarts and down/up events are kept.
	EventRetention model.Duration `yaml:"event_retention"`
}

// AuthConfig tunes sessions. Users, roles and API tokens live in the
// state store, managed in the web interface and the users API.
type AuthConfig struct {
	// SessionIdleTimeout ends a browser session unused for this long.
	SessionIdleTimeout model.Duration `yaml:"session_idle_timeout"`
	// SessionMaxAge ends a browser session this long after login.
	SessionMaxAge model.Duration `yaml:"session_max_age"`
	// SecureCookies is auto (Secure when the request came over TLS or
	// server.external_url is https), always or never.
	SecureCookies string `yaml:"secure_cookies"`
}

// ProbeConfig tunes how the server runs checks.
type ProbeConfig struct {
	// MaxConcurrent bounds the check runs in flight at once; a due run
	// waits for a free slot (and shows as saypro_check_schedule_lateness_seconds).
	MaxConcurrent int `yaml:"max_concurrent"`
	// HistoryRetention is how long state changes of checks are kept.
	HistoryRetention model.Duration `yaml:"history_retention"`
}

// UnmarshalYAML sets the defaults before decoding.
func (c *ProbeConfig) UnmarshalYAML(unmarshal func(any) error) error {
	*c = DefaultProbe
	type plain ProbeConfig
	return unmarshal((*plain)(c))
}

// StateConfig selects the SQL state store.
type StateConfig struct {
	// Driver is sqlite (embedded, the default) or postgres.
	Driver string `yaml:"driver"`
	// DSN is the SQLite file (default <data_dir>/state.db) or a PostgreSQL
	// URL such as postgres://user:pass@host:5432/saypro.
	DSN Secret `yaml:"dsn,omitempty"`
}

// StateDSN is where the state store is: the configured DSN, or for SQLite
// without one, state.db in the data directory.
func (c *Config) StateDSN() string {
	if c.State.Driver == "sqlite" && c.State.DSN == "" {
		return filepath.Join(c.Server.DataDir, "state.db")
	}
	return string(c.State.DSN)
}

// UnmarshalYAML sets the defaults before decoding.
func (c *AgentConfig) UnmarshalYAML(unmarshal func(any) error) error {
	*c = DefaultAgent
	type plain AgentConfig
	return unmarshal((*plain)(c))
}

// UnmarshalYAML sets the defaults before decoding.
func (c *InventoryConfig) UnmarshalYAML(unmarshal func(any) error) error {
	*c = DefaultInventory
	type plain InventoryConfig
	return unmarshal((*plain)(c))
}

// UnmarshalYAML sets the defaults before decoding.
func (c *AuthConfig) UnmarshalYAML(unmarshal func(any) error) error {
	*c = DefaultAuth
	type plain AuthConfig
	return unmarshal((*plain)(c))
}

// UnmarshalYAML sets the defaults before decoding.
func (c *StateConfig) UnmarshalYAML(unmarshal func(any) error) error {
	*c = DefaultState
	type plain StateConfig
	return unmarshal((*plain)(c))
}

// Default returns the configuration used when no file is given.
func Default() *Config {
	c, err := Parse(nil, "")
	if err != nil {
		// The defaults are constants of this package; failing here is a bug.
		panic(fmt.Sprintf("default configuration is invalid: %v", err))
	}
	return c
}

// UnmarshalYAML sets the defaults before decoding.
func (c *Config) UnmarshalYAML(unmarshal func(any) error) error {
	*c = Config{
		Server:       DefaultServer,
		Storage:      DefaultStorage,
		Ingest:       DefaultIngest,
		Query:        DefaultQuery,
		Agent:        DefaultAgent,
		Inventory:    DefaultInventory,
		Auth:         DefaultAuth,
		State:        DefaultState,
		Probe:        DefaultProbe,
		BuiltinRules: DefaultBuiltinRules,
		Alertmanager: DefaultAlertmanager,
		Logs:         DefaultLogs,
		Global:       promconfig.DefaultGlobalConfig,
	}
	type plain Config
	return unmarshal((*plain)(c))
}

// UnmarshalYAML sets the defaults before decoding.
func (c *ServerConfig) UnmarshalYAML(unmarshal func(any) error) error {
	*c = DefaultServer
	type plain ServerConfig
	return unmarshal((*plain)(c))
}

// UnmarshalYAML sets the defaults before decoding.
func (c *StorageConfig) UnmarshalYAML(unmarshal func(any) error) error {
	*c = DefaultStorage
	type plain StorageConfig
	return unmarshal((*plain)(c))
}

// UnmarshalYAML sets the defaults before decoding.
func (c *IngestConfig) UnmarshalYAML(unmarshal func(any) error) error {
	*c = DefaultIngest
	type plain IngestConfig
	return unmarshal((*plain)(c))
}

// UnmarshalYAML sets the defaults before decoding.
func (c *QueryConfig) UnmarshalYAML(unmarshal func(any) error) error {
	*c = DefaultQuery
	type plain QueryConfig
	return unmarshal((*plain)(c))
}

// LoadFile reads, decodes and validates the configuration in filename.
// Errors name the file and, where the YAML parser knows it, the line.
func LoadFile(filename string) (*Config, error) {
	data, err := os.ReadFile(filename)
	if err != nil {
		return nil, fmt.Errorf("reading configuration: %w", err)
	}
	return Parse(data, filename)
}

// Parse decodes and validates a configuration. filename is used in error
// messages and to resolve relative paths; it may be empty.
func Parse(data []byte, filename string) (*Config, error) {
	var c Config
	validate := func() error {
		if err := c.validate(); err != nil {
			return err
		}
		return c.Alertmanager.load(filename)
	}
	if err := yamlconf.Decode(data, filename, &c, validate); err != nil {
		return nil, err
	}
	c.File = filename
	if err := c.loadCheckFiles(); err != nil {
		return nil, err
	}
	prom, err := prometheusConfig(data, filename)
	if err != nil {
		return nil, yamlconf.Annotate(filename, data, err)
	}
	c.Prometheus = prom
	if c.RuleAlerts, err = checkRuleFiles(prom.RuleFiles); err != nil {
		return nil, err
	}
	c.RuleFiles = prom.RuleFiles
	c.Global = prom.GlobalConfig
	c.ScrapeConfigs = prom.ScrapeConfigs
	return &c, nil
}

func (c *Config) validate() error {
	var errs []error
	if c.Server.Listen == "" {
		errs = append(errs, yamlconf.Field("must not be empty", "server", "listen"))
	}
	if c.Server.DataDir == "" {
		errs = append(errs, yamlconf.Field("must not be empty", "server", "data_dir"))
	}
	if c.Server.ExternalURL != "" {
		if u, err := url.Parse(c.Server.ExternalURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, yamlconf.Field(fmt.Sprintf("%q is not an http(s) URL such as https://monitor.example.com", c.Server.ExternalURL), "server", "external_url"))
		}
	}
	if c.Server.GoGC < 10 || c.Server.GoGC > 1000 {
		errs = append(errs, yamlconf.Field("must be between 10 and 1000", "server", "go_gc"))
	}
	if c.Storage.Retention <= 0 {
		errs = append(errs, yamlconf.Field("must be positive (for example 30d)", "storage", "retention"))
	}
	if c.Storage.RetentionSize < 0 {
		errs = append(errs, yamlconf.Field("must not be negative", "storage", "retention_size"))
	}
	if c.Storage.OutOfOrderTimeWindow < 0 {
		errs = append(errs, yamlconf.Field("must not be negative", "storage", "out_of_order_time_window"))
	}
	for i, t := range c.Ingest.Tokens {
		if len(t) < 16 {
			errs = append(errs, yamlconf.Field(fmt.Sprintf("token %d is shorter than 16 characters; use a long random string (openssl rand -hex 32)", i+1), "ingest", "tokens"))
		}
	}
	if c.Ingest.MaxBodySize <= 0 {
		errs = append(errs, yamlconf.Field("must be positive", "ingest", "max_body_size"))
	}
	if c.Ingest.MaxDecodedSize < c.Ingest.MaxBodySize {
		errs = append(errs, yamlconf.Field("must be at least ingest.max_body_size", "ingest", "max_decoded_size"))
	}
	if c.Ingest.MaxConcurrentRequests <= 0 {
		errs = append(errs, yamlconf.Field("must be positive", "ingest", "max_concurrent_requests"))
	}
	if c.Ingest.MaxAheadTime < 0 {
		errs = append(errs, yamlconf.Field("must not be negative", "ingest", "max_ahead_time"))
	}
	if c.Query.Timeout <= 0 {
		errs = append(errs, yamlconf.Field("must be positive", "query", "timeout"))
	}
	if c.Query.MaxSamples <= 0 {
		errs = append(errs, yamlconf.Field("must be positive", "query", "max_samples"))
	}
	if c.Query.MaxConcurrent <= 0 {
		errs = append(errs, yamlconf.Field("must be positive", "query", "max_concurrent"))
	}
	errs = append(errs, c.Agent.Validate([]string{"agent"})...)
	if c.Inventory.DownAfter < model.Duration(10*time.Second) {
		errs = append(errs, yamlconf.Field("must be at least 10s", "inventory", "down_after"))
	}
	if c.Inventory.EventRetention < model.Duration(time.Hour) {
		errs = append(errs, yamlconf.Field("must be at least 1h", "inventory", "event_retention"))
	}
	if c.Auth.SessionIdleTimeout < model.Duration(time.Minute) {
		errs = append(errs, yamlconf.Field("must be at least 1m", "auth", "session_idle_timeout"))
	}
	if c.Auth.SessionMaxAge < c.Auth.SessionIdleTimeout {
		errs = append(errs, yamlconf.Field("must be at least auth.session_idle_timeout", "auth", "session_max_age"))
	}
	switch c.Auth.SecureCookies {
	case "auto", "always", "never":
	default:
		errs = append(errs, yamlconf.Field(fmt.Sprintf("%q: use auto, always or never", c.Auth.SecureCookies), "auth", "secure_cookies"))
	}
	if c.State.Driver != "sqlite" && c.State.Driver != "postgres" {
		errs = append(errs, yamlconf.Field(fmt.Sprintf("unknown driver %q: use sqlite or postgres", c.State.Driver), "state", "driver"))
	}
	if c.State.Driver == "postgres" && c.State.DSN == "" {
		errs = append(errs, yamlconf.Field("postgres needs a dsn such as postgres://user:pass@host:5432/saypro", "state", "dsn"))
	}
	if c.Query.LookbackDelta <= 0 {
		errs = append(errs, yamlconf.Field("must be positive", "query", "lookback_delta"))
	}
	if c.Probe.MaxConcurrent < 1 {
		errs = append(errs, yamlconf.Field("must be at least 1", "probe", "max_concurrent"))
	}
	if c.Probe.HistoryRetention < model.Duration(24*time.Hour) {
		errs = append(errs, yamlconf.Field("must be at least 1d", "probe", "history_retention"))
	}
	errs = append(errs, c.BuiltinRules.validate()...)
	errs = append(errs, c.Alertmanager.validate()...)
	errs = append(errs, c.Logs.validate()...)
	if err := checkconfig.ValidateAll("checks", c.Checks); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// prometheusKeys are the top-level keys handed to Prometheus's config package.
var prometheusKeys = map[string]bool{"global": true, "scrape_configs": true, "scrape_config_files": true, "rule_files": true}

// prometheusConfig extracts the Prometheus keys of the document and loads
// them with Prometheus's own loader, which validates every scrape config
// and applies the global defaults to them.
func prometheusConfig(data []byte, filename string) (*promconfig.Config, error) {
	var doc yaml.MapSlice
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	var sub yaml.MapSlice
	hasGlobal := false
	for _, item := range doc {
		key, _ := item.Key.(string)
		if !prometheusKeys[key] {
			continue
		}
		if key == "global" {
			hasGlobal = true
			item.Value = withDefaultScrapeInterval(item.Value)
		}
		sub = append(sub, item)
	}
	if !hasGlobal {
		sub = append(yaml.MapSlice{{Key: "global", Value: withDefaultScrapeInterval(nil)}}, sub...)
	}
	out, err := yaml.Marshal(sub)
	if err != nil {
		return nil, err
	}
	// Prometheus's loader only logs (at warning level) about empty
	// environment variables in external labels.
	prom, err := promconfig.Load(string(out), slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, err
	}
	if filename != "" {
		prom.SetDirectory(filepath.Dir(filename))
	}
	if _, err := prom.GetScrapeConfigs(); err != nil {
		return nil, err
	}
	return prom, nil
}

// withDefaultScrapeInterval adds scrape_interval to a global block that
// has none, so that our default wins over Prometheus's.
func withDefaultScrapeInterval(v any) any {
	m, ok := v.(yaml.MapSlice)
	if !ok {
		m = nil
	}
	for _, item := range m {
		if item.Key == "scrape_interval" {
			return m
		}
	}
	return append(yaml.MapSlice{{Key: "scrape_interval", Value: DefaultScrapeInterval.String()}}, m...)
}

// ParseDuration parses a Prometheus-style duration such as 30d or 1h30m.
func ParseDuration(s string) (model.Duration, error) {
	return model.ParseDuration(s)
}
