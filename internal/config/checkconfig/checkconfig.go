// Package checkconfig is the schema of health checks: what a check probes,
// how often, with which thresholds and where it runs. Checks are written in
// the server's configuration (checks: and check_files:) and travel as JSON
// to the agents chosen to run them, so every type here has YAML and JSON
// tags and no behaviour beyond defaults and validation.
//
// Like yamlconf and agentconfig, it is a leaf without Prometheus server
// dependencies, so the agent binary stays small.
package checkconfig

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/saypro/monitor/internal/config/yamlconf"
)

// Kinds of check.
const (
	KindHTTP      = "http"
	KindTLS       = "tls"
	KindTCP       = "tcp"
	KindDNS       = "dns"
	KindICMP      = "icmp"
	KindPostgres  = "postgres"
	KindMySQL     = "mysql"
	KindRedis     = "redis"
	KindMongoDB   = "mongodb"
	KindNginx     = "nginx"
	KindApache    = "apache"
	KindHeartbeat = "heartbeat"
	KindProcess   = "process"
	KindPort      = "port"
	KindSystemd   = "systemd"
	KindFileAge   = "file_age"
)

// Kinds lists every kind, in the order the documentation presents them.
var Kinds = []string{
	KindHTTP, KindTLS, KindTCP, KindDNS, KindICMP,
	KindPostgres, KindMySQL, KindRedis, KindMongoDB, KindNginx, KindApache,
	KindHeartbeat, KindProcess, KindPort, KindSystemd, KindFileAge,
}

// Defaults. The latency thresholds follow the operating procedures: a web
// response over 3 s and a database response over 500 ms are degraded; a
// certificate expiring within 14 days warns.
const (
	DefaultInterval      = model.Duration(60 * time.Second)
	DefaultTimeout       = model.Duration(10 * time.Second)
	DefaultWebLatency    = model.Duration(3 * time.Second)
	DefaultDBLatency     = model.Duration(500 * time.Millisecond)
	DefaultCertExpiry    = model.Duration(14 * 24 * time.Hour)
	MinInterval          = model.Duration(time.Second)
	DefaultHeartbeatPoll = model.Duration(10 * time.Second)
)

// Check is one health check.
type Check struct {
	// Name identifies the check; it is the check label of its series.
	Name string `yaml:"name" json:"name"`
	// Kind is one of Kinds.
	Kind string `yaml:"kind" json:"kind"`
	// Target is what is probed: a URL, host:port, host name, DSN, process
	// name, unit or path, depending on the kind.
	Target string `yaml:"target,omitempty" json:"target,omitempty"`
	// Interval is the time between two runs.
	Interval model.Duration `yaml:"interval" json:"interval"`
	// Timeout bounds one run; it is capped at the interval.
	Timeout model.Duration `yaml:"timeout" json:"timeout"`
	// Labels are added to every series of the check.
	Labels map[string]string `yaml:"labels,omitempty" json:"labels,omitempty"`
	// Thresholds turn a success into degraded.
	Thresholds Thresholds `yaml:"thresholds" json:"thresholds"`
	// RunOn says where the check runs: on the server (the default) or on
	// the agents whose labels match.
	RunOn RunOn `yaml:"run_on" json:"run_on"`
	// Description is shown next to the check and in alerts.
	Description string `yaml:"description,omitempty" json:"description,omitempty"`

	// Exactly the block of the check's kind may be set.
	HTTP      *HTTP      `yaml:"http,omitempty" json:"http,omitempty"`
	TLS       *TLSCheck  `yaml:"tls,omitempty" json:"tls,omitempty"`
	TCP       *TCP       `yaml:"tcp,omitempty" json:"tcp,omitempty"`
	DNS       *DNS       `yaml:"dns,omitempty" json:"dns,omitempty"`
	ICMP      *ICMP      `yaml:"icmp,omitempty" json:"icmp,omitempty"`
	Postgres  *Database  `yaml:"postgres,omitempty" json:"postgres,omitempty"`
	MySQL     *Database  `yaml:"mysql,omitempty" json:"mysql,omitempty"`
	Redis     *Redis     `yaml:"redis,omitempty" json:"redis,omitempty"`
	MongoDB   *MongoDB   `yaml:"mongodb,omitempty" json:"mongodb,omitempty"`
	Nginx     *Status    `yaml:"nginx,omitempty" json:"nginx,omitempty"`
	Apache    *Status    `yaml:"apache,omitempty" json:"apache,omitempty"`
	Heartbeat *Heartbeat `yaml:"heartbeat,omitempty" json:"heartbeat,omitempty"`
	Process   *Process   `yaml:"process,omitempty" json:"process,omitempty"`
	Port      *Port      `yaml:"port,omitempty" json:"port,omitempty"`
	Systemd   *Systemd   `yaml:"systemd,omitempty" json:"systemd,omitempty"`
	FileAge   *FileAge   `yaml:"file_age,omitempty" json:"file_age,omitempty"`
}

// Thresholds turn a successful run into a degraded one.
type Thresholds struct {
	// Latency: a run slower than this is degraded. The default is 3s for
	// network checks and 500ms for databases; 0 in the file keeps the
	// default, and a negative value is refused.
	Latency model.Duration `yaml:"latency,omitempty" json:"latency,omitempty"`
	// CertExpiry: a certificate expiring sooner than this is degraded
	// (http over TLS, tls, tcp with TLS). Default 14d.
	CertExpiry model.Duration `yaml:"cert_expiry,omitempty" json:"cert_expiry,omitempty"`
}

// RunOn selects where a check runs.
type RunOn struct {
	// Agents, when set, runs the check on every agent whose labels
	// (including instance) match all of these; the server does not run it.
	Agents map[string]string `yaml:"agents,omitempty" json:"agents,omitempty"`
}

// OnServer reports whether the server runs the check itself.
func (r RunOn) OnServer() bool { return len(r.Agents) == 0 }

// OnServer returns the checks of cs that the server runs itself.
func OnServer(cs []Check) []Check {
	var out []Check
	for _, c := range cs {
		if c.RunOn.OnServer() {
			out = append(out, c)
		}
	}
	return out
}

// Matches reports whether an agent with these labels runs the check.
func (r RunOn) Matches(agentLabels map[string]string) bool {
	if len(r.Agents) == 0 {
		return false
	}
	for k, v := range r.Agents {
		if agentLabels[k] != v {
			return false
		}
	}
	return true
}

// UnmarshalYAML sets the defaults before decoding.
func (c *Check) UnmarshalYAML(unmarshal func(any) error) error {
	*c = Check{Interval: DefaultInterval, Timeout: DefaultTimeout}
	type plain Check
	return unmarshal((*plain)(c))
}

// TLSConfig is how a check's client trusts and authenticates to a server.
type TLSConfig struct {
	// CAFile is a PEM bundle of CAs to trust instead of the system's.
	CAFile string `yaml:"ca_file,omitempty" json:"ca_file,omitempty"`
	// CertFile and KeyFile are a client certificate.
	CertFile string `yaml:"cert_file,omitempty" json:"cert_file,omitempty"`
	KeyFile  string `yaml:"key_file,omitempty" json:"key_file,omitempty"`
	// ServerName overrides the name verified against the certificate.
	ServerName string `yaml:"server_name,omitempty" json:"server_name,omitempty"`
	// InsecureSkipVerify turns verification off (the expiry is still read).
	InsecureSkipVerify bool `yaml:"insecure_skip_verify,omitempty" json:"insecure_skip_verify,omitempty"`
}

// BasicAuth is a user name and password.
type BasicAuth struct {
	Username string          `yaml:"username" json:"username"`
	Password yamlconf.Secret `yaml:"password,omitempty" json:"password,omitempty"`
	// PasswordEnv names an environment variable holding the password, read
	// where the check runs.
	PasswordEnv string `yaml:"password_env,omitempty" json:"password_env,omitempty"`
}

// HTTP configures an http check; Target is the URL.
type HTTP struct {
	Method  string            `yaml:"method,omitempty" json:"method,omitempty"`
	Headers map[string]string `yaml:"headers,omitempty" json:"headers,omitempty"`
	Body    string            `yaml:"body,omitempty" json:"body,omitempty"`
	// BasicAuth and BearerToken authenticate the request.
	BasicAuth      *BasicAuth      `yaml:"basic_auth,omitempty" json:"basic_auth,omitempty"`
	BearerToken    yamlconf.Secret `yaml:"bearer_token,omitempty" json:"bearer_token,omitempty"`
	BearerTokenEnv string          `yaml:"bearer_token_env,omitempty" json:"bearer_token_env,omitempty"`
	// ValidStatusCodes defaults to any 2xx.
	ValidStatusCodes []int `yaml:"valid_status_codes,omitempty" json:"valid_status_codes,omitempty"`
	// BodyContains, BodyRegex and JSON check the response body.
	BodyContains    string      `yaml:"body_contains,omitempty" json:"body_contains,omitempty"`
	BodyNotContains string      `yaml:"body_not_contains,omitempty" json:"body_not_contains,omitempty"`
	BodyRegex       string      `yaml:"body_regex,omitempty" json:"body_regex,omitempty"`
	JSON            []JSONMatch `yaml:"json,omitempty" json:"json,omitempty"`
	// NoFollowRedirects reports a 3xx as it is instead of following it.
	NoFollowRedirects bool `yaml:"no_follow_redirects,omitempty" json:"no_follow_redirects,omitempty"`
	// FailIfSSL and FailIfNotSSL check the scheme actually used.
	FailIfNotSSL bool `yaml:"fail_if_not_ssl,omitempty" json:"fail_if_not_ssl,omitempty"`
	// IPProtocol is ip4, ip6 or empty (either, IPv6 first as blackbox does not; we prefer ip4 like its default).
	IPProtocol string `yaml:"ip_protocol,omitempty" json:"ip_protocol,omitempty"`
	// ProxyURL sends the request through an HTTP proxy.
	ProxyURL string    `yaml:"proxy_url,omitempty" json:"proxy_url,omitempty"`
	TLS      TLSConfig `yaml:"tls_config,omitempty" json:"tls_config,omitempty"`
	// MaxBodySize bounds the body read (default 10MiB); larger is a failure.
	MaxBodySize yamlconf.Bytes `yaml:"max_body_size,omitempty" json:"max_body_size,omitempty"`
}

// JSONMatch checks one field of a JSON response body.
type JSONMatch struct {
	// Path is a dotted path into the document: status, data.items.0.name.
	Path string `yaml:"path" json:"path"`
	// Equals, when set, is compared with the field's value as text.
	Equals *string `yaml:"equals,omitempty" json:"equals,omitempty"`
	// Regex, when set, must match the field's value as text.
	Regex string `yaml:"regex,omitempty" json:"regex,omitempty"`
}

// TLSCheck configures a tls check; Target is host:port.
type TLSCheck struct {
	// StartTLS is smtp, imap or pop3 to upgrade a plain connection first.
	StartTLS string    `yaml:"starttls,omitempty" json:"starttls,omitempty"`
	TLS      TLSConfig `yaml:"tls_config,omitempty" json:"tls_config,omitempty"`
}

// TCP configures a tcp check; Target is host:port.
type TCP struct {
	// Send is written after connecting; Expect is a regular expression the
	// first line(s) read must match.
	Send   string `yaml:"send,omitempty" json:"send,omitempty"`
	Expect string `yaml:"expect,omitempty" json:"expect,omitempty"`
	// TLS wraps the connection in TLS.
	TLS        bool      `yaml:"tls,omitempty" json:"tls,omitempty"`
	TLSConfig  TLSConfig `yaml:"tls_config,omitempty" json:"tls_config,omitempty"`
	IPProtocol string    `yaml:"ip_protocol,omitempty" json:"ip_protocol,omitempty"`
}

// DNS configures a dns check; Target is the name to resolve.
type DNS struct {
	// Server is host[:port] of the resolver asked; default the system's first.
	Server string `yaml:"server,omitempty" json:"server,omitempty"`
	// Type is A (default), AAAA, CNAME, MX, TXT or NS.
	Type string `yaml:"type,omitempty" json:"type,omitempty"`
	// Transport is udp (default) or tcp.
	Transport string `yaml:"transport,omitempty" json:"transport,omitempty"`
	// ValidRcodes defaults to [NOERROR].
	ValidRcodes []string `yaml:"valid_rcodes,omitempty" json:"valid_rcodes,omitempty"`
	// Expect lists values that must all be among the answers (an address,
	// a host name, MX "10 mail.example.com.", TXT text).
	Expect []string `yaml:"expect,omitempty" json:"expect,omitempty"`
	// Recursion sets the RD bit (default true).
	NoRecursion bool `yaml:"no_recursion,omitempty" json:"no_recursion,omitempty"`
}

// ICMP configures an icmp check; Target is a host name or address.
type ICMP struct {
	// Packets is how many echo requests are sent (default 3).
	Packets int `yaml:"packets,omitempty" json:"packets,omitempty"`
	// Interval between packets (default 200ms).
	PacketInterval model.Duration `yaml:"packet_interval,omitempty" json:"packet_interval,omitempty"`
	// PayloadSize in bytes (default 56).
	PayloadSize int    `yaml:"payload_size,omitempty" json:"payload_size,omitempty"`
	IPProtocol  string `yaml:"ip_protocol,omitempty" json:"ip_protocol,omitempty"`
	// MaxLossPercent: more loss than this is down (default 100: down only
	// when every packet is lost); any loss at all is degraded.
	MaxLossPercent *float64 `yaml:"max_loss_percent,omitempty" json:"max_loss_percent,omitempty"`
}

// Database configures postgres and mysql checks. Target is a DSN: a
// postgres:// URL or key=value string for PostgreSQL, a go-sql-driver DSN
// (user:pass@tcp(host:3306)/db) or mysql:// URL for MySQL and MariaDB.
type Database struct {
	// Query is timed after connecting (default SELECT 1).
	Query string `yaml:"query,omitempty" json:"query,omitempty"`
	// Username and Password override those in the DSN; PasswordEnv reads
	// the password from the environment where the check runs.
	Username    string          `yaml:"username,omitempty" json:"username,omitempty"`
	Password    yamlconf.Secret `yaml:"password,omitempty" json:"password,omitempty"`
	PasswordEnv string          `yaml:"password_env,omitempty" json:"password_env,omitempty"`
	// MaxReplicationLag: a replica further behind is degraded (0: not checked).
	MaxReplicationLag model.Duration `yaml:"max_replication_lag,omitempty" json:"max_replication_lag,omitempty"`
	// MaxConnectionsPercent: more connections in use than this share of
	// max_connections is degraded (default 90).
	MaxConnectionsPercent float64 `yaml:"max_connections_percent,omitempty" json:"max_connections_percent,omitempty"`
}

// Redis configures a redis check; Target is host:port or a redis:// URL.
type Redis struct {
	Username    string          `yaml:"username,omitempty" json:"username,omitempty"`
	Password    yamlconf.Secret `yaml:"password,omitempty" json:"password,omitempty"`
	PasswordEnv string          `yaml:"password_env,omitempty" json:"password_env,omitempty"`
	TLS         bool            `yaml:"tls,omitempty" json:"tls,omitempty"`
	TLSConfig   TLSConfig       `yaml:"tls_config,omitempty" json:"tls_config,omitempty"`
	// MaxMemoryPercent: used memory above this share of maxmemory is
	// degraded (default 90; ignored when maxmemory is 0).
	MaxMemoryPercent float64 `yaml:"max_memory_percent,omitempty" json:"max_memory_percent,omitempty"`
}

// MongoDB configures a mongodb check; Target is a mongodb:// URI.
type MongoDB struct {
	Username    string          `yaml:"username,omitempty" json:"username,omitempty"`
	Password    yamlconf.Secret `yaml:"password,omitempty" json:"password,omitempty"`
	PasswordEnv string          `yaml:"password_env,omitempty" json:"password_env,omitempty"`
}

// Status configures nginx (stub_status) and apache (mod_status ?auto)
// checks; Target is the status page's URL.
type Status struct {
	BasicAuth *BasicAuth `yaml:"basic_auth,omitempty" json:"basic_auth,omitempty"`
	TLS       TLSConfig  `yaml:"tls_config,omitempty" json:"tls_config,omitempty"`
}

// Heartbeat configures a push check: a job calls
// POST /api/v1/checks/heartbeat/<token> when it succeeds and
// .../<token>/fail when it fails. Target is not used.
type Heartbeat struct {
	// Token is the secret part of the URL (at least 16 characters).
	Token yamlconf.Secret `yaml:"token" json:"-"`
	// Period is how often the job runs; Grace is how late it may be.
	Period model.Duration `yaml:"period" json:"period"`
	Grace  model.Duration `yaml:"grace,omitempty" json:"grace,omitempty"`
	// MaxRuntime: a job reporting a longer runtime is degraded (0: unchecked).
	MaxRuntime model.Duration `yaml:"max_runtime,omitempty" json:"max_runtime,omitempty"`
}

// Process configures a process check on an agent: the processes whose
// name (comm) equals Target, or whose command line matches CmdlineRegex.
type Process struct {
	CmdlineRegex string `yaml:"cmdline_regex,omitempty" json:"cmdline_regex,omitempty"`
	// MinCount and MaxCount bound the matches (default at least 1).
	MinCount int `yaml:"min_count,omitempty" json:"min_count,omitempty"`
	MaxCount int `yaml:"max_count,omitempty" json:"max_count,omitempty"`
}

// Port configures a check that something listens on a local port; Target
// is the port number or address:port.
type Port struct {
	// Protocol is tcp (default) or udp.
	Protocol string `yaml:"protocol,omitempty" json:"protocol,omitempty"`
}

// Systemd configures a check that a unit is active; Target is the unit.
type Systemd struct{}

// FileAge configures a check of the newest file matching Target (a path
// or glob): it must exist and be younger than MaxAge.
type FileAge struct {
	MaxAge model.Duration `yaml:"max_age" json:"max_age"`
	// MinSize: a newest file smaller than this is a failure (0: unchecked).
	MinSize yamlconf.Bytes `yaml:"min_size,omitempty" json:"min_size,omitempty"`
}

// IsDatabase reports whether the kind is a database, whose default latency
// threshold is 500ms.
func IsDatabase(kind string) bool {
	switch kind {
	case KindPostgres, KindMySQL, KindRedis, KindMongoDB:
		return true
	}
	return false
}

// Latency is the check's latency threshold with its default applied.
func (c *Check) Latency() time.Duration {
	if c.Thresholds.Latency > 0 {
		return time.Duration(c.Thresholds.Latency)
	}
	if IsDatabase(c.Kind) {
		return time.Duration(DefaultDBLatency)
	}
	return time.Duration(DefaultWebLatency)
}

// CertExpiry is the check's certificate warning threshold with its default.
func (c *Check) CertExpiry() time.Duration {
	if c.Thresholds.CertExpiry > 0 {
		return time.Duration(c.Thresholds.CertExpiry)
	}
	return time.Duration(DefaultCertExpiry)
}

// EffectiveTimeout is the timeout capped at the interval.
func (c *Check) EffectiveTimeout() time.Duration {
	return min(time.Duration(c.Timeout), time.Duration(c.Interval))
}

// checkName is what a check's name may look like: it is a label value and a
// URL path element, so no slashes or spaces.
var checkName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:-]*$`)

// Path is the YAML path of check i named name, for yamlconf.Field. The
// list item is found by its name, or by its position when it has none.
func Path(section string, i int, name string, keys ...string) []string {
	item := yamlconf.ItemByKey("name", name)
	if name == "" {
		item = yamlconf.ItemAt(i)
	}
	return append([]string{section, item}, keys...)
}

// Validate checks one check; section and i locate it for error lines.
// Errors name the check.
func (c *Check) Validate(section string, i int) []error {
	label := fmt.Sprintf("check %q", c.Name)
	if c.Name == "" {
		label = fmt.Sprintf("check #%d", i+1)
	}
	var errs []error
	field := func(msg string, keys ...string) {
		errs = append(errs, yamlconf.Field(label+": "+msg, Path(section, i, c.Name, keys...)...))
	}
	switch {
	case c.Name == "":
		field("has no name; every check needs a unique name")
	case !checkName.MatchString(c.Name):
		field("invalid name: use letters, digits and . _ : - (no spaces or slashes)", "name")
	}
	if c.Kind == "" {
		field("has no kind; use one of " + strings.Join(Kinds, ", "))
	} else if !slices.Contains(Kinds, c.Kind) {
		field(fmt.Sprintf("unknown kind %q; use one of %s", c.Kind, strings.Join(Kinds, ", ")), "kind")
	}
	if c.Interval < MinInterval {
		field(fmt.Sprintf("interval %s is below the minimum of 1s", c.Interval), "interval")
	}
	if c.Timeout <= 0 {
		field("timeout must be positive", "timeout")
	}
	if c.Thresholds.Latency < 0 || c.Thresholds.CertExpiry < 0 {
		field("thresholds must not be negative", "thresholds")
	}
	for name, v := range c.Labels {
		switch {
		case !model.LabelName(name).IsValidLegacy() || strings.HasPrefix(name, "__"):
			field(fmt.Sprintf("invalid label name %q", name), "labels")
		case reservedLabels[name]:
			field(fmt.Sprintf("label %q is set by the check itself", name), "labels")
		case v == "":
			field(fmt.Sprintf("label %q has an empty value", name), "labels")
		}
	}
	blocks := c.blocks()
	for kind, set := range blocks {
		if set && kind != c.Kind {
			field(fmt.Sprintf("has a %s block but is of kind %q", kind, c.Kind), kind)
		}
	}
	if slices.Contains(Kinds, c.Kind) {
		for _, msg := range c.validateKind() {
			field(msg.text, msg.keys...)
		}
	}
	return errs
}

// reservedLabels are set on every check series by the prober.
var reservedLabels = map[string]bool{"check": true, "kind": true, "job": true, "instance": true, "location": true, "phase": true}

func (c *Check) blocks() map[string]bool {
	return map[string]bool{
		KindHTTP: c.HTTP != nil, KindTLS: c.TLS != nil, KindTCP: c.TCP != nil, KindDNS: c.DNS != nil,
		KindICMP: c.ICMP != nil, KindPostgres: c.Postgres != nil, KindMySQL: c.MySQL != nil,
		KindRedis: c.Redis != nil, KindMongoDB: c.MongoDB != nil, KindNginx: c.Nginx != nil,
		KindApache: c.Apache != nil, KindHeartbeat: c.Heartbeat != nil, KindProcess: c.Process != nil,
		KindPort: c.Port != nil, KindSystemd: c.Systemd != nil, KindFileAge: c.FileAge != nil,
	}
}

type problem struct {
	text string
	keys []string
}

// ValidateAll checks a list of checks, including that names are unique.
// section is the YAML key holding the list (checks).
func ValidateAll(section string, checks []Check) error {
	var errs []error
	seen := map[string]bool{}
	for i := range checks {
		c := &checks[i]
		errs = append(errs, c.Validate(section, i)...)
		if c.Name != "" {
			if seen[c.Name] {
				errs = append(errs, yamlconf.Field(fmt.Sprintf("check %q: the name is used twice; names must be unique", c.Name), Path(section, i, c.Name, "name")...))
			}
			seen[c.Name] = true
		}
	}
	return errors.Join(errs...)
}
