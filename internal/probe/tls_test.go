package probe

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/saypro/monitor/internal/config/checkconfig"
)

// netTestCA is a certificate authority made for one test.
type netTestCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	file string // PEM of the CA certificate
	pool *x509.CertPool
}

func newNetTestCA(t *testing.T) *netTestCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "SayPro Test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(10 * 365 * 24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	file := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &netTestCA{cert: cert, key: key, file: file, pool: pool}
}

// leaf issues a certificate for 127.0.0.1 and localhost (or for names,
// when given) valid until notAfter.
func (ca *netTestCA) leaf(t *testing.T, cn string, notAfter time.Time, names ...string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	if notAfter.Before(tmpl.NotBefore) {
		tmpl.NotBefore = notAfter.Add(-time.Hour) // an expired certificate
	}
	if len(names) == 0 {
		tmpl.DNSNames = []string{"localhost"}
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
	} else {
		tmpl.DNSNames = names
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}
}

// netWriteKeyPair writes a certificate and its key as PEM files.
func netWriteKeyPair(t *testing.T, c tls.Certificate) (certFile, keyFile string) {
	t.Helper()
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	keyDER, err := x509.MarshalPKCS8PrivateKey(c.PrivateKey)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Certificate[0]}), 0o600))
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600))
	return certFile, keyFile
}

// netServe accepts connections on 127.0.0.1 and runs handle on each until
// the test ends; then it closes the listener and every connection and
// waits for the handlers.
func netServe(t *testing.T, handle func(net.Conn)) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns []net.Conn
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				handle(c)
			}()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return l.Addr().String()
}

// netSilentServer accepts connections and never sends a byte.
func netSilentServer(t *testing.T) string {
	return netServe(t, func(c net.Conn) { _, _ = io.Copy(io.Discard, c) })
}

// netRefusedAddr is an address nothing listens on: the local end of a
// connection, which the test holds so that no other test's listener can
// take the port meanwhile (a port listened on and closed could be).
func netRefusedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	c, err := net.Dial("tcp", l.Addr().String())
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	s, err := l.Accept()
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return c.LocalAddr().String()
}

// netTLSServer completes TLS handshakes with cert and closes.
func netTLSServer(t *testing.T, cert tls.Certificate) string {
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}}
	return netServe(t, func(c net.Conn) {
		tc := tls.Server(c, cfg)
		_ = tc.SetDeadline(time.Now().Add(5 * time.Second))
		if tc.Handshake() == nil {
			_, _ = io.Copy(io.Discard, tc)
		}
	})
}

// netCheck builds and validates a check, as the configuration would.
func netCheck(t *testing.T, kind, target string, edit func(c *checkconfig.Check)) *checkconfig.Check {
	t.Helper()
	c := &checkconfig.Check{
		Name: "test", Kind: kind, Target: target,
		Interval: model.Duration(time.Minute), Timeout: model.Duration(5 * time.Second),
	}
	if edit != nil {
		edit(c)
	}
	require.Empty(t, c.Validate("checks", 0))
	return c
}

// netRun builds the check's prober, runs it once with the check's
// timeout and evaluates the result.
func netRun(t *testing.T, c *checkconfig.Check, env Env) (Result, Outcome) {
	t.Helper()
	p, err := New(c, env)
	require.NoError(t, err)
	defer closeProber(p, env.Logger)
	ctx, cancel := context.WithTimeout(t.Context(), c.EffectiveTimeout())
	defer cancel()
	start := time.Now()
	r := p.Probe(ctx)
	o := Evaluate(c, "test", start, time.Since(start), r)
	return r, o
}

// netMetric returns the value of the first sample named name whose
// labels include the given name, value pairs.
func netMetric(ms []Metric, name string, labels ...string) (float64, bool) {
	for _, m := range ms {
		if m.Name != name {
			continue
		}
		ok := true
		for i := 0; i+1 < len(labels); i += 2 {
			found := false
			for _, l := range m.Labels {
				if l.Name == labels[i] && l.Value == labels[i+1] {
					found = true
				}
			}
			ok = ok && found
		}
		if ok {
			return m.Value, true
		}
	}
	return 0, false
}

func TestTLSCheck(t *testing.T) {
	t.Parallel()
	ca := newNetTestCA(t)
	other := newNetTestCA(t)
	in30d := time.Now().Add(30 * 24 * time.Hour).Truncate(time.Second)
	in3d := time.Now().Add(3*24*time.Hour + time.Hour).Truncate(time.Second)

	good := netTLSServer(t, ca.leaf(t, "good", in30d))
	expiring := netTLSServer(t, ca.leaf(t, "expiring", in3d))
	expired := netTLSServer(t, ca.leaf(t, "expired", time.Now().Add(-time.Hour)))
	wrongName := netTLSServer(t, ca.leaf(t, "wrong", in30d, "wrong.example"))
	untrusted := netTLSServer(t, other.leaf(t, "untrusted", in30d))
	plain := netServe(t, func(c net.Conn) {
		_, _ = io.WriteString(c, "220 mail.example ESMTP ready\r\n")
		_, _ = io.Copy(io.Discard, c)
	})

	cases := []struct {
		name   string
		target string
		edit   func(*checkconfig.TLSCheck)
		state  State
		reason string // a part of the reason
		expiry time.Time
	}{
		{name: "valid", target: good, state: StateUp, expiry: in30d},
		{name: "expires in 3 days", target: expiring, state: StateDegraded, reason: `certificate "expiring" expires in 3 days`, expiry: in3d},
		{name: "server name from tls_config", target: wrongName, edit: func(c *checkconfig.TLSCheck) { c.TLS.ServerName = "wrong.example" }, state: StateUp},
		{name: "wrong host name", target: wrongName, state: StateDown, reason: "certificate verify failed: x509: cannot validate certificate for 127.0.0.1"},
		{name: "wrong server name", target: wrongName, edit: func(c *checkconfig.TLSCheck) { c.TLS.ServerName = "right.example" }, state: StateDown, reason: "certificate verify failed: x509: certificate is valid for wrong.example, not right.example"},
		{name: "untrusted CA", target: untrusted, state: StateDown, reason: "certificate verify failed: x509: certificate signed by unknown authority"},
		{name: "expired", target: expired, state: StateDown, reason: "certificate verify failed: x509: certificate has expired"},
		{name: "untrusted but insecure_skip_verify", target: untrusted, edit: func(c *checkconfig.TLSCheck) { c.TLS.InsecureSkipVerify = true }, state: StateUp, expiry: in30d},
		{name: "plain text server", target: plain, state: StateDown, reason: "did not answer with TLS"},
		{name: "nothing listens", target: netRefusedAddr(t), state: StateDown, reason: "connection refused by 127.0.0.1:"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := netCheck(t, checkconfig.KindTLS, tc.target, func(c *checkconfig.Check) {
				c.TLS = &checkconfig.TLSCheck{TLS: checkconfig.TLSConfig{CAFile: ca.file}}
				if tc.edit != nil {
					tc.edit(c.TLS)
				}
			})
			r, o := netRun(t, c, Env{})
			require.Equal(t, tc.state, o.State, o.Reason)
			require.Contains(t, o.Reason, tc.reason)
			if tc.state == StateUp {
				require.Empty(t, o.Reason)
			}
			if !tc.expiry.IsZero() {
				v, ok := netMetric(r.Metrics, "probe_ssl_earliest_cert_expiry")
				require.True(t, ok)
				require.InDelta(t, float64(tc.expiry.Unix()), v, 1)
				_, ok = netMetric(r.Metrics, "probe_tls_version_info", "version", "TLS 1.3")
				require.True(t, ok)
			}
			if tc.name == "valid" {
				_, ok := netMetric(r.Metrics, "probe_ssl_last_chain_info", "subject", "CN=good", "issuer", "CN=SayPro Test CA")
				require.True(t, ok)
				v, ok := netMetric(r.Metrics, "probe_ip_protocol")
				require.True(t, ok)
				require.Equal(t, 4.0, v)
				_, ok = netMetric(r.Metrics, "probe_tls_cipher_info")
				require.True(t, ok)
			}
		})
	}
}

// TestTLSCertExpiryThreshold: a certificate 30 days from expiry is
// degraded with a 60-day threshold.
func TestTLSCertExpiryThreshold(t *testing.T) {
	t.Parallel()
	ca := newNetTestCA(t)
	addr := netTLSServer(t, ca.leaf(t, "soon", time.Now().Add(30*24*time.Hour+time.Hour)))
	c := netCheck(t, checkconfig.KindTLS, addr, func(c *checkconfig.Check) {
		c.TLS = &checkconfig.TLSCheck{TLS: checkconfig.TLSConfig{CAFile: ca.file}}
		c.Thresholds.CertExpiry = model.Duration(60 * 24 * time.Hour)
	})
	_, o := netRun(t, c, Env{})
	require.Equal(t, StateDegraded, o.State)
	require.Contains(t, o.Reason, "expires in 30 days")
}

// netStartTLSServer speaks the plain-text part of proto (the fault, if any,
// changes one answer), then upgrades to TLS with cert.
func netStartTLSServer(t *testing.T, proto, fault string, cert tls.Certificate) string {
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}}
	return netServe(t, func(c net.Conn) {
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		br := bufio.NewReader(c)
		say := func(lines ...string) {
			for _, l := range lines {
				_, _ = io.WriteString(c, l+"\r\n")
			}
		}
		expect := func(want string) bool {
			line, err := br.ReadString('\n')
			return err == nil && strings.HasPrefix(strings.ToUpper(line), want)
		}
		switch proto {
		case "smtp":
			say("220 mail.test ESMTP")
			if !expect("EHLO ") {
				return
			}
			if fault == "no starttls" {
				say("250-mail.test", "250 PIPELINING")
				return
			}
			say("250-mail.test", "250-PIPELINING", "250 STARTTLS")
			if !expect("STARTTLS") {
				return
			}
			say("220 go ahead")
		case "imap":
			say("* OK IMAP4rev1 ready")
			if !expect("A001 STARTTLS") {
				return
			}
			if fault == "refuse" {
				say("a001 BAD not now")
				return
			}
			say("* CAPABILITY IMAP4rev1", "a001 OK begin TLS")
		case "pop3":
			say("+OK POP3 ready")
			if !expect("STLS") {
				return
			}
			if fault == "refuse" {
				say("-ERR not supported")
				return
			}
			if fault == "inject" {
				say("+OK begin TLS", "+OK injected")
				return
			}
			say("+OK begin TLS")
		}
		tc := tls.Server(c, cfg)
		if tc.Handshake() == nil {
			_, _ = io.Copy(io.Discard, tc)
		}
	})
}

func TestTLSStartTLS(t *testing.T) {
	t.Parallel()
	ca := newNetTestCA(t)
	notAfter := time.Now().Add(90 * 24 * time.Hour).Truncate(time.Second)
	cert := ca.leaf(t, "mail", notAfter)
	cases := []struct {
		proto, fault string
		state        State
		reason       string
	}{
		{proto: "smtp", state: StateUp},
		{proto: "imap", state: StateUp},
		{proto: "pop3", state: StateUp},
		{proto: "smtp", fault: "no starttls", state: StateDown, reason: "smtp STARTTLS with 127.0.0.1:"},
		{proto: "imap", fault: "refuse", state: StateDown, reason: `a001 STARTTLS answered "a001 BAD not now"`},
		{proto: "pop3", fault: "refuse", state: StateDown, reason: `STLS answered "-ERR not supported"`},
		{proto: "pop3", fault: "inject", state: StateDown, reason: "unexpected bytes after accepting STARTTLS"},
	}
	for _, tc := range cases {
		t.Run(tc.proto+" "+tc.fault, func(t *testing.T) {
			t.Parallel()
			addr := netStartTLSServer(t, tc.proto, tc.fault, cert)
			c := netCheck(t, checkconfig.KindTLS, addr, func(c *checkconfig.Check) {
				c.TLS = &checkconfig.TLSCheck{StartTLS: tc.proto, TLS: checkconfig.TLSConfig{CAFile: ca.file}}
			})
			r, o := netRun(t, c, Env{})
			require.Equal(t, tc.state, o.State, o.Reason)
			require.Contains(t, o.Reason, tc.reason)
			if tc.state == StateUp {
				v, ok := netMetric(r.Metrics, "probe_ssl_earliest_cert_expiry")
				require.True(t, ok)
				require.InDelta(t, float64(notAfter.Unix()), v, 1)
			}
		})
	}
	t.Run("smtp without STARTTLS names the problem", func(t *testing.T) {
		t.Parallel()
		addr := netStartTLSServer(t, "smtp", "no starttls", cert)
		c := netCheck(t, checkconfig.KindTLS, addr, func(c *checkconfig.Check) {
			c.TLS = &checkconfig.TLSCheck{StartTLS: "smtp", TLS: checkconfig.TLSConfig{CAFile: ca.file}}
		})
		_, o := netRun(t, c, Env{})
		require.Contains(t, o.Reason, "the server does not offer STARTTLS in its EHLO reply")
	})
}

// TestTLSTimeout: a server that accepts and never answers the handshake
// is down when the timeout passes.
func TestTLSTimeout(t *testing.T) {
	t.Parallel()
	addr := netSilentServer(t)
	c := netCheck(t, checkconfig.KindTLS, addr, func(c *checkconfig.Check) {
		c.Timeout = model.Duration(300 * time.Millisecond)
	})
	_, o := netRun(t, c, Env{})
	require.Equal(t, StateDown, o.State)
	require.Equal(t, "no answer within the 300ms timeout while doing the TLS handshake with "+addr, o.Reason)
}
