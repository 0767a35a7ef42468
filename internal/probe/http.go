package probe

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/saypro/monitor/internal/config/checkconfig"
	"github.com/saypro/monitor/internal/config/yamlconf"
)

const (
	// httpDefaultMaxBody is max_body_size when the check leaves it out.
	httpDefaultMaxBody = 10 << 20
	// httpMaxRedirects is how many redirects are followed, as Go's client
	// and blackbox_exporter do.
	httpMaxRedirects = 10
	httpUserAgent    = "SayPro-Monitor-Check/1"
)

var errTooManyRedirects = errors.New("too many redirects")

type httpProber struct {
	target     string
	cfg        *checkconfig.HTTP
	method     string
	env        Env
	transport  *http.Transport
	bodyRegex  *regexp.Regexp
	json       []httpJSONCheck
	maxBody    int64
	certExpiry time.Duration
	timeout    time.Duration
	// readBody is set when a body check needs the body in memory.
	readBody bool
}

type httpJSONCheck struct {
	path   string
	equals *string
	regex  *regexp.Regexp
}

func newHTTP(c *checkconfig.Check, env Env) (Prober, error) {
	h := c.HTTP
	p := &httpProber{
		target:     c.Target,
		cfg:        h,
		method:     strings.ToUpper(h.Method),
		env:        env,
		maxBody:    int64(h.MaxBodySize),
		certExpiry: c.CertExpiry(),
		timeout:    c.EffectiveTimeout(),
	}
	if p.method == "" {
		p.method = http.MethodGet
	}
	if p.maxBody <= 0 {
		p.maxBody = httpDefaultMaxBody
	}
	var err error
	if h.BodyRegex != "" {
		if p.bodyRegex, err = regexp.Compile(h.BodyRegex); err != nil {
			return nil, fmt.Errorf("http.body_regex: %w", err)
		}
	}
	for _, m := range h.JSON {
		jc := httpJSONCheck{path: m.Path, equals: m.Equals}
		if m.Regex != "" {
			if jc.regex, err = regexp.Compile(m.Regex); err != nil {
				return nil, fmt.Errorf("http.json %s: %w", m.Path, err)
			}
		}
		p.json = append(p.json, jc)
	}
	p.readBody = h.BodyContains != "" || h.BodyNotContains != "" || p.bodyRegex != nil || len(p.json) > 0
	build := func() (*http.Transport, error) { return newHTTPTransport(h) }
	if env.Transports != nil {
		key := httpTransportKey{h.TLS, h.ProxyURL, h.IPProtocol, fileVersions(h.TLS.CAFile, h.TLS.CertFile, h.TLS.KeyFile)}
		p.transport, err = env.Transports.get(key, build)
	} else {
		p.transport, err = build()
	}
	if err != nil {
		return nil, err
	}
	return p, nil
}

// newHTTPTransport builds the transport of an http check's client
// settings. Keep-alives are off: every run opens its own connections, so
// that the connect and tls phases are measured each time and nothing
// stays open between runs; so checks with the same settings can share one.
func newHTTPTransport(h *checkconfig.HTTP) (*http.Transport, error) {
	// The transport fills in the server name of each hop when the
	// configuration names none.
	tlsCfg, err := clientTLS(h.TLS, "")
	if err != nil {
		return nil, err
	}
	var proxy func(*http.Request) (*url.URL, error)
	if h.ProxyURL != "" {
		u, err := url.Parse(h.ProxyURL)
		if err != nil {
			return nil, fmt.Errorf("http.proxy_url: %w", err)
		}
		proxy = http.ProxyURL(u)
	}
	return &http.Transport{
		Proxy:                  proxy,
		DialContext:            httpDialer(h.IPProtocol),
		TLSClientConfig:        tlsCfg,
		DisableKeepAlives:      true,
		ForceAttemptHTTP2:      true,
		MaxResponseHeaderBytes: 1 << 20,
	}, nil
}

// httpTransportKey is what makes two http checks' transports the same.
type httpTransportKey struct {
	tls        checkconfig.TLSConfig
	proxy      string
	ipProtocol string
	// files are the modification times of the TLS files, so that a
	// reload after a certificate was replaced builds a new transport.
	files string
}

// fileVersions identifies the versions of files by their modification
// times (a missing file is left for clientTLS to report).
func fileVersions(paths ...string) string {
	var b strings.Builder
	for _, p := range paths {
		if p == "" {
			continue
		}
		if fi, err := os.Stat(p); err == nil {
			fmt.Fprintf(&b, "%s@%d;", p, fi.ModTime().UnixNano())
		}
	}
	return b.String()
}

// Transports holds the HTTP transports that http checks with the same
// client settings (TLS, proxy, IP protocol) share: one per check cost
// about 2.4 kB of heap each, 24 MB at 10,000 checks. A Scheduler makes
// its own; a transport lives as long as its Transports, since keep-alives
// are off and it holds no connection between runs.
type Transports struct {
	mu sync.Mutex
	m  map[httpTransportKey]*http.Transport
}

// NewTransports returns an empty set of shared transports.
func NewTransports() *Transports {
	return &Transports{m: map[httpTransportKey]*http.Transport{}}
}

func (t *Transports) get(k httpTransportKey, build func() (*http.Transport, error)) (*http.Transport, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if tr, ok := t.m[k]; ok {
		return tr, nil
	}
	tr, err := build()
	if err != nil {
		return nil, err
	}
	t.m[k] = tr
	return tr, nil
}

// Close has nothing to release: the transport may be shared and keeps no
// connection between runs.
func (p *httpProber) Close() error { return nil }

// httpRunKey carries a run's *httpRun to the transport's dialer.
type httpRunKey struct{}

// httpDialer returns a transport's dialer: it resolves the host as
// ip_protocol asks, records it in the run and connects.
func httpDialer(ipProtocol string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, _, addr string) (net.Conn, error) { return httpDial(ctx, ipProtocol, addr) }
}

func httpDial(ctx context.Context, ipProtocol, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	run, _ := ctx.Value(httpRunKey{}).(*httpRun)
	if run != nil {
		// The transport dials with a context detached from the
		// request's, so that another request could use the connection.
		// A run has no other request: its dials and its connections end
		// with it, or a server that never answers the TLS handshake
		// would keep a goroutine and a connection forever.
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		defer cancel()
		stop := context.AfterFunc(run.ctx, cancel)
		defer stop()
	}
	ip, lookup, err := resolveDialIP(ctx, host, ipProtocol)
	if run != nil {
		run.resolved(ip, lookup)
	}
	if err != nil {
		return nil, err
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(ip.String(), port))
	if err == nil && run != nil {
		context.AfterFunc(run.ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	}
	return conn, err
}

// Probe sends the request, follows redirects unless told not to and
// checks the status, the scheme and the body.
func (p *httpProber) Probe(ctx context.Context) Result {
	run := &httpRun{ctx: ctx}
	r := p.probe(ctx, runTimeout(ctx, time.Now(), p.timeout), run)
	run.addMetrics(&r)
	return r
}

func (p *httpProber) probe(ctx context.Context, timeout time.Duration, run *httpRun) Result {
	var r Result
	ctx = httptrace.WithClientTrace(context.WithValue(ctx, httpRunKey{}, run), run.trace())
	req, err := p.request(ctx)
	if err != nil {
		return r.Failf("%v", err)
	}
	redirects, last := 0, ""
	client := &http.Client{
		Transport: p.transport,
		CheckRedirect: func(next *http.Request, via []*http.Request) error {
			if p.cfg.NoFollowRedirects {
				return http.ErrUseLastResponse
			}
			last = next.URL.Redacted()
			if len(via) > httpMaxRedirects {
				return errTooManyRedirects
			}
			redirects = len(via)
			return nil
		},
	}
	resp, err := client.Do(req)
	r.Add("probe_http_redirects", float64(redirects))
	if err != nil {
		if errors.Is(err, errTooManyRedirects) {
			return r.Failf("stopped after %d redirects, before the one to %s", httpMaxRedirects, last)
		}
		addr, step := run.step()
		return r.Failf("%s", netFailure(ctx, err, timeout, addr, step))
	}
	defer resp.Body.Close()
	r.Add("probe_http_status_code", float64(resp.StatusCode))
	r.Add("probe_http_version", float64(resp.ProtoMajor)+float64(resp.ProtoMinor)/10)
	r.Add("probe_http_content_length", float64(resp.ContentLength))
	ssl := 0.0
	if resp.TLS != nil {
		ssl = 1
		addTLSMetrics(&r, resp.TLS, p.certExpiry, time.Now())
		addTLSCipher(&r, resp.TLS)
	}
	r.Add("probe_http_ssl", ssl)
	if lm, err := http.ParseTime(resp.Header.Get("Last-Modified")); err == nil {
		r.Add("probe_http_last_modified_timestamp_seconds", float64(lm.Unix()))
	}

	if !p.validStatus(resp.StatusCode) {
		reason := fmt.Sprintf("status %d, expected %s", resp.StatusCode, p.expectedStatus())
		if loc := resp.Header.Get("Location"); loc != "" && p.cfg.NoFollowRedirects && resp.StatusCode >= 300 && resp.StatusCode < 400 {
			reason += fmt.Sprintf(" (redirect to %s not followed: no_follow_redirects is set)", loc)
		}
		return r.Failf("%s", reason)
	}
	if p.cfg.FailIfNotSSL && resp.TLS == nil {
		return r.Failf("%s was served over plain HTTP and fail_if_not_ssl is set", resp.Request.URL.Redacted())
	}

	// The body is read in full, as blackbox_exporter does, so that the
	// transfer phase and the body length are measured.
	var body []byte
	var n int64
	limited := io.LimitReader(resp.Body, p.maxBody+1)
	if p.readBody {
		body, err = io.ReadAll(limited)
		n = int64(len(body))
	} else {
		n, err = io.Copy(io.Discard, limited)
	}
	run.finish()
	r.Add("probe_http_uncompressed_body_length", float64(n))
	if err != nil {
		addr, _ := run.step()
		return r.Failf("%s", netFailure(ctx, err, timeout, addr, "reading the response body from "+addr))
	}
	if n > p.maxBody {
		return r.Failf("response body is larger than max_body_size %s", yamlconf.Bytes(p.maxBody))
	}
	if p.readBody {
		reason := p.checkBody(body)
		failed := 0.0
		if reason != "" {
			failed = 1
		}
		r.Add("probe_failed_due_to_regex", failed)
		if reason != "" {
			return r.Failf("%s", reason)
		}
	}
	r.Success = true
	return r
}

// request builds the run's request; errors are about its secrets.
func (p *httpProber) request(ctx context.Context) (*http.Request, error) {
	var body io.Reader
	if p.cfg.Body != "" {
		body = strings.NewReader(p.cfg.Body)
	}
	req, err := http.NewRequestWithContext(ctx, p.method, p.target, body)
	if err != nil {
		return nil, fmt.Errorf("building the request: %w", err)
	}
	req.Header.Set("User-Agent", httpUserAgent)
	for k, v := range p.cfg.Headers {
		if strings.EqualFold(k, "Host") {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	if ba := p.cfg.BasicAuth; ba != nil {
		pw, err := p.env.secret(string(ba.Password), ba.PasswordEnv)
		if err != nil {
			return nil, fmt.Errorf("basic_auth password: %w", err)
		}
		req.SetBasicAuth(ba.Username, pw)
	}
	token, err := p.env.secret(string(p.cfg.BearerToken), p.cfg.BearerTokenEnv)
	if err != nil {
		return nil, fmt.Errorf("bearer token: %w", err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return req, nil
}

func (p *httpProber) validStatus(code int) bool {
	if len(p.cfg.ValidStatusCodes) == 0 {
		return code >= 200 && code < 300
	}
	return slices.Contains(p.cfg.ValidStatusCodes, code)
}

func (p *httpProber) expectedStatus() string {
	codes := p.cfg.ValidStatusCodes
	switch len(codes) {
	case 0:
		return "2xx"
	case 1:
		return strconv.Itoa(codes[0])
	}
	s := make([]string, len(codes))
	for i, c := range codes {
		s[i] = strconv.Itoa(c)
	}
	if len(s) == 2 {
		return s[0] + " or " + s[1]
	}
	return "one of " + strings.Join(s, ", ")
}

// checkBody returns why the body fails the check's body settings, or "".
func (p *httpProber) checkBody(body []byte) string {
	h := p.cfg
	if h.BodyContains != "" && !bytes.Contains(body, []byte(h.BodyContains)) {
		return fmt.Sprintf("body does not contain %q", h.BodyContains)
	}
	if h.BodyNotContains != "" && bytes.Contains(body, []byte(h.BodyNotContains)) {
		return fmt.Sprintf("body contains %q", h.BodyNotContains)
	}
	if p.bodyRegex != nil && !p.bodyRegex.Match(body) {
		return fmt.Sprintf("body does not match regex %q", p.bodyRegex)
	}
	if len(p.json) == 0 {
		return ""
	}
	doc, err := decodeJSONBody(body)
	if err != nil {
		return fmt.Sprintf("body is not JSON: %v", err)
	}
	for _, m := range p.json {
		v, err := jsonLookup(doc, m.path)
		if err != nil {
			return err.Error()
		}
		text := jsonText(v)
		if m.equals != nil && text != *m.equals {
			return fmt.Sprintf("json field %s is %q, expected %q", m.path, text, *m.equals)
		}
		if m.regex != nil && !m.regex.MatchString(text) {
			return fmt.Sprintf("json field %s is %q, which does not match regex %q", m.path, text, m.regex)
		}
	}
	return ""
}

// decodeJSONBody decodes one JSON document, keeping numbers as written.
func decodeJSONBody(body []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("more than one JSON value")
	}
	return doc, nil
}

// jsonLookup walks a dotted path into a document decoded with
// decodeJSONBody: each element is an object key, or an index into an
// array ("data.items.0.name"). The error says where the walk stopped.
func jsonLookup(doc any, path string) (any, error) {
	cur := doc
	done := 0 // length of path walked so far
	for i, key := range strings.Split(path, ".") {
		here := path[:done+len(key)]
		parent := "the document"
		if i > 0 {
			parent = path[:done-1]
		}
		done += len(key) + 1
		switch v := cur.(type) {
		case map[string]any:
			next, ok := v[key]
			if !ok {
				return nil, fmt.Errorf("json field %s not found: %s has no key %q", here, parent, key)
			}
			cur = next
		case []any:
			idx, err := strconv.Atoi(key)
			if err != nil || idx < 0 {
				return nil, fmt.Errorf("json field %s not found: %s is an array, and %q is not an index", here, parent, key)
			}
			if idx >= len(v) {
				return nil, fmt.Errorf("json field %s not found: %s has %d elements", here, parent, len(v))
			}
			cur = v[idx]
		default:
			return nil, fmt.Errorf("json field %s not found: %s is %s, not an object or array", here, parent, jsonKind(v))
		}
	}
	return cur, nil
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number, float64:
		return "a number"
	}
	return fmt.Sprintf("%T", v)
}

// jsonText is a value as equals and regex compare it: strings without
// quotes, numbers as written, true, false, null, and objects and arrays
// as compact JSON.
func jsonText(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		return v
	case json.Number:
		return v.String()
	case bool:
		return strconv.FormatBool(v)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// httpRun is what the trace of one run saw, hop by hop (one hop per
// request, redirects included). Transport goroutines write it, so it is
// locked.
type httpRun struct {
	// ctx is the run's context, which the transport's dials do not get.
	ctx  context.Context
	mu   sync.Mutex
	hops []*httpHop
	end  time.Time
}

type httpHop struct {
	addr                      string // host:port asked for (the proxy's when proxied)
	ip                        net.IP
	resolve                   time.Duration
	connectStart, connectDone time.Time
	tlsStart, tlsDone         time.Time
	gotConn, firstByte        time.Time
}

func (run *httpRun) update(f func(h *httpHop)) {
	run.mu.Lock()
	defer run.mu.Unlock()
	if len(run.hops) == 0 {
		run.hops = append(run.hops, &httpHop{})
	}
	f(run.hops[len(run.hops)-1])
}

func (run *httpRun) resolved(ip net.IP, lookup time.Duration) {
	run.update(func(h *httpHop) { h.ip, h.resolve = ip, h.resolve+lookup })
}

func (run *httpRun) finish() {
	run.mu.Lock()
	run.end = time.Now()
	run.mu.Unlock()
}

func (run *httpRun) trace() *httptrace.ClientTrace {
	setOnce := func(t *time.Time) {
		if t.IsZero() {
			*t = time.Now()
		}
	}
	return &httptrace.ClientTrace{
		GetConn: func(hostPort string) {
			run.mu.Lock()
			run.hops = append(run.hops, &httpHop{addr: hostPort})
			run.mu.Unlock()
		},
		ConnectStart: func(string, string) { run.update(func(h *httpHop) { setOnce(&h.connectStart) }) },
		ConnectDone:  func(string, string, error) { run.update(func(h *httpHop) { h.connectDone = time.Now() }) },
		TLSHandshakeStart: func() {
			run.update(func(h *httpHop) { setOnce(&h.tlsStart) })
		},
		TLSHandshakeDone: func(tls.ConnectionState, error) {
			run.update(func(h *httpHop) { h.tlsDone = time.Now() })
		},
		GotConn:              func(httptrace.GotConnInfo) { run.update(func(h *httpHop) { setOnce(&h.gotConn) }) },
		GotFirstResponseByte: func() { run.update(func(h *httpHop) { setOnce(&h.firstByte) }) },
	}
}

// step says what the run was doing when it stopped, for reasons, and
// with which address.
func (run *httpRun) step() (addr, step string) {
	run.mu.Lock()
	defer run.mu.Unlock()
	if len(run.hops) == 0 {
		return "", "sending the request"
	}
	h := run.hops[len(run.hops)-1]
	addr = h.addr
	switch {
	case h.gotConn.IsZero() && !h.tlsStart.IsZero():
		return addr, "doing the TLS handshake with " + addr
	case h.gotConn.IsZero():
		return addr, "connecting to " + addr
	case h.firstByte.IsZero():
		return addr, "waiting for the response from " + addr
	}
	return addr, "reading the response body from " + addr
}

// addMetrics adds blackbox_exporter's phases, summed over redirects, and
// the address series of the first connection.
func (run *httpRun) addMetrics(r *Result) {
	run.mu.Lock()
	defer run.mu.Unlock()
	var resolve, connect, tlsTime, processing, transfer time.Duration
	between := func(from, to time.Time) time.Duration {
		if from.IsZero() || to.IsZero() || to.Before(from) {
			return 0
		}
		return to.Sub(from)
	}
	for _, h := range run.hops {
		resolve += h.resolve
		connect += between(h.connectStart, h.connectDone)
		tlsTime += between(h.tlsStart, h.tlsDone)
		processing += between(h.gotConn, h.firstByte)
	}
	if n := len(run.hops); n > 0 {
		transfer = between(run.hops[n-1].firstByte, run.end)
	}
	for _, ph := range []struct {
		name string
		d    time.Duration
	}{{"resolve", resolve}, {"connect", connect}, {"tls", tlsTime}, {"processing", processing}, {"transfer", transfer}} {
		r.Add("probe_http_duration_seconds", ph.d.Seconds(), "phase", ph.name)
	}
	for _, h := range run.hops {
		if h.ip != nil {
			addDialIPMetrics(r, h.ip, h.resolve)
			break
		}
	}
}
