package remotewrite

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/saypro/monitor/internal/config/agentconfig"
)

func writePEM(t *testing.T, der []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	return path
}

// otherCA is a self-signed CA that signed nothing the test server uses.
func otherCA(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "not the server's CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	return der
}

func TestTLS(t *testing.T) {
	rv := newReceiver(t)
	srv := httptest.NewUnstartedServer(rv)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // handshake failures are expected
	srv.StartTLS()
	t.Cleanup(srv.Close)
	sum := sha256.Sum256(srv.Certificate().Raw)
	pin := formatFingerprint(sum[:])
	wrong := sha256.Sum256([]byte("another certificate"))

	cases := []struct {
		name string
		opts TLSOptions
		err  string // empty: the request succeeds
	}{
		{name: "system roots", opts: TLSOptions{}, err: "certificate signed by unknown authority"},
		{name: "CA file", opts: TLSOptions{CAFile: writePEM(t, srv.Certificate().Raw)}},
		{name: "wrong CA file", opts: TLSOptions{CAFile: writePEM(t, otherCA(t))}, err: "certificate signed by unknown authority"},
		{name: "CA file, wrong server name", opts: TLSOptions{CAFile: writePEM(t, srv.Certificate().Raw), ServerName: "monitor.invalid"}, err: "monitor.invalid"},
		{name: "fingerprint with colons", opts: TLSOptions{Fingerprint: pin}},
		{name: "fingerprint in lower-case hex, any host name", opts: TLSOptions{Fingerprint: hex.EncodeToString(sum[:]), ServerName: "monitor.invalid"}},
		{name: "fingerprint wins over a wrong CA", opts: TLSOptions{Fingerprint: pin, CAFile: writePEM(t, otherCA(t))}},
		{name: "wrong fingerprint", opts: TLSOptions{Fingerprint: hex.EncodeToString(wrong[:])}, err: "does not match the pinned sha256 fingerprint " + formatFingerprint(wrong[:])},
		{name: "insecure", opts: TLSOptions{InsecureSkipVerify: true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			hc, err := NewHTTPClient(tc.opts, 5*time.Second)
			require.NoError(t, err)
			resp, err := hc.Get(srv.URL)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.NoError(t, resp.Body.Close())
			require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
		})
	}

	t.Run("remote write over a pinned certificate", func(t *testing.T) {
		hc, err := NewHTTPClient(TLSOptions{Fingerprint: strings.ToLower(pin)}, 0)
		require.NoError(t, err)
		require.Equal(t, DefaultTimeout, hc.Timeout)
		c := newClient(t, t.TempDir(), srv.URL+"/api/v1/write", func(o *Options) { o.Client = hc })
		c.enqueue(t, 0, 5, 10)
		c.run(t)
		waitSent(t, c, rv, "delivered over TLS", 50)
		verify(t, rv.got(), span(0, 5), 10, true)
	})

	t.Run("remote write refuses a wrong pin and keeps the data", func(t *testing.T) {
		hc, err := NewHTTPClient(TLSOptions{Fingerprint: hex.EncodeToString(wrong[:])}, 0)
		require.NoError(t, err)
		c := newClient(t, t.TempDir(), srv.URL+"/api/v1/write", func(o *Options) { o.Client = hc })
		c.enqueue(t, 0, 1, 10)
		c.run(t)
		waitFor(t, "failed attempts", func() bool { return c.requestsWith("error") >= 2 })
		require.Contains(t, c.logs.String(), "does not match the pinned sha256 fingerprint")
		require.Zero(t, c.dropped(reasonRejected))
	})
}

func TestTLSOptionErrors(t *testing.T) {
	empty := filepath.Join(t.TempDir(), "empty.pem")
	require.NoError(t, os.WriteFile(empty, []byte("no certificate here\n"), 0o600))
	for name, opts := range map[string]TLSOptions{
		"missing CA file":          {CAFile: filepath.Join(t.TempDir(), "absent.pem")},
		"CA file without PEM":      {CAFile: empty},
		"short fingerprint":        {Fingerprint: "AB:CD"},
		"fingerprint not hex":      {Fingerprint: strings.Repeat("zz", 32)},
		"SHA-1 length fingerprint": {Fingerprint: strings.Repeat("ab", 20)},
	} {
		_, err := NewHTTPClient(opts, time.Second)
		require.Error(t, err, name)
	}
	b, err := agentconfig.ParseFingerprint(" ab:CD" + strings.Repeat(":01", 29) + ":Ef ")
	require.NoError(t, err)
	require.Len(t, b, 32)
	require.Equal(t, "AB:CD:01", formatFingerprint(b)[:8])
}
