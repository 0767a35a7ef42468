package probe

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/saypro/monitor/internal/config/checkconfig"
)

// dnsDefaultResolvConf is where the system's resolver is read when a dns
// check names no server.
const dnsDefaultResolvConf = "/etc/resolv.conf"

// dnsProber asks one server for one name and type.
type dnsProber struct {
	name        string // the question, fully qualified
	qtype       uint16
	server      string // host:port; empty: the first nameserver of resolvConf
	resolvConf  string
	transport   string // udp or tcp
	validRcodes []int
	expect      []string
	recursion   bool
	logger      *slog.Logger
}

func newDNS(c *checkconfig.Check, env Env) (Prober, error) {
	d := c.DNS
	if d == nil {
		d = &checkconfig.DNS{}
	}
	p := &dnsProber{
		resolvConf: dnsDefaultResolvConf,
		transport:  cmp.Or(d.Transport, "udp"),
		expect:     d.Expect,
		recursion:  !d.NoRecursion,
		logger:     env.Logger.With("check", c.Name, "kind", c.Kind),
	}
	qtype, ok := dns.StringToType[strings.ToUpper(cmp.Or(d.Type, "A"))]
	if !ok {
		return nil, fmt.Errorf("unknown record type %q", d.Type)
	}
	p.qtype = qtype
	p.name = dns.Fqdn(strings.TrimSpace(c.Target))
	if qtype == dns.TypePTR {
		// An address is turned into its in-addr.arpa or ip6.arpa name.
		if ip, err := netip.ParseAddr(strings.TrimSpace(c.Target)); err == nil {
			rev, err := dns.ReverseAddr(ip.String())
			if err != nil {
				return nil, fmt.Errorf("reverse name of %s: %w", ip, err)
			}
			p.name = rev
		}
	}
	if _, ok := dns.IsDomainName(p.name); !ok {
		return nil, fmt.Errorf("target %q is not a domain name", c.Target)
	}
	if d.Server != "" {
		s, err := dnsServerAddress(d.Server, "53")
		if err != nil {
			return nil, err
		}
		p.server = s
	}
	rcodes := d.ValidRcodes
	if len(rcodes) == 0 {
		rcodes = []string{"NOERROR"}
	}
	for _, rc := range rcodes {
		n, ok := dns.StringToRcode[strings.ToUpper(strings.TrimSpace(rc))]
		if !ok {
			return nil, fmt.Errorf("unknown rcode %q in valid_rcodes (use NOERROR, NXDOMAIN, SERVFAIL, REFUSED, ...)", rc)
		}
		p.validRcodes = append(p.validRcodes, n)
	}
	for _, e := range d.Expect {
		if strings.TrimSpace(e) == "" {
			return nil, errors.New("expect holds an empty value")
		}
	}
	return p, nil
}

// dnsServerAddress turns host, host:port, an IPv6 address or [v6]:port into
// host:port.
func dnsServerAddress(s, defPort string) (string, error) {
	s = strings.TrimSpace(s)
	if ip, err := netip.ParseAddr(strings.Trim(s, "[]")); err == nil {
		return net.JoinHostPort(ip.String(), defPort), nil
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		if strings.Contains(s, ":") {
			return "", fmt.Errorf("server %q is not host[:port]", s)
		}
		return net.JoinHostPort(s, defPort), nil
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || host == "" {
		return "", fmt.Errorf("server %q is not host[:port]", s)
	}
	return s, nil
}

// dnsSystemServer is the first nameserver of a resolv.conf file.
func dnsSystemServer(path string) (string, error) {
	conf, err := dns.ClientConfigFromFile(path)
	if err != nil {
		return "", fmt.Errorf("no dns.server set and the system resolver is unknown: %w", err)
	}
	if len(conf.Servers) == 0 {
		return "", fmt.Errorf("no dns.server set and %s lists no nameserver", path)
	}
	return net.JoinHostPort(conf.Servers[0], cmp.Or(conf.Port, "53")), nil
}

// Probe sends the query and checks the rcode and the expected answers.
func (p *dnsProber) Probe(ctx context.Context) Result {
	var r Result
	server := p.server
	if server == "" {
		s, err := dnsSystemServer(p.resolvConf)
		if err != nil {
			return r.Failf("%v", err)
		}
		server = s
	}
	// Resolve the server's name, as blackbox_exporter's
	// probe_dns_lookup_time_seconds times it.
	host, port, _ := net.SplitHostPort(server)
	start := time.Now()
	addr, err := netip.ParseAddr(host)
	if err != nil {
		addrs, lerr := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		if lerr != nil || len(addrs) == 0 {
			r.Add("probe_dns_lookup_time_seconds", time.Since(start).Seconds())
			return r.Failf("resolving the dns server %s: %v", host, lerr)
		}
		addr = addrs[0]
		if i := slices.IndexFunc(addrs, func(a netip.Addr) bool { return a.Unmap().Is4() }); i >= 0 {
			addr = addrs[i]
		}
	}
	addr = addr.Unmap()
	r.Add("probe_dns_lookup_time_seconds", time.Since(start).Seconds())
	if addr.Is4() {
		r.Add("probe_ip_protocol", 4)
	} else {
		r.Add("probe_ip_protocol", 6)
	}
	target := net.JoinHostPort(addr.String(), port)

	m := new(dns.Msg)
	m.SetQuestion(p.name, p.qtype)
	m.RecursionDesired = p.recursion
	m.SetEdns0(dns.DefaultMsgSize, false)

	resp, rtt, transport, err := p.exchange(ctx, m, target)
	r.Add("probe_dns_duration_seconds", rtt.Seconds(), "phase", "request")
	if err != nil {
		r.Add("probe_dns_query_succeeded", 0)
		return r.Failf("%s", dnsErrorReason(ctx, err, server, transport))
	}
	r.Latency = max(rtt, time.Nanosecond)
	r.Add("probe_dns_answer_rrs", float64(len(resp.Answer)))
	r.Add("probe_dns_authority_rrs", float64(len(resp.Ns)))
	r.Add("probe_dns_additional_rrs", float64(len(resp.Extra)))
	for _, rr := range slices.Concat(resp.Answer, resp.Ns) {
		if soa, ok := rr.(*dns.SOA); ok {
			r.Add("probe_dns_serial", float64(soa.Serial))
			break
		}
	}
	if !slices.Contains(p.validRcodes, resp.Rcode) {
		r.Add("probe_dns_query_succeeded", 0)
		return r.Failf("rcode %s, expected %s", dns.RcodeToString[resp.Rcode], p.rcodeNames())
	}
	var missing []string
	for _, e := range p.expect {
		if !slices.ContainsFunc(resp.Answer, func(rr dns.RR) bool { return dnsAnswerMatches(rr, e) }) {
			missing = append(missing, strings.TrimSpace(e))
		}
	}
	if len(missing) > 0 {
		r.Add("probe_dns_query_succeeded", 0)
		return r.Failf("answer lacks %s (got %s)", strings.Join(missing, ", "), dnsDescribeAnswers(resp.Answer))
	}
	r.Add("probe_dns_query_succeeded", 1)
	r.Success = true
	return r
}

// exchange sends m over the configured transport, and again over TCP when
// the UDP answer is truncated.
func (p *dnsProber) exchange(ctx context.Context, m *dns.Msg, target string) (*dns.Msg, time.Duration, string, error) {
	transport := p.transport
	for {
		timeout := 10 * time.Second
		if dl, ok := ctx.Deadline(); ok {
			timeout = time.Until(dl)
		}
		if timeout <= 0 {
			return nil, 0, transport, context.DeadlineExceeded
		}
		c := &dns.Client{Net: transport, Timeout: timeout}
		start := time.Now()
		conn, err := c.DialContext(ctx, target)
		if err != nil {
			return nil, time.Since(start), transport, err
		}
		// A cancelled context (not only its deadline) ends the wait.
		stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Now()) })
		resp, _, err := c.ExchangeWithConnContext(ctx, m, conn)
		rtt := time.Since(start)
		stop()
		_ = conn.Close()
		if err == nil && resp.Truncated && transport == "udp" {
			p.logger.Debug("dns answer truncated, asking again over tcp", "server", target)
			transport = "tcp"
			continue
		}
		return resp, rtt, transport, err
	}
}

func (p *dnsProber) rcodeNames() string {
	names := make([]string, len(p.validRcodes))
	for i, rc := range p.validRcodes {
		names[i] = dns.RcodeToString[rc]
	}
	return strings.Join(names, " or ")
}

func dnsErrorReason(ctx context.Context, err error, server, transport string) string {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded),
		errors.As(err, &ne) && ne.Timeout():
		if ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fmt.Sprintf("query to %s over %s cancelled", server, transport)
		}
		return fmt.Sprintf("timeout: no answer from %s over %s", server, transport)
	}
	return fmt.Sprintf("query to %s over %s: %v", server, transport, err)
}

// dnsAnswerValue is the text of a record's data as the expect setting writes
// it: an address, a name with its trailing dot, "10 mail.example.com.",
// TXT text with its strings joined.
func dnsAnswerValue(rr dns.RR) string {
	switch v := rr.(type) {
	case *dns.A:
		return v.A.String()
	case *dns.AAAA:
		return v.AAAA.String()
	case *dns.CNAME:
		return v.Target
	case *dns.NS:
		return v.Ns
	case *dns.PTR:
		return v.Ptr
	case *dns.MX:
		return fmt.Sprintf("%d %s", v.Preference, v.Mx)
	case *dns.TXT:
		return strings.Join(v.Txt, "")
	case *dns.SRV:
		return fmt.Sprintf("%d %d %d %s", v.Priority, v.Weight, v.Port, v.Target)
	case *dns.SOA:
		return fmt.Sprintf("%s %s %d", v.Ns, v.Mbox, v.Serial)
	}
	s := rr.String()
	return strings.TrimSpace(strings.TrimPrefix(s, rr.Header().String()))
}

// dnsAnswerMatches compares an expected value with one record, tolerant of
// case and trailing dots in names and of the spelling of addresses.
func dnsAnswerMatches(rr dns.RR, want string) bool {
	want = strings.TrimSpace(want)
	sameName := func(a, b string) bool { return strings.EqualFold(dns.Fqdn(a), dns.Fqdn(b)) }
	sameIP := func(ip net.IP) bool {
		w, err := netip.ParseAddr(want)
		got, ok := netip.AddrFromSlice(ip)
		return err == nil && ok && w.Unmap() == got.Unmap()
	}
	switch v := rr.(type) {
	case *dns.A:
		return sameIP(v.A)
	case *dns.AAAA:
		return sameIP(v.AAAA)
	case *dns.CNAME:
		return sameName(want, v.Target)
	case *dns.NS:
		return sameName(want, v.Ns)
	case *dns.PTR:
		return sameName(want, v.Ptr)
	case *dns.MX:
		f := strings.Fields(want)
		switch len(f) {
		case 1: // the host alone
			return sameName(f[0], v.Mx)
		case 2:
			pref, err := strconv.ParseUint(f[0], 10, 16)
			return err == nil && uint16(pref) == v.Preference && sameName(f[1], v.Mx)
		}
		return false
	case *dns.TXT:
		return want == strings.Join(v.Txt, "") || slices.Contains(v.Txt, want)
	case *dns.SRV:
		f := strings.Fields(want)
		if len(f) == 1 {
			return sameName(f[0], v.Target)
		}
		return len(f) == 4 && f[0] == strconv.Itoa(int(v.Priority)) && f[1] == strconv.Itoa(int(v.Weight)) &&
			f[2] == strconv.Itoa(int(v.Port)) && sameName(f[3], v.Target)
	case *dns.SOA:
		f := strings.Fields(want)
		return len(f) >= 1 && sameName(f[0], v.Ns) && (len(f) < 2 || sameName(f[1], v.Mbox))
	}
	return want == dnsAnswerValue(rr)
}

// dnsDescribeAnswers lists the answers for a reason, a few at most.
func dnsDescribeAnswers(rrs []dns.RR) string {
	if len(rrs) == 0 {
		return "no answers"
	}
	const most = 5
	vals := make([]string, 0, min(len(rrs), most))
	for _, rr := range rrs[:min(len(rrs), most)] {
		v := dnsAnswerValue(rr)
		if _, ok := rr.(*dns.TXT); ok {
			v = strconv.Quote(v)
		}
		vals = append(vals, v)
	}
	s := strings.Join(vals, ", ")
	if len(rrs) > most {
		s += fmt.Sprintf(" and %d more", len(rrs)-most)
	}
	return s
}
