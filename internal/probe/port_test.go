package probe

import (
	"bytes"
	"context"
	"encoding/binary"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/saypro/monitor/internal/config/checkconfig"
)

func TestPortFixture(t *testing.T) {
	if binary.NativeEndian.Uint16([]byte{1, 0}) != 1 {
		t.Skip("the fixture's addresses are written by a little-endian kernel")
	}
	tests := []struct {
		target, proto string
		listeners     float64
		reason        string
	}{
		{target: "5432", listeners: 1}, // the established connections are not listeners
		{target: "127.0.0.1:5432", listeners: 1},
		{target: "10.0.0.1:5432", reason: "nothing listens on tcp 10.0.0.1:5432 (nor on the wildcard address)"},
		{target: "22", listeners: 1},
		{target: "10.1.2.3:22", listeners: 1},  // 0.0.0.0
		{target: "127.0.0.1:80", listeners: 1}, // ::
		{target: "[::1]:8080", listeners: 1},   // tcp6 ::1
		{target: "127.0.0.1:8080", reason: "nothing listens on tcp 127.0.0.1:8080 (nor on the wildcard address)"},
		{target: "10.0.0.5:9000", listeners: 1}, // ::ffff:10.0.0.5
		{target: ":9000", listeners: 1},
		{target: "6000", reason: "nothing listens on tcp port 6000"},
		{target: "54321", reason: "nothing listens on tcp port 54321"}, // 0xD431 is a remote port
		{target: "53", proto: "udp", listeners: 1},
		{target: "127.0.0.1:53", proto: "udp", listeners: 1},
		{target: "5353", proto: "udp", reason: "nothing listens on udp port 5353"}, // connected
		{target: "5432", proto: "udp", reason: "nothing listens on udp port 5432"},
	}
	for _, tt := range tests {
		t.Run(tt.proto+" "+tt.target, func(t *testing.T) {
			c := hostCheck(checkconfig.KindPort, tt.target)
			if tt.proto != "" {
				c.Port.Protocol = tt.proto
			}
			p, err := New(c, Env{ProcPath: "testdata/proc"})
			require.NoError(t, err)
			r := p.Probe(t.Context())
			require.Equal(t, tt.reason, r.Reason)
			require.Equal(t, tt.reason == "", r.Success)
			v, ok := hostMetric(t, r, "saypro_port_listeners")
			require.True(t, ok)
			require.Equal(t, tt.listeners, v)
			v, _ = hostMetric(t, r, "saypro_port_listening")
			require.Equal(t, min(tt.listeners, 1), v)
		})
	}
}

func TestPortLive(t *testing.T) {
	if _, err := os.Stat("/proc/net/tcp"); err != nil {
		t.Skip("no /proc/net/tcp here")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port

	wild, err := net.Listen("tcp", ":0")
	require.NoError(t, err)
	defer wild.Close()
	wildPort := wild.Addr().(*net.TCPAddr).Port

	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	defer pc.Close()
	udpPort := pc.LocalAddr().(*net.UDPAddr).Port

	closed, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closedPort := closed.Addr().(*net.TCPAddr).Port
	require.NoError(t, closed.Close())

	// A connection to the listener is not a listener.
	conn, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	defer conn.Close()

	itoa := strconv.Itoa
	tests := []struct {
		target, proto string
		success       bool
		reason        string
	}{
		{target: itoa(port), success: true},
		{target: "127.0.0.1:" + itoa(port), success: true},
		{target: "localhost:" + itoa(port), success: true},
		{target: "127.0.0.2:" + itoa(port), reason: "nothing listens on tcp 127.0.0.2:" + itoa(port) + " (nor on the wildcard address)"},
		{target: "127.0.0.2:" + itoa(wildPort), success: true},
		{target: itoa(closedPort), reason: "nothing listens on tcp port " + itoa(closedPort)},
		{target: itoa(udpPort), proto: "udp", success: true},
		{target: "127.0.0.1:" + itoa(udpPort), proto: "udp", success: true},
		{target: itoa(port), proto: "udp", reason: "nothing listens on udp port " + itoa(port)},
	}
	for _, tt := range tests {
		t.Run(tt.proto+" "+tt.target, func(t *testing.T) {
			c := hostCheck(checkconfig.KindPort, tt.target)
			if tt.proto != "" {
				c.Port.Protocol = tt.proto
			}
			p, err := New(c, Env{})
			require.NoError(t, err)
			r := p.Probe(t.Context())
			require.Equal(t, tt.success, r.Success, r.Reason)
			require.Equal(t, tt.reason, r.Reason)
			v, _ := hostMetric(t, r, "saypro_port_listening")
			require.Equal(t, tt.success, v == 1)
		})
	}
}

func TestPortErrors(t *testing.T) {
	for _, target := range []string{"0", "65536", "http", "host:x"} {
		_, err := New(hostCheck(checkconfig.KindPort, target), Env{})
		require.ErrorContains(t, err, "is not a port", target)
	}
	c := hostCheck(checkconfig.KindPort, "80")
	c.Port.Protocol = "sctp"
	_, err := New(c, Env{})
	require.ErrorContains(t, err, "use tcp or udp")

	p, err := New(hostCheck(checkconfig.KindPort, "80"), Env{ProcPath: t.TempDir()})
	require.NoError(t, err)
	r := p.Probe(t.Context())
	require.False(t, r.Success)
	require.Contains(t, r.Reason, "reading the socket table")

	dir := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(dir, "net"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "net", "tcp"), []byte("header\n   0: 0100007F 00000000:0000 0A\n"), 0o644))
	p, err = New(hostCheck(checkconfig.KindPort, "80"), Env{ProcPath: dir})
	require.NoError(t, err)
	r = p.Probe(t.Context())
	require.False(t, r.Success)
	require.Contains(t, r.Reason, "bad local address")

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	p, err = New(hostCheck(checkconfig.KindPort, "5432"), Env{ProcPath: "testdata/proc"})
	require.NoError(t, err)
	r = p.Probe(ctx)
	require.False(t, r.Success)
	require.Contains(t, r.Reason, "context canceled")
}

func TestProcNetAddr(t *testing.T) {
	if binary.NativeEndian.Uint16([]byte{1, 0}) != 1 {
		t.Skip("written by a little-endian kernel")
	}
	for hexAddr, want := range map[string]string{
		"0100007F":                         "127.0.0.1",
		"00000000":                         "0.0.0.0",
		"0500000A":                         "10.0.0.5",
		"00000000000000000000000001000000": "::1",
		"00000000000000000000000000000000": "::",
		"0000000000000000FFFF00000500000A": "10.0.0.5",
		"B80D0120000000000000000001000000": "2001:db8::1",
	} {
		a, ok := procNetSocket{hexAddr: []byte(hexAddr)}.addr()
		require.True(t, ok, hexAddr)
		require.Equal(t, netip.MustParseAddr(want), a, hexAddr)
	}
}

// FuzzProcNet feeds /proc/net/{tcp,udp}{,6} text to the socket-table
// scanner: it must not panic, and every socket it accepts has a local
// address of 4 or 16 bytes.
func FuzzProcNet(f *testing.F) {
	for _, name := range []string{"tcp", "tcp6", "udp"} {
		b, err := os.ReadFile(filepath.Join("testdata", "proc", "net", name))
		require.NoError(f, err)
		f.Add(b)
	}
	f.Add([]byte("h\n 0: 0100007F:1538 00000000:0000 0A\n"))
	f.Add([]byte("h\n 0: 0100007F:FFFFF 00000000:0000 0A\n"))
	f.Add([]byte("h\n\n  \n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		n := 0
		err := scanProcNet(bytes.NewReader(data), func(s procNetSocket) error {
			n++
			require.True(t, len(s.hexAddr) == 8 || len(s.hexAddr) == 32)
			if a, ok := s.addr(); ok {
				require.True(t, a.Is4() || a.Is6())
			}
			return nil
		})
		if err != nil {
			require.Less(t, len(err.Error()), 512, "the error quotes at most 80 bytes of the line")
		}
		require.LessOrEqual(t, n, bytes.Count(data, []byte("\n"))+1)
	})
}
