// Package agentconfig is the schema of the host agent's configuration: the
// server it ships to, its /metrics listener, its disk queue and what it
// collects. The Collect part is shared with the server's configuration,
// whose in-process agent monitors the server's own host.
//
// Like yamlconf, it is a leaf without Prometheus server dependencies, so the
// agent binary stays small.
package agentconfig

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/saypro/monitor/internal/config/yamlconf"
)

// Default values; every field has one.
var (
	// DefaultCollect is what the agent collects when nothing is configured.
	DefaultCollect = Collect{
		Interval: model.Duration(15 * time.Second),
		Paths:    Paths{Proc: "/proc", Sys: "/sys", Root: "/"},
		Collectors: Collectors{
			Filesystem: FilesystemCollector{StatfsTimeout: model.Duration(5 * time.Second)},
		},
		Logs: DefaultLogs,
	}
	// DefaultLogs tails the host's usual log files.
	DefaultLogs = Logs{
		Enabled:        true,
		DefaultSources: true,
		Journal:        Journal{Enabled: "auto", Since: "now"},
		MaxLineSize:    64 << 10,
		ReadFrom:       ReadFromEnd,
		QueueMaxSize:   256 << 20,
	}
	// DefaultQueue is the disk queue's default place and size.
	DefaultQueue = Queue{Dir: "./data/queue", MaxSize: 512 << 20}
	// DefaultServerConn is the default connection to the server.
	DefaultServerConn = ServerConn{Timeout: model.Duration(30 * time.Second)}
	// DefaultListen is the agent's /metrics address, next to the server's :9900.
	DefaultListen = ":9901"
)

// Config is the whole content of an agent's configuration file.
type Config struct {
	// Server is where samples and heartbeats go. Without a URL the agent
	// only serves /metrics, like node_exporter.
	Server ServerConn `yaml:"server"`
	// Listen is the address of /metrics and /-/healthy; empty turns the
	// listener off.
	Listen string `yaml:"listen"`
	// Queue is the durable buffer kept while the server is away.
	Queue Queue `yaml:"queue"`
	// Collect is what is collected, how often and with which labels.
	Collect `yaml:",inline"`
}

// ServerConn is the agent's connection to the server.
type ServerConn struct {
	// URL is the server's base URL, e.g. https://monitor.example.com:9900.
	URL string `yaml:"url"`
	// Token is the bearer token; TokenFile reads it from a file instead.
	Token     yamlconf.Secret `yaml:"token,omitempty"`
	TokenFile string          `yaml:"token_file,omitempty"`
	// TLS configures how the server's certificate is trusted.
	TLS TLS `yaml:"tls"`
	// Timeout bounds each request.
	Timeout model.Duration `yaml:"timeout"`
}

// TLS says how the agent trusts the server's certificate.
type TLS struct {
	// CAFile is a PEM bundle of the CAs to trust instead of the system's.
	CAFile string `yaml:"ca_file,omitempty"`
	// Fingerprint pins the server's certificate by the SHA-256 of its DER
	// bytes (hex; colons ignored), for self-signed servers.
	Fingerprint string `yaml:"fingerprint,omitempty"`
	// InsecureSkipVerify turns verification off; for tests only.
	InsecureSkipVerify bool `yaml:"insecure_skip_verify,omitempty"`
	// ServerName overrides the name checked against the certificate.
	ServerName string `yaml:"server_name,omitempty"`
}

// Queue is the agent's durable disk queue.
type Queue struct {
	// Dir holds the queue's segment files.
	Dir string `yaml:"dir"`
	// MaxSize bounds the queue on disk; when full, the oldest data is dropped.
	MaxSize yamlconf.Bytes `yaml:"max_size"`
}

// Collect is what an agent collects, shared by the agent and the server's
// in-process agent.
type Collect struct {
	// Instance is the instance label of every series; default the host name.
	Instance string `yaml:"instance,omitempty"`
	// Labels are added to every series (env, role, datacenter, team, ...).
	Labels map[string]string `yaml:"labels,omitempty"`
	// Interval is how often samples are collected and a heartbeat is sent.
	Interval model.Duration `yaml:"interval"`
	// Collectors tunes or turns off individual collectors.
	Collectors Collectors `yaml:"collectors"`
	// Paths locate /proc, /sys and the root file system, for agents that
	// run in a container with the host's mounted elsewhere.
	Paths Paths `yaml:"paths"`
	// Logs is which log files and journal entries are shipped.
	Logs Logs `yaml:"logs"`
}

// Collectors tunes the collectors.
type Collectors struct {
	// Disabled lists collectors to turn off, e.g. [tcpstat, netstat].
	Disabled   []string            `yaml:"disabled,omitempty"`
	Disk       DiskCollector       `yaml:"disk"`
	Filesystem FilesystemCollector `yaml:"filesystem"`
	Network    NetworkCollector    `yaml:"network"`
}

// DiskCollector tunes the disk I/O collector.
type DiskCollector struct {
	// DeviceExclude is a regular expression of devices to skip; empty
	// skips partitions, loop and RAM devices.
	DeviceExclude string `yaml:"device_exclude,omitempty"`
}

// FilesystemCollector tunes the file system collector.
type FilesystemCollector struct {
	// MountPointsExclude and FSTypesExclude are regular expressions;
	// empty skips pseudo and container file systems.
	MountPointsExclude string `yaml:"mount_points_exclude,omitempty"`
	FSTypesExclude     string `yaml:"fs_types_exclude,omitempty"`
	// StatfsTimeout bounds each statfs call, so a hung NFS mount cannot
	// hang collection.
	StatfsTimeout model.Duration `yaml:"statfs_timeout"`
}

// NetworkCollector tunes the network device collector.
type NetworkCollector struct {
	// DeviceExclude is a regular expression of interfaces to skip.
	DeviceExclude string `yaml:"device_exclude,omitempty"`
}

// Paths locate the host's pseudo file systems.
type Paths struct {
	Proc string `yaml:"proc"`
	Sys  string `yaml:"sys"`
	Root string `yaml:"root"`
}

// UnmarshalYAML sets the defaults before decoding.
func (c *Config) UnmarshalYAML(unmarshal func(any) error) error {
	*c = Config{Server: DefaultServerConn, Listen: DefaultListen, Queue: DefaultQueue, Collect: DefaultCollect}
	type plain Config
	return unmarshal((*plain)(c))
}

// UnmarshalYAML sets the defaults before decoding.
func (c *ServerConn) UnmarshalYAML(unmarshal func(any) error) error {
	*c = DefaultServerConn
	type plain ServerConn
	return unmarshal((*plain)(c))
}

// UnmarshalYAML sets the defaults before decoding.
func (c *Queue) UnmarshalYAML(unmarshal func(any) error) error {
	*c = DefaultQueue
	type plain Queue
	return unmarshal((*plain)(c))
}

// UnmarshalYAML sets the defaults before decoding.
func (c *Collectors) UnmarshalYAML(unmarshal func(any) error) error {
	*c = DefaultCollect.Collectors
	type plain Collectors
	return unmarshal((*plain)(c))
}

// UnmarshalYAML sets the defaults before decoding.
func (c *FilesystemCollector) UnmarshalYAML(unmarshal func(any) error) error {
	*c = DefaultCollect.Collectors.Filesystem
	type plain FilesystemCollector
	return unmarshal((*plain)(c))
}

// UnmarshalYAML sets the defaults before decoding.
func (c *Logs) UnmarshalYAML(unmarshal func(any) error) error {
	*c = DefaultLogs
	type plain Logs
	return unmarshal((*plain)(c))
}

// UnmarshalYAML sets the defaults before decoding.
func (c *Journal) UnmarshalYAML(unmarshal func(any) error) error {
	*c = DefaultLogs.Journal
	type plain Journal
	return unmarshal((*plain)(c))
}

// UnmarshalYAML sets the defaults before decoding.
func (c *Paths) UnmarshalYAML(unmarshal func(any) error) error {
	*c = DefaultCollect.Paths
	type plain Paths
	return unmarshal((*plain)(c))
}

// Default returns the configuration used without a file.
func Default() *Config {
	c, err := Parse(nil, "")
	if err != nil {
		panic(fmt.Sprintf("default agent configuration is invalid: %v", err))
	}
	return c
}

// LoadFile reads, decodes and validates an agent configuration file.
func LoadFile(filename string) (*Config, error) {
	data, err := os.ReadFile(filename)
	if err != nil {
		return nil, fmt.Errorf("reading agent configuration: %w", err)
	}
	return Parse(data, filename)
}

// Parse decodes and validates an agent configuration; errors carry
// file:line.
func Parse(data []byte, filename string) (*Config, error) {
	var c Config
	if err := yamlconf.Decode(data, filename, &c, func() error { return c.Validate() }); err != nil {
		return nil, err
	}
	return &c, nil
}

// Validate checks the whole agent configuration. It is exported so that
// values set from flags and the environment are checked the same way.
func (c *Config) Validate() error {
	var errs []error
	if c.Server.URL != "" {
		u, err := url.Parse(c.Server.URL)
		switch {
		case err != nil:
			errs = append(errs, yamlconf.Field(fmt.Sprintf("invalid URL %q: %v", c.Server.URL, err), "server", "url"))
		case u.Scheme != "http" && u.Scheme != "https":
			errs = append(errs, yamlconf.Field(fmt.Sprintf("URL %q must start with http:// or https://", c.Server.URL), "server", "url"))
		case u.Host == "":
			errs = append(errs, yamlconf.Field(fmt.Sprintf("URL %q has no host", c.Server.URL), "server", "url"))
		}
	}
	if c.Server.Token != "" && c.Server.TokenFile != "" {
		errs = append(errs, yamlconf.Field("set token or token_file, not both", "server", "token_file"))
	}
	if fp := c.Server.TLS.Fingerprint; fp != "" {
		if _, err := ParseFingerprint(fp); err != nil {
			errs = append(errs, yamlconf.Field(err.Error(), "server", "tls", "fingerprint"))
		}
	}
	if c.Server.Timeout <= 0 {
		errs = append(errs, yamlconf.Field("must be positive", "server", "timeout"))
	}
	if c.Queue.Dir == "" {
		errs = append(errs, yamlconf.Field("must not be empty", "queue", "dir"))
	}
	if c.Queue.MaxSize < 1<<20 {
		errs = append(errs, yamlconf.Field("must be at least 1MiB", "queue", "max_size"))
	}
	errs = append(errs, c.Collect.Validate(nil)...)
	return errors.Join(errs...)
}

// Validate checks the collection settings; prefix is the YAML path of the
// section holding them (nil at the top level of an agent file).
func (c *Collect) Validate(prefix []string) []error {
	path := func(p ...string) []string { return append(append([]string(nil), prefix...), p...) }
	var errs []error
	if c.Interval < model.Duration(time.Second) {
		errs = append(errs, yamlconf.Field("must be at least 1s", path("interval")...))
	}
	for name, v := range c.Labels {
		switch {
		case !model.LabelName(name).IsValidLegacy() || strings.HasPrefix(name, "__"):
			errs = append(errs, yamlconf.Field(fmt.Sprintf("invalid label name %q: use letters, digits and underscores, not starting with a digit or __", name), path("labels")...))
		case name == "job" || name == "instance":
			errs = append(errs, yamlconf.Field(fmt.Sprintf("label %q is set by the agent; use the instance setting to change the instance label", name), path("labels")...))
		case v == "":
			errs = append(errs, yamlconf.Field(fmt.Sprintf("label %q has an empty value", name), path("labels")...))
		}
	}
	for _, re := range []struct {
		v    string
		path []string
	}{
		{c.Collectors.Disk.DeviceExclude, path("collectors", "disk", "device_exclude")},
		{c.Collectors.Filesystem.MountPointsExclude, path("collectors", "filesystem", "mount_points_exclude")},
		{c.Collectors.Filesystem.FSTypesExclude, path("collectors", "filesystem", "fs_types_exclude")},
		{c.Collectors.Network.DeviceExclude, path("collectors", "network", "device_exclude")},
	} {
		if _, err := regexp.Compile(re.v); err != nil {
			errs = append(errs, yamlconf.Field(fmt.Sprintf("invalid regular expression: %v", err), re.path...))
		}
	}
	if c.Collectors.Filesystem.StatfsTimeout <= 0 {
		errs = append(errs, yamlconf.Field("must be positive", path("collectors", "filesystem", "statfs_timeout")...))
	}
	if c.Paths.Proc == "" || c.Paths.Sys == "" || c.Paths.Root == "" {
		errs = append(errs, yamlconf.Field("proc, sys and root must not be empty", path("paths")...))
	}
	errs = append(errs, c.Logs.Validate(path("logs"))...)
	return errs
}

// ParseFingerprint decodes a SHA-256 certificate fingerprint written in hex,
// with or without colons.
func ParseFingerprint(s string) ([]byte, error) {
	h := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(s), ":", ""))
	if len(h) != 64 {
		return nil, fmt.Errorf("fingerprint %q is not a SHA-256 hex digest (64 hex digits, colons allowed); get it with: openssl x509 -noout -fingerprint -sha256 -in server.crt", s)
	}
	b, err := hex.DecodeString(h)
	if err != nil {
		return nil, fmt.Errorf("fingerprint %q is not hex: %v", s, err)
	}
	return b, nil
}
