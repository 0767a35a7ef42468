package remotewrite

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/saypro/monitor/internal/config/agentconfig"
)

// DefaultTimeout is the per-request timeout used when none is given.
const DefaultTimeout = 30 * time.Second

// TLSOptions configure how the agent verifies the server's certificate.
type TLSOptions struct {
	// CAFile is a PEM bundle of the certificate authorities trusted for
	// the server; when set it replaces the system roots.
	CAFile string
	// Fingerprint is the SHA-256 of the server leaf certificate's DER
	// encoding, in hex, as agentconfig.ParseFingerprint reads it. When set,
	// the chain is not verified against any CA and the host name is not
	// checked, but the leaf certificate must have this fingerprint. This
	// is how agents pin a server's self-signed bootstrap certificate.
	Fingerprint string
	// InsecureSkipVerify turns certificate verification off.
	InsecureSkipVerify bool
	// ServerName overrides the host name used for SNI and verification.
	ServerName string
}

// NewHTTPClient returns an http.Client for talking to the server with these
// TLS settings; the agent also uses it for heartbeats. A timeout of zero or
// less means DefaultTimeout. Proxies from the environment are honoured.
func NewHTTPClient(t TLSOptions, timeout time.Duration) (*http.Client, error) {
	cfg, err := t.config()
	if err != nil {
		return nil, err
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = cfg
	return &http.Client{Transport: tr, Timeout: timeout}, nil
}

func (t TLSOptions) config() (*tls.Config, error) {
	cfg := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		ServerName:         t.ServerName,
		InsecureSkipVerify: t.InsecureSkipVerify, //nolint:gosec // The operator asked for it.
	}
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("reading the CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA file %s holds no PEM certificate", t.CAFile)
		}
		cfg.RootCAs = pool
	}
	if t.Fingerprint != "" {
		want, err := agentconfig.ParseFingerprint(t.Fingerprint)
		if err != nil {
			return nil, err
		}
		// The pin replaces chain and host name verification: the
		// bootstrap certificate is self-signed and may not name the
		// address the agent uses.
		cfg.InsecureSkipVerify = true //nolint:gosec // Replaced by VerifyConnection below.
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("server sent no certificate to check against the pinned fingerprint")
			}
			got := sha256.Sum256(cs.PeerCertificates[0].Raw)
			if subtle.ConstantTimeCompare(got[:], want) != 1 {
				return fmt.Errorf("server certificate fingerprint %s does not match the pinned sha256 fingerprint %s: the server's certificate changed or this is not the expected server",
					formatFingerprint(got[:]), formatFingerprint(want))
			}
			return nil
		}
	}
	return cfg, nil
}

// formatFingerprint writes a fingerprint as upper-case hex pairs separated
// by colons, as openssl x509 -fingerprint -sha256 prints it.
func formatFingerprint(b []byte) string {
	var out bytes.Buffer
	for i, c := range b {
		if i > 0 {
			out.WriteByte(':')
		}
		fmt.Fprintf(&out, "%02X", c)
	}
	return out.String()
}
