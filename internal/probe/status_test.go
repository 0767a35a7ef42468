package probe

import (
	"cmp"
	"context"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/saypro/monitor/internal/config/checkconfig"
	"github.com/saypro/monitor/internal/config/yamlconf"
)

func TestNginxStatusParse(t *testing.T) {
	fixture, err := os.ReadFile("testdata/nginx-stub-status.txt")
	require.NoError(t, err)
	tests := []struct {
		name string
		text string
		want nginxStatus
		err  string
	}{
		{name: "fixture", text: string(fixture),
			want: nginxStatus{Active: 291, Accepts: 16630948, Handled: 16630948, Requests: 31070465, Reading: 6, Writing: 179, Waiting: 106}},
		{name: "CRLF and no trailing spaces", text: "Active connections: 1\r\nserver accepts handled requests\r\n 5 4 9\r\nReading: 0 Writing: 1 Waiting: 0\r\n",
			want: nginxStatus{Active: 1, Accepts: 5, Handled: 4, Requests: 9, Writing: 1}},
		{name: "tengine request_time column", text: "Active connections: 1\nserver accepts handled requests request_time\n 5 5 9 120\nReading: 0 Writing: 1 Waiting: 0\n",
			want: nginxStatus{Active: 1, Accepts: 5, Handled: 5, Requests: 9, Writing: 1}},
		{name: "empty", text: "", err: "0 lines, expected 4"},
		{name: "html", text: "<html>\n<head><title>404 Not Found</title></head>\n<body>\n<center>nginx</center>\n</body>\n</html>\n",
			err: `line 1 ("<html>"): expected "Active connections: N"`},
		{name: "bad active", text: "Active connections: many\nserver accepts handled requests\n 1 1 1\nReading: 0 Writing: 1 Waiting: 0\n",
			err: `line 1 ("Active connections: many"): "many" is not a count`},
		{name: "bad header", text: "Active connections: 1\nserver accepts\n 1 1 1\nReading: 0 Writing: 1 Waiting: 0\n",
			err: `line 2 ("server accepts"): expected "server accepts handled requests"`},
		{name: "two counts", text: "Active connections: 1\nserver accepts handled requests\n 1 1\nReading: 0 Writing: 1 Waiting: 0\n",
			err: `line 3 ("1 1"): expected three counts`},
		{name: "negative count", text: "Active connections: 1\nserver accepts handled requests\n 1 -1 1\nReading: 0 Writing: 1 Waiting: 0\n",
			err: `line 3 ("1 -1 1"): "-1" is not a count`},
		{name: "bad states", text: "Active connections: 1\nserver accepts handled requests\n 1 1 1\nReading: 0 Writing: 1\n",
			err: `line 4 ("Reading: 0 Writing: 1"): expected "Reading: N Writing: N Waiting: N"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseNginxStatus(tt.text)
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestApacheStatusParse(t *testing.T) {
	fixture, err := os.ReadFile("testdata/apache-status-auto-2.4.71-event.txt")
	require.NoError(t, err)
	tests := []struct {
		name   string
		text   string
		fields map[string]float64 // a subset
		board  map[string]int     // a subset
		err    string
	}{
		{name: "fixture from apache 2.4 event", text: string(fixture),
			fields: map[string]float64{"Total Accesses": 3, "Total kBytes": 1, "BusyWorkers": 1, "IdleWorkers": 74, "Uptime": 2, "ReqPerSec": 1.5, "ConnsTotal": 0, "Processes": 3},
			board:  map[string]int{"idle": 74, "reply": 1, "open_slot": 325}},
		{name: "without ExtendedStatus, CRLF", text: "localhost\r\nServerVersion: Apache/2.4.57\r\nBusyWorkers: 2\r\nIdleWorkers: 0\r\nScoreboard: WK_.\r\n",
			fields: map[string]float64{"BusyWorkers": 2, "IdleWorkers": 0},
			board:  map[string]int{"reply": 1, "keepalive": 1, "idle": 1, "open_slot": 1}},
		{name: "leading-dot float", text: "BusyWorkers: 1\nIdleWorkers: 1\nReqPerSec: .0909091\n",
			fields: map[string]float64{"ReqPerSec": 0.0909091}},
		{name: "html", text: "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 3.2 Final//EN\">\n<html><head>\n<title>Apache Status</title>\n",
			err: "no BusyWorkers line (is ?auto missing from the URL"},
		{name: "no idle line", text: "BusyWorkers: 1\n", err: "no IdleWorkers line"},
		{name: "bad number", text: "localhost\nTotal Accesses: lots\nBusyWorkers: 1\nIdleWorkers: 1\n",
			err: `line 2 ("Total Accesses: lots"): "lots" is not a number`},
		{name: "NaN refused", text: "BusyWorkers: NaN\nIdleWorkers: 1\n", err: `line 1 ("BusyWorkers: NaN")`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseApacheStatus(tt.text)
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			for k, v := range tt.fields {
				require.Equal(t, v, got.Fields[k], k)
			}
			counts := got.scoreboardCounts()
			for k, v := range tt.board {
				require.Equal(t, v, counts[k], k)
			}
		})
	}
}

func TestApacheAutoURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://h/server-status":          "http://h/server-status?auto",
		"http://h/server-status?auto":     "http://h/server-status?auto",
		"http://h/server-status?x=1":      "http://h/server-status?x=1&auto",
		"https://h:8443/status?auto&x=1":  "https://h:8443/status?auto&x=1",
		"http://u:p@h/server-status?auto": "http://u:p@h/server-status?auto",
	} {
		got, err := apacheAutoURL(in)
		require.NoError(t, err)
		require.Equal(t, want, got, in)
	}
}

// FuzzNginxStatus checks that the parser never panics and that what it
// accepts formats back to text it reads the same.
func FuzzNginxStatus(f *testing.F) {
	if b, err := os.ReadFile("testdata/nginx-stub-status.txt"); err == nil {
		f.Add(string(b))
	}
	f.Add("Active connections: 1\r\nserver accepts handled requests request_time\r\n 5 4 9 1\r\nReading: 0 Writing: 1 Waiting: 0\r\n")
	f.Add("Active connections: 18446744073709551615\nserver accepts handled requests\n0 0 0\nReading: 0 Writing: 0 Waiting: 0")
	f.Add("")
	f.Fuzz(func(t *testing.T, text string) {
		st, err := parseNginxStatus(text)
		if err != nil {
			require.NotEmpty(t, err.Error())
			return
		}
		again, err := parseNginxStatus(st.String())
		require.NoError(t, err)
		require.Equal(t, st, again)
		require.True(t, strings.Contains(text, "Active connections:"))
	})
}

// FuzzApacheStatus checks that the parser never panics and that what it
// accepts formats back to text it reads the same.
func FuzzApacheStatus(f *testing.F) {
	if b, err := os.ReadFile("testdata/apache-status-auto-2.4.71-event.txt"); err == nil {
		f.Add(string(b))
	}
	f.Add("localhost\r\nServerVersion: Apache/2.4.57\r\nBusyWorkers: 2\r\nIdleWorkers: 0\r\nScoreboard: WK_.\r\n")
	f.Add("BusyWorkers: 1e308\nIdleWorkers: -0\nReqPerSec: .5\nScoreboard: ??\n")
	f.Add("")
	f.Fuzz(func(t *testing.T, text string) {
		st, err := parseApacheStatus(text)
		if err != nil {
			require.NotEmpty(t, err.Error())
			return
		}
		again, err := parseApacheStatus(st.String())
		require.NoError(t, err)
		require.Equal(t, st, again)
		total := 0
		for _, n := range st.scoreboardCounts() {
			total += n
		}
		require.LessOrEqual(t, total, len(st.Scoreboard))
	})
}

func statusTestCheck(t *testing.T, kind, target string, s *checkconfig.Status) *checkconfig.Check {
	t.Helper()
	c := &checkconfig.Check{
		Name: kind + "-test", Kind: kind, Target: target,
		Interval: checkconfig.DefaultInterval, Timeout: checkconfig.DefaultTimeout,
	}
	if kind == checkconfig.KindNginx {
		c.Nginx = s
	} else {
		c.Apache = s
	}
	require.Empty(t, c.Validate("checks", 0))
	return c
}

const statusTestNginxPage = "Active connections: 3 \nserver accepts handled requests\n 10 10 20 \nReading: 0 Writing: 1 Waiting: 2 \n"

// TestNginxApacheProbeHTTP runs both kinds against Go servers: auth, TLS,
// failures and warnings.
func TestNginxApacheProbeHTTP(t *testing.T) {
	var page atomic.Value
	page.Store(statusTestNginxPage)
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/private":
			if u, p, ok := r.BasicAuth(); !ok || u != "monitor" || p != "s3cret" {
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
		case "/broken":
			http.Error(w, "oops", http.StatusServiceUnavailable)
			return
		case "/server-status":
			if r.URL.RawQuery != "auto" {
				_, _ = io.WriteString(w, "<html>not auto</html>")
				return
			}
		}
		_, _ = io.WriteString(w, page.Load().(string))
	})
	plain := httptest.NewServer(handler)
	t.Cleanup(plain.Close)
	secure := httptest.NewUnstartedServer(handler)
	secure.Config.ErrorLog = log.New(io.Discard, "", 0) // handshake errors are expected
	secure.StartTLS()
	t.Cleanup(secure.Close)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: secure.Certificate().Raw}), 0o600))
	closed := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := l.Addr().String()
		_ = l.Close()
		return addr
	}()
	apachePage := "localhost\nBusyWorkers: 5\nIdleWorkers: 0\nScoreboard: WWWWW\n"
	env := Env{Getenv: func(k string) string {
		if k == "STATUS_PW" {
			return "s3cret"
		}
		return ""
	}}

	tests := []struct {
		name    string
		kind    string
		target  string
		cfg     *checkconfig.Status
		page    string
		ok      bool
		reason  string
		warning string
		code    float64
	}{
		{name: "nginx", kind: checkconfig.KindNginx, target: plain.URL + "/nginx_status", ok: true, code: 200},
		{name: "basic auth", kind: checkconfig.KindNginx, target: plain.URL + "/private", ok: true, code: 200,
			cfg: &checkconfig.Status{BasicAuth: &checkconfig.BasicAuth{Username: "monitor", Password: yamlconf.Secret("s3cret")}}},
		{name: "basic auth from the environment", kind: checkconfig.KindNginx, target: plain.URL + "/private", ok: true, code: 200,
			cfg: &checkconfig.Status{BasicAuth: &checkconfig.BasicAuth{Username: "monitor", PasswordEnv: "STATUS_PW"}}},
		{name: "basic auth, unset variable", kind: checkconfig.KindNginx, target: plain.URL + "/private",
			cfg:    &checkconfig.Status{BasicAuth: &checkconfig.BasicAuth{Username: "monitor", PasswordEnv: "NOPE"}},
			reason: "basic_auth password: environment variable NOPE is empty"},
		{name: "wrong password", kind: checkconfig.KindNginx, target: plain.URL + "/private", code: 401,
			cfg:    &checkconfig.Status{BasicAuth: &checkconfig.BasicAuth{Username: "monitor", Password: yamlconf.Secret("nope")}},
			reason: "status 401 from " + plain.URL + "/private, expected 200"},
		{name: "TLS with ca_file", kind: checkconfig.KindNginx, target: secure.URL + "/nginx_status", ok: true, code: 200,
			cfg: &checkconfig.Status{TLS: checkconfig.TLSConfig{CAFile: caFile}}},
		{name: "TLS unknown authority", kind: checkconfig.KindNginx, target: secure.URL + "/nginx_status",
			reason: "certificate signed by unknown authority"},
		{name: "TLS insecure_skip_verify", kind: checkconfig.KindNginx, target: secure.URL + "/nginx_status", ok: true, code: 200,
			cfg: &checkconfig.Status{TLS: checkconfig.TLSConfig{InsecureSkipVerify: true}}},
		{name: "unreachable", kind: checkconfig.KindNginx, target: "http://" + closed + "/nginx_status", reason: "connection refused"},
		{name: "status 503", kind: checkconfig.KindApache, target: plain.URL + "/broken", code: 503,
			reason: "status 503 from " + plain.URL + "/broken?auto, expected 200"},
		{name: "nginx page does not parse", kind: checkconfig.KindNginx, target: plain.URL + "/nginx_status", page: "hello\nworld\n", code: 200,
			reason: "is not an nginx stub_status page: 2 lines, expected 4"},
		{name: "nginx dropped connections", kind: checkconfig.KindNginx, target: plain.URL + "/nginx_status", ok: true, code: 200,
			page:    strings.Replace(statusTestNginxPage, " 10 10 20", " 12 10 20", 1),
			warning: "nginx dropped 2 connections since it started (accepts 12, handled 10)"},
		{name: "apache adds ?auto, all busy", kind: checkconfig.KindApache, target: plain.URL + "/server-status", page: apachePage, ok: true, code: 200,
			warning: "all 5 apache workers are busy (0 idle)"},
		{name: "apache html page", kind: checkconfig.KindApache, target: plain.URL + "/other", page: "<html>\n<body>hi</body>\n", code: 200,
			reason: "is not an apache mod_status ?auto page: no BusyWorkers line"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page.Store(cmp.Or(tt.page, statusTestNginxPage))
			p, err := New(statusTestCheck(t, tt.kind, tt.target, tt.cfg), env)
			require.NoError(t, err)
			defer closeProber(p, slog.New(slog.DiscardHandler))
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			defer cancel()
			r := p.Probe(ctx)
			require.Equal(t, tt.ok, r.Success, "reason: %s", r.Reason)
			if tt.ok {
				require.Positive(t, r.Latency)
			} else {
				require.Contains(t, r.Reason, tt.reason)
			}
			require.Contains(t, r.Warning, tt.warning)
			if tt.warning == "" {
				require.Empty(t, r.Warning)
			}
			if tt.code != 0 {
				require.Equal(t, tt.code, dnsTestMetric(t, r, "probe_http_status_code"))
			}
		})
	}
}

// TestNginxDroppedWarnsOnGrowth: after the first run, only new drops warn.
func TestNginxDroppedWarnsOnGrowth(t *testing.T) {
	var page atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, page.Load().(string))
	}))
	t.Cleanup(srv.Close)
	p, err := New(statusTestCheck(t, checkconfig.KindNginx, srv.URL+"/nginx_status", nil), Env{})
	require.NoError(t, err)
	steps := []struct{ accepts, handled int }{{10, 8}, {20, 18}, {30, 25}, {3, 3}}
	warnings := []string{"dropped 2 connections since it started", "", "dropped 3 connections since the last run", ""}
	for i, s := range steps {
		page.Store(fmt.Sprintf("Active connections: 1\nserver accepts handled requests\n %d %d 50\nReading: 0 Writing: 1 Waiting: 0\n", s.accepts, s.handled))
		r := p.Probe(t.Context())
		require.True(t, r.Success, r.Reason)
		if warnings[i] == "" {
			require.Empty(t, r.Warning, "step %d", i)
		} else {
			require.Contains(t, r.Warning, warnings[i], "step %d", i)
		}
	}
}

// statusTestFreePort returns a port of 127.0.0.1 that was free a moment ago.
func statusTestFreePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port
}

// statusTestServerBinary returns the path of a server binary, skipping the test when
// it is missing, except on CI where it must be there.
func statusTestServerBinary(t *testing.T, path, pkg string) string {
	t.Helper()
	if _, err := os.Stat(path); err == nil {
		return path
	}
	msg := fmt.Sprintf("%s not found: install the Debian package %s (apt-get install %s) to run this test", path, pkg, pkg)
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// statusTestStartServer runs a server in the foreground until the test ends and
// waits until url answers 200.
func statusTestStartServer(t *testing.T, dir, url string, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	out, err := os.Create(filepath.Join(dir, "output.log"))
	require.NoError(t, err)
	cmd.Stdout, cmd.Stderr = out, out
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		_ = out.Close()
	})
	logs := func() string {
		var b strings.Builder
		for _, f := range []string{"output.log", "error.log"} {
			data, _ := os.ReadFile(filepath.Join(dir, f))
			fmt.Fprintf(&b, "--- %s\n%s", f, data)
		}
		return b.String()
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("%s exited: %v\n%s", name, err, logs())
		default:
		}
		resp, err := http.Get(url)
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer %s: %v\n%s", name, url, err, logs())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func statusTestGet(t *testing.T, url string, n int) {
	t.Helper()
	// A connection per request, so that accepts grow with requests.
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	for range n {
		resp, err := client.Get(url)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
	}
}

// TestNginxRealServer probes the stub_status page of a real nginx.
func TestNginxRealServer(t *testing.T) {
	bin := statusTestServerBinary(t, "/usr/sbin/nginx", "nginx-light (or nginx)")
	dir := t.TempDir()
	port := statusTestFreePort(t)
	conf := fmt.Sprintf(`daemon off;
master_process off;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log info;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path %[1]s/body;
	proxy_temp_path %[1]s/proxy;
	fastcgi_temp_path %[1]s/fastcgi;
	uwsgi_temp_path %[1]s/uwsgi;
	scgi_temp_path %[1]s/scgi;
	server {
		listen 127.0.0.1:%[2]d;
		location = /nginx_status { stub_status; }
		location / { return 200 "hello\n"; }
	}
}
`, dir, port)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(conf), 0o600))
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	statusTestStartServer(t, dir, base+"/nginx_status", bin, "-p", dir, "-e", filepath.Join(dir, "error.log"), "-c", filepath.Join(dir, "nginx.conf"))

	p, err := New(statusTestCheck(t, checkconfig.KindNginx, base+"/nginx_status", nil), Env{})
	require.NoError(t, err)
	defer closeProber(p, slog.New(slog.DiscardHandler))
	first := p.Probe(t.Context())
	require.True(t, first.Success, first.Reason)
	require.Empty(t, first.Warning)
	require.Equal(t, 200.0, dnsTestMetric(t, first, "probe_http_status_code"))
	require.GreaterOrEqual(t, dnsTestMetric(t, first, "saypro_nginx_connections_active"), 1.0)
	dnsTestMetric(t, first, "saypro_nginx_connections", "state", "reading")
	dnsTestMetric(t, first, "saypro_nginx_connections", "state", "waiting")
	require.GreaterOrEqual(t, dnsTestMetric(t, first, "saypro_nginx_connections", "state", "writing"), 1.0)

	statusTestGet(t, base+"/", 5)
	second := p.Probe(t.Context())
	require.True(t, second.Success, second.Reason)
	for _, m := range []string{"saypro_nginx_connections_accepted", "saypro_nginx_connections_handled"} {
		require.GreaterOrEqual(t, dnsTestMetric(t, second, m)-dnsTestMetric(t, first, m), 6.0, m)
	}
	require.GreaterOrEqual(t, dnsTestMetric(t, second, "saypro_nginx_http_requests_total")-dnsTestMetric(t, first, "saypro_nginx_http_requests_total"), 6.0)
	require.Equal(t, dnsTestMetric(t, second, "saypro_nginx_connections_accepted"), dnsTestMetric(t, second, "saypro_nginx_connections_handled"))

	// A location that is not the status page parses as nothing.
	bad, err := New(statusTestCheck(t, checkconfig.KindNginx, base+"/", nil), Env{})
	require.NoError(t, err)
	r := bad.Probe(t.Context())
	require.False(t, r.Success)
	require.Contains(t, r.Reason, `is not an nginx stub_status page: 1 lines, expected 4`)
}

// TestApacheRealServer probes mod_status of a real apache2.
func TestApacheRealServer(t *testing.T) {
	bin := statusTestServerBinary(t, "/usr/sbin/apache2", "apache2")
	modules := "/usr/lib/apache2/modules"
	dir := t.TempDir()
	// apache's children run as nobody and read nothing in dir but the
	// directory itself.
	require.NoError(t, os.Chmod(dir, 0o755))
	port := statusTestFreePort(t)
	conf := fmt.Sprintf(`ServerRoot %[1]s
PidFile %[1]s/apache.pid
ErrorLog %[1]s/error.log
LogLevel warn
DefaultRuntimeDir %[1]s
Listen 127.0.0.1:%[2]d
ServerName 127.0.0.1
User nobody
Group nogroup
LoadModule mpm_event_module %[3]s/mod_mpm_event.so
LoadModule authz_core_module %[3]s/mod_authz_core.so
LoadModule status_module %[3]s/mod_status.so
ExtendedStatus On
<Location /server-status>
	SetHandler server-status
	Require all granted
</Location>
`, dir, port, modules)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "httpd.conf"), []byte(conf), 0o644))
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	statusTestStartServer(t, dir, base+"/server-status?auto", bin, "-f", filepath.Join(dir, "httpd.conf"), "-DFOREGROUND")

	p, err := New(statusTestCheck(t, checkconfig.KindApache, base+"/server-status", nil), Env{})
	require.NoError(t, err)
	defer closeProber(p, slog.New(slog.DiscardHandler))
	first := p.Probe(t.Context())
	require.True(t, first.Success, first.Reason)
	require.Empty(t, first.Warning)
	require.Equal(t, 200.0, dnsTestMetric(t, first, "probe_http_status_code"))
	require.GreaterOrEqual(t, dnsTestMetric(t, first, "saypro_apache_workers", "state", "busy"), 1.0)
	require.Positive(t, dnsTestMetric(t, first, "saypro_apache_workers", "state", "idle"))
	require.GreaterOrEqual(t, dnsTestMetric(t, first, "saypro_apache_scoreboard", "state", "reply"), 1.0)
	dnsTestMetric(t, first, "saypro_apache_uptime_seconds")
	dnsTestMetric(t, first, "saypro_apache_connections", "state", "total")
	dnsTestMetric(t, first, "saypro_apache_sent_kilobytes_total")

	statusTestGet(t, base+"/nothing-here", 4) // 404s count as accesses too
	// apache counts a request when it logs it, after the response was
	// sent, so the count may lag a moment.
	before := dnsTestMetric(t, first, "saypro_apache_accesses_total")
	require.Eventually(t, func() bool {
		second := p.Probe(t.Context())
		for _, m := range second.Metrics {
			if m.Name == "saypro_apache_accesses_total" {
				return second.Success && m.Value-before >= 4
			}
		}
		return false
	}, 10*time.Second, 50*time.Millisecond)
}
