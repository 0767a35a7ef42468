package probe

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"math"
	"os"
	"strings"
	"time"

	"github.com/saypro/monitor/internal/config/checkconfig"
)

// clientTLS builds the TLS client configuration of a check; serverName is
// used when the configuration names none.
func clientTLS(c checkconfig.TLSConfig, serverName string) (*tls.Config, error) {
	cfg := &tls.Config{
		ServerName:         serverName,
		InsecureSkipVerify: c.InsecureSkipVerify, //nolint:gosec // the user asked for it
		MinVersion:         tls.VersionTLS12,
	}
	if c.ServerName != "" {
		cfg.ServerName = c.ServerName
	}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("reading ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ca_file %s holds no PEM certificate", c.CAFile)
		}
		cfg.RootCAs = pool
	}
	if (c.CertFile == "") != (c.KeyFile == "") {
		return nil, fmt.Errorf("a client certificate needs both cert_file and key_file")
	}
	if c.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("loading the client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// addTLSMetrics adds blackbox_exporter's TLS series for a connection state
// and warns when the certificate expires within warnWithin:
// probe_ssl_earliest_cert_expiry, probe_ssl_last_chain_expiry_timestamp_seconds,
// probe_tls_version_info, probe_ssl_last_chain_info.
func addTLSMetrics(r *Result, cs *tls.ConnectionState, warnWithin time.Duration, now time.Time) {
	if cs == nil || len(cs.PeerCertificates) == 0 {
		return
	}
	earliest := cs.PeerCertificates[0].NotAfter
	for _, c := range cs.PeerCertificates {
		if c.NotAfter.Before(earliest) {
			earliest = c.NotAfter
		}
	}
	r.Add("probe_ssl_earliest_cert_expiry", float64(earliest.Unix()))
	// The chain that was verified and expires last.
	last := time.Time{}
	for _, chain := range cs.VerifiedChains {
		chainEarliest := time.Unix(math.MaxInt32, 0)
		for _, c := range chain {
			if c.NotAfter.Before(chainEarliest) {
				chainEarliest = c.NotAfter
			}
		}
		if chainEarliest.After(last) {
			last = chainEarliest
		}
	}
	if !last.IsZero() {
		r.Add("probe_ssl_last_chain_expiry_timestamp_seconds", float64(last.Unix()))
	}
	leaf := cs.PeerCertificates[0]
	r.Add("probe_ssl_last_chain_info", 1,
		"fingerprint_sha256", fmt.Sprintf("%x", sha256.Sum256(leaf.Raw)),
		"subject", leaf.Subject.String(),
		"issuer", leaf.Issuer.String(),
		"subjectalternative", strings.Join(leaf.DNSNames, ","),
		"serialnumber", fmt.Sprintf("%x", leaf.SerialNumber))
	r.Add("probe_tls_version_info", 1, "version", tls.VersionName(cs.Version))
	left := earliest.Sub(now)
	switch {
	case left <= 0:
		r.Warnf("certificate %q expired on %s", leaf.Subject.CommonName, earliest.UTC().Format("2006-01-02"))
	case left < warnWithin:
		r.Warnf("certificate %q expires in %s (on %s)", leaf.Subject.CommonName, humanDays(left), earliest.UTC().Format("2006-01-02"))
	}
}

func humanDays(d time.Duration) string {
	days := int(d.Hours() / 24)
	switch {
	case days >= 2:
		return fmt.Sprintf("%d days", days)
	case d >= time.Hour:
		return fmt.Sprintf("%d hours", int(d.Hours()))
	}
	return fmt.Sprintf("%d minutes", int(d.Minutes()))
}
