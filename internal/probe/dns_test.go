package probe

import (
	"cmp"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/require"

	"github.com/saypro/monitor/internal/config/checkconfig"
)

// testZoneRecords is what the in-process DNS server answers.
var testZoneRecords = []string{
	"www.example.test. 60 IN A 10.0.0.4",
	"www.example.test. 60 IN A 10.0.0.6",
	"www.example.test. 60 IN AAAA 2001:db8::1",
	"alias.example.test. 60 IN CNAME www.example.test.",
	"example.test. 60 IN MX 10 mail.example.test.",
	"example.test. 60 IN MX 20 backup.example.test.",
	`example.test. 60 IN TXT "v=spf1 -all"`,
	`example.test. 60 IN TXT "part one " "part two"`,
	"example.test. 60 IN NS ns1.example.test.",
	"example.test. 60 IN SOA ns1.example.test. hostmaster.example.test. 2024050101 3600 600 86400 60",
	"_http._tcp.example.test. 60 IN SRV 0 5 8080 www.example.test.",
	"4.0.0.10.in-addr.arpa. 60 IN PTR www.example.test.",
	"refused.example.test. 60 IN A 10.9.9.9",
}

// startDNSServer serves testZoneRecords over UDP and TCP on one port of
// 127.0.0.1; big.example.test has enough TXT records to be truncated over
// UDP and refused.example.test answers REFUSED.
func startDNSServer(t *testing.T) string {
	t.Helper()
	zone := map[string][]dns.RR{}
	for _, s := range testZoneRecords {
		rr, err := dns.NewRR(s)
		require.NoError(t, err)
		zone[rr.Header().Name] = append(zone[rr.Header().Name], rr)
	}
	for i := range 80 {
		rr, err := dns.NewRR(fmt.Sprintf(`big.example.test. 60 IN TXT "record %02d %s"`, i, strings.Repeat("x", 60)))
		require.NoError(t, err)
		zone["big.example.test."] = append(zone["big.example.test."], rr)
	}
	soa := zone["example.test."][len(zone["example.test."])-1]
	handler := dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(req)
		q := req.Question[0]
		name := strings.ToLower(q.Name)
		rrs, ok := zone[name]
		switch {
		case name == "refused.example.test.":
			m.Rcode = dns.RcodeRefused
		case !ok:
			m.Rcode = dns.RcodeNameError
			m.Ns = append(m.Ns, soa)
		default:
			for _, rr := range rrs {
				if rr.Header().Rrtype == q.Qtype {
					m.Answer = append(m.Answer, rr)
				}
			}
			// Follow a CNAME once, as a recursive server does.
			if len(m.Answer) == 0 && len(rrs) == 1 && rrs[0].Header().Rrtype == dns.TypeCNAME && q.Qtype != dns.TypeCNAME {
				m.Answer = append(m.Answer, rrs[0])
				for _, rr := range zone[rrs[0].(*dns.CNAME).Target] {
					if rr.Header().Rrtype == q.Qtype {
						m.Answer = append(m.Answer, rr)
					}
				}
			}
		}
		if _, udp := w.RemoteAddr().(*net.UDPAddr); udp {
			size := dns.MinMsgSize
			if opt := req.IsEdns0(); opt != nil {
				size = int(opt.UDPSize())
			}
			m.Truncate(size)
		}
		_ = w.WriteMsg(m)
	})

	var pc net.PacketConn
	var ln net.Listener
	for range 20 {
		var err error
		pc, err = net.ListenPacket("udp", "127.0.0.1:0")
		require.NoError(t, err)
		ln, err = net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			break
		}
		_ = pc.Close()
		pc = nil
	}
	require.NotNil(t, pc, "no port free for both udp and tcp")
	for _, s := range []*dns.Server{{PacketConn: pc, Handler: handler}, {Listener: ln, Handler: handler}} {
		started := make(chan struct{})
		s.NotifyStartedFunc = func() { close(started) }
		go func() { _ = s.ActivateAndServe() }()
		<-started
		t.Cleanup(func() { _ = s.Shutdown() })
	}
	return pc.LocalAddr().String()
}

// startSilentDNSServer reads queries and never answers.
func startSilentDNSServer(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = pc.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			if _, _, err := pc.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
	return pc.LocalAddr().String()
}

func dnsCheck(t *testing.T, target string, d checkconfig.DNS) *checkconfig.Check {
	t.Helper()
	c := &checkconfig.Check{
		Name: "dns-test", Kind: checkconfig.KindDNS, Target: target,
		Interval: checkconfig.DefaultInterval, Timeout: checkconfig.DefaultTimeout, DNS: &d,
	}
	require.Empty(t, c.Validate("checks", 0))
	return c
}

func dnsTestMetric(t *testing.T, r Result, name string, labels ...string) float64 {
	t.Helper()
	for _, m := range r.Metrics {
		if m.Name != name || len(m.Labels)*2 != len(labels) {
			continue
		}
		match := true
		for i, l := range m.Labels {
			if l.Name != labels[2*i] || l.Value != labels[2*i+1] {
				match = false
			}
		}
		if match {
			return m.Value
		}
	}
	require.Failf(t, "metric missing", "%s%v not in %v", name, labels, r.Metrics)
	return 0
}

func TestDNSProbe(t *testing.T) {
	server := startDNSServer(t)
	silent := startSilentDNSServer(t)
	tests := []struct {
		name    string
		target  string
		cfg     checkconfig.DNS
		timeout time.Duration
		ok      bool
		reason  string // substring of the reason
		answers float64
	}{
		{name: "A", target: "www.example.test", cfg: checkconfig.DNS{Type: "A", Expect: []string{"10.0.0.4", "10.0.0.6"}}, ok: true, answers: 2},
		{name: "A default type", target: "www.example.test.", cfg: checkconfig.DNS{}, ok: true, answers: 2},
		{name: "A case and dots", target: "WWW.Example.Test", cfg: checkconfig.DNS{Expect: []string{" 10.0.0.6 "}}, ok: true, answers: 2},
		{name: "A missing", target: "www.example.test", cfg: checkconfig.DNS{Expect: []string{"10.0.0.5"}},
			reason: "answer lacks 10.0.0.5 (got 10.0.0.4, 10.0.0.6)", answers: 2},
		{name: "AAAA", target: "www.example.test", cfg: checkconfig.DNS{Type: "aaaa", Expect: []string{"2001:DB8:0::1"}}, ok: true, answers: 1},
		{name: "CNAME", target: "alias.example.test", cfg: checkconfig.DNS{Type: "CNAME", Expect: []string{"www.example.test"}}, ok: true, answers: 1},
		{name: "A through CNAME", target: "alias.example.test", cfg: checkconfig.DNS{Expect: []string{"10.0.0.4", "www.example.test."}}, ok: true, answers: 3},
		{name: "MX", target: "example.test", cfg: checkconfig.DNS{Type: "MX", Expect: []string{"10 mail.example.test.", "backup.example.test"}}, ok: true, answers: 2},
		{name: "MX wrong preference", target: "example.test", cfg: checkconfig.DNS{Type: "MX", Expect: []string{"20 mail.example.test"}},
			reason: "answer lacks 20 mail.example.test (got 10 mail.example.test., 20 backup.example.test.)", answers: 2},
		{name: "TXT", target: "example.test", cfg: checkconfig.DNS{Type: "TXT", Expect: []string{"v=spf1 -all", "part one part two"}}, ok: true, answers: 2},
		{name: "TXT missing", target: "example.test", cfg: checkconfig.DNS{Type: "TXT", Expect: []string{"v=spf1 +all"}},
			reason: `answer lacks v=spf1 +all (got "v=spf1 -all", "part one part two")`, answers: 2},
		{name: "NS", target: "example.test", cfg: checkconfig.DNS{Type: "NS", Expect: []string{"NS1.example.test"}}, ok: true, answers: 1},
		{name: "SOA", target: "example.test", cfg: checkconfig.DNS{Type: "SOA", Expect: []string{"ns1.example.test."}}, ok: true, answers: 1},
		{name: "SRV", target: "_http._tcp.example.test", cfg: checkconfig.DNS{Type: "SRV", Expect: []string{"0 5 8080 www.example.test"}}, ok: true, answers: 1},
		{name: "PTR from address", target: "10.0.0.4", cfg: checkconfig.DNS{Type: "PTR", Expect: []string{"www.example.test"}}, ok: true, answers: 1},
		{name: "NXDOMAIN", target: "nope.example.test", cfg: checkconfig.DNS{}, reason: "rcode NXDOMAIN, expected NOERROR"},
		{name: "NXDOMAIN expected", target: "nope.example.test", cfg: checkconfig.DNS{ValidRcodes: []string{"nxdomain"}}, ok: true},
		{name: "REFUSED", target: "refused.example.test", cfg: checkconfig.DNS{ValidRcodes: []string{"NOERROR", "NXDOMAIN"}},
			reason: "rcode REFUSED, expected NOERROR or NXDOMAIN"},
		{name: "only a CNAME answer", target: "alias.example.test", cfg: checkconfig.DNS{Type: "MX", Expect: []string{"mail.example.test"}},
			reason: "answer lacks mail.example.test (got www.example.test.)", answers: 1},
		{name: "no answers", target: "www.example.test", cfg: checkconfig.DNS{Type: "MX", Expect: []string{"mail.example.test"}},
			reason: "answer lacks mail.example.test (got no answers)"},
		{name: "TCP", target: "www.example.test", cfg: checkconfig.DNS{Transport: "tcp", Expect: []string{"10.0.0.4"}}, ok: true, answers: 2},
		{name: "truncated over UDP, retried over TCP", target: "big.example.test", cfg: checkconfig.DNS{Type: "TXT", Expect: []string{"record 79 " + strings.Repeat("x", 60)}}, ok: true, answers: 80},
		{name: "server never answers", target: "www.example.test", cfg: checkconfig.DNS{Server: silent}, timeout: 300 * time.Millisecond,
			reason: "timeout: no answer from " + silent + " over udp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.cfg.Server == "" {
				tt.cfg.Server = server
			}
			p, err := New(dnsCheck(t, tt.target, tt.cfg), Env{})
			require.NoError(t, err)
			ctx, cancel := context.WithTimeout(t.Context(), cmp.Or(tt.timeout, 5*time.Second))
			defer cancel()
			r := p.Probe(ctx)
			require.Equal(t, tt.ok, r.Success, "reason: %s", r.Reason)
			if tt.ok {
				require.Empty(t, r.Reason)
				require.Positive(t, r.Latency)
				require.Equal(t, 1.0, dnsTestMetric(t, r, "probe_dns_query_succeeded"))
			} else {
				require.Contains(t, r.Reason, tt.reason)
				require.Equal(t, 0.0, dnsTestMetric(t, r, "probe_dns_query_succeeded"))
			}
			require.Equal(t, 4.0, dnsTestMetric(t, r, "probe_ip_protocol"))
			if tt.reason == "" || !strings.HasPrefix(tt.reason, "timeout") {
				require.Equal(t, tt.answers, dnsTestMetric(t, r, "probe_dns_answer_rrs"))
			}
			if tt.cfg.Type == "SOA" {
				require.Equal(t, 2024050101.0, dnsTestMetric(t, r, "probe_dns_serial"))
			}
		})
	}
}

func TestDNSProbeCancelled(t *testing.T) {
	silent := startSilentDNSServer(t)
	p, err := New(dnsCheck(t, "www.example.test", checkconfig.DNS{Server: silent, Transport: "udp"}), Env{})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(100*time.Millisecond, cancel)
	r := p.Probe(ctx)
	require.False(t, r.Success)
	require.Contains(t, r.Reason, "cancelled")
}

func TestDNSNewErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  checkconfig.DNS
		err  string
	}{
		{"bad rcode", checkconfig.DNS{ValidRcodes: []string{"NOPE"}}, `unknown rcode "NOPE"`},
		{"bad server port", checkconfig.DNS{Server: "127.0.0.1:99999"}, "is not host[:port]"},
		{"empty expect", checkconfig.DNS{Expect: []string{" "}}, "empty value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(dnsCheck(t, "example.test", tt.cfg), Env{})
			require.ErrorContains(t, err, tt.err)
		})
	}
}

func TestDNSServerAddress(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.1":      "127.0.0.1:53",
		"127.0.0.1:5353": "127.0.0.1:5353",
		"::1":            "[::1]:53",
		"[::1]":          "[::1]:53",
		"[::1]:5353":     "[::1]:5353",
		"dns.example":    "dns.example:53",
		"dns.example:54": "dns.example:54",
	} {
		got, err := dnsServerAddress(in, "53")
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
}

func TestDNSSystemServer(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "resolv.conf")
	require.NoError(t, os.WriteFile(path, []byte("# comment\nsearch example.test\nnameserver 192.0.2.53\nnameserver 192.0.2.54\n"), 0o600))
	got, err := dnsSystemServer(path)
	require.NoError(t, err)
	require.Equal(t, "192.0.2.53:53", got)

	require.NoError(t, os.WriteFile(path, []byte("search example.test\n"), 0o600))
	_, err = dnsSystemServer(path)
	require.ErrorContains(t, err, "lists no nameserver")

	// A check without a server reads the file at each run.
	server := startDNSServer(t)
	host, port, _ := net.SplitHostPort(server)
	require.NoError(t, os.WriteFile(path, []byte("nameserver "+host+"\noptions ndots:1\n"), 0o600))
	p, err := New(dnsCheck(t, "www.example.test", checkconfig.DNS{}), Env{})
	require.NoError(t, err)
	dp := p.(*dnsProber)
	dp.resolvConf = path
	// resolv.conf has no port; the test server is not on 53, so the
	// default is only checked to be the file's server.
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	r := dp.Probe(ctx)
	if port != "53" {
		require.False(t, r.Success)
		require.Contains(t, r.Reason, host+":53")
	}
}
