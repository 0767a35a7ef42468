package probe

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"

	"github.com/saypro/monitor/internal/config/checkconfig"
)

// ICMP socket kinds, the socket label of saypro_icmp_packets_sent.
const (
	icmpDatagram = "datagram" // unprivileged, SOCK_DGRAM + IPPROTO_ICMP
	icmpRaw      = "raw"      // root or CAP_NET_RAW
)

// icmpReplyWait bounds the wait for replies after the last packet when
// the context has no deadline.
const icmpReplyWait = 5 * time.Second

// icmpProber pings a host: packets echo requests, one every interval.
type icmpProber struct {
	target   string
	packets  int
	interval time.Duration
	payload  int
	ipProto  string  // ip4, ip6 or empty (IPv4 first)
	maxLoss  float64 // percent; more loss is down
	logger   *slog.Logger
	// socket forces icmpDatagram or icmpRaw; empty tries the unprivileged
	// datagram socket, then a raw one.
	socket string
}

func newICMP(c *checkconfig.Check, env Env) (Prober, error) {
	i := c.ICMP
	if i == nil {
		i = &checkconfig.ICMP{}
	}
	p := &icmpProber{
		target:   strings.Trim(strings.TrimSpace(c.Target), "[]"),
		packets:  max(i.Packets, 1),
		interval: time.Duration(i.PacketInterval),
		payload:  max(i.PayloadSize, 0),
		ipProto:  i.IPProtocol,
		maxLoss:  100,
		logger:   env.Logger.With("check", c.Name, "kind", c.Kind),
	}
	if i.MaxLossPercent != nil {
		p.maxLoss = *i.MaxLossPercent
	}
	if p.interval <= 0 {
		p.interval = 200 * time.Millisecond
	}
	if p.target == "" {
		return nil, errors.New("no target host")
	}
	return p, nil
}

// icmpReply is an echo reply, or an error message quoting one of our
// requests, as read by the receiving goroutine.
type icmpReply struct {
	at    time.Time
	from  netip.Addr
	id    uint16
	seq   uint16
	data  []byte
	hop   int    // -1 unknown
	error string // set for destination unreachable and time exceeded
	// quoted: the error quotes our request, so seq is exact (raw sockets).
	quoted bool
}

// Probe sends the echo requests, collects the replies until every one
// came back or ctx is done, and reports loss and round-trip times.
func (p *icmpProber) Probe(ctx context.Context) Result {
	var r Result
	start := time.Now()
	dst, err := p.resolve(ctx)
	r.Add("probe_icmp_duration_seconds", time.Since(start).Seconds(), "phase", "resolve")
	if err != nil {
		return r.Failf("resolving %s: %v", p.target, err)
	}
	v6 := dst.Is6()
	if v6 {
		r.Add("probe_ip_protocol", 6)
	} else {
		r.Add("probe_ip_protocol", 4)
	}

	start = time.Now()
	conn, socket, err := listenICMP(v6, p.socket)
	r.Add("probe_icmp_duration_seconds", time.Since(start).Seconds(), "phase", "setup")
	if err != nil {
		return r.Failf("%v", err)
	}
	p.logger.Debug("pinging", "target", p.target, "address", dst, "socket", socket)

	s := icmpSession{
		conn: conn, v6: v6, raw: socket == icmpRaw, dst: dst,
		id: icmpRandUint16(), seqBase: icmpRandUint16(), token: make([]byte, 8),
	}
	_, _ = rand.Read(s.token)
	stats := s.run(ctx, p.packets, p.interval, p.payload)

	r.Add("saypro_icmp_packets_sent", float64(stats.sent), "socket", socket)
	r.Add("saypro_icmp_packets_received", float64(stats.received))
	loss := 0.0
	if stats.sent > 0 {
		loss = float64(stats.sent-stats.received) / float64(stats.sent)
	}
	r.Add("saypro_icmp_packet_loss_ratio", loss)
	if stats.received > 0 {
		avg := stats.total / time.Duration(stats.received)
		r.Add("probe_icmp_duration_seconds", avg.Seconds(), "phase", "rtt")
		r.Add("saypro_icmp_rtt_seconds", stats.min.Seconds(), "stat", "min")
		r.Add("saypro_icmp_rtt_seconds", avg.Seconds(), "stat", "avg")
		r.Add("saypro_icmp_rtt_seconds", stats.max.Seconds(), "stat", "max")
		if stats.hop >= 0 {
			r.Add("probe_icmp_reply_hop_limit", float64(stats.hop))
		}
		r.Latency = max(avg, time.Nanosecond)
	}
	return icmpVerdict(r, stats, p.maxLoss, dst)
}

// icmpVerdict decides the state from the counts: every packet lost, or
// more loss than maxLoss percent, is down; any loss is degraded.
func icmpVerdict(r Result, st icmpStats, maxLoss float64, dst netip.Addr) Result {
	lost := st.sent - st.received
	pct := 0.0
	if st.sent > 0 {
		pct = 100 * float64(lost) / float64(st.sent)
	}
	why := ""
	if st.note != "" {
		why = "; " + st.note
	}
	switch {
	case st.sent == 0:
		return r.Failf("no echo request sent to %s before the timeout%s", dst, why)
	case st.received == 0:
		return r.Failf("all %d packets to %s lost (100%% loss)%s", st.sent, dst, why)
	case pct > maxLoss:
		return r.Failf("%d of %d packets to %s lost (%.3g%% loss), above max_loss_percent %g%s", lost, st.sent, dst, pct, maxLoss, why)
	}
	r.Success = true
	if lost > 0 {
		r.Warnf("%d of %d packets to %s lost (%.3g%% loss)%s", lost, st.sent, dst, pct, why)
	}
	return r
}

// resolve returns the address pinged: the target itself or its first
// address of the configured family, IPv4 first when none is set.
func (p *icmpProber) resolve(ctx context.Context) (netip.Addr, error) {
	if a, err := netip.ParseAddr(p.target); err == nil {
		a = a.Unmap()
		if (p.ipProto == "ip4" && !a.Is4()) || (p.ipProto == "ip6" && !a.Is6()) {
			return netip.Addr{}, fmt.Errorf("address %s is not of ip_protocol %s", a, p.ipProto)
		}
		return a, nil
	}
	network := "ip"
	switch p.ipProto {
	case "ip4":
		network = "ip4"
	case "ip6":
		network = "ip6"
	}
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, network, p.target)
	if err != nil {
		return netip.Addr{}, err
	}
	for _, a := range addrs {
		if a.Unmap().Is4() {
			return a.Unmap(), nil
		}
	}
	if len(addrs) == 0 {
		return netip.Addr{}, errors.New("no address")
	}
	return addrs[0].Unmap(), nil
}

// listenICMP opens an unprivileged ICMP datagram socket, or a raw socket
// when that is refused (or when socket asks for one kind).
func listenICMP(v6 bool, socket string) (*icmp.PacketConn, string, error) {
	dgram, raw, addr := "udp4", "ip4:icmp", "0.0.0.0"
	if v6 {
		dgram, raw, addr = "udp6", "ip6:ipv6-icmp", "::"
	}
	var dErr, rErr error
	if socket != icmpRaw {
		c, err := icmp.ListenPacket(dgram, addr)
		if err == nil {
			return c, icmpDatagram, nil
		}
		dErr = err
	}
	if socket != icmpDatagram {
		c, err := icmp.ListenPacket(raw, addr)
		if err == nil {
			return c, icmpRaw, nil
		}
		rErr = err
	}
	switch {
	case dErr == nil:
		return nil, "", fmt.Errorf("cannot open a raw ICMP socket: %w", rErr)
	case rErr == nil:
		return nil, "", fmt.Errorf("cannot open an unprivileged ICMP socket: %w%s", dErr, pingGroupHint())
	}
	return nil, "", fmt.Errorf("cannot open an ICMP socket: unprivileged: %v; raw: %w%s", dErr, rErr, pingGroupHint())
}

func icmpRandUint16() uint16 {
	var b [2]byte
	_, _ = rand.Read(b[:])
	return binary.BigEndian.Uint16(b[:])
}

// icmpSession is one run's socket and identifiers.
type icmpSession struct {
	conn    *icmp.PacketConn
	v6, raw bool
	dst     netip.Addr
	id      uint16 // rewritten by the kernel on datagram sockets
	seqBase uint16
	token   []byte // starts every payload, to tell our replies apart
}

// icmpStats are the counts of a run.
type icmpStats struct {
	sent, received int
	min, max       time.Duration
	total          time.Duration
	hop            int
	note           string // a send error or an ICMP error seen
}

// run sends count packets and gathers replies; it closes the socket and
// waits for its reader before returning.
func (s *icmpSession) run(ctx context.Context, count int, interval time.Duration, payload int) icmpStats {
	st := icmpStats{hop: -1}
	sentAt := make([]time.Time, count)
	got := make([]bool, count)
	failed := 0 // requests answered by an ICMP error

	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(time.Duration(count)*interval + icmpReplyWait)
	}
	_ = s.conn.SetReadDeadline(deadline)
	replies := make(chan icmpReply, count+8)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { s.read(replies, stop) })
	defer func() {
		close(stop)
		_ = s.conn.Close()
		wg.Wait()
	}()

	body := make([]byte, payload)
	copy(body, s.token)
	for i := len(s.token); i < len(body); i++ {
		body[i] = byte(i)
	}
	var dst net.Addr = &net.IPAddr{IP: s.dst.AsSlice(), Zone: s.dst.Zone()}
	if !s.raw {
		dst = &net.UDPAddr{IP: s.dst.AsSlice(), Zone: s.dst.Zone()}
	}
	var typ icmp.Type = ipv4.ICMPTypeEcho
	if s.v6 {
		typ = ipv6.ICMPTypeEchoRequest
	}
	send := func(i int) {
		m := icmp.Message{Type: typ, Body: &icmp.Echo{ID: int(s.id), Seq: int(s.seqBase + uint16(i)), Data: body}}
		b, err := m.Marshal(nil)
		if err == nil {
			sentAt[i] = time.Now()
			_, err = s.conn.WriteTo(b, dst)
		}
		st.sent++
		if err != nil {
			st.note = "sending: " + icmpErrorText(err)
		}
	}

	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	next := 0
	send(next)
	next++
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	var tick <-chan time.Time = ticker.C
	if next == count {
		tick = nil
	}
	for st.received+failed < count || next < count {
		select {
		case <-ctx.Done():
			return st
		case <-timer.C:
			return st
		case <-tick:
			send(next)
			next++
			if next == count {
				tick = nil
			}
		case rep, ok := <-replies:
			if !ok {
				return st
			}
			i, match := s.match(rep, next)
			if !match {
				continue
			}
			if got[i] {
				continue // a duplicate
			}
			if rep.error != "" {
				st.note = rep.error
				if rep.quoted {
					got[i] = true
					failed++
				}
				continue
			}
			got[i] = true
			rtt := max(rep.at.Sub(sentAt[i]), 0)
			if st.received == 0 || rtt < st.min {
				st.min = rtt
			}
			st.max = max(st.max, rtt)
			st.total += rtt
			st.received++
			if rep.hop >= 0 {
				st.hop = rep.hop
			}
		}
	}
	return st
}

// match reports whether a reply answers request i of those sent so far.
// Datagram sockets only receive replies to their own identifier, which the
// kernel sets, so the sequence and source are compared; raw sockets see
// every ICMP message of the host, so the identifier is compared too.
func (s *icmpSession) match(rep icmpReply, sent int) (int, bool) {
	i := int(rep.seq - s.seqBase)
	if i < 0 || i >= sent {
		return 0, false
	}
	if s.raw && rep.id != s.id {
		return 0, false
	}
	if rep.error != "" {
		return i, true // quoted from our request; it came from a router
	}
	if rep.from != s.dst {
		return 0, false
	}
	if len(s.token) > 0 && len(rep.data) >= len(s.token) && !bytes.Equal(rep.data[:len(s.token)], s.token) {
		return 0, false
	}
	return i, true
}

// read receives messages until the socket is closed or its deadline
// passes, passing on echo replies and errors quoting an echo request.
func (s *icmpSession) read(out chan<- icmpReply, stop <-chan struct{}) {
	defer close(out)
	proto := 1 // iana.ProtocolICMP
	// Without control messages the hop limit is unknown (-1).
	readFrom := func(b []byte) (int, int, net.Addr, error) { n, a, err := s.conn.ReadFrom(b); return n, -1, a, err }
	if s.v6 {
		proto = 58 // iana.ProtocolIPv6ICMP
		if pc := s.conn.IPv6PacketConn(); pc.SetControlMessage(ipv6.FlagHopLimit, true) == nil {
			readFrom = func(b []byte) (int, int, net.Addr, error) {
				n, cm, a, err := pc.ReadFrom(b)
				if cm == nil {
					return n, -1, a, err
				}
				return n, cm.HopLimit, a, err
			}
		}
	} else if pc := s.conn.IPv4PacketConn(); pc.SetControlMessage(ipv4.FlagTTL, true) == nil {
		readFrom = func(b []byte) (int, int, net.Addr, error) {
			n, cm, a, err := pc.ReadFrom(b)
			if cm == nil {
				return n, -1, a, err
			}
			return n, cm.TTL, a, err
		}
	}
	buf := make([]byte, 65536)
	errs := 0
	for {
		n, hop, from, err := readFrom(buf)
		at := time.Now()
		if err != nil {
			var ne net.Error
			if errors.Is(err, net.ErrClosed) || (errors.As(err, &ne) && ne.Timeout()) || errs > 100 {
				return
			}
			// A datagram socket reports an ICMP error as a read error.
			errs++
			select {
			case out <- icmpReply{error: icmpErrorText(err), seq: s.seqBase}:
			case <-stop:
				return
			}
			continue
		}
		rep, ok := parseICMPReply(proto, buf[:n], s.v6)
		if !ok {
			continue
		}
		rep.at, rep.hop = at, hop
		rep.from = icmpAddrOf(from)
		if rep.error != "" {
			rep.error = fmt.Sprintf("%s from %s", rep.error, rep.from)
		}
		select {
		case out <- rep:
		case <-stop:
			return
		}
	}
}

// parseICMPReply reads an echo reply, or a destination unreachable or
// time exceeded message quoting an echo request.
func parseICMPReply(proto int, b []byte, v6 bool) (icmpReply, bool) {
	m, err := icmp.ParseMessage(proto, b)
	if err != nil {
		return icmpReply{}, false
	}
	switch body := m.Body.(type) {
	case *icmp.Echo:
		if m.Type != ipv4.ICMPTypeEchoReply && m.Type != ipv6.ICMPTypeEchoReply {
			return icmpReply{}, false
		}
		return icmpReply{id: uint16(body.ID), seq: uint16(body.Seq), data: bytes.Clone(body.Data)}, true
	case *icmp.DstUnreach:
		return quotedEcho(body.Data, v6, fmt.Sprintf("destination unreachable (code %d)", m.Code))
	case *icmp.TimeExceeded:
		return quotedEcho(body.Data, v6, "time to live exceeded")
	}
	return icmpReply{}, false
}

// quotedEcho finds the identifier and sequence of the echo request an
// ICMP error quotes after the original IP header.
func quotedEcho(data []byte, v6 bool, what string) (icmpReply, bool) {
	hl := 40
	if !v6 {
		if len(data) < 1 {
			return icmpReply{}, false
		}
		hl = int(data[0]&0x0f) * 4
	}
	if len(data) < hl+8 {
		return icmpReply{}, false
	}
	h := data[hl:]
	if (v6 && h[0] != byte(ipv6.ICMPTypeEchoRequest)) || (!v6 && h[0] != byte(ipv4.ICMPTypeEcho)) {
		return icmpReply{}, false
	}
	return icmpReply{id: binary.BigEndian.Uint16(h[4:6]), seq: binary.BigEndian.Uint16(h[6:8]), error: what, quoted: true}, true
}

func icmpAddrOf(a net.Addr) netip.Addr {
	var ip net.IP
	switch a := a.(type) {
	case *net.IPAddr:
		ip = a.IP
	case *net.UDPAddr:
		ip = a.IP
	}
	addr, _ := netip.AddrFromSlice(ip)
	return addr.Unmap()
}

// icmpErrorText drops the "sendto"/"read ip4 0.0.0.0" prefixes of a
// socket error.
func icmpErrorText(err error) string {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		err = oe.Err
	}
	return err.Error()
}
