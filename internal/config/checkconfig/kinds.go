package checkconfig

import (
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
)

// validateKind checks the kind's own settings and fills in a block left
// out, so that probers always find one.
func (c *Check) validateKind() []problem {
	var ps []problem
	add := func(text string, keys ...string) { ps = append(ps, problem{text, keys}) }
	needTarget := func(what string) bool {
		if strings.TrimSpace(c.Target) == "" {
			add(fmt.Sprintf("has no target; a %s check needs %s", c.Kind, what))
			return false
		}
		return true
	}
	regex := func(re string, keys ...string) {
		if re == "" {
			return
		}
		if _, err := regexp.Compile(re); err != nil {
			add(fmt.Sprintf("invalid regular expression %q: %v", re, err), keys...)
		}
	}
	ipProto := func(v string, keys ...string) {
		if v != "" && v != "ip4" && v != "ip6" {
			add(fmt.Sprintf("ip_protocol %q: use ip4, ip6 or leave it out", v), keys...)
		}
	}
	hostPort := func(what string) {
		if !needTarget(what) {
			return
		}
		if _, port, err := net.SplitHostPort(c.Target); err != nil || port == "" {
			add(fmt.Sprintf("target %q is not host:port", c.Target), "target")
		}
	}
	switch c.Kind {
	case KindHTTP:
		if c.HTTP == nil {
			c.HTTP = &HTTP{}
		}
		h := c.HTTP
		if needTarget("a URL such as https://example.com/health") {
			u, err := url.Parse(c.Target)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				add(fmt.Sprintf("target %q is not an http:// or https:// URL", c.Target), "target")
			}
		}
		regex(h.BodyRegex, "http", "body_regex")
		for _, m := range h.JSON {
			if m.Path == "" {
				add("every json match needs a path", "http", "json")
			}
			regex(m.Regex, "http", "json")
		}
		for _, code := range h.ValidStatusCodes {
			if code < 100 || code > 599 {
				add(fmt.Sprintf("status code %d is not an HTTP status", code), "http", "valid_status_codes")
			}
		}
		if h.ProxyURL != "" {
			if u, err := url.Parse(h.ProxyURL); err != nil || u.Host == "" {
				add(fmt.Sprintf("proxy_url %q is not a URL", h.ProxyURL), "http", "proxy_url")
			}
		}
		if h.BasicAuth != nil && h.BearerToken != "" {
			add("set basic_auth or bearer_token, not both", "http", "bearer_token")
		}
		ipProto(h.IPProtocol, "http", "ip_protocol")
		if h.MaxBodySize < 0 {
			add("max_body_size must not be negative", "http", "max_body_size")
		}
	case KindTLS:
		if c.TLS == nil {
			c.TLS = &TLSCheck{}
		}
		hostPort("host:port, such as example.com:443")
		if s := c.TLS.StartTLS; s != "" && !slices.Contains([]string{"smtp", "imap", "pop3"}, s) {
			add(fmt.Sprintf("starttls %q: use smtp, imap or pop3", s), "tls", "starttls")
		}
	case KindTCP:
		if c.TCP == nil {
			c.TCP = &TCP{}
		}
		hostPort("host:port")
		regex(c.TCP.Expect, "tcp", "expect")
		ipProto(c.TCP.IPProtocol, "tcp", "ip_protocol")
	case KindDNS:
		if c.DNS == nil {
			c.DNS = &DNS{}
		}
		d := c.DNS
		needTarget("the name to resolve")
		if d.Type == "" {
			d.Type = "A"
		}
		d.Type = strings.ToUpper(d.Type)
		if !slices.Contains([]string{"A", "AAAA", "CNAME", "MX", "TXT", "NS", "SOA", "SRV", "PTR"}, d.Type) {
			add(fmt.Sprintf("type %q: use A, AAAA, CNAME, MX, TXT, NS, SOA, SRV or PTR", d.Type), "dns", "type")
		}
		if d.Transport == "" {
			d.Transport = "udp"
		}
		if d.Transport != "udp" && d.Transport != "tcp" {
			add(fmt.Sprintf("transport %q: use udp or tcp", d.Transport), "dns", "transport")
		}
	case KindICMP:
		if c.ICMP == nil {
			c.ICMP = &ICMP{}
		}
		needTarget("a host name or address")
		i := c.ICMP
		if i.Packets == 0 {
			i.Packets = 3
		}
		if i.Packets < 1 || i.Packets > 100 {
			add("packets must be between 1 and 100", "icmp", "packets")
		}
		if i.PacketInterval == 0 {
			i.PacketInterval = model.Duration(200 * time.Millisecond)
		}
		if i.PayloadSize == 0 {
			i.PayloadSize = 56
		}
		if i.PayloadSize < 0 || i.PayloadSize > 65000 {
			add("payload_size must be between 0 and 65000", "icmp", "payload_size")
		}
		if i.MaxLossPercent != nil && (*i.MaxLossPercent < 0 || *i.MaxLossPercent > 100) {
			add("max_loss_percent must be between 0 and 100", "icmp", "max_loss_percent")
		}
		ipProto(i.IPProtocol, "icmp", "ip_protocol")
	case KindPostgres, KindMySQL:
		db := c.Postgres
		if c.Kind == KindMySQL {
			if c.MySQL == nil {
				c.MySQL = &Database{}
			}
			db = c.MySQL
		} else if db == nil {
			c.Postgres = &Database{}
			db = c.Postgres
		}
		needTarget("a DSN")
		if db.Query == "" {
			db.Query = "SELECT 1"
		}
		if db.MaxConnectionsPercent == 0 {
			db.MaxConnectionsPercent = 90
		}
		if db.MaxConnectionsPercent < 0 || db.MaxConnectionsPercent > 100 {
			add("max_connections_percent must be between 0 and 100", c.Kind, "max_connections_percent")
		}
	case KindRedis:
		if c.Redis == nil {
			c.Redis = &Redis{}
		}
		needTarget("host:port or a redis:// URL")
		if c.Redis.MaxMemoryPercent == 0 {
			c.Redis.MaxMemoryPercent = 90
		}
	case KindMongoDB:
		if c.MongoDB == nil {
			c.MongoDB = &MongoDB{}
		}
		needTarget("a mongodb:// URI")
	case KindNginx, KindApache:
		if c.Kind == KindNginx && c.Nginx == nil {
			c.Nginx = &Status{}
		}
		if c.Kind == KindApache && c.Apache == nil {
			c.Apache = &Status{}
		}
		if needTarget("the status page's URL") {
			if u, err := url.Parse(c.Target); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				add(fmt.Sprintf("target %q is not an http:// or https:// URL", c.Target), "target")
			}
		}
	case KindHeartbeat:
		if c.Heartbeat == nil {
			add("needs a heartbeat block with token and period")
			return ps
		}
		h := c.Heartbeat
		if len(h.Token) < 16 {
			add("heartbeat token must be at least 16 characters (openssl rand -hex 16)", "heartbeat", "token")
		} else if strings.ContainsAny(string(h.Token), "/?#% ") {
			add("heartbeat token must not contain / ? # % or spaces", "heartbeat", "token")
		}
		if h.Period < MinInterval {
			add("heartbeat period must be at least 1s", "heartbeat", "period")
		}
		if h.Grace < 0 || h.MaxRuntime < 0 {
			add("grace and max_runtime must not be negative", "heartbeat")
		}
		if !c.RunOn.OnServer() {
			add("heartbeat checks are received by the server; remove run_on", "run_on")
		}
		// A heartbeat check is evaluated, not probed: the server looks
		// at the last ping a few times per period, at most every 10s.
		c.Interval = min(DefaultHeartbeatPoll, max(MinInterval, h.Period/4))
	case KindProcess:
		if c.Process == nil {
			c.Process = &Process{}
		}
		p := c.Process
		if c.Target == "" && p.CmdlineRegex == "" {
			add("a process check needs a target (the process name) or process.cmdline_regex")
		}
		regex(p.CmdlineRegex, "process", "cmdline_regex")
		if p.MinCount == 0 {
			p.MinCount = 1
		}
		if p.MinCount < 0 || (p.MaxCount != 0 && p.MaxCount < p.MinCount) {
			add("min_count must be positive and max_count at least min_count", "process")
		}
	case KindPort:
		if c.Port == nil {
			c.Port = &Port{}
		}
		if needTarget("a port number or address:port") {
			p := c.Target
			if _, port, err := net.SplitHostPort(p); err == nil {
				p = port
			}
			if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
				add(fmt.Sprintf("target %q is not a port (1-65535) or address:port", c.Target), "target")
			}
		}
		if c.Port.Protocol == "" {
			c.Port.Protocol = "tcp"
		}
		if c.Port.Protocol != "tcp" && c.Port.Protocol != "udp" {
			add(fmt.Sprintf("protocol %q: use tcp or udp", c.Port.Protocol), "port", "protocol")
		}
	case KindSystemd:
		if c.Systemd == nil {
			c.Systemd = &Systemd{}
		}
		needTarget("a unit name such as nginx.service")
	case KindFileAge:
		if c.FileAge == nil {
			add("needs a file_age block with max_age")
			return ps
		}
		needTarget("a path or glob such as /backups/db-*.sql.gz")
		if c.FileAge.MaxAge < MinInterval {
			add("file_age max_age must be at least 1s (e.g. 26h)", "file_age", "max_age")
		}
		if c.Target != "" {
			if _, err := filepath.Match(c.Target, ""); err != nil {
				add(fmt.Sprintf("invalid glob %q: %v", c.Target, err), "target")
			}
		}
	}
	return ps
}

// HeartbeatDeadline is how long after the last ping a heartbeat check goes down.
func (h *Heartbeat) Deadline() time.Duration {
	return time.Duration(h.Period + h.Grace)
}
