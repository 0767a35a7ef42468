package probe

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net"
	"os"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/saypro/monitor/internal/config/checkconfig"
)

// tcpMaxRead bounds what a tcp check reads while waiting for its expect
// pattern.
const tcpMaxRead = 64 << 10

type tcpProber struct {
	host, port string
	ipProtocol string
	send       string
	expect     *regexp.Regexp
	tls        *tls.Config // nil: plain TCP
	certExpiry time.Duration
	timeout    time.Duration
}

func newTCP(c *checkconfig.Check, _ Env) (Prober, error) {
	host, port, err := net.SplitHostPort(c.Target)
	if err != nil {
		return nil, fmt.Errorf("target %q is not host:port: %w", c.Target, err)
	}
	cfg := c.TCP
	p := &tcpProber{host: host, port: port, ipProtocol: cfg.IPProtocol, certExpiry: c.CertExpiry(), timeout: c.EffectiveTimeout()}
	if cfg.Send != "" {
		// As blackbox_exporter does, a line is sent: a newline ends it
		// unless the setting already does.
		p.send = cfg.Send
		if !strings.HasSuffix(p.send, "\n") {
			p.send += "\n"
		}
	}
	if cfg.Expect != "" {
		if p.expect, err = regexp.Compile(cfg.Expect); err != nil {
			return nil, fmt.Errorf("tcp.expect: %w", err)
		}
	}
	if cfg.TLS {
		if p.tls, err = clientTLS(cfg.TLSConfig, host); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// Probe connects, optionally upgrades to TLS, sends the send line and
// reads until the expect pattern matches.
func (p *tcpProber) Probe(ctx context.Context) Result {
	timeout := runTimeout(ctx, time.Now(), p.timeout)
	var r Result
	conn, addr, err := dialTCP(ctx, &r, p.host, p.port, p.ipProtocol)
	if err != nil {
		return r.Failf("%s", dialFailure(ctx, err, timeout, addr))
	}
	defer conn.Close()
	stop := bindConn(ctx, conn)
	defer stop()

	var c net.Conn = conn
	if p.tls != nil {
		tc := tls.Client(conn, p.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			return r.Failf("%s", netFailure(ctx, err, timeout, addr, "doing the TLS handshake with "+addr))
		}
		cs := tc.ConnectionState()
		addTLSMetrics(&r, &cs, p.certExpiry, time.Now())
		addTLSCipher(&r, &cs)
		c = tc
	}
	if p.send != "" {
		if _, err := io.WriteString(c, p.send); err != nil {
			return r.Failf("%s", netFailure(ctx, err, timeout, addr, "sending to "+addr))
		}
	}
	if p.expect == nil {
		r.Success = true
		return r
	}
	got, err := readUntilMatch(c, p.expect, tcpMaxRead)
	if err == nil {
		r.Add("probe_failed_due_to_regex", 0)
		r.Success = true
		return r
	}
	failedRegex := 1.0
	var why string
	switch {
	case errors.Is(err, errReadLimit):
		why = fmt.Sprintf("reply does not match expect %q within its first %d bytes (got %s)", p.expect, tcpMaxRead, quoteStart(got))
	case errors.Is(err, io.EOF):
		why = fmt.Sprintf("reply does not match expect %q: the server closed the connection after %s", p.expect, quoteStart(got))
	default:
		if len(got) == 0 {
			failedRegex = 0
		}
		why = netFailure(ctx, err, timeout, addr, fmt.Sprintf("waiting for a reply matching %q from %s (got %s)", p.expect, addr, quoteStart(got)))
	}
	r.Add("probe_failed_due_to_regex", failedRegex)
	return r.Failf("%s", why)
}

var errReadLimit = errors.New("read limit reached")

// readUntilMatch reads from c until what was read matches re, the peer
// closes (io.EOF), limit bytes are read or reading fails.
func readUntilMatch(c io.Reader, re *regexp.Regexp, limit int) ([]byte, error) {
	buf := make([]byte, 0, 4096)
	chunk := make([]byte, 4096)
	for {
		n, err := c.Read(chunk[:min(len(chunk), limit-len(buf))])
		buf = append(buf, chunk[:n]...)
		if n > 0 && re.Match(buf) {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
		if len(buf) >= limit {
			return buf, errReadLimit
		}
	}
}

// quoteStart shows the start of what a server sent, for reasons.
func quoteStart(b []byte) string {
	if len(b) == 0 {
		return "nothing"
	}
	const show = 80
	if len(b) > show {
		return fmt.Sprintf("%q...", b[:show])
	}
	return fmt.Sprintf("%q", b)
}

// dialTCP resolves host for ipProtocol, adds blackbox_exporter's address
// series (probe_ip_protocol, probe_ip_addr_hash,
// probe_dns_lookup_time_seconds) to r and connects. addr is the address
// dialled, or the host when it did not resolve.
func dialTCP(ctx context.Context, r *Result, host, port, ipProtocol string) (net.Conn, string, error) {
	ip, lookup, err := resolveDialIP(ctx, host, ipProtocol)
	if err != nil {
		return nil, host, err
	}
	addDialIPMetrics(r, ip, lookup)
	addr := net.JoinHostPort(ip.String(), port)
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	return conn, addr, err
}

// resolveDialIP returns the address to connect to: host itself when it
// is an address, else the first address of the family asked for (ip4 or
// ip6); with no ip_protocol, the first IPv4 address, or IPv6 when there
// is none. lookup is the time the resolution took.
func resolveDialIP(ctx context.Context, host, ipProtocol string) (net.IP, time.Duration, error) {
	if ip := net.ParseIP(host); ip != nil {
		if (ipProtocol == "ip4" && ip.To4() == nil) || (ipProtocol == "ip6" && ip.To4() != nil) {
			return nil, 0, &resolveError{host: host, msg: fmt.Sprintf("address %s is not of ip_protocol %s", host, ipProtocol)}
		}
		return ip, 0, nil
	}
	network := "ip"
	if ipProtocol != "" {
		network = ipProtocol
	}
	start := time.Now()
	ips, err := net.DefaultResolver.LookupIP(ctx, network, host)
	lookup := time.Since(start)
	if err != nil {
		var dnsErr *net.DNSError
		switch {
		case ctx.Err() != nil:
			return nil, lookup, ctx.Err()
		case errors.As(err, &dnsErr) && dnsErr.IsNotFound && ipProtocol != "":
			return nil, lookup, &resolveError{host: host, msg: fmt.Sprintf("host %s has no %s address (ip_protocol %s)", host, familyName(ipProtocol), ipProtocol)}
		case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
			return nil, lookup, &resolveError{host: host, msg: fmt.Sprintf("host %s not found (DNS)", host)}
		case errors.As(err, &dnsErr) && dnsErr.IsTimeout:
			return nil, lookup, &resolveError{host: host, msg: fmt.Sprintf("DNS lookup of %s timed out", host)}
		}
		return nil, lookup, &resolveError{host: host, msg: fmt.Sprintf("DNS lookup of %s failed: %v", host, err)}
	}
	for _, ip := range ips {
		if ip.To4() != nil {
			return ip, lookup, nil
		}
	}
	if len(ips) == 0 {
		return nil, lookup, &resolveError{host: host, msg: fmt.Sprintf("host %s has no address", host)}
	}
	return ips[0], lookup, nil
}

func familyName(ipProtocol string) string {
	if ipProtocol == "ip6" {
		return "IPv6"
	}
	return "IPv4"
}

// resolveError is a failed resolution, with its reason in words.
type resolveError struct{ host, msg string }

func (e *resolveError) Error() string { return e.msg }

// addDialIPMetrics adds blackbox_exporter's address series.
func addDialIPMetrics(r *Result, ip net.IP, lookup time.Duration) {
	proto := 6.0
	if ip.To4() != nil {
		proto = 4
	}
	r.Add("probe_ip_protocol", proto)
	r.Add("probe_ip_addr_hash", dialIPHash(ip))
	r.Add("probe_dns_lookup_time_seconds", lookup.Seconds())
}

// dialIPHash is blackbox_exporter's probe_ip_addr_hash: FNV-1a (32 bit)
// of the address's 4 or 16 bytes.
func dialIPHash(ip net.IP) float64 {
	h := fnv.New32a()
	if v4 := ip.To4(); v4 != nil {
		h.Write(v4)
	} else {
		h.Write(ip.To16())
	}
	return float64(h.Sum32())
}

// bindConn makes reads and writes on conn end at ctx's deadline or when
// ctx is cancelled; stop releases the watch.
func bindConn(ctx context.Context, conn net.Conn) (stop func() bool) {
	if d, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(d)
	}
	return context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
}

// dialFailure is the reason of a failed resolution or connection.
func dialFailure(ctx context.Context, err error, timeout time.Duration, addr string) string {
	var re *resolveError
	if errors.As(err, &re) {
		return re.msg
	}
	return netFailure(ctx, err, timeout, addr, "connecting to "+addr)
}

// netFailure words a network error for an operator; step says what the
// check was doing ("connecting to 10.0.0.1:443") and addr is the peer.
func netFailure(ctx context.Context, err error, timeout time.Duration, addr, step string) string {
	var (
		re     *resolveError
		verify *tls.CertificateVerificationError
		header tls.RecordHeaderError
		op     *net.OpError
	)
	switch {
	case errors.As(err, &re):
		return re.msg
	case errors.Is(ctx.Err(), context.Canceled):
		return "the check was cancelled while " + step
	case ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) || isTimeout(err):
		if timeout > 0 {
			return fmt.Sprintf("no answer within the %s timeout while %s", timeout, step)
		}
		return "no answer within the timeout while " + step
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused by " + addr
	case errors.Is(err, syscall.ECONNRESET):
		return fmt.Sprintf("connection reset by %s while %s", addr, step)
	case errors.Is(err, syscall.EHOSTUNREACH):
		return "host unreachable: " + addr
	case errors.Is(err, syscall.ENETUNREACH):
		return "network unreachable: " + addr
	case errors.As(err, &verify):
		return "certificate verify failed: " + verify.Err.Error()
	case errors.As(err, &header):
		return fmt.Sprintf("%s did not answer with TLS (is it a plain-text port?)", addr)
	case errors.As(err, &op) && op.Op == "remote error":
		// A TLS alert from the server: "tls: certificate required".
		msg := fmt.Sprintf("TLS alert from the server while %s: %v", step, op.Err)
		if a := op.Err.Error(); strings.Contains(a, "certificate required") || strings.Contains(a, "bad certificate") {
			msg += " (does it want a client certificate? see tls_config cert_file and key_file)"
		}
		return msg
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Sprintf("connection closed by %s while %s", addr, step)
	}
	return fmt.Sprintf("%s: %v", step, err)
}

// runTimeout is the timeout a run's reasons name: the check's own, as
// configured, unless the run's context ends clearly sooner or later than
// that (a caller's own deadline); then the time left at start, rounded.
// Zero when the context has no deadline.
func runTimeout(ctx context.Context, start time.Time, configured time.Duration) time.Duration {
	d, ok := ctx.Deadline()
	if !ok {
		return 0
	}
	left := d.Sub(start)
	if diff := left - configured; diff > -configured/10 && diff < configured/10 {
		return configured
	}
	if left >= time.Second {
		return left.Round(100 * time.Millisecond)
	}
	return left.Round(time.Millisecond)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
