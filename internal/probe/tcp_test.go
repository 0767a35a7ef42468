package probe

import (
	"bufio"
	"cmp"
	"crypto/tls"
	"io"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/saypro/monitor/internal/config/checkconfig"
)

// netRedisLike answers PING with +PONG, like a Redis server, and closes
// after any other line with -ERR.
func netRedisLike(c io.ReadWriter) {
	br := bufio.NewReader(c)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		if strings.TrimSpace(line) != "PING" {
			_, _ = io.WriteString(c, "-ERR unknown command\r\n")
			return
		}
		_, _ = io.WriteString(c, "+PONG\r\n")
	}
}

func TestTCPCheck(t *testing.T) {
	t.Parallel()
	ca := newNetTestCA(t)
	in30d := time.Now().Add(30 * 24 * time.Hour).Truncate(time.Second)
	in3d := time.Now().Add(3*24*time.Hour + time.Hour).Truncate(time.Second)
	tlsRedis := func(cert tls.Certificate) string {
		cfg := &tls.Config{Certificates: []tls.Certificate{cert}}
		return netServe(t, func(c net.Conn) {
			tc := tls.Server(c, cfg)
			_ = tc.SetDeadline(time.Now().Add(5 * time.Second))
			netRedisLike(tc)
		})
	}
	redis := netServe(t, func(c net.Conn) { netRedisLike(c) })
	banner := netServe(t, func(c net.Conn) {
		_, _ = io.WriteString(c, "SSH-2.0-OpenSSH_9.6\r\n")
		_, _ = io.Copy(io.Discard, c)
	})
	closes := netServe(t, func(c net.Conn) { _, _ = io.WriteString(c, "220 wrong service\r\n") })
	silent := netSilentServer(t)
	_, silentPort, _ := net.SplitHostPort(silent)
	refused := netRefusedAddr(t)

	cases := []struct {
		name   string
		target string
		cfg    checkconfig.TCP
		state  State
		reason string
		// regex is probe_failed_due_to_regex, -1 when absent.
		regex  float64
		expiry time.Time
		// timeout is 300ms unless set.
		timeout time.Duration
	}{
		{name: "port open", target: silent, state: StateUp, regex: -1},
		{name: "send and expect", target: redis, cfg: checkconfig.TCP{Send: "PING", Expect: `^\+PONG`}, state: StateUp, regex: 0},
		{name: "expect a banner", target: banner, cfg: checkconfig.TCP{Expect: `^SSH-2\.0-`}, state: StateUp, regex: 0},
		{name: "reply does not match", target: redis, cfg: checkconfig.TCP{Send: "INFO", Expect: `^\+PONG`}, state: StateDown, regex: 1,
			reason: `reply does not match expect "^\\+PONG": the server closed the connection after "-ERR unknown command\r\n"`},
		{name: "closed without a match", target: closes, cfg: checkconfig.TCP{Expect: `^SSH-`}, state: StateDown, regex: 1,
			reason: `reply does not match expect "^SSH-"`},
		{name: "never answers", target: silent, cfg: checkconfig.TCP{Send: "PING", Expect: `^\+PONG`}, state: StateDown, regex: 0,
			reason: `no answer within the 300ms timeout while waiting for a reply matching "^\\+PONG" from ` + silent + " (got nothing)"},
		{name: "nothing listens", target: refused, state: StateDown, regex: -1, reason: "connection refused by " + refused},
		{name: "tls", target: tlsRedis(ca.leaf(t, "redis", in30d)), cfg: checkconfig.TCP{Send: "PING", Expect: `^\+PONG`, TLS: true, TLSConfig: checkconfig.TLSConfig{CAFile: ca.file}},
			state: StateUp, regex: 0, expiry: in30d},
		{name: "tls expiring", target: tlsRedis(ca.leaf(t, "redis-soon", in3d)), cfg: checkconfig.TCP{TLS: true, TLSConfig: checkconfig.TLSConfig{CAFile: ca.file}},
			state: StateDegraded, regex: -1, reason: `certificate "redis-soon" expires in 3 days`, expiry: in3d},
		{name: "tls untrusted", target: tlsRedis(ca.leaf(t, "redis", in30d)), cfg: checkconfig.TCP{TLS: true},
			timeout: 10 * time.Second, // loading the system's roots can be slow
			state:   StateDown, regex: -1, reason: "certificate verify failed: x509: certificate signed by unknown authority"},
		{name: "tls to a plain port", target: banner, cfg: checkconfig.TCP{TLS: true, TLSConfig: checkconfig.TLSConfig{CAFile: ca.file}},
			state: StateDown, regex: -1, reason: "did not answer with TLS"},
		{name: "ip4 by name", target: net.JoinHostPort("localhost", silentPort), cfg: checkconfig.TCP{IPProtocol: "ip4"}, state: StateUp, regex: -1},
		{name: "ip6 asked, IPv4 address given", target: silent, cfg: checkconfig.TCP{IPProtocol: "ip6"}, state: StateDown, regex: -1,
			reason: "address 127.0.0.1 is not of ip_protocol ip6"},
		{name: "unknown host", target: "nonexistent.invalid:80", state: StateDown, regex: -1, reason: "host nonexistent.invalid not found (DNS)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := netCheck(t, checkconfig.KindTCP, tc.target, func(c *checkconfig.Check) {
				c.TCP = &tc.cfg
				c.Timeout = model.Duration(cmp.Or(tc.timeout, 300*time.Millisecond))
			})
			r, o := netRun(t, c, Env{})
			require.Equal(t, tc.state, o.State, o.Reason)
			require.Contains(t, o.Reason, tc.reason)
			v, ok := netMetric(r.Metrics, "probe_failed_due_to_regex")
			if tc.regex < 0 {
				require.False(t, ok)
			} else {
				require.True(t, ok)
				require.Equal(t, tc.regex, v)
			}
			if !tc.expiry.IsZero() {
				v, ok := netMetric(r.Metrics, "probe_ssl_earliest_cert_expiry")
				require.True(t, ok)
				require.InDelta(t, float64(tc.expiry.Unix()), v, 1)
			}
			if o.State != StateDown || strings.HasPrefix(tc.name, "never") {
				v, ok := netMetric(r.Metrics, "probe_ip_protocol")
				require.True(t, ok)
				require.Equal(t, 4.0, v)
				_, ok = netMetric(r.Metrics, "probe_ip_addr_hash")
				require.True(t, ok)
			}
		})
	}
}

// TestTCPLatencyThreshold: a server that answers after 50ms is degraded
// under a 10ms latency threshold and up under the default.
func TestTCPLatencyThreshold(t *testing.T) {
	t.Parallel()
	addr := netServe(t, func(c net.Conn) {
		time.Sleep(50 * time.Millisecond)
		_, _ = io.WriteString(c, "READY\n")
		_, _ = io.Copy(io.Discard, c)
	})
	for _, tc := range []struct {
		latency model.Duration
		state   State
	}{
		{latency: model.Duration(10 * time.Millisecond), state: StateDegraded},
		{latency: 0, state: StateUp},
	} {
		c := netCheck(t, checkconfig.KindTCP, addr, func(c *checkconfig.Check) {
			c.TCP = &checkconfig.TCP{Expect: "READY"}
			c.Thresholds.Latency = tc.latency
		})
		_, o := netRun(t, c, Env{})
		require.Equal(t, tc.state, o.State, o.Reason)
		if tc.state == StateDegraded {
			require.Contains(t, o.Reason, "above the 10ms threshold")
		}
	}
}

// TestTCPScheduledTimeout runs a hanging check the way the scheduler
// does: the reason is the prober's, naming the step that timed out.
func TestTCPScheduledTimeout(t *testing.T) {
	t.Parallel()
	addr := netSilentServer(t)
	c := netCheck(t, checkconfig.KindTCP, addr, func(c *checkconfig.Check) {
		c.TCP = &checkconfig.TCP{Send: "HELLO", Expect: "WORLD"}
		c.Timeout = model.Duration(300 * time.Millisecond)
	})
	o, err := Once(t.Context(), c, "test", Env{})
	require.NoError(t, err)
	require.Equal(t, StateDown, o.State)
	require.Contains(t, o.Reason, "no answer within the 300ms timeout")
	require.Less(t, o.Duration, 5*time.Second)
}

func TestReadUntilMatch(t *testing.T) {
	t.Parallel()
	re := regexp.MustCompile(`OK\r\n`)
	got, err := readUntilMatch(strings.NewReader("220 hello\r\n250 OK\r\nmore"), re, 1024)
	require.NoError(t, err)
	require.Contains(t, string(got), "250 OK")
	_, err = readUntilMatch(strings.NewReader(strings.Repeat("x", 5000)), re, 1024)
	require.ErrorIs(t, err, errReadLimit)
	got, err = readUntilMatch(strings.NewReader("nope"), re, 1024)
	require.ErrorIs(t, err, io.EOF)
	require.Equal(t, "nope", string(got))
}
