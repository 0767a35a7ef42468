package e2e

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/saypro/monitor/internal/agentapi"
)

// freeUDPTCPPort returns a loopback port free for both UDP and TCP.
func freeUDPTCPPort(t *testing.T) int {
	t.Helper()
	for range 20 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		port := ln.Addr().(*net.TCPAddr).Port
		pc, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
		ln.Close()
		if err == nil {
			pc.Close()
			return port
		}
	}
	t.Fatal("no free port for UDP and TCP")
	return 0
}

// selfSigned writes a certificate and key for 127.0.0.1 into dir.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "syslog e2e"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	kb, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600))
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

type logEntry struct {
	Time     time.Time         `json:"time"`
	Host     string            `json:"host"`
	Source   string            `json:"source"`
	Service  string            `json:"service"`
	Severity string            `json:"severity"`
	Message  string            `json:"message"`
	Fields   map[string]string `json:"fields"`
}

// logQuery runs /api/v1/logs/query with params over the last hour.
func (p *proc) logQuery(t *testing.T, params url.Values) ([]logEntry, string) {
	t.Helper()
	code, body := p.get("/api/v1/logs/query?" + params.Encode())
	require.Equal(t, http.StatusOK, code, body)
	var r struct {
		Data struct {
			Entries []logEntry `json:"entries"`
			Next    string     `json:"next_cursor"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &r))
	return r.Data.Entries, r.Data.Next
}

// waitLogs polls the query until it returns at least n entries.
func (p *proc) waitLogs(t *testing.T, params url.Values, n int) []logEntry {
	t.Helper()
	var got []logEntry
	eventually(t, 30*time.Second, fmt.Sprintf("%d log entries for %s", n, params.Encode()), func() bool {
		got, _ = p.logQuery(t, params)
		return len(got) >= n
	})
	return got
}

// postLogs sends an agent batch with the ingest token, gzipped.
func postLogs(t *testing.T, p *proc, b agentapi.LogBatch) int {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	require.NoError(t, json.NewEncoder(zw).Encode(b))
	require.NoError(t, zw.Close())
	req, err := http.NewRequest("POST", p.URL+agentapi.LogsPath, &buf)
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Content-Encoding", "gzip")
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultTransport.RoundTrip(req) // the agent's token only
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

// TestLogsSyslogRulesAndSearch runs the server with its syslog receiver on
// UDP, TCP and TLS, sends messages the way hosts and devices do (util-linux
// logger, raw RFC 5424 and 3164, octet-counted frames), and checks search,
// security events, the built-in SSH rule firing through the Alertmanager to
// a webhook, access-log metrics in PromQL, faults and live tail.
func TestLogsSyslogRulesAndSearch(t *testing.T) {
	var mu sync.Mutex
	alerts := map[string]map[string]string{}
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m struct {
			Alerts []struct {
				Status      string            `json:"status"`
				Labels      map[string]string `json:"labels"`
				Annotations map[string]string `json:"annotations"`
			} `json:"alerts"`
		}
		_ = json.NewDecoder(r.Body).Decode(&m)
		mu.Lock()
		for _, a := range m.Alerts {
			if a.Status == "firing" {
				l := a.Labels
				for k, v := range a.Annotations {
					l["annotation."+k] = v
				}
				alerts[a.Labels["alertname"]+"/"+a.Labels["instance"]+"/"+a.Labels["src_ip"]] = l
			}
		}
		mu.Unlock()
	}))
	t.Cleanup(hook.Close)

	dir := t.TempDir()
	port, tlsPort := freeUDPTCPPort(t), freeUDPTCPPort(t)
	certFile, keyFile, pool := selfSigned(t, dir)
	cfg := filepath.Join(dir, "saypro-monitor.yml")
	writeFile(t, cfg, fmt.Sprintf(`
agent:
  enabled: false
logs:
  rule_interval: 2s
  redact:
    emails: true
  syslog:
    udp: 127.0.0.1:%d
    tcp: 127.0.0.1:%d
    tls:
      listen: 127.0.0.1:%d
      cert_file: %s
      key_file: %s
  rules:
    - name: PaymentFailures
      match:
        service: [payments]
        text: "payment failed"
      group_by: [host]
      window: 1m
      threshold: 3
      labels: {severity: critical}
alertmanager:
  config:
    route:
      receiver: hook
      group_by: [alertname, instance, src_ip]
      group_wait: 1s
      group_interval: 2s
    receivers:
      - name: hook
        webhook_configs: [{url: %s}]
`, port, port, tlsPort, certFile, keyFile, hook.URL))
	srv := startServer(t, t.TempDir(), "--config", cfg)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	now := time.Now().UTC()

	// RFC 3164 over UDP from a firewall without a host name in the header
	// is stored under the sender's address; with one, under that name.
	udp, err := net.Dial("udp", addr)
	require.NoError(t, err)
	defer udp.Close()
	for i := range 12 {
		fmt.Fprintf(udp, "<38>%s bastion sshd[%d]: Failed password for root from 198.51.100.7 port %d ssh2", now.Format(time.Stamp), 900+i, 40000+i)
	}
	// Nine failures from another address: under the threshold of 10.
	for i := range 9 {
		fmt.Fprintf(udp, "<38>%s bastion sshd[%d]: Failed password for invalid user oracle from 198.51.100.8 port %d ssh2", now.Format(time.Stamp), 950+i, 41000+i)
	}
	fmt.Fprintf(udp, "<11>1 %s db1 payments 77 - - payment failed for order 1 mail=jane@example.com", now.Format(time.RFC3339Nano))

	// RFC 5424 over TCP, octet-counted, and newline-framed RFC 3164.
	tcp, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	for i := 2; i <= 3; i++ {
		msg := fmt.Sprintf("<11>1 %s db1 payments 77 ID%d [req@32473 id=\"r%d\"] payment failed for order %d", now.Format(time.RFC3339Nano), i, i, i)
		fmt.Fprintf(tcp, "%d %s", len(msg), msg)
	}
	fmt.Fprintf(tcp, "<6>%s db1 kernel: Out of memory: Killed process 4242 (java) total-vm:8000000kB, anon-rss:7000000kB\n", now.Format(time.Stamp))
	// Faults: a 100 KiB line, binary bytes and invalid UTF-8.
	fmt.Fprintf(tcp, "<14>%s db1 app: %s\n", now.Format(time.Stamp), strings.Repeat("x", 100<<10))
	fmt.Fprintf(tcp, "<14>%s db1 app: binary \x01\x02\x03 and bad \xff\xfe utf8 here\n", now.Format(time.Stamp))
	// A time two years ago and one a year ahead.
	fmt.Fprintf(tcp, "<14>1 %s db1 clock - - - stale clock line\n", now.AddDate(-2, 0, 0).Format(time.RFC3339))
	fmt.Fprintf(tcp, "<14>1 %s db1 clock - - - future clock line\n", now.AddDate(1, 0, 0).Format(time.RFC3339))
	require.NoError(t, tcp.Close())

	// TLS (RFC 5425).
	tc, err := tls.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", tlsPort), &tls.Config{RootCAs: pool})
	require.NoError(t, err)
	msg := fmt.Sprintf("<86>1 %s gw1 sudo - - - alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/systemctl restart nginx", now.Format(time.RFC3339Nano))
	fmt.Fprintf(tc, "%d %s", len(msg), msg)
	require.NoError(t, tc.Close())

	// util-linux logger, as hosts without an agent send.
	if logger, err := exec.LookPath("logger"); err == nil {
		out, err := exec.Command(logger, "-n", "127.0.0.1", "-P", fmt.Sprint(port), "--tcp", "--rfc5424", "-t", "backup", "nightly backup finished in 42s").CombinedOutput()
		require.NoError(t, err, "%s", out)
		srv.waitLogs(t, url.Values{"service": {"backup"}, "q": {"nightly backup"}}, 1)
	}

	got := srv.waitLogs(t, url.Values{"field": {"event:ssh_failed"}, "limit": {"100"}}, 21)
	require.Len(t, got, 21)
	e := got[0]
	require.Equal(t, "bastion", e.Host)
	require.Equal(t, "syslog", e.Source)
	require.Equal(t, "sshd", e.Service)
	require.Equal(t, "info", e.Severity)
	require.Equal(t, "security", e.Fields["category"])
	require.Contains(t, []string{"198.51.100.7", "198.51.100.8"}, e.Fields["src_ip"])

	// Search: host + source filter, text, regex, paging newest first.
	page1, next := srv.logQuery(t, url.Values{"host": {"bastion"}, "q": {"failed password"}, "limit": {"15"}})
	require.Len(t, page1, 15)
	require.NotEmpty(t, next)
	page2, next2 := srv.logQuery(t, url.Values{"host": {"bastion"}, "q": {"failed password"}, "limit": {"15"}, "cursor": {next}})
	require.Len(t, page2, 6)
	require.Empty(t, next2)
	require.False(t, page2[0].Time.After(page1[len(page1)-1].Time), "pages are newest first")
	oracle, _ := srv.logQuery(t, url.Values{"regex": {`invalid user \w+ from 198\.51\.100\.8`}})
	require.Len(t, oracle, 9)
	code, body := srv.get("/api/v1/logs/query?regex=" + url.QueryEscape("(unclosed"))
	require.Equal(t, http.StatusBadRequest, code)
	require.Contains(t, body, "regex")

	pay := srv.waitLogs(t, url.Values{"service": {"payments"}}, 3)
	require.Equal(t, "err", pay[0].Severity)
	for _, p := range pay {
		require.NotContains(t, p.Message, "jane@example.com", "e-mail addresses are redacted before storage")
	}
	sd, _ := srv.logQuery(t, url.Values{"field": {"sd.req@32473.id:r2"}})
	require.Len(t, sd, 1, "RFC 5424 structured data becomes fields")

	sudo := srv.waitLogs(t, url.Values{"host": {"gw1"}}, 1)
	require.Equal(t, "sudo", sudo[0].Fields["event"], "the TLS message: %+v", sudo[0])
	require.Equal(t, "alice", sudo[0].Fields["user"])

	oom := srv.waitLogs(t, url.Values{"field": {"event:oom_kill"}}, 1)
	require.Equal(t, "java", oom[0].Fields["process"])

	app := srv.waitLogs(t, url.Values{"service": {"app"}}, 2)
	var sawTruncated, sawBinary bool
	for _, a := range app {
		if strings.Contains(a.Message, "truncated") {
			sawTruncated = true
			require.Less(t, len(a.Message), 66<<10)
		}
		if strings.Contains(a.Message, "binary") {
			sawBinary = true
			require.Contains(t, a.Message, `\x01\x02\x03`)
			require.Contains(t, a.Message, "\ufffd")
		}
	}
	require.True(t, sawTruncated, "the 100 KiB line is stored truncated with a marker")
	require.True(t, sawBinary, "binary bytes are escaped and invalid UTF-8 replaced")

	clock := srv.waitLogs(t, url.Values{"service": {"clock"}}, 2)
	for _, c := range clock {
		require.NotEmpty(t, c.Fields["original_time"], "a far time keeps its original: %+v", c)
		require.WithinDuration(t, time.Now(), c.Time, 5*time.Minute)
	}

	// Histogram and field values.
	code, body = srv.get("/api/v1/logs/histogram?field=event:ssh_failed")
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, `"total":21`)
	code, body = srv.get("/api/v1/logs/fields")
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, `"bastion"`)

	// The built-in SSH rule fires for the address with 12 failures, not
	// the one with 9; the configured rule fires for db1.
	eventually(t, 60*time.Second, "SSHBruteForce and PaymentFailures at the webhook", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return alerts["SSHBruteForce/bastion/198.51.100.7"] != nil && alerts["PaymentFailures/db1/"] != nil && alerts["KernelOOMKill/db1/"] != nil
	})
	mu.Lock()
	ssh := alerts["SSHBruteForce/bastion/198.51.100.7"]
	require.Equal(t, "warning", ssh["severity"])
	require.Contains(t, ssh["annotation.summary"], "12 failed SSH logins from 198.51.100.7 on bastion")
	require.Contains(t, ssh["annotation.logs_url"], "/logs?")
	require.Nil(t, alerts["SSHBruteForce/bastion/198.51.100.8"], "9 failures stay under the threshold")
	require.Equal(t, "critical", alerts["PaymentFailures/db1/"]["severity"])
	mu.Unlock()
	code, body = srv.get("/api/v1/logs/rules")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, `"198.51.100.7"`)

	// An agent batch with nginx access lines becomes HTTP metrics.
	lines := []string{
		`203.0.113.5 - - [%s] "GET /api/orders HTTP/1.1" 200 512 "-" "curl/8.0" 0.120`,
		`203.0.113.5 - - [%s] "GET /api/orders HTTP/1.1" 502 0 "-" "curl/8.0" 2.500`,
		`203.0.113.6 - - [%s] "POST /login HTTP/1.1" 401 64 "-" "Mozilla/5.0" 0.010`,
	}
	var b agentapi.LogBatch
	b.Host = "web-e2e"
	for _, l := range lines {
		b.Entries = append(b.Entries, agentapi.LogEntry{Time: time.Now(), Source: "nginx-access", File: "/var/log/nginx/access.log", Format: agentapi.FormatNginx,
			Message: fmt.Sprintf(l, time.Now().Format("02/Jan/2006:15:04:05 -0700"))})
	}
	require.Equal(t, http.StatusNoContent, postLogs(t, srv, b))
	acc := srv.waitLogs(t, url.Values{"host": {"web-e2e"}, "field": {"status_class:5xx"}}, 1)
	require.Equal(t, "err", acc[0].Severity)
	require.Equal(t, "502", acc[0].Fields["status"])
	for q, want := range map[string]string{
		`sum(saypro_http_requests_total{instance="web-e2e"})`:                      "3",
		`sum(saypro_http_requests_total{instance="web-e2e",status_class="5xx"})`:   "1",
		`sum(saypro_http_request_duration_seconds_count{instance="web-e2e"})`:      "3",
		`sum(saypro_http_response_size_bytes_total{instance="web-e2e"})`:           "576",
		`sum(saypro_security_events_total{instance="bastion",event="ssh_failed"})`: "21",
	} {
		eventually(t, 60*time.Second, q, func() bool {
			_, body := srv.get("/api/v1/query?query=" + url.QueryEscape(q))
			return strings.Contains(body, `"`+want+`"]`)
		})
	}

	// A batch without the agent token is refused.
	req, _ := http.NewRequest("POST", srv.URL+agentapi.LogsPath, strings.NewReader(`{"host":"x","entries":[]}`))
	resp, err := http.DefaultTransport.RoundTrip(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Contains(t, []int{http.StatusUnauthorized, http.StatusForbidden}, resp.StatusCode)

	// Live tail: an entry sent after subscribing arrives as an SSE event.
	tailReq, _ := http.NewRequest("GET", srv.URL+"/api/v1/logs/tail?service=tailme", nil)
	tailResp, err := http.DefaultClient.Do(tailReq)
	require.NoError(t, err)
	defer tailResp.Body.Close()
	require.Equal(t, http.StatusOK, tailResp.StatusCode)
	events := make(chan string, 10)
	go func() {
		sc := bufio.NewScanner(tailResp.Body)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "data: ") {
				events <- sc.Text()
			}
		}
	}()
	time.Sleep(200 * time.Millisecond)
	fmt.Fprintf(udp, "<14>%s db1 other: not for the tail", time.Now().Format(time.Stamp))
	fmt.Fprintf(udp, "<14>%s db1 tailme: hello from the tail", time.Now().Format(time.Stamp))
	select {
	case ev := <-events:
		require.Contains(t, ev, "hello from the tail")
	case <-time.After(10 * time.Second):
		t.Fatal("no live tail event within 10s")
	}

	code, body = srv.get("/api/v1/logs/status")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, `"read_only":false`)
	code, body = srv.get("/metrics")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, "saypro_logs_truncated_total 1")
	require.Contains(t, body, `saypro_logs_time_adjusted_total{reason="too_old"} 1`)
}

// TestLogsDiskFull starts the server with a free-space floor above what
// the disk has: the store is read-only, agents get 507 with Retry-After
// (they keep their data), syslog lines are counted as dropped, and the
// status says why.
func TestLogsDiskFull(t *testing.T) {
	dir := t.TempDir()
	port := freeUDPTCPPort(t)
	cfg := filepath.Join(dir, "saypro-monitor.yml")
	writeFile(t, cfg, fmt.Sprintf(`
agent:
  enabled: false
logs:
  min_free_disk: 1000PB
  syslog:
    udp: 127.0.0.1:%d
`, port))
	srv := startServer(t, t.TempDir(), "--config", cfg)
	b := agentapi.LogBatch{Host: "h1", Entries: []agentapi.LogEntry{{Time: time.Now(), Source: "app", Format: agentapi.FormatRaw, Message: "hello"}}}
	require.Equal(t, http.StatusInsufficientStorage, postLogs(t, srv, b))
	udp, err := net.Dial("udp", fmt.Sprintf("127.0.0.1:%d", port))
	require.NoError(t, err)
	fmt.Fprintf(udp, "<14>%s h2 app: dropped line", time.Now().Format(time.Stamp))
	udp.Close()
	eventually(t, 20*time.Second, "the dropped syslog line counted", func() bool {
		_, body := srv.get("/metrics")
		return strings.Contains(body, `saypro_logs_dropped_total{reason="store_read_only",source="syslog"} 1`)
	})
	code, body := srv.get("/api/v1/logs/status")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, `"read_only":true`)
	require.Contains(t, body, "min_free_disk")
	// The server keeps serving searches.
	code, _ = srv.get("/api/v1/logs/query")
	require.Equal(t, http.StatusOK, code)
}

// TestAgentShipsNginxAndAuthLogs runs a real nginx that writes its access
// log with the response time, and the real agent following that log and an
// auth.log by glob: requests to nginx become HTTP metrics on the server
// (by status class, with the response time histogram), its lines are
// searchable, and auth lines become security events. The agent is then
// restarted and resumes where it stopped.
func TestAgentShipsNginxAndAuthLogs(t *testing.T) {
	nginx := "/usr/sbin/nginx"
	if _, err := os.Stat(nginx); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("nginx not found: apt-get install nginx")
		}
		t.Skip("nginx not found: apt-get install nginx")
	}
	dir := t.TempDir()
	logDir := filepath.Join(dir, "log")
	require.NoError(t, os.MkdirAll(logDir, 0o755))
	port := freeUDPTCPPort(t)
	conf := fmt.Sprintf(`daemon off;
master_process off;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log info;
events { worker_connections 64; }
http {
	log_format timed '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_time';
	access_log %[3]s/access.log timed;
	client_body_temp_path %[1]s/body;
	proxy_temp_path %[1]s/proxy;
	fastcgi_temp_path %[1]s/fastcgi;
	uwsgi_temp_path %[1]s/uwsgi;
	scgi_temp_path %[1]s/scgi;
	server {
		listen 127.0.0.1:%[2]d;
		location = /missing { return 404; }
		location = /broken { return 503; }
		location / { return 200 "hello\n"; }
	}
}
`, dir, port, logDir)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(conf), 0o600))
	ng := exec.Command(nginx, "-p", dir, "-e", filepath.Join(dir, "error.log"), "-c", filepath.Join(dir, "nginx.conf"))
	ngOut := &syncBuffer{}
	ng.Stdout, ng.Stderr = ngOut, ngOut
	require.NoError(t, ng.Start())
	t.Cleanup(func() { _ = ng.Process.Kill(); _ = ng.Wait() })
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	eventually(t, 10*time.Second, "nginx to answer", func() bool {
		resp, err := http.Get(base + "/")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return true
	})

	srv := startServer(t, t.TempDir(), "--config", writeAgentOffConfig(t))
	agentCfg := filepath.Join(dir, "agent.yml")
	writeFile(t, agentCfg, fmt.Sprintf(`
logs:
  default_sources: false
  read_from: beginning
  files:
    - path: %[1]s/access*.log
      source: nginx-access
      format: nginx
    - path: %[1]s/auth.log
      source: auth
      format: syslog
`, logDir))
	queue := t.TempDir()
	args := []string{"--config", agentCfg, "--server", srv.URL, "--token", testToken, "--interval", "1s", "--queue-dir", queue, "--instance", "e2e-nginx"}
	ag := startAgent(t, []string{agentBinary}, args...)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("agent logs now:\n%s", ag.logs.String())
		}
	})

	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	hit := func(path string, n int) {
		for range n {
			resp, err := client.Get(base + path)
			require.NoError(t, err)
			resp.Body.Close()
		}
	}
	hit("/", 5)
	hit("/missing", 2)
	hit("/broken", 1)
	authLog := filepath.Join(logDir, "auth.log")
	now := time.Now()
	var auth strings.Builder
	for i := range 3 {
		fmt.Fprintf(&auth, "%s e2e-nginx sshd[%d]: Failed password for invalid user test from 192.0.2.44 port %d ssh2\n", now.Format(time.RFC3339Nano), 100+i, 50000+i)
	}
	fmt.Fprintf(&auth, "%s e2e-nginx sshd[200]: Accepted publickey for deploy from 192.0.2.45 port 50100 ssh2: ED25519 SHA256:abc\n", now.Format(time.RFC3339Nano))
	require.NoError(t, os.WriteFile(authLog, []byte(auth.String()), 0o644))

	for q, want := range map[string]string{
		`sum(saypro_http_requests_total{instance="e2e-nginx"})`:                      "9",
		`sum(saypro_http_requests_total{instance="e2e-nginx",status_class="4xx"})`:   "2",
		`sum(saypro_http_requests_total{instance="e2e-nginx",code="503"})`:           "1",
		`sum(saypro_http_request_duration_seconds_count{instance="e2e-nginx"})`:      "9",
		`sum(saypro_security_events_total{instance="e2e-nginx",event="ssh_failed"})`: "3",
	} {
		var last string
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("%s: last answer %s", q, last)
			}
		})
		eventually(t, 90*time.Second, q, func() bool {
			_, last = srv.get("/api/v1/query?query=" + url.QueryEscape(q))
			return strings.Contains(last, `"`+want+`"]`)
		})
	}
	// Nine requests: the readiness probe's and the eight above.
	acc := srv.waitLogs(t, url.Values{"host": {"e2e-nginx"}, "source": {"nginx-access"}}, 9)
	require.Equal(t, filepath.Join(logDir, "access.log"), acc[0].Fields["file"])
	ok := srv.waitLogs(t, url.Values{"host": {"e2e-nginx"}, "field": {"event:ssh_accepted"}}, 1)
	require.Equal(t, "deploy", ok[0].Fields["user"])
	require.Equal(t, "sshd", ok[0].Service)

	// A restart resumes: lines written while the agent is down arrive
	// once, and nothing already shipped is sent again.
	ag.stop()
	hit("/", 4)
	startAgent(t, []string{agentBinary}, args...)
	eventually(t, 60*time.Second, "the 13 requests, each once", func() bool {
		got, _ := srv.logQuery(t, url.Values{"host": {"e2e-nginx"}, "source": {"nginx-access"}, "limit": {"100"}})
		return len(got) == 13
	})
	time.Sleep(3 * time.Second)
	got, _ := srv.logQuery(t, url.Values{"host": {"e2e-nginx"}, "source": {"nginx-access"}, "limit": {"100"}})
	require.Len(t, got, 13, "no line is shipped twice after the restart")
}

// writeAgentOffConfig writes a server configuration without the
// in-process agent, so only the agent under test sends logs.
func writeAgentOffConfig(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "saypro-monitor.yml")
	writeFile(t, path, "agent:\n  enabled: false\n")
	return path
}
