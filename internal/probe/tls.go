package probe

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"os"
	"strings"
	"time"

	"github.com/saypro/monitor/internal/config/checkconfig"
)

// startTLSMaxRead bounds what the plain-text dialogue before STARTTLS may
// read: greetings and capability lists are a few hundred bytes.
const startTLSMaxRead = 64 << 10

type tlsProber struct {
	host, port string
	startTLS   string
	tls        *tls.Config
	ehlo       string
	certExpiry time.Duration
	timeout    time.Duration
}

func newTLS(c *checkconfig.Check, _ Env) (Prober, error) {
	host, port, err := net.SplitHostPort(c.Target)
	if err != nil {
		return nil, fmt.Errorf("target %q is not host:port: %w", c.Target, err)
	}
	cfg, err := clientTLS(c.TLS.TLS, host)
	if err != nil {
		return nil, err
	}
	ehlo, err := os.Hostname()
	if err != nil || ehlo == "" {
		ehlo = "saypro-monitor"
	}
	return &tlsProber{host: host, port: port, startTLS: c.TLS.StartTLS, tls: cfg, ehlo: ehlo, certExpiry: c.CertExpiry(), timeout: c.EffectiveTimeout()}, nil
}

// Probe connects, negotiates STARTTLS when configured, does the handshake
// (verifying the chain and the host name unless told not to) and reports
// the certificate's expiry; one expiring within the check's cert_expiry
// threshold makes the run degraded.
func (p *tlsProber) Probe(ctx context.Context) Result {
	timeout := runTimeout(ctx, time.Now(), p.timeout)
	var r Result
	conn, addr, err := dialTCP(ctx, &r, p.host, p.port, "")
	if err != nil {
		return r.Failf("%s", dialFailure(ctx, err, timeout, addr))
	}
	defer conn.Close()
	stop := bindConn(ctx, conn)
	defer stop()
	if p.startTLS != "" {
		if err := negotiateStartTLS(conn, p.startTLS, p.ehlo); err != nil {
			var pe *startTLSError
			if errors.As(err, &pe) {
				return r.Failf("%s STARTTLS with %s: %s", p.startTLS, addr, pe.msg)
			}
			return r.Failf("%s", netFailure(ctx, err, timeout, addr, "negotiating "+p.startTLS+" STARTTLS with "+addr))
		}
	}
	tc := tls.Client(conn, p.tls)
	if err := tc.HandshakeContext(ctx); err != nil {
		return r.Failf("%s", netFailure(ctx, err, timeout, addr, "doing the TLS handshake with "+addr))
	}
	cs := tc.ConnectionState()
	addTLSMetrics(&r, &cs, p.certExpiry, time.Now())
	addTLSCipher(&r, &cs)
	r.Success = true
	return r
}

// addTLSCipher adds blackbox_exporter's probe_tls_cipher_info.
func addTLSCipher(r *Result, cs *tls.ConnectionState) {
	if cs == nil || !cs.HandshakeComplete {
		return
	}
	r.Add("probe_tls_cipher_info", 1, "cipher", tls.CipherSuiteName(cs.CipherSuite))
}

// startTLSError is a server answering the STARTTLS dialogue with
// something else than what the protocol asks for.
type startTLSError struct{ msg string }

func (e *startTLSError) Error() string { return e.msg }

func startTLSErrorf(format string, args ...any) error {
	return &startTLSError{msg: fmt.Sprintf(format, args...)}
}

// negotiateStartTLS speaks enough of smtp, imap or pop3 on conn to ask
// for TLS; when it returns nil the next bytes on conn are the server's
// side of the TLS handshake.
func negotiateStartTLS(conn net.Conn, proto, ehlo string) error {
	br := bufio.NewReader(io.LimitReader(conn, startTLSMaxRead))
	tp := textproto.NewReader(br)
	send := func(line string) error {
		_, err := io.WriteString(conn, line+"\r\n")
		return err
	}
	var err error
	switch proto {
	case "smtp":
		err = smtpStartTLS(tp, send, ehlo)
	case "imap":
		err = imapStartTLS(tp, send)
	case "pop3":
		err = pop3StartTLS(tp, send)
	default:
		return startTLSErrorf("unknown protocol %q", proto)
	}
	if err != nil {
		return err
	}
	// Bytes the server sent after its answer and before the handshake
	// would be read as TLS (and are an injection attempt).
	if br.Buffered() > 0 {
		return startTLSErrorf("the server sent %d unexpected bytes after accepting STARTTLS", br.Buffered())
	}
	return nil
}

func smtpStartTLS(tp *textproto.Reader, send func(string) error, ehlo string) error {
	if _, _, err := tp.ReadResponse(220); err != nil {
		return smtpError("greeting", 220, err)
	}
	if err := send("EHLO " + ehlo); err != nil {
		return err
	}
	_, msg, err := tp.ReadResponse(250)
	if err != nil {
		return smtpError("EHLO", 250, err)
	}
	offered := false
	for _, line := range strings.Split(msg, "\n") {
		if f := strings.Fields(line); len(f) > 0 && strings.EqualFold(f[0], "STARTTLS") {
			offered = true
		}
	}
	if !offered {
		return startTLSErrorf("the server does not offer STARTTLS in its EHLO reply")
	}
	if err := send("STARTTLS"); err != nil {
		return err
	}
	if _, _, err := tp.ReadResponse(220); err != nil {
		return smtpError("STARTTLS", 220, err)
	}
	return nil
}

// smtpError words a reply with an unexpected code; network errors are
// returned as they are.
func smtpError(step string, want int, err error) error {
	var te *textproto.Error
	if errors.As(err, &te) {
		return startTLSErrorf("%s answered \"%d %s\", expected %d", step, te.Code, te.Msg, want)
	}
	var pe textproto.ProtocolError
	if errors.As(err, &pe) {
		return startTLSErrorf("%s answer is not SMTP: %s", step, pe)
	}
	return err
}

func imapStartTLS(tp *textproto.Reader, send func(string) error) error {
	greeting, err := tp.ReadLine()
	if err != nil {
		return err
	}
	if !hasPrefixFold(greeting, "* OK") && !hasPrefixFold(greeting, "* PREAUTH") {
		return startTLSErrorf("greeting was %q, expected \"* OK ...\"", greeting)
	}
	if err := send("a001 STARTTLS"); err != nil {
		return err
	}
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return err
		}
		if strings.HasPrefix(line, "* ") {
			continue // untagged data, such as a CAPABILITY list
		}
		if hasPrefixFold(line, "a001 OK") {
			return nil
		}
		return startTLSErrorf("a001 STARTTLS answered %q, expected \"a001 OK ...\"", line)
	}
}

func pop3StartTLS(tp *textproto.Reader, send func(string) error) error {
	greeting, err := tp.ReadLine()
	if err != nil {
		return err
	}
	if !hasPrefixFold(greeting, "+OK") {
		return startTLSErrorf("greeting was %q, expected \"+OK ...\"", greeting)
	}
	if err := send("STLS"); err != nil {
		return err
	}
	line, err := tp.ReadLine()
	if err != nil {
		return err
	}
	if !hasPrefixFold(line, "+OK") {
		return startTLSErrorf("STLS answered %q, expected \"+OK ...\"", line)
	}
	return nil
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
