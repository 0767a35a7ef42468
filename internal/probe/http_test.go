package probe

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/saypro/monitor/internal/config/checkconfig"
)

// httpTestMux serves what the http check tests ask for.
func httpTestMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Last-Modified", "Mon, 02 Jan 2006 15:04:05 GMT")
		_, _ = io.WriteString(w, "all ok")
	})
	mux.HandleFunc("/status/{code}", func(w http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(r.PathValue("code"))
		w.WriteHeader(code)
	})
	mux.HandleFunc("/redirect/{n}", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.PathValue("n"))
		if n == 0 {
			_, _ = io.WriteString(w, "arrived")
			return
		}
		http.Redirect(w, r, fmt.Sprintf("/redirect/%d", n-1), http.StatusFound)
	})
	mux.HandleFunc("/json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"status":"degraded","version":"1.2.3","n":42,"ready":true,"gone":null,
			"data":{"items":[{"name":"a"},{"name":"b"}]}}`)
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, strings.Repeat("x", 2048))
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, _ *http.Request) {
		time.Sleep(50 * time.Millisecond)
		_, _ = io.WriteString(w, "late")
	})
	return mux
}

func netPtr[T any](v T) *T { return &v }

func TestHTTPCheck(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(httpTestMux())
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	refused := netRefusedAddr(t)
	silent := netSilentServer(t)

	cases := []struct {
		name   string
		url    string // a path on srv, or a whole URL
		edit   func(*checkconfig.HTTP)
		state  State
		reason string
		// metrics are expected values; -1 says the series is absent.
		metrics map[string]float64
	}{
		{name: "ok", url: "/ok", state: StateUp, metrics: map[string]float64{
			"probe_http_status_code": 200, "probe_http_redirects": 0, "probe_http_ssl": 0, "probe_http_version": 1.1,
			"probe_http_content_length": 6, "probe_http_uncompressed_body_length": 6, "probe_ip_protocol": 4,
			"probe_http_last_modified_timestamp_seconds": 1136214245, "probe_failed_due_to_regex": -1,
			"probe_ssl_earliest_cert_expiry": -1,
		}},
		{name: "status 503", url: "/status/503", state: StateDown, reason: "status 503, expected 2xx",
			metrics: map[string]float64{"probe_http_status_code": 503}},
		{name: "503 is valid", url: "/status/503", edit: func(h *checkconfig.HTTP) { h.ValidStatusCodes = []int{503} }, state: StateUp},
		{name: "404 with two valid codes", url: "/status/404", edit: func(h *checkconfig.HTTP) { h.ValidStatusCodes = []int{200, 204} },
			state: StateDown, reason: "status 404, expected 200 or 204"},
		{name: "404 with three valid codes", url: "/status/404", edit: func(h *checkconfig.HTTP) { h.ValidStatusCodes = []int{200, 201, 204} },
			state: StateDown, reason: "status 404, expected one of 200, 201, 204"},
		{name: "redirects followed", url: "/redirect/3", state: StateUp,
			metrics: map[string]float64{"probe_http_redirects": 3, "probe_http_status_code": 200}},
		{name: "redirect not followed", url: "/redirect/1", edit: func(h *checkconfig.HTTP) { h.NoFollowRedirects = true },
			state: StateDown, reason: "status 302, expected 2xx (redirect to /redirect/0 not followed: no_follow_redirects is set)",
			metrics: map[string]float64{"probe_http_redirects": 0, "probe_http_status_code": 302}},
		{name: "302 valid without following", url: "/redirect/1", edit: func(h *checkconfig.HTTP) {
			h.NoFollowRedirects = true
			h.ValidStatusCodes = []int{302}
		}, state: StateUp, metrics: map[string]float64{"probe_http_redirects": 0}},
		{name: "too many redirects", url: "/redirect/12", state: StateDown, reason: "stopped after 10 redirects, before the one to " + srv.URL + "/redirect/1"},
		{name: "body contains", url: "/ok", edit: func(h *checkconfig.HTTP) { h.BodyContains = "ok" }, state: StateUp,
			metrics: map[string]float64{"probe_failed_due_to_regex": 0}},
		{name: "body does not contain", url: "/ok", edit: func(h *checkconfig.HTTP) { h.BodyContains = "healthy" },
			state: StateDown, reason: `body does not contain "healthy"`, metrics: map[string]float64{"probe_failed_due_to_regex": 1}},
		{name: "body not contains", url: "/ok", edit: func(h *checkconfig.HTTP) { h.BodyNotContains = "error" }, state: StateUp},
		{name: "body contains the forbidden", url: "/ok", edit: func(h *checkconfig.HTTP) { h.BodyNotContains = "ok" },
			state: StateDown, reason: `body contains "ok"`},
		{name: "body regex", url: "/ok", edit: func(h *checkconfig.HTTP) { h.BodyRegex = `^all \w+$` }, state: StateUp},
		{name: "body regex fails", url: "/ok", edit: func(h *checkconfig.HTTP) { h.BodyRegex = `^ready` },
			state: StateDown, reason: `body does not match regex "^ready"`, metrics: map[string]float64{"probe_failed_due_to_regex": 1}},
		{name: "json equals fails", url: "/json", edit: func(h *checkconfig.HTTP) {
			h.JSON = []checkconfig.JSONMatch{{Path: "status", Equals: netPtr("ok")}}
		}, state: StateDown, reason: `json field status is "degraded", expected "ok"`, metrics: map[string]float64{"probe_failed_due_to_regex": 1}},
		{name: "json fields match", url: "/json", edit: func(h *checkconfig.HTTP) {
			h.JSON = []checkconfig.JSONMatch{
				{Path: "status", Equals: netPtr("degraded")},
				{Path: "data.items.1.name", Equals: netPtr("b")},
				{Path: "n", Equals: netPtr("42")},
				{Path: "ready", Equals: netPtr("true")},
				{Path: "gone", Equals: netPtr("null")},
				{Path: "data.items.0", Equals: netPtr(`{"name":"a"}`)},
				{Path: "version", Regex: `^1\.`},
			}
		}, state: StateUp, metrics: map[string]float64{"probe_failed_due_to_regex": 0}},
		{name: "json regex fails", url: "/json", edit: func(h *checkconfig.HTTP) {
			h.JSON = []checkconfig.JSONMatch{{Path: "version", Regex: `^2\.`}}
		}, state: StateDown, reason: `json field version is "1.2.3", which does not match regex "^2\\."`},
		{name: "json index out of range", url: "/json", edit: func(h *checkconfig.HTTP) {
			h.JSON = []checkconfig.JSONMatch{{Path: "data.items.5.name", Equals: netPtr("f")}}
		}, state: StateDown, reason: "json field data.items.5 not found: data.items has 2 elements"},
		{name: "json body is not JSON", url: "/ok", edit: func(h *checkconfig.HTTP) {
			h.JSON = []checkconfig.JSONMatch{{Path: "status", Equals: netPtr("ok")}}
		}, state: StateDown, reason: "body is not JSON: invalid character"},
		{name: "body over max_body_size", url: "/big", edit: func(h *checkconfig.HTTP) { h.MaxBodySize = 1024 },
			state: StateDown, reason: "response body is larger than max_body_size 1KiB"},
		{name: "body within max_body_size", url: "/big", edit: func(h *checkconfig.HTTP) { h.MaxBodySize = 4096 }, state: StateUp,
			metrics: map[string]float64{"probe_http_uncompressed_body_length": 2048}},
		{name: "fail_if_not_ssl", url: "/ok", edit: func(h *checkconfig.HTTP) { h.FailIfNotSSL = true },
			state: StateDown, reason: srv.URL + "/ok was served over plain HTTP and fail_if_not_ssl is set"},
		{name: "method HEAD", url: "/ok", edit: func(h *checkconfig.HTTP) { h.Method = "head" }, state: StateUp,
			metrics: map[string]float64{"probe_http_uncompressed_body_length": 0}},
		{name: "nothing listens", url: "http://" + refused + "/", state: StateDown, reason: "connection refused by " + refused},
		{name: "never answers", url: "http://" + silent + "/", state: StateDown,
			reason: "no answer within the 300ms timeout while waiting for the response from " + silent},
		{name: "ip4 by name", url: "http://localhost:" + port + "/ok", edit: func(h *checkconfig.HTTP) { h.IPProtocol = "ip4" }, state: StateUp,
			metrics: map[string]float64{"probe_ip_protocol": 4}},
		{name: "ip6 asked, IPv4 address given", url: "/ok", edit: func(h *checkconfig.HTTP) { h.IPProtocol = "ip6" },
			state: StateDown, reason: "address 127.0.0.1 is not of ip_protocol ip6"},
		{name: "unknown host", url: "http://nonexistent.invalid/", state: StateDown, reason: "host nonexistent.invalid not found (DNS)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			target := tc.url
			if strings.HasPrefix(target, "/") {
				target = srv.URL + target
			}
			c := netCheck(t, checkconfig.KindHTTP, target, func(c *checkconfig.Check) {
				c.HTTP = &checkconfig.HTTP{}
				if tc.edit != nil {
					tc.edit(c.HTTP)
				}
				c.Timeout = model.Duration(300 * time.Millisecond)
			})
			r, o := netRun(t, c, Env{})
			require.Equal(t, tc.state, o.State, o.Reason)
			require.Contains(t, o.Reason, tc.reason)
			for name, want := range tc.metrics {
				v, ok := netMetric(r.Metrics, name)
				if want == -1 {
					require.False(t, ok, name)
					continue
				}
				require.True(t, ok, name)
				require.InDelta(t, want, v, 1e-9, name)
			}
			// Every run has the five phases, as blackbox_exporter does.
			for _, phase := range []string{"resolve", "connect", "tls", "processing", "transfer"} {
				v, ok := netMetric(r.Metrics, "probe_http_duration_seconds", "phase", phase)
				require.True(t, ok, phase)
				require.GreaterOrEqual(t, v, 0.0)
			}
			if tc.name == "ok" {
				v, _ := netMetric(r.Metrics, "probe_http_duration_seconds", "phase", "connect")
				require.Positive(t, v)
				v, _ = netMetric(r.Metrics, "probe_http_duration_seconds", "phase", "processing")
				require.Positive(t, v)
			}
		})
	}
}

// netTLSHTTPServer starts an HTTPS server with cert; edit changes its
// TLS settings before it starts.
func netTLSHTTPServer(t *testing.T, h http.Handler, cert tls.Certificate, edit func(*httptest.Server)) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // handshakes the tests make fail
	if edit != nil {
		edit(srv)
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

func TestHTTPS(t *testing.T) {
	t.Parallel()
	ca := newNetTestCA(t)
	other := newNetTestCA(t)
	in30d := time.Now().Add(30 * 24 * time.Hour).Truncate(time.Second)
	in3d := time.Now().Add(3*24*time.Hour + time.Hour).Truncate(time.Second)
	mux := httpTestMux()

	good := netTLSHTTPServer(t, mux, ca.leaf(t, "web", in30d), nil)
	expiring := netTLSHTTPServer(t, mux, ca.leaf(t, "web-soon", in3d), nil)
	wrongName := netTLSHTTPServer(t, mux, ca.leaf(t, "wrong", in30d, "wrong.example"), nil)
	untrusted := netTLSHTTPServer(t, mux, other.leaf(t, "stranger", in30d), nil)
	h2 := netTLSHTTPServer(t, mux, ca.leaf(t, "web2", in30d), func(s *httptest.Server) { s.EnableHTTP2 = true })
	clientCA := netTLSHTTPServer(t, mux, ca.leaf(t, "mtls", in30d), func(s *httptest.Server) {
		s.TLS.ClientAuth = tls.RequireAndVerifyClientCert
		s.TLS.ClientCAs = ca.pool
	})
	clientCert, clientKey := netWriteKeyPair(t, ca.leaf(t, "monitor", in30d, "monitor.client"))
	plain := httptest.NewServer(mux)
	t.Cleanup(plain.Close)
	toPlain := netTLSHTTPServer(t, http.RedirectHandler(plain.URL+"/ok", http.StatusFound), ca.leaf(t, "web", in30d), nil)
	toTLS := httptest.NewServer(http.RedirectHandler(good.URL+"/ok", http.StatusMovedPermanently))
	t.Cleanup(toTLS.Close)
	silent := netSilentServer(t)

	cases := []struct {
		name    string
		url     string
		edit    func(*checkconfig.HTTP)
		state   State
		reason  string
		metrics map[string]float64
	}{
		{name: "valid", url: good.URL + "/ok", state: StateUp, metrics: map[string]float64{
			"probe_http_ssl": 1, "probe_ssl_earliest_cert_expiry": float64(in30d.Unix()), "probe_http_version": 1.1,
		}},
		{name: "expires in 3 days", url: expiring.URL + "/ok", state: StateDegraded, reason: `certificate "web-soon" expires in 3 days`,
			metrics: map[string]float64{"probe_ssl_earliest_cert_expiry": float64(in3d.Unix())}},
		{name: "expiring and failing", url: expiring.URL + "/status/500", state: StateDown, reason: "status 500, expected 2xx"},
		{name: "wrong host name", url: wrongName.URL + "/ok", state: StateDown,
			reason: "certificate verify failed: x509: cannot validate certificate for 127.0.0.1 because it doesn't contain any IP SANs"},
		{name: "server_name overrides", url: wrongName.URL + "/ok", edit: func(h *checkconfig.HTTP) { h.TLS.ServerName = "wrong.example" }, state: StateUp},
		{name: "untrusted CA", url: untrusted.URL + "/ok", state: StateDown,
			reason: "certificate verify failed: x509: certificate signed by unknown authority"},
		{name: "untrusted but insecure_skip_verify", url: untrusted.URL + "/ok", edit: func(h *checkconfig.HTTP) { h.TLS.InsecureSkipVerify = true },
			state: StateUp, metrics: map[string]float64{"probe_ssl_earliest_cert_expiry": float64(in30d.Unix())}},
		{name: "HTTP/2", url: h2.URL + "/ok", state: StateUp, metrics: map[string]float64{"probe_http_version": 2}},
		{name: "client certificate", url: clientCA.URL + "/ok", edit: func(h *checkconfig.HTTP) {
			h.TLS.CertFile, h.TLS.KeyFile = clientCert, clientKey
		}, state: StateUp},
		{name: "client certificate missing", url: clientCA.URL + "/ok", state: StateDown, reason: "certificate required"},
		{name: "fail_if_not_ssl over TLS", url: good.URL + "/ok", edit: func(h *checkconfig.HTTP) { h.FailIfNotSSL = true }, state: StateUp},
		{name: "redirect to plain HTTP", url: toPlain.URL, edit: func(h *checkconfig.HTTP) { h.FailIfNotSSL = true }, state: StateDown,
			reason: plain.URL + "/ok was served over plain HTTP and fail_if_not_ssl is set", metrics: map[string]float64{"probe_http_ssl": 0, "probe_http_redirects": 1}},
		{name: "redirect to TLS", url: toTLS.URL, edit: func(h *checkconfig.HTTP) { h.FailIfNotSSL = true }, state: StateUp,
			metrics: map[string]float64{"probe_http_ssl": 1, "probe_http_redirects": 1}},
		{name: "handshake never answered", url: "https://" + silent + "/", state: StateDown,
			reason: "no answer within the 300ms timeout while doing the TLS handshake with " + silent},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := netCheck(t, checkconfig.KindHTTP, tc.url, func(c *checkconfig.Check) {
				c.HTTP = &checkconfig.HTTP{TLS: checkconfig.TLSConfig{CAFile: ca.file}}
				if tc.edit != nil {
					tc.edit(c.HTTP)
				}
				c.Timeout = model.Duration(time.Second)
				if strings.Contains(tc.name, "never") {
					c.Timeout = model.Duration(300 * time.Millisecond)
				}
			})
			r, o := netRun(t, c, Env{})
			require.Equal(t, tc.state, o.State, o.Reason)
			require.Contains(t, o.Reason, tc.reason)
			for name, want := range tc.metrics {
				v, ok := netMetric(r.Metrics, name)
				require.True(t, ok, name)
				require.InDelta(t, want, v, 1e-9, name)
			}
			if tc.state == StateUp {
				v, ok := netMetric(r.Metrics, "probe_http_duration_seconds", "phase", "tls")
				require.True(t, ok)
				require.Positive(t, v)
			}
		})
	}
}

// TestHTTPRequest checks what the server receives: method, headers, Host,
// body and credentials, the password and token read from the
// environment where the check runs.
func TestHTTPRequest(t *testing.T) {
	t.Parallel()
	type received struct {
		method, host, body, contentType, custom, userAgent, authorization string
		user, password                                                    string
		basic                                                             bool
	}
	got := make(chan received, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rec := received{
			method: r.Method, host: r.Host, body: string(b), contentType: r.Header.Get("Content-Type"),
			custom: r.Header.Get("X-Custom"), userAgent: r.Header.Get("User-Agent"), authorization: r.Header.Get("Authorization"),
		}
		rec.user, rec.password, rec.basic = r.BasicAuth()
		if rec.basic {
			rec.authorization = ""
		}
		select {
		case got <- rec:
		default:
		}
	}))
	t.Cleanup(srv.Close)
	vars := map[string]string{"WEB_PASSWORD": "pa55", "WEB_TOKEN": "t0ken"}
	env := Env{Getenv: func(name string) string { return vars[name] }}

	cases := []struct {
		name   string
		http   checkconfig.HTTP
		state  State
		reason string
		want   received
	}{
		{name: "defaults", state: StateUp, want: received{method: "GET", userAgent: httpUserAgent}},
		{name: "method, headers and body", http: checkconfig.HTTP{
			Method: "POST", Body: `{"q":1}`,
			Headers: map[string]string{"Content-Type": "application/json", "X-Custom": "yes", "Host": "api.example", "User-Agent": "probe/2"},
		}, state: StateUp, want: received{method: "POST", body: `{"q":1}`, contentType: "application/json", custom: "yes", host: "api.example", userAgent: "probe/2"}},
		{name: "basic auth", http: checkconfig.HTTP{BasicAuth: &checkconfig.BasicAuth{Username: "monitor", Password: "literal"}},
			state: StateUp, want: received{method: "GET", userAgent: httpUserAgent, basic: true, user: "monitor", password: "literal"}},
		{name: "basic auth from the environment", http: checkconfig.HTTP{BasicAuth: &checkconfig.BasicAuth{Username: "monitor", PasswordEnv: "WEB_PASSWORD"}},
			state: StateUp, want: received{method: "GET", userAgent: httpUserAgent, basic: true, user: "monitor", password: "pa55"}},
		{name: "bearer token", http: checkconfig.HTTP{BearerToken: "abc"},
			state: StateUp, want: received{method: "GET", userAgent: httpUserAgent, authorization: "Bearer abc"}},
		{name: "bearer token from the environment", http: checkconfig.HTTP{BearerTokenEnv: "WEB_TOKEN"},
			state: StateUp, want: received{method: "GET", userAgent: httpUserAgent, authorization: "Bearer t0ken"}},
		{name: "password variable missing", http: checkconfig.HTTP{BasicAuth: &checkconfig.BasicAuth{Username: "monitor", PasswordEnv: "NOT_SET"}},
			state: StateDown, reason: "basic_auth password: environment variable NOT_SET is empty or not set where the check runs"},
		{name: "token variable missing", http: checkconfig.HTTP{BearerTokenEnv: "NOT_SET"},
			state: StateDown, reason: "bearer token: environment variable NOT_SET is empty or not set where the check runs"},
	}
	for _, tc := range cases {
		// Not parallel: the subtests share the server's channel.
		t.Run(tc.name, func(t *testing.T) {
			c := netCheck(t, checkconfig.KindHTTP, srv.URL+"/path?x=1", func(c *checkconfig.Check) { c.HTTP = &tc.http })
			_, o := netRun(t, c, env)
			require.Equal(t, tc.state, o.State, o.Reason)
			require.Contains(t, o.Reason, tc.reason)
			if tc.state == StateDown {
				require.Empty(t, got, "no request is sent without its credentials")
				return
			}
			rec := <-got
			if tc.want.host == "" {
				tc.want.host = srv.Listener.Addr().String()
			}
			require.Equal(t, tc.want, rec)
		})
	}
}

// TestHTTPProxy sends the check through a proxy that knows a host name
// the check itself could not resolve.
func TestHTTPProxy(t *testing.T) {
	t.Parallel()
	backend := httptest.NewServer(httpTestMux())
	t.Cleanup(backend.Close)
	var proxied atomic.Int32
	forward := &http.Transport{DisableKeepAlives: true}
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proxied.Add(1)
		if r.URL.Host != "backend.invalid" {
			http.Error(w, "unknown host "+r.URL.Host, http.StatusBadGateway)
			return
		}
		out := r.Clone(r.Context())
		out.RequestURI = ""
		out.URL.Host = backend.Listener.Addr().String()
		resp, err := forward.RoundTrip(out)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for k, vs := range resp.Header {
			w.Header()[k] = vs
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
	}))
	t.Cleanup(proxy.Close)

	c := netCheck(t, checkconfig.KindHTTP, "http://backend.invalid/redirect/2", func(c *checkconfig.Check) {
		c.HTTP = &checkconfig.HTTP{ProxyURL: proxy.URL, BodyContains: "arrived"}
	})
	r, o := netRun(t, c, Env{})
	require.Equal(t, StateUp, o.State, o.Reason)
	require.Equal(t, int32(3), proxied.Load(), "the request and its two redirects went through the proxy")
	v, _ := netMetric(r.Metrics, "probe_http_redirects")
	require.Equal(t, 2.0, v)

	// Without the proxy the name does not resolve.
	c.HTTP.ProxyURL = ""
	_, o = netRun(t, c, Env{})
	require.Equal(t, StateDown, o.State)
	require.Equal(t, "host backend.invalid not found (DNS)", o.Reason)
}

// TestHTTPLatencyThreshold: a response slower than thresholds.latency is
// degraded; with the default threshold it is up.
func TestHTTPLatencyThreshold(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(httpTestMux())
	t.Cleanup(srv.Close)
	for _, tc := range []struct {
		latency model.Duration
		state   State
		reason  string
	}{
		{latency: model.Duration(10 * time.Millisecond), state: StateDegraded, reason: "above the 10ms threshold"},
		{state: StateUp},
	} {
		c := netCheck(t, checkconfig.KindHTTP, srv.URL+"/slow", func(c *checkconfig.Check) { c.Thresholds.Latency = tc.latency })
		r, o := netRun(t, c, Env{})
		require.Equal(t, tc.state, o.State, o.Reason)
		require.Contains(t, o.Reason, tc.reason)
		v, _ := netMetric(r.Metrics, "probe_http_duration_seconds", "phase", "processing")
		require.GreaterOrEqual(t, v, 0.04, "the server's 50ms are in the processing phase")
	}
}

// TestHTTPNoLeaks runs successful, refused and timed-out checks (http,
// and tls and tcp against a silent server) and then expects the
// goroutines they started to be gone. Not parallel, so that
// other tests do not move the count.
func TestHTTPNoLeaks(t *testing.T) {
	srv := httptest.NewServer(httpTestMux())
	t.Cleanup(srv.Close)
	ca := newNetTestCA(t)
	h2 := netTLSHTTPServer(t, httpTestMux(), ca.leaf(t, "web", time.Now().Add(30*24*time.Hour)), func(s *httptest.Server) { s.EnableHTTP2 = true })
	silent := netSilentServer(t)
	refused := netRefusedAddr(t)
	before := runtime.NumGoroutine()
	targets := []string{
		srv.URL + "/ok", srv.URL + "/redirect/2", h2.URL + "/redirect/1",
		"http://" + silent + "/", "https://" + silent + "/", "http://" + refused + "/",
	}
	short := func(c *checkconfig.Check) { c.Timeout = model.Duration(300 * time.Millisecond) }
	var checks []*checkconfig.Check
	for _, target := range targets {
		checks = append(checks, netCheck(t, checkconfig.KindHTTP, target, func(c *checkconfig.Check) {
			c.HTTP = &checkconfig.HTTP{TLS: checkconfig.TLSConfig{CAFile: ca.file}}
			short(c)
		}))
	}
	// The tls and tcp kinds against the same silent server.
	checks = append(checks,
		netCheck(t, checkconfig.KindTLS, silent, short),
		netCheck(t, checkconfig.KindTCP, silent, func(c *checkconfig.Check) {
			c.TCP = &checkconfig.TCP{Send: "PING", Expect: "PONG", TLS: true}
			short(c)
		}),
		netCheck(t, checkconfig.KindTCP, silent, func(c *checkconfig.Check) {
			c.TCP = &checkconfig.TCP{Send: "PING", Expect: "PONG"}
			short(c)
		}))
	for _, c := range checks {
		p, err := New(c, Env{})
		require.NoError(t, err)
		for range 2 {
			o := execute(t.Context(), c, p, "test")
			up := strings.Contains(c.Target, srv.Listener.Addr().String()) || strings.HasPrefix(c.Target, h2.URL)
			require.Equal(t, up, o.State == StateUp, o.Reason)
		}
		closeProber(p, slog.New(slog.DiscardHandler))
	}
	require.Eventually(t, func() bool { return runtime.NumGoroutine() <= before+1 }, 5*time.Second, 20*time.Millisecond,
		"goroutines: %d before, %d after", before, runtime.NumGoroutine())
}

func TestJSONLookup(t *testing.T) {
	t.Parallel()
	doc, err := decodeJSONBody([]byte(`{"a":{"b":[10,{"c":"x"}],"s":"str","n":null},"":{"":1},"1":"one"}`))
	require.NoError(t, err)
	cases := []struct {
		path, want, err string
	}{
		{path: "a.b.0", want: "10"},
		{path: "a.b.1.c", want: "x"},
		{path: "a.b.1", want: `{"c":"x"}`},
		{path: "a.n", want: "null"},
		{path: "1", want: "one"},
		{path: ".", want: "1"},
		{path: "a.x", err: `json field a.x not found: a has no key "x"`},
		{path: "x", err: `json field x not found: the document has no key "x"`},
		{path: "a.b.2", err: "json field a.b.2 not found: a.b has 2 elements"},
		{path: "a.b.-1", err: `json field a.b.-1 not found: a.b is an array, and "-1" is not an index`},
		{path: "a.b.first", err: `json field a.b.first not found: a.b is an array, and "first" is not an index`},
		{path: "a.s.len", err: "json field a.s.len not found: a.s is a string, not an object or array"},
		{path: "a.n.x", err: "json field a.n.x not found: a.n is null, not an object or array"},
	}
	for _, tc := range cases {
		v, err := jsonLookup(doc, tc.path)
		if tc.err != "" {
			require.EqualError(t, err, tc.err, tc.path)
			continue
		}
		require.NoError(t, err, tc.path)
		require.Equal(t, tc.want, jsonText(v), tc.path)
	}
	_, err = decodeJSONBody([]byte(`{} {}`))
	require.EqualError(t, err, "more than one JSON value")
}

// FuzzJSONPath walks arbitrary documents with arbitrary paths: no panic,
// and a path found names a value that survives a round trip.
func FuzzJSONPath(f *testing.F) {
	f.Add([]byte(`{"status":"ok","data":{"items":[{"name":"a"}]}}`), "data.items.0.name")
	f.Add([]byte(`[1,2,[3,{"":null}]]`), "2.1.")
	f.Add([]byte(`{"a.b":1}`), "a.b")
	f.Add([]byte(`"text"`), "")
	f.Add([]byte(`{"a":[]}`), "a.99999999999999999999")
	f.Fuzz(func(t *testing.T, body []byte, path string) {
		doc, err := decodeJSONBody(body)
		if err != nil {
			return
		}
		v, err := jsonLookup(doc, path)
		if err != nil {
			require.True(t, strings.HasPrefix(err.Error(), "json field "), err.Error())
			return
		}
		text := jsonText(v)
		switch v.(type) {
		case map[string]any, []any:
			require.True(t, json.Valid([]byte(text)), text)
		}
	})
}
