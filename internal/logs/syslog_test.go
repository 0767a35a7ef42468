package logs_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/saypro/monitor/internal/logs"
)

// startReceiver runs a syslog receiver on the loopback until the test ends.
func startReceiver(t *testing.T, tp *testPipeline, o logs.SyslogOptions) (*logs.SyslogReceiver, func()) {
	t.Helper()
	r, err := logs.NewSyslogReceiver(o, tp.Pipeline)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	var runErr error
	go func() {
		defer close(done)
		runErr = r.Run(ctx)
	}()
	stop := func() {
		cancel()
		select {
		case <-done:
			require.NoError(t, runErr)
		case <-time.After(10 * time.Second):
			t.Fatal("Run did not return after its context ended")
		}
	}
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return r, stop
}

func selfSignedTLS(t *testing.T) (server *tls.Config, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "saypro syslog test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12},
		&tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
}

// syslogMessages are one RFC 5424 and one RFC 3164 message, and a bare
// one, tagged so that each transport's entries can be told apart.
func syslogMessages(now time.Time, tag string) []string {
	return []string{
		fmt.Sprintf(`<34>1 %s web1 myapp 42 ID47 [exampleSDID@32473 iut="3" eventSource="Application"] 5424 message over %s`, now.Format(time.RFC3339Nano), tag),
		fmt.Sprintf(`<38>%s web2 sshd[7]: Failed password for root from 203.0.113.9 port 22 ssh2 %s`, now.UTC().Format(time.Stamp), tag),
		fmt.Sprintf(`<13>no header at all over %s`, tag),
	}
}

// checkSyslogEntries checks the entries of syslogMessages(now, tag).
func checkSyslogEntries(t *testing.T, tp *testPipeline, now time.Time, tag string) {
	t.Helper()
	es := waitEntries(t, tp.store, logs.Filter{Text: tag}, 3)
	require.Len(t, es, 3)
	by := map[string]logs.Entry{}
	for _, e := range es {
		by[e.Host] = e
	}
	e5424 := by["web1"]
	require.Equal(t, "myapp", e5424.Service)
	require.Equal(t, "crit", e5424.Severity)
	require.Equal(t, "syslog", e5424.Source)
	require.Equal(t, "5424 message over "+tag, e5424.Message)
	require.True(t, now.Equal(e5424.Time), "time %s, want %s", e5424.Time, now)
	for k, v := range map[string]string{"pid": "42", "msgid": "ID47", "facility": "auth", "sender": "127.0.0.1",
		"sd.exampleSDID@32473.iut": "3", "sd.exampleSDID@32473.eventSource": "Application"} {
		require.Equal(t, v, e5424.Fields[k], "field %s of %v", k, e5424.Fields)
	}
	e3164 := by["web2"]
	require.Equal(t, "sshd", e3164.Service)
	require.Equal(t, "info", e3164.Severity)
	require.True(t, now.Truncate(time.Second).Equal(e3164.Time), "time %s, want %s", e3164.Time, now)
	require.Equal(t, "ssh_failed", e3164.Fields["event"])
	require.Equal(t, "203.0.113.9", e3164.Fields["src_ip"])
	require.Equal(t, "7", e3164.Fields["pid"])
	bare := by["127.0.0.1"]
	require.Equal(t, "no header at all over "+tag, bare.Message, "%+v", es)
	require.Equal(t, "notice", bare.Severity)
	require.Equal(t, "user", bare.Fields["facility"])
}

func TestSyslogReceiverTransports(t *testing.T) {
	tp := newPipeline(t, logs.Options{})
	serverTLS, clientTLS := selfSignedTLS(t)
	r, _ := startReceiver(t, tp, logs.SyslogOptions{UDP: "127.0.0.1:0", TCP: "127.0.0.1:0", TLSListen: "127.0.0.1:0", TLSConfig: serverTLS})
	udp, tcp, tlsAddr := r.Addrs()
	require.NotNil(t, udp)
	require.NotNil(t, tcp)
	require.NotNil(t, tlsAddr)
	now := time.Now().UTC().Truncate(time.Millisecond)

	t.Run("udp", func(t *testing.T) {
		c, err := net.Dial("udp", udp.String())
		require.NoError(t, err)
		defer c.Close()
		for _, m := range syslogMessages(now, "udp") {
			_, err := c.Write([]byte(m))
			require.NoError(t, err)
		}
		checkSyslogEntries(t, tp, now, "udp")
	})
	t.Run("tcp newline", func(t *testing.T) {
		c, err := net.Dial("tcp", tcp.String())
		require.NoError(t, err)
		defer c.Close()
		_, err = io.WriteString(c, strings.Join(syslogMessages(now, "tcpnewline"), "\n")+"\n")
		require.NoError(t, err)
		checkSyslogEntries(t, tp, now, "tcpnewline")
	})
	t.Run("tcp octet counting", func(t *testing.T) {
		c, err := net.Dial("tcp", tcp.String())
		require.NoError(t, err)
		defer c.Close()
		var b strings.Builder
		for _, m := range syslogMessages(now, "tcpoctet") {
			// A counted frame may hold a newline; it stays in the message.
			fmt.Fprintf(&b, "%d %s", len(m), m)
		}
		_, err = io.WriteString(c, b.String())
		require.NoError(t, err)
		checkSyslogEntries(t, tp, now, "tcpoctet")
	})
	t.Run("tls", func(t *testing.T) {
		c, err := tls.Dial("tcp", tlsAddr.String(), clientTLS)
		require.NoError(t, err)
		defer c.Close()
		for _, m := range syslogMessages(now, "tlsoctet") {
			_, err := fmt.Fprintf(c, "%d %s", len(m), m)
			require.NoError(t, err)
		}
		checkSyslogEntries(t, tp, now, "tlsoctet")
	})
	for transport, n := range map[string]float64{"syslog-udp": 3, "syslog-tcp": 6, "syslog-tls": 3} {
		require.Equal(t, n, metric(t, tp.reg, "saypro_logs_received_total", map[string]string{"transport": transport}), transport)
	}
}

func TestSyslogReceiverOctetCountedNewline(t *testing.T) {
	tp := newPipeline(t, logs.Options{})
	r, _ := startReceiver(t, tp, logs.SyslogOptions{TCP: "127.0.0.1:0"})
	_, tcp, _ := r.Addrs()
	c, err := net.Dial("tcp", tcp.String())
	require.NoError(t, err)
	defer c.Close()
	m := "<14>1 - app1 java - - - Exception in thread main\n\tat Foo.bar(Foo.java:1)"
	_, err = fmt.Fprintf(c, "%d %s", len(m), m)
	require.NoError(t, err)
	es := waitEntries(t, tp.store, logs.Filter{Hosts: []string{"app1"}}, 1)
	require.Equal(t, `Exception in thread main\x0a`+"\tat Foo.bar(Foo.java:1)", es[0].Message)
}

func TestSyslogReceiverTruncatesLongMessages(t *testing.T) {
	tp := newPipeline(t, logs.Options{})
	r, _ := startReceiver(t, tp, logs.SyslogOptions{TCP: "127.0.0.1:0", MaxMessage: 1024})
	_, tcp, _ := r.Addrs()
	c, err := net.Dial("tcp", tcp.String())
	require.NoError(t, err)
	defer c.Close()
	long := "<14>Nov 22 02:38:10 big app: " + strings.Repeat("y", 5000)
	_, err = io.WriteString(c, long+"\n<14>Nov 22 02:38:10 big app: after the long one\n")
	require.NoError(t, err)
	es := waitEntries(t, tp.store, logs.Filter{Hosts: []string{"big"}}, 2)
	require.Len(t, es, 2)
	var got []string
	for _, e := range es {
		got = append(got, e.Message)
	}
	cut := long[:1024]
	cut = cut[strings.Index(cut, "app: ")+len("app: "):]
	require.ElementsMatch(t, []string{cut + " …[truncated]", "after the long one"}, got)
	require.Equal(t, 1.0, metric(t, tp.reg, "saypro_logs_truncated_total", nil))
}

func TestSyslogReceiverConnectionLimit(t *testing.T) {
	tp := newPipeline(t, logs.Options{})
	r, _ := startReceiver(t, tp, logs.SyslogOptions{TCP: "127.0.0.1:0", MaxConnections: 1})
	_, tcp, _ := r.Addrs()
	first, err := net.Dial("tcp", tcp.String())
	require.NoError(t, err)
	_, err = io.WriteString(first, "<14>Nov 22 02:38:10 limit app: first connection\n")
	require.NoError(t, err)
	waitEntries(t, tp.store, logs.Filter{Text: `"first connection"`}, 1)

	second, err := net.Dial("tcp", tcp.String())
	require.NoError(t, err)
	defer second.Close()
	require.NoError(t, second.SetReadDeadline(time.Now().Add(5*time.Second)))
	_, err = second.Read(make([]byte, 1))
	require.ErrorIs(t, err, io.EOF, "a connection over the limit was not closed")

	// Once the first one ends, a new connection is served (retried until
	// the receiver has seen the first one close).
	first.Close()
	deadline := time.Now().Add(10 * time.Second)
	for attempt := 0; ; attempt++ {
		third, err := net.Dial("tcp", tcp.String())
		require.NoError(t, err)
		msg := fmt.Sprintf("third connection attempt%d", attempt)
		_, err = io.WriteString(third, "<14>Nov 22 02:38:10 limit app: "+msg+"\n")
		require.NoError(t, err)
		served := false
		for wait := time.Now().Add(time.Second); !served && time.Now().Before(wait); time.Sleep(50 * time.Millisecond) {
			served = len(all(t, tp.store, logs.Filter{Text: fmt.Sprintf("attempt%d", attempt)})) == 1
		}
		third.Close()
		if served {
			break
		}
		require.True(t, time.Now().Before(deadline), "connections stay refused after the first one closed")
	}
}

func TestSyslogReceiverStoresQueuedOnCancel(t *testing.T) {
	tp := newPipeline(t, logs.Options{})
	r, stop := startReceiver(t, tp, logs.SyslogOptions{TCP: "127.0.0.1:0"})
	_, tcp, _ := r.Addrs()
	c, err := net.Dial("tcp", tcp.String())
	require.NoError(t, err)
	defer c.Close()
	const n = 500
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "<14>Nov 22 02:38:10 drain app: queued %d\n", i)
	}
	_, err = io.WriteString(c, b.String())
	require.NoError(t, err)
	deadline := time.Now().Add(10 * time.Second)
	for !(metric(t, tp.reg, "saypro_logs_received_total", map[string]string{"transport": "syslog-tcp"}) >= n) { // NaN before the first
		require.True(t, time.Now().Before(deadline), "the receiver did not read the messages")
		time.Sleep(time.Millisecond)
	}
	stop()
	require.Len(t, all(t, tp.store, logs.Filter{Hosts: []string{"drain"}}), n)
}

func TestSyslogReceiverRunAlreadyCancelled(t *testing.T) {
	tp := newPipeline(t, logs.Options{})
	r, err := logs.NewSyslogReceiver(logs.SyslogOptions{UDP: "127.0.0.1:0", TCP: "127.0.0.1:0"}, tp.Pipeline)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.NoError(t, r.Run(ctx))
}

func TestNewSyslogReceiverErrors(t *testing.T) {
	tp := newPipeline(t, logs.Options{})
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	_, err = logs.NewSyslogReceiver(logs.SyslogOptions{UDP: "127.0.0.1:0", TCP: busy.Addr().String()}, tp.Pipeline)
	require.ErrorContains(t, err, "syslog over TCP")
	_, err = logs.NewSyslogReceiver(logs.SyslogOptions{TLSListen: "127.0.0.1:0"}, tp.Pipeline)
	require.ErrorContains(t, err, "certificate")
}

// TestSyslogReceiverLogger sends with util-linux logger(1) when present.
func TestSyslogReceiverLogger(t *testing.T) {
	path, err := exec.LookPath("logger")
	if err != nil {
		t.Skip("logger (util-linux) is not installed")
	}
	if out, err := exec.Command(path, "--help").CombinedOutput(); err != nil || !strings.Contains(string(out), "--rfc5424") {
		t.Skip("logger is not util-linux's")
	}
	tp := newPipeline(t, logs.Options{})
	r, _ := startReceiver(t, tp, logs.SyslogOptions{UDP: "127.0.0.1:0", TCP: "127.0.0.1:0"})
	udp, tcp, _ := r.Addrs()
	hostname, _ := os.Hostname()
	tests := []struct {
		name string
		args []string
	}{
		{"udp-5424", []string{"--udp", "-P", port(udp), "--rfc5424"}},
		{"udp-3164", []string{"--udp", "-P", port(udp), "--rfc3164"}},
		{"tcp-5424", []string{"--tcp", "-P", port(tcp), "--rfc5424"}},
		{"tcp-3164", []string{"--tcp", "-P", port(tcp), "--rfc3164"}},
		{"tcp-octet", []string{"--tcp", "-P", port(tcp), "--rfc5424", "--octet-count"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			service := "saypro-" + tc.name
			args := append([]string{"-n", "127.0.0.1", "-t", service, "-p", "daemon.err"}, tc.args...)
			args = append(args, "hello from logger over "+tc.name)
			out, err := exec.Command(path, args...).CombinedOutput()
			require.NoError(t, err, "logger %v: %s", args, out)
			es := waitEntries(t, tp.store, logs.Filter{Services: []string{service}}, 1)
			require.Len(t, es, 1)
			e := es[0]
			require.Equal(t, "hello from logger over "+tc.name, e.Message)
			require.Equal(t, "err", e.Severity)
			require.Equal(t, "daemon", e.Fields["facility"])
			if hostname != "" && strings.HasSuffix(tc.name, "5424") {
				require.Equal(t, hostname, e.Host)
			}
			require.WithinDuration(t, time.Now(), e.Time, time.Minute)
		})
	}
}

func port(a net.Addr) string {
	_, p, _ := net.SplitHostPort(a.String())
	return p
}
