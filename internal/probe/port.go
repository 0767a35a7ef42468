package probe

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/prometheus/procfs"

	"github.com/saypro/monitor/internal/config/checkconfig"
)

// Socket states in /proc/net/{tcp,udp}{,6} (include/net/tcp_states.h).
const (
	tcpListen = 0x0a
	// udpUnconnected is TCP_CLOSE, the state of a UDP socket that is bound
	// but not connected: a listener.
	udpUnconnected = 0x07
)

type portProber struct {
	proto    string // tcp or udp
	host     string // empty: any address
	port     uint16
	procPath string
}

func newPort(c *checkconfig.Check, env Env) (Prober, error) {
	p := &portProber{proto: c.Port.Protocol, procPath: env.ProcPath}
	if p.proto == "" {
		p.proto = "tcp"
	}
	if p.proto != "tcp" && p.proto != "udp" {
		return nil, fmt.Errorf("protocol %q: use tcp or udp", p.proto)
	}
	if p.procPath == "" {
		p.procPath = procfs.DefaultMountPoint
	}
	portText := c.Target
	if host, port, err := net.SplitHostPort(c.Target); err == nil {
		p.host, portText = host, port
	}
	n, err := strconv.ParseUint(portText, 10, 16)
	if err != nil || n == 0 {
		return nil, fmt.Errorf("target %q is not a port (1-65535) or address:port", c.Target)
	}
	p.port = uint16(n)
	return p, nil
}

// Probe reads the socket tables of the host's network namespace.
func (p *portProber) Probe(ctx context.Context) Result {
	var r Result
	var want []netip.Addr
	if p.host != "" {
		var err error
		if want, err = p.addrs(ctx); err != nil {
			return r.Failf("%v", err)
		}
	}
	state := tcpListen
	if p.proto == "udp" {
		state = udpUnconnected
	}
	n, found := 0, 0
	var errs []error
	for _, file := range []string{p.proto, p.proto + "6"} {
		c, err := p.count(ctx, filepath.Join(p.procPath, "net", file), state, want)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			continue // no IPv6
		case err != nil:
			errs = append(errs, err)
			continue
		}
		found++
		n += c
	}
	if found == 0 {
		if len(errs) == 0 {
			errs = append(errs, fmt.Errorf("%s has no net/%s", p.procPath, p.proto))
		}
		return r.Failf("reading the socket table: %v", errors.Join(errs...))
	}
	if len(errs) > 0 && n == 0 {
		return r.Failf("reading the socket table: %v", errors.Join(errs...))
	}
	listening := 0.0
	if n > 0 {
		listening = 1
	}
	r.Add("saypro_port_listening", listening)
	r.Add("saypro_port_listeners", float64(n))
	if n == 0 {
		if p.host == "" {
			return r.Failf("nothing listens on %s port %d", p.proto, p.port)
		}
		return r.Failf("nothing listens on %s %s (nor on the wildcard address)", p.proto, net.JoinHostPort(p.host, strconv.Itoa(int(p.port))))
	}
	r.Success = true
	return r
}

// addrs resolves the target's host; a name such as localhost may stand
// for several addresses.
func (p *portProber) addrs(ctx context.Context) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(p.host); err == nil {
		return []netip.Addr{a.Unmap()}, nil
	}
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", p.host)
	if err != nil {
		return nil, fmt.Errorf("resolving %s: %w", p.host, err)
	}
	for i := range ips {
		ips[i] = ips[i].Unmap()
	}
	return ips, nil
}

// count returns the sockets in file on the check's port in state, bound
// to one of want or to the wildcard address (any address when want is
// empty).
func (p *portProber) count(ctx context.Context, file string, state int, want []netip.Addr) (int, error) {
	f, err := os.Open(file)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n := 0
	err = scanProcNet(f, func(s procNetSocket) error {
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		if s.port != p.port || int(s.state) != state {
			return nil
		}
		addr, ok := s.addr()
		if !ok {
			return fmt.Errorf("%s: bad local address %q", file, s.hexAddr)
		}
		if len(want) == 0 || addr.IsUnspecified() || slices.Contains(want, addr) {
			n++
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// procNetSocket is what the port check needs of a line of /proc/net/tcp,
// tcp6, udp or udp6: the local address (hex, decoded only for sockets on
// the right port), port and state.
type procNetSocket struct {
	hexAddr []byte
	port    uint16
	state   uint8
}

// addr decodes the local address: the kernel prints each 32-bit word of
// the address as a number in the host's byte order; the four words of an
// IPv6 address are in network order.
func (s procNetSocket) addr() (netip.Addr, bool) {
	var b [16]byte
	if len(s.hexAddr) != 8 && len(s.hexAddr) != 32 {
		return netip.Addr{}, false
	}
	n, err := hex.Decode(b[:], s.hexAddr)
	if err != nil {
		return netip.Addr{}, false
	}
	for i := 0; i < n; i += 4 {
		// The kernel printed each word with %08X: as a number, whose
		// bytes in memory are in the host's order.
		binary.NativeEndian.PutUint32(b[i:], binary.BigEndian.Uint32(b[i:]))
	}
	if n == 4 {
		return netip.AddrFrom4([4]byte(b[:4])), true
	}
	return netip.AddrFrom16(b).Unmap(), true
}

// scanProcNet calls fn for every socket line of a /proc/net/{tcp,udp}{,6}
// file, after its header. A line is
//
//	sl local_address rem_address st ...
//	0: 0100007F:1538 00000000:0000 0A ...
//
// Only the local address and state are parsed; a line that does not have
// them is an error.
func scanProcNet(r io.Reader, fn func(procNetSocket) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 512), 64<<10)
	first := true
	for sc.Scan() {
		line := sc.Bytes()
		if first {
			first = false
			continue // header
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		s, err := parseProcNetLine(line)
		if err != nil {
			return err
		}
		if err := fn(s); err != nil {
			return err
		}
	}
	return sc.Err()
}

func parseProcNetLine(line []byte) (procNetSocket, error) {
	var s procNetSocket
	var fields [4][]byte
	rest := line
	for i := range fields {
		rest = bytes.TrimLeft(rest, " \t")
		end := bytes.IndexAny(rest, " \t")
		if end < 0 {
			end = len(rest)
		}
		fields[i], rest = rest[:end], rest[end:]
		if len(fields[i]) == 0 {
			return s, fmt.Errorf("socket line %q: too few fields", procNetShort(line))
		}
	}
	addr, port, ok := bytes.Cut(fields[1], []byte{':'})
	if !ok || (len(addr) != 8 && len(addr) != 32) {
		return s, fmt.Errorf("socket line %q: bad local address", procNetShort(line))
	}
	pn, err := strconv.ParseUint(string(port), 16, 16)
	if err != nil {
		return s, fmt.Errorf("socket line %q: bad local port", procNetShort(line))
	}
	st, err := strconv.ParseUint(string(fields[3]), 16, 8)
	if err != nil {
		return s, fmt.Errorf("socket line %q: bad state", procNetShort(line))
	}
	s.hexAddr, s.port, s.state = addr, uint16(pn), uint8(st)
	return s, nil
}

func procNetShort(b []byte) []byte {
	if len(b) > 80 {
		return b[:80]
	}
	return b
}
