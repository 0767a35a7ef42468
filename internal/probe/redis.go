package probe

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/saypro/monitor/internal/config/checkconfig"
)

// redisProber checks a Redis server: it connects over one fresh
// connection, authenticates, times a PING and reads INFO.
type redisProber struct {
	env  Env
	addr string // host:port
	db   int
	// username and password come from the check's block or, when it has
	// none, from the redis:// URL; passwordEnv is read at each run.
	username    string
	password    string
	passwordEnv string
	urlPassword string
	tls         *tls.Config // nil: plain TCP
	maxMemory   float64     // percent of maxmemory
	certExpiry  time.Duration
}

// redisDefaultPort is used when the target names a host only.
const redisDefaultPort = "6379"

func newRedis(c *checkconfig.Check, env Env) (Prober, error) {
	cfg := c.Redis
	if cfg == nil {
		cfg = &checkconfig.Redis{}
	}
	p := &redisProber{
		env:         env,
		username:    cfg.Username,
		password:    string(cfg.Password),
		passwordEnv: cfg.PasswordEnv,
		maxMemory:   cfg.MaxMemoryPercent,
		certExpiry:  c.CertExpiry(),
	}
	if p.maxMemory <= 0 {
		p.maxMemory = 90
	}
	useTLS := cfg.TLS
	if strings.Contains(c.Target, "://") {
		o, err := redis.ParseURL(c.Target)
		if err != nil {
			// A *url.Error repeats the whole URL, password included.
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err
			}
			return nil, fmt.Errorf("target is not a redis:// or rediss:// URL: %v", err)
		}
		p.addr, p.db = o.Addr, o.DB
		if p.username == "" {
			p.username = o.Username
		}
		p.urlPassword = o.Password
		useTLS = useTLS || o.TLSConfig != nil
	} else {
		host, port, err := net.SplitHostPort(c.Target)
		switch {
		case err != nil && !strings.Contains(c.Target, ":"):
			host, port = c.Target, redisDefaultPort
		case err != nil:
			return nil, fmt.Errorf("target %q is neither host:port nor a redis:// URL", c.Target)
		}
		if host == "" || port == "" {
			return nil, fmt.Errorf("target %q is neither host:port nor a redis:// URL", c.Target)
		}
		p.addr = net.JoinHostPort(host, port)
	}
	if useTLS {
		host, _, _ := net.SplitHostPort(p.addr)
		tc, err := clientTLS(cfg.TLSConfig, host)
		if err != nil {
			return nil, err
		}
		p.tls = tc
	}
	return p, nil
}

// Probe connects, authenticates, times a second PING (the first one also
// pays for the handshake) and reads INFO. Connection and authentication
// failures are down; memory near maxmemory and a replica cut off from its
// master are degraded.
func (p *redisProber) Probe(ctx context.Context) Result {
	var r Result
	password, err := p.env.secret(p.password, p.passwordEnv)
	if err != nil {
		return r.Failf("password_env: %v", err)
	}
	if password == "" {
		password = p.urlPassword
	}
	fail := func(format string, args ...any) Result {
		return r.Failf("%s", kvScrub(fmt.Sprintf(format, args...), password))
	}
	timeout := kvTimeout(ctx)

	conn, err := p.dial(ctx, &r)
	if err != nil {
		return fail("connecting to %s: %s", p.addr, kvNetReason(err, timeout))
	}
	// The client's one connection is the one dialled above, so that a
	// refused connection or a bad certificate is reported as such rather
	// than after go-redis's own dial retries.
	rec := &redisRecordConn{Conn: conn}
	first := make(chan net.Conn, 1)
	first <- rec
	client := redis.NewClient(&redis.Options{
		Addr:     p.addr,
		Username: p.username,
		Password: password,
		DB:       p.db,
		Protocol: 2,
		Dialer: func(ctx context.Context, _, _ string) (net.Conn, error) {
			select {
			case c := <-first:
				return c, nil
			default:
				return p.dial(ctx, nil)
			}
		},
		PoolSize:                 1,
		MaxRetries:               -1,
		DialerRetries:            1,
		DialTimeout:              timeout,
		ReadTimeout:              timeout,
		WriteTimeout:             timeout,
		ContextTimeoutEnabled:    true,
		DisableIdentity:          true,
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
	})
	defer func() {
		_ = client.Close()
		select {
		case c := <-first:
			_ = c.Close()
		default:
		}
	}()

	if err := client.Ping(ctx).Err(); err != nil {
		var rerr redis.Error
		if line := rec.errorLine(); line != "" && !errors.As(err, &rerr) {
			// Refused before the first command: ERR max number of
			// clients reached, or a proxy's own error.
			return fail("redis replied: %s", line)
		}
		return fail("%s", redisReason(err, timeout))
	}
	start := time.Now()
	if err := client.Ping(ctx).Err(); err != nil {
		return fail("%s", redisReason(err, timeout))
	}
	r.Latency = time.Since(start)
	r.Add("saypro_redis_ping_duration_seconds", r.Latency.Seconds())
	r.Success = true

	text, err := client.Info(ctx).Result()
	if err != nil {
		// PING answered, so the server is up; an ACL user without +info
		// leaves the check blind, which the operator should see.
		r.Warnf("%s", kvScrub("INFO failed: "+redisReason(err, timeout), password))
		return r
	}
	p.evaluateInfo(&r, parseRedisInfo(text))
	return r
}

// dial opens the TCP connection, with TLS when configured; r, when not
// nil, receives the certificate series and expiry warning.
func (p *redisProber) dial(ctx context.Context, r *Result) (net.Conn, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", p.addr)
	if err != nil {
		return nil, err
	}
	if p.tls == nil {
		return conn, nil
	}
	tc := tls.Client(conn, p.tls)
	if err := tc.HandshakeContext(ctx); err != nil {
		_ = conn.Close()
		return nil, err
	}
	if r != nil {
		cs := tc.ConnectionState()
		addTLSMetrics(r, &cs, p.certExpiry, time.Now())
	}
	return tc, nil
}

// redisRecordConn keeps the start of what the server sent. A server at
// maxclients writes "-ERR max number of clients reached" and closes before
// reading anything; go-redis takes that line for the reply to its HELLO,
// falls back to RESP2, and then fails on a closed connection.
type redisRecordConn struct {
	net.Conn
	mu   sync.Mutex
	head []byte
}

func (c *redisRecordConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.mu.Lock()
	if room := 256 - len(c.head); room > 0 {
		c.head = append(c.head, b[:min(n, room)]...)
	}
	c.mu.Unlock()
	return n, err
}

// errorLine is the server's first reply when it was an error.
func (c *redisRecordConn) errorLine() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.head) < 2 || c.head[0] != '-' {
		return ""
	}
	line, _, _ := strings.Cut(string(c.head[1:]), "\n")
	return strings.TrimRight(line, "\r")
}

// evaluateInfo adds the INFO figures to r and warns about memory and
// replication.
func (p *redisProber) evaluateInfo(r *Result, info map[string]string) {
	num := func(key string) (float64, bool) {
		v, ok := info[key]
		if !ok {
			return 0, false
		}
		f, err := strconv.ParseFloat(v, 64)
		return f, err == nil
	}
	gauges := [...]struct{ key, metric string }{
		{"used_memory", "saypro_redis_memory_used_bytes"},
		{"maxmemory", "saypro_redis_memory_max_bytes"},
		{"connected_clients", "saypro_redis_connected_clients"},
		{"blocked_clients", "saypro_redis_blocked_clients"},
		{"rejected_connections", "saypro_redis_rejected_connections_total"},
		{"connected_slaves", "saypro_redis_connected_replicas"},
		{"uptime_in_seconds", "saypro_redis_uptime_seconds"},
	}
	for _, g := range gauges {
		if v, ok := num(g.key); ok {
			r.Add(g.metric, v)
		}
	}
	role := info["role"]
	r.Add("saypro_redis_info", 1, "version", info["redis_version"], "role", role)

	used, okUsed := num("used_memory")
	limit, okLimit := num("maxmemory")
	if okUsed && okLimit && limit > 0 {
		if pct := used / limit * 100; pct > p.maxMemory {
			r.Warnf("used memory %s is %.1f%% of maxmemory %s (threshold %g%%)",
				kvBytes(used), pct, kvBytes(limit), p.maxMemory)
		}
	}

	if role != "slave" && role != "replica" {
		return
	}
	master := net.JoinHostPort(info["master_host"], info["master_port"])
	up := info["master_link_status"] == "up"
	r.Add("saypro_redis_master_link_up", kvBool(up))
	if v, ok := num("master_last_io_seconds_ago"); ok && v >= 0 {
		r.Add("saypro_redis_master_last_io_seconds_ago", v)
	}
	if !up {
		msg := fmt.Sprintf("replica's link to master %s is %s", master, cmp.Or(info["master_link_status"], "unknown"))
		if v, ok := num("master_link_down_since_seconds"); ok && v >= 0 {
			msg += fmt.Sprintf(" since %s", (time.Duration(v) * time.Second).String())
		}
		r.Warnf("%s", msg)
	}
}

// parseRedisInfo reads the text of INFO: "key:value" lines, "# Section"
// headers and blank lines, with \r\n or \n line ends. A later key wins.
func parseRedisInfo(s string) map[string]string {
	m := make(map[string]string, 128)
	for line := range strings.Lines(s) {
		line = strings.TrimRight(line, "\r\n")
		if line == "" || line[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok || k == "" {
			continue
		}
		m[k] = v
	}
	return m
}

// redisReason words a go-redis error: the server's own error line
// (NOAUTH, WRONGPASS, NOPERM, ERR max number of clients reached) or the
// network failure.
func redisReason(err error, timeout time.Duration) string {
	var rerr redis.Error
	if errors.As(err, &rerr) {
		msg := rerr.Error()
		switch {
		case strings.HasPrefix(msg, "NOAUTH"):
			return msg + " (set password or password_env)"
		case strings.HasPrefix(msg, "WRONGPASS"), strings.HasPrefix(msg, "NOPERM"):
			return "authentication failed: " + msg
		}
		return "redis replied: " + msg
	}
	return kvNetReason(err, timeout)
}

// kvTimeout is the time left before ctx's deadline (the check's timeout),
// used for the drivers' own timeouts.
func kvTimeout(ctx context.Context) time.Duration {
	if d, ok := ctx.Deadline(); ok {
		return max(time.Until(d), time.Millisecond)
	}
	return time.Duration(checkconfig.DefaultTimeout)
}

// kvNetReason words a network error as an operator reads it:
// "connection refused", "timed out after 10s".
func kvNetReason(err error, timeout time.Duration) string {
	var dnsErr *net.DNSError
	var netErr net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return fmt.Sprintf("timed out after %s", roundDuration(timeout))
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset by the server"
	case errors.Is(err, syscall.EPIPE):
		return "the server closed the connection"
	case errors.Is(err, syscall.EHOSTUNREACH):
		return "no route to host"
	case errors.Is(err, syscall.ENETUNREACH):
		return "network unreachable"
	case errors.As(err, &dnsErr):
		return dnsErr.Error()
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "the server closed the connection"
	}
	return err.Error()
}

// kvScrub removes a password from a reason, should a server or driver
// ever repeat it.
func kvScrub(reason, password string) string {
	if password == "" {
		return reason
	}
	reason = strings.ReplaceAll(reason, password, "xxxxx")
	if esc := url.QueryEscape(password); esc != password {
		reason = strings.ReplaceAll(reason, esc, "xxxxx")
	}
	return reason
}

// kvBytes formats a byte count in binary units: 1.5MiB.
func kvBytes(b float64) string {
	const unit = 1024
	if b < unit {
		return fmt.Sprintf("%.0fB", b)
	}
	exp, div := 0, float64(unit)
	for n := b / unit; n >= unit && exp < 5; n /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f%ciB", b/div, "KMGTPE"[exp])
}

func kvBool(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
