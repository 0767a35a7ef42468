package probe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/saypro/monitor/internal/config/checkconfig"
)

// statusPageMax bounds the body read from a status page.
const statusPageMax = 1 << 20

// statusPage fetches a server's status page: nginx's stub_status and
// apache's mod_status ?auto.
type statusPage struct {
	url    string
	shown  string // url without a password, for reasons
	client *http.Client
	auth   *checkconfig.BasicAuth
	env    Env
}

func newStatusPage(target string, s *checkconfig.Status, env Env) (*statusPage, error) {
	if s == nil {
		s = &checkconfig.Status{}
	}
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("target %q is not an http:// or https:// URL", target)
	}
	tlsCfg, err := clientTLS(s.TLS, u.Hostname())
	if err != nil {
		return nil, err
	}
	// No keep-alive: a run leaves no connection or goroutine behind.
	tr := &http.Transport{
		DialContext:       (&net.Dialer{}).DialContext,
		TLSClientConfig:   tlsCfg,
		DisableKeepAlives: true,
	}
	return &statusPage{
		url:    target,
		shown:  RedactTarget(target),
		client: &http.Client{Transport: tr},
		auth:   s.BasicAuth,
		env:    env,
	}, nil
}

// fetch GETs the page. It adds probe_http_status_code and sets the
// latency; a non-empty reason means the run failed.
func (s *statusPage) fetch(ctx context.Context, r *Result) (body string, reason string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return "", fmt.Sprintf("building the request: %v", err)
	}
	req.Header.Set("User-Agent", "SayPro-Monitor")
	if a := s.auth; a != nil {
		pw, err := s.env.secret(string(a.Password), a.PasswordEnv)
		if err != nil {
			return "", fmt.Sprintf("basic_auth password: %v", err)
		}
		req.SetBasicAuth(a.Username, pw)
	}
	start := time.Now()
	resp, err := s.client.Do(req)
	if err != nil {
		var ne net.Error
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
			return "", fmt.Sprintf("timeout: no response from %s", s.shown)
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return "", fmt.Sprintf("GET %s: %v", s.shown, err)
	}
	defer func() { _ = resp.Body.Close() }()
	r.Add("probe_http_status_code", float64(resp.StatusCode))
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Sprintf("status %d from %s, expected 200", resp.StatusCode, s.shown)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, statusPageMax+1))
	r.Latency = max(time.Since(start), time.Nanosecond)
	if err != nil {
		return "", fmt.Sprintf("reading %s: %v", s.shown, err)
	}
	if len(b) > statusPageMax {
		return "", fmt.Sprintf("%s is larger than %d bytes; is it the status page?", s.shown, statusPageMax)
	}
	return string(b), ""
}

// Close lets the idle connections go (there are none without keep-alive).
func (s *statusPage) Close() error {
	s.client.CloseIdleConnections()
	return nil
}

// nginxProber reads nginx's stub_status page.
type nginxProber struct {
	page   *statusPage
	logger *slog.Logger

	mu          sync.Mutex
	seen        bool
	lastDropped uint64
}

func newNginx(c *checkconfig.Check, env Env) (Prober, error) {
	page, err := newStatusPage(c.Target, c.Nginx, env)
	if err != nil {
		return nil, err
	}
	return &nginxProber{page: page, logger: env.Logger.With("check", c.Name, "kind", c.Kind)}, nil
}

// Close releases the HTTP client.
func (p *nginxProber) Close() error { return p.page.Close() }

// Probe fetches and parses stub_status. It is down when the page cannot
// be read or parsed, and degraded when nginx dropped connections (accepts
// above handled) since the previous run.
func (p *nginxProber) Probe(ctx context.Context) Result {
	var r Result
	body, reason := p.page.fetch(ctx, &r)
	if reason != "" {
		return r.Failf("%s", reason)
	}
	st, err := parseNginxStatus(body)
	if err != nil {
		return r.Failf("%s is not an nginx stub_status page: %v", p.page.shown, err)
	}
	r.Add("saypro_nginx_connections_active", float64(st.Active))
	r.Add("saypro_nginx_connections_accepted", float64(st.Accepts))
	r.Add("saypro_nginx_connections_handled", float64(st.Handled))
	r.Add("saypro_nginx_http_requests_total", float64(st.Requests))
	r.Add("saypro_nginx_connections", float64(st.Reading), "state", "reading")
	r.Add("saypro_nginx_connections", float64(st.Writing), "state", "writing")
	r.Add("saypro_nginx_connections", float64(st.Waiting), "state", "waiting")
	r.Success = true

	var dropped uint64
	if st.Accepts > st.Handled {
		dropped = st.Accepts - st.Handled
	}
	p.mu.Lock()
	first, last := !p.seen, p.lastDropped
	p.seen, p.lastDropped = true, dropped
	p.mu.Unlock()
	switch {
	case dropped == 0:
	case first:
		r.Warnf("nginx dropped %d connections since it started (accepts %d, handled %d): worker_connections or a resource limit was reached", dropped, st.Accepts, st.Handled)
	case dropped > last:
		r.Warnf("nginx dropped %d connections since the last run (accepts %d, handled %d): worker_connections or a resource limit was reached", dropped-last, st.Accepts, st.Handled)
	}
	return r
}

// nginxStatus is what stub_status shows.
type nginxStatus struct {
	Active, Accepts, Handled, Requests uint64
	Reading, Writing, Waiting          uint64
}

// String formats the status as nginx does.
func (s nginxStatus) String() string {
	return fmt.Sprintf("Active connections: %d \nserver accepts handled requests\n %d %d %d \nReading: %d Writing: %d Waiting: %d \n",
		s.Active, s.Accepts, s.Handled, s.Requests, s.Reading, s.Writing, s.Waiting)
}

// parseNginxStatus reads the four lines of stub_status:
//
//	Active connections: 291
//	server accepts handled requests
//	 16630948 16630948 31070465
//	Reading: 6 Writing: 179 Waiting: 106
func parseNginxStatus(text string) (nginxStatus, error) {
	var st nginxStatus
	var lines []string
	for l := range strings.SplitSeq(text, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) < 4 {
		return st, fmt.Errorf("%d lines, expected 4", len(lines))
	}
	num := func(line int, s string) (uint64, error) {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("line %d (%s): %q is not a count", line, quoteStatusLine(lines[line-1]), s)
		}
		return n, nil
	}
	var err error
	v, ok := strings.CutPrefix(lines[0], "Active connections:")
	if !ok {
		return st, fmt.Errorf(`line 1 (%s): expected "Active connections: N"`, quoteStatusLine(lines[0]))
	}
	if st.Active, err = num(1, strings.TrimSpace(v)); err != nil {
		return st, err
	}
	if !strings.HasPrefix(lines[1], "server accepts handled requests") {
		return st, fmt.Errorf(`line 2 (%s): expected "server accepts handled requests"`, quoteStatusLine(lines[1]))
	}
	f := strings.Fields(lines[2])
	if len(f) < 3 {
		return st, fmt.Errorf("line 3 (%s): expected three counts: accepts handled requests", quoteStatusLine(lines[2]))
	}
	for i, dst := range []*uint64{&st.Accepts, &st.Handled, &st.Requests} {
		if *dst, err = num(3, f[i]); err != nil {
			return st, err
		}
	}
	f = strings.Fields(lines[3])
	if len(f) != 6 || f[0] != "Reading:" || f[2] != "Writing:" || f[4] != "Waiting:" {
		return st, fmt.Errorf(`line 4 (%s): expected "Reading: N Writing: N Waiting: N"`, quoteStatusLine(lines[3]))
	}
	for i, dst := range []*uint64{&st.Reading, &st.Writing, &st.Waiting} {
		if *dst, err = num(4, f[2*i+1]); err != nil {
			return st, err
		}
	}
	return st, nil
}

// quoteStatusLine quotes a line of a status page for a reason, cut to a length
// that fits in one.
func quoteStatusLine(l string) string {
	const most = 60
	if len(l) > most {
		l = l[:most] + "..."
	}
	return strconv.Quote(l)
}
