package probe

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/saypro/monitor/internal/config/checkconfig"
)

func icmpCheck(t *testing.T, target string, i checkconfig.ICMP) *checkconfig.Check {
	t.Helper()
	c := &checkconfig.Check{
		Name: "icmp-test", Kind: checkconfig.KindICMP, Target: target,
		Interval: checkconfig.DefaultInterval, Timeout: checkconfig.DefaultTimeout, ICMP: &i,
	}
	require.Empty(t, c.Validate("checks", 0))
	return c
}

func icmpTestHaveIPv6() bool {
	l, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		return false
	}
	_ = l.Close()
	return true
}

func TestICMPProbe(t *testing.T) {
	fast := checkconfig.ICMP{Packets: 3, PacketInterval: model.Duration(20 * time.Millisecond)}
	tests := []struct {
		name    string
		target  string
		cfg     checkconfig.ICMP
		socket  string // force a socket kind; skipped when it cannot be opened
		v6      bool
		timeout time.Duration
		ok      bool
		reason  string
	}{
		{name: "loopback", target: "127.0.0.1", cfg: fast, ok: true},
		{name: "loopback raw", target: "127.0.0.1", cfg: fast, socket: icmpRaw, ok: true},
		{name: "loopback datagram", target: "127.0.0.1", cfg: fast, socket: icmpDatagram, ok: true},
		{name: "one packet, large payload", target: "127.0.0.1", cfg: checkconfig.ICMP{Packets: 1, PayloadSize: 1400}, ok: true},
		{name: "tiny payload", target: "127.0.0.1", cfg: checkconfig.ICMP{Packets: 2, PayloadSize: 4, PacketInterval: model.Duration(10 * time.Millisecond)}, ok: true},
		{name: "localhost by name, ip4", target: "localhost", cfg: checkconfig.ICMP{Packets: 2, IPProtocol: "ip4", PacketInterval: model.Duration(10 * time.Millisecond)}, ok: true},
		{name: "IPv6 loopback", target: "::1", cfg: fast, v6: true, ok: true},
		{name: "IPv6 loopback raw", target: "[::1]", cfg: fast, v6: true, socket: icmpRaw, ok: true},
		{name: "IPv6 loopback datagram", target: "::1", cfg: fast, v6: true, socket: icmpDatagram, ok: true},
		{name: "address of the wrong family", target: "127.0.0.1", cfg: checkconfig.ICMP{IPProtocol: "ip6"}, reason: "is not of ip_protocol ip6"},
		// TEST-NET-2: nothing answers (192.0.2.1, TEST-NET-1, is the gateway
		// of some sandboxes).
		{name: "never answers", target: "198.51.100.1", cfg: checkconfig.ICMP{Packets: 2, PacketInterval: model.Duration(50 * time.Millisecond)},
			timeout: 500 * time.Millisecond, reason: "lost (100% loss)"},
		{name: "timeout before all packets", target: "198.51.100.1", cfg: checkconfig.ICMP{Packets: 5, PacketInterval: model.Duration(time.Second)},
			timeout: 300 * time.Millisecond, reason: "all 1 packets to 198.51.100.1 lost (100% loss)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.v6 && !icmpTestHaveIPv6() {
				t.Skip("no IPv6 loopback on this machine")
			}
			if tt.socket != "" {
				c, _, err := listenICMP(tt.v6, tt.socket)
				if err != nil {
					t.Skipf("cannot open a %s ICMP socket here: %v", tt.socket, err)
				}
				_ = c.Close()
			}
			p, err := New(icmpCheck(t, tt.target, tt.cfg), Env{})
			require.NoError(t, err)
			p.(*icmpProber).socket = tt.socket
			timeout := tt.timeout
			if timeout == 0 {
				timeout = 5 * time.Second
			}
			ctx, cancel := context.WithTimeout(t.Context(), timeout)
			defer cancel()
			r := p.Probe(ctx)
			require.Equal(t, tt.ok, r.Success, "reason: %s", r.Reason)
			if !tt.ok {
				require.Contains(t, r.Reason, tt.reason)
				if tt.target == "198.51.100.1" {
					require.Equal(t, 1.0, dnsTestMetric(t, r, "saypro_icmp_packet_loss_ratio"))
					require.Equal(t, 0.0, dnsTestMetric(t, r, "saypro_icmp_packets_received"))
				}
				return
			}
			require.Empty(t, r.Reason)
			require.Empty(t, r.Warning)
			require.Positive(t, r.Latency)
			n := float64(tt.cfg.Packets)
			if n == 0 {
				n = 3
			}
			socket := tt.socket
			if socket == "" {
				// auto picks the datagram socket when the system allows it.
				socket = icmpRaw
				if c, _, err := listenICMP(tt.v6, icmpDatagram); err == nil {
					socket = icmpDatagram
					_ = c.Close()
				}
			}
			require.Equal(t, n, dnsTestMetric(t, r, "saypro_icmp_packets_sent", "socket", socket))
			require.Equal(t, n, dnsTestMetric(t, r, "saypro_icmp_packets_received"))
			require.Equal(t, 0.0, dnsTestMetric(t, r, "saypro_icmp_packet_loss_ratio"))
			minRTT := dnsTestMetric(t, r, "saypro_icmp_rtt_seconds", "stat", "min")
			avg := dnsTestMetric(t, r, "saypro_icmp_rtt_seconds", "stat", "avg")
			maxRTT := dnsTestMetric(t, r, "saypro_icmp_rtt_seconds", "stat", "max")
			require.LessOrEqual(t, minRTT, avg)
			require.LessOrEqual(t, avg, maxRTT)
			require.InDelta(t, r.Latency.Seconds(), avg, 1e-9)
			require.Equal(t, avg, dnsTestMetric(t, r, "probe_icmp_duration_seconds", "phase", "rtt"))
			dnsTestMetric(t, r, "probe_icmp_duration_seconds", "phase", "resolve")
			dnsTestMetric(t, r, "probe_icmp_duration_seconds", "phase", "setup")
			proto := 4.0
			if tt.v6 {
				proto = 6
			}
			require.Equal(t, proto, dnsTestMetric(t, r, "probe_ip_protocol"))
			hop := dnsTestMetric(t, r, "probe_icmp_reply_hop_limit")
			require.Positive(t, hop)
		})
	}
}

func TestICMPProbeCancelled(t *testing.T) {
	p, err := New(icmpCheck(t, "198.51.100.1", checkconfig.ICMP{Packets: 3, PacketInterval: model.Duration(time.Second)}), Env{})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	r := p.Probe(ctx)
	require.False(t, r.Success)
	require.Less(t, time.Since(start), 5*time.Second, "Probe must return soon after cancellation")
}

func TestICMPVerdict(t *testing.T) {
	dst := netip.MustParseAddr("192.0.2.7")
	tests := []struct {
		name     string
		st       icmpStats
		maxLoss  float64
		ok       bool
		reason   string
		warning  string
		wantDown bool
	}{
		{name: "no loss", st: icmpStats{sent: 3, received: 3}, maxLoss: 100, ok: true},
		{name: "some loss is degraded", st: icmpStats{sent: 3, received: 2}, maxLoss: 100, ok: true,
			warning: "1 of 3 packets to 192.0.2.7 lost (33.3% loss)"},
		{name: "loss above the limit is down", st: icmpStats{sent: 3, received: 1}, maxLoss: 50,
			reason: "2 of 3 packets to 192.0.2.7 lost (66.7% loss), above max_loss_percent 50"},
		{name: "loss at the limit is degraded", st: icmpStats{sent: 4, received: 2}, maxLoss: 50, ok: true,
			warning: "2 of 4 packets to 192.0.2.7 lost (50% loss)"},
		{name: "zero tolerance", st: icmpStats{sent: 10, received: 9}, maxLoss: 0,
			reason: "1 of 10 packets to 192.0.2.7 lost (10% loss), above max_loss_percent 0"},
		{name: "all lost", st: icmpStats{sent: 3, note: "destination unreachable (code 1) from 10.0.0.1"}, maxLoss: 100,
			reason: "all 3 packets to 192.0.2.7 lost (100% loss); destination unreachable (code 1) from 10.0.0.1"},
		{name: "nothing sent", st: icmpStats{}, maxLoss: 100, reason: "no echo request sent to 192.0.2.7 before the timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := icmpVerdict(Result{}, tt.st, tt.maxLoss, dst)
			require.Equal(t, tt.ok, r.Success)
			require.Equal(t, tt.reason, r.Reason)
			require.Equal(t, tt.warning, r.Warning)
		})
	}
}

func TestICMPQuotedEcho(t *testing.T) {
	// An IPv4 header (20 bytes) then the echo request's first 8 bytes.
	data := make([]byte, 28)
	data[0] = 0x45
	data[20] = 8 // echo request
	data[24], data[25] = 0x12, 0x34
	data[26], data[27] = 0x00, 0x07
	rep, ok := quotedEcho(data, false, "time to live exceeded")
	require.True(t, ok)
	require.True(t, rep.quoted)
	require.Equal(t, uint16(0x1234), rep.id)
	require.Equal(t, uint16(7), rep.seq)
	_, ok = quotedEcho(data[:10], false, "x")
	require.False(t, ok)
	data[20] = 0 // an echo reply is not ours to match
	_, ok = quotedEcho(data, false, "x")
	require.False(t, ok)
}
