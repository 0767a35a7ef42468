package logs_test

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/saypro/monitor/internal/agentapi"
	"github.com/saypro/monitor/internal/logs"
	"github.com/saypro/monitor/internal/logs/vlstore"
)

func TestPipelineAgentFormats(t *testing.T) {
	tp := newPipeline(t, logs.Options{AccessMetrics: true})
	now := tp.now
	rfc3339 := func(d time.Duration) string { return now.Add(d).Format("2006-01-02T15:04:05.000000-07:00") }
	trad := func(d time.Duration) string { return now.Add(d).Format(time.Stamp) }
	clf := func(d time.Duration) string { return now.Add(d).Format("02/Jan/2006:15:04:05 -0700") }
	long := strings.Repeat("x", 70<<10)

	tests := []struct {
		name string
		in   agentapi.LogEntry
		want logs.Entry // Host is the case's name; Fields lists the fields checked
		// noFields are fields that must be absent.
		noFields []string
	}{
		{
			name: "syslog-debian",
			in:   agentapi.LogEntry{Source: "syslog", File: "/var/log/syslog", Format: agentapi.FormatSyslog, Message: rfc3339(-time.Minute) + " web1 CRON[48211]: (root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)"},
			want: logs.Entry{Time: now.Add(-time.Minute), Source: "syslog", Service: "CRON", Message: "(root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)",
				Fields: map[string]string{"pid": "48211", "file": "/var/log/syslog"}},
		},
		{
			name: "syslog-traditional",
			in:   agentapi.LogEntry{Source: "syslog", Format: agentapi.FormatSyslog, Message: trad(-2*time.Minute) + " web1 systemd[1]: Started nginx.service - A high performance web server."},
			want: logs.Entry{Time: now.Add(-2 * time.Minute), Source: "syslog", Service: "systemd", Message: "Started nginx.service - A high performance web server.",
				Fields: map[string]string{"pid": "1"}},
		},
		{
			name: "syslog-level-word",
			in:   agentapi.LogEntry{Source: "syslog", Format: agentapi.FormatSyslog, Message: rfc3339(-3*time.Minute) + " web1 myapp[9]: [ERROR] could not connect to the database"},
			want: logs.Entry{Time: now.Add(-3 * time.Minute), Source: "syslog", Service: "myapp", Severity: "err", Message: "[ERROR] could not connect to the database"},
		},
		{
			name: "syslog-unparsable",
			in:   agentapi.LogEntry{Time: now.Add(-4 * time.Minute), Source: "syslog", Format: agentapi.FormatSyslog, Message: "-- MARK --"},
			want: logs.Entry{Time: now.Add(-4 * time.Minute), Source: "syslog", Message: "-- MARK --"},
		},
		{
			name: "nginx-200",
			in:   agentapi.LogEntry{Source: "nginx-access", Format: agentapi.FormatNginx, Message: `198.51.100.20 - - [` + clf(-5*time.Minute) + `] "GET /api/v1/products?page=2 HTTP/1.1" 200 5123 "https://shop.example.co.za/catalog" "Mozilla/5.0" 0.250`},
			want: logs.Entry{Time: now.Add(-5 * time.Minute), Source: "nginx-access", Service: "nginx", Severity: "info",
				Fields: map[string]string{"status": "200", "status_class": "2xx", "method": "GET"}},
			noFields: []string{"vhost", "path", "client", "bytes", "duration_ms"},
		},
		{
			name: "nginx-404",
			in:   agentapi.LogEntry{Source: "nginx-access", Format: agentapi.FormatNginx, Message: `203.0.113.77 - - [` + clf(-5*time.Minute) + `] "POST /wp-login.php HTTP/1.1" 404 153 "-" "Mozilla/5.0"`},
			want: logs.Entry{Time: now.Add(-5 * time.Minute), Source: "nginx-access", Service: "nginx", Severity: "warning",
				Fields: map[string]string{"status": "404", "status_class": "4xx", "method": "POST"}},
			noFields: []string{"duration_ms"},
		},
		{
			name: "nginx-vhost-502",
			in:   agentapi.LogEntry{Source: "nginx-access", Format: agentapi.FormatNginx, Message: `shop.example.co.za 198.51.100.20 - - [` + clf(-5*time.Minute) + `] "GET /checkout HTTP/2.0" 502 10 "-" "curl/8.5.0" rt=1.5`},
			want: logs.Entry{Time: now.Add(-5 * time.Minute), Source: "nginx-access", Service: "nginx", Severity: "err",
				Fields: map[string]string{"status": "502", "status_class": "5xx", "vhost": "shop.example.co.za"}},
		},
		{
			name: "apache-vhost",
			in:   agentapi.LogEntry{Source: "apache-access", Format: agentapi.FormatApache, Message: `intranet.saypro.local:443 192.168.10.24 - jsmith [` + clf(-6*time.Minute) + `] "POST /api/login HTTP/1.1" 401 61 "-" "curl" us=1234`},
			want: logs.Entry{Time: now.Add(-6 * time.Minute), Source: "apache-access", Service: "apache", Severity: "warning",
				Fields: map[string]string{"status": "401", "status_class": "4xx", "vhost": "intranet.saypro.local:443", "method": "POST"}},
		},
		{
			name:     "access-unparsable",
			in:       agentapi.LogEntry{Time: now.Add(-7 * time.Minute), Source: "nginx-access", Format: agentapi.FormatNginx, Message: "not an access line"},
			want:     logs.Entry{Time: now.Add(-7 * time.Minute), Source: "nginx-access", Service: "nginx", Message: "not an access line"},
			noFields: []string{"status"},
		},
		{
			name: "auth-ssh-failed",
			in:   agentapi.LogEntry{Source: "auth", Format: agentapi.FormatSyslog, Message: rfc3339(-8*time.Minute) + " web1 sshd[48990]: Failed password for invalid user admin from 203.0.113.9 port 50122 ssh2"},
			want: logs.Entry{Time: now.Add(-8 * time.Minute), Source: "auth", Service: "sshd", Message: "Failed password for invalid user admin from 203.0.113.9 port 50122 ssh2",
				Fields: map[string]string{"event": "ssh_failed", "user": "admin", "src_ip": "203.0.113.9", "src_port": "50122", "auth_method": "password", "category": "security", "pid": "48990"}},
		},
		{
			name: "auth-ssh-accepted",
			in:   agentapi.LogEntry{Source: "auth", Format: agentapi.FormatSyslog, Message: trad(-8*time.Minute) + " web1 sshd[48977]: Accepted publickey for deploy from 198.51.100.20 port 50122 ssh2: ED25519 SHA256:3nq1pYV0"},
			want: logs.Entry{Time: now.Add(-8 * time.Minute), Source: "auth", Service: "sshd",
				Fields: map[string]string{"event": "ssh_accepted", "user": "deploy", "src_ip": "198.51.100.20", "auth_method": "publickey"}},
		},
		{
			name: "auth-sudo",
			in:   agentapi.LogEntry{Source: "auth", Format: agentapi.FormatSyslog, Message: rfc3339(-9*time.Minute) + " web1 sudo:   deploy : TTY=pts/0 ; PWD=/home/deploy ; USER=root ; COMMAND=/usr/bin/systemctl restart php8.2-fpm.service"},
			want: logs.Entry{Time: now.Add(-9 * time.Minute), Source: "auth", Service: "sudo",
				Fields: map[string]string{"event": "sudo", "user": "deploy", "target_user": "root", "command": "/usr/bin/systemctl restart php8.2-fpm.service"}},
		},
		{
			name:     "auth-no-event",
			in:       agentapi.LogEntry{Source: "auth", Format: agentapi.FormatSyslog, Message: rfc3339(-9*time.Minute) + " web1 sshd[48977]: pam_unix(sshd:session): session opened for user deploy(uid=1001) by (uid=0)"},
			want:     logs.Entry{Time: now.Add(-9 * time.Minute), Source: "auth", Service: "sshd"},
			noFields: []string{"event", "category"},
		},
		{
			name: "kern-oom",
			in:   agentapi.LogEntry{Source: "kern", Format: agentapi.FormatSyslog, Message: rfc3339(-10*time.Minute) + " db1 kernel: [ 9031.554837] Out of memory: Killed process 2198 (mariadbd) total-vm:6264432kB, anon-rss:3721104kB, file-rss:0kB, shmem-rss:0kB, UID:106 pgtables:8812kB oom_score_adj:0"},
			want: logs.Entry{Time: now.Add(-10 * time.Minute), Source: "kern", Service: "kernel", Severity: "err",
				Fields: map[string]string{"event": "oom_kill", "process": "mariadbd", "pid": "2198"}},
		},
		{
			name: "kern-io-error",
			in:   agentapi.LogEntry{Source: "kern", Format: agentapi.FormatSyslog, Message: rfc3339(-11*time.Minute) + " db1 kernel: [10927.226331] I/O error, dev sdb, sector 1953512 op 0x0:(READ) flags 0x80700 phys_seg 1 prio class 2"},
			want: logs.Entry{Time: now.Add(-11 * time.Minute), Source: "kern", Service: "kernel", Severity: "err",
				Fields: map[string]string{"event": "disk_io_error", "device": "sdb"}},
		},
		{
			name: "journal",
			in: agentapi.LogEntry{Time: now.Add(-12 * time.Minute), Source: "journal", Format: agentapi.FormatJournal, Service: "nginx.service", Severity: "warning",
				Message: "ERROR-looking text keeps the journal's severity", Fields: map[string]string{"unit": "nginx.service", "pid": "812"}},
			want: logs.Entry{Time: now.Add(-12 * time.Minute), Source: "journal", Service: "nginx.service", Severity: "warning", Message: "ERROR-looking text keeps the journal's severity",
				Fields: map[string]string{"unit": "nginx.service", "pid": "812"}},
		},
		{
			name: "raw-level",
			in:   agentapi.LogEntry{Time: now.Add(-13 * time.Minute), Source: "app", Format: agentapi.FormatRaw, Message: `ts=2026-11-22T02:38:10Z level=warn msg="slow query"`},
			want: logs.Entry{Time: now.Add(-13 * time.Minute), Source: "app", Severity: "warning", Message: `ts=2026-11-22T02:38:10Z level=warn msg="slow query"`},
		},
		{
			name: "raw-no-time",
			in:   agentapi.LogEntry{Source: "app", Message: "no time given"},
			want: logs.Entry{Time: now, Source: "app", Message: "no time given"},
		},
		{
			name: "too-old",
			in:   agentapi.LogEntry{Time: now.Add(-30 * 24 * time.Hour), Source: "app", Message: "from last month"},
			want: logs.Entry{Time: now, Source: "app", Message: "from last month",
				Fields: map[string]string{"original_time": now.Add(-30 * 24 * time.Hour).Format(time.RFC3339Nano)}},
		},
		{
			name: "too-new",
			in:   agentapi.LogEntry{Time: now.Add(3 * time.Hour), Source: "app", Message: "from a fast clock"},
			want: logs.Entry{Time: now, Source: "app", Message: "from a fast clock",
				Fields: map[string]string{"original_time": now.Add(3 * time.Hour).Format(time.RFC3339Nano)}},
		},
		{
			name: "syslog-far-past",
			in:   agentapi.LogEntry{Source: "syslog", Format: agentapi.FormatSyslog, Message: "2020-01-01T00:00:00+00:00 web1 app: replayed"},
			want: logs.Entry{Time: now, Source: "syslog", Service: "app", Message: "replayed", Fields: map[string]string{"original_time": "2020-01-01T00:00:00Z"}},
		},
		{
			name: "invalid-utf8",
			in:   agentapi.LogEntry{Source: "app", Message: "bad \xff\xfe bytes\x00\x1b[31m"},
			want: logs.Entry{Time: now, Source: "app", Message: "bad \uFFFD\uFFFD bytes\\x00\\x1b[31m"},
		},
		{
			name: "truncated",
			in:   agentapi.LogEntry{Source: "app", Message: long},
			want: logs.Entry{Time: now, Source: "app", Message: long[:64<<10] + " …[truncated 6144 bytes]"},
		},
	}
	for _, tc := range tests {
		tp.ingest(t, tc.name, tc.in)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			es := all(t, tp.store, logs.Filter{Hosts: []string{tc.name}})
			require.Len(t, es, 1)
			got := es[0]
			want := tc.want
			require.Equal(t, tc.name, got.Host)
			require.True(t, want.Time.Equal(got.Time), "time %s, want %s", got.Time, want.Time)
			require.Equal(t, want.Source, got.Source)
			require.Equal(t, want.Service, got.Service)
			require.Equal(t, want.Severity, got.Severity)
			if want.Message != "" {
				require.Equal(t, want.Message, got.Message)
			}
			for k, v := range want.Fields {
				require.Equal(t, v, got.Fields[k], "field %s in %v", k, got.Fields)
			}
			for _, k := range tc.noFields {
				require.NotContains(t, got.Fields, k)
			}
		})
	}

	// The HTTP metrics of the access lines, by host (the case name).
	require.NoError(t, testutil.GatherAndCompare(tp.reg, strings.NewReader(`
# HELP saypro_http_requests_total HTTP requests read from access logs, by host, virtual host, status code and status class.
# TYPE saypro_http_requests_total counter
saypro_http_requests_total{code="200",instance="nginx-200",status_class="2xx",vhost=""} 1
saypro_http_requests_total{code="401",instance="apache-vhost",status_class="4xx",vhost="intranet.saypro.local:443"} 1
saypro_http_requests_total{code="404",instance="nginx-404",status_class="4xx",vhost=""} 1
saypro_http_requests_total{code="502",instance="nginx-vhost-502",status_class="5xx",vhost="shop.example.co.za"} 1
# HELP saypro_http_response_size_bytes_total Bytes sent in HTTP responses, read from access logs.
# TYPE saypro_http_response_size_bytes_total counter
saypro_http_response_size_bytes_total{instance="apache-vhost",vhost="intranet.saypro.local:443"} 61
saypro_http_response_size_bytes_total{instance="nginx-200",vhost=""} 5123
saypro_http_response_size_bytes_total{instance="nginx-404",vhost=""} 153
saypro_http_response_size_bytes_total{instance="nginx-vhost-502",vhost="shop.example.co.za"} 10
`), "saypro_http_requests_total", "saypro_http_response_size_bytes_total"))
	durations := map[string]float64{"nginx-200": 0.25, "nginx-vhost-502": 1.5, "apache-vhost": 0.001234}
	mfs, err := tp.reg.Gather()
	require.NoError(t, err)
	seen := 0
	for _, mf := range mfs {
		if mf.GetName() != "saypro_http_request_duration_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if lp.GetName() == "instance" {
					want, ok := durations[lp.GetValue()]
					require.True(t, ok, "a duration for %s", lp.GetValue())
					require.Equal(t, uint64(1), m.GetHistogram().GetSampleCount())
					require.InDelta(t, want, m.GetHistogram().GetSampleSum(), 1e-9)
					seen++
				}
			}
		}
	}
	require.Equal(t, len(durations), seen)

	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"saypro_security_events_total", map[string]string{"instance": "auth-ssh-failed", "event": "ssh_failed"}, 1},
		{"saypro_security_events_total", map[string]string{"instance": "auth-ssh-accepted", "event": "ssh_accepted"}, 1},
		{"saypro_security_events_total", map[string]string{"instance": "auth-sudo", "event": "sudo"}, 1},
		{"saypro_kernel_events_total", map[string]string{"instance": "kern-oom", "event": "oom_kill"}, 1},
		{"saypro_kernel_events_total", map[string]string{"instance": "kern-io-error", "event": "disk_io_error"}, 1},
		{"saypro_logs_time_adjusted_total", map[string]string{"reason": "too_old"}, 2},
		{"saypro_logs_time_adjusted_total", map[string]string{"reason": "too_new"}, 1},
		{"saypro_logs_truncated_total", nil, 1},
		{"saypro_logs_received_total", map[string]string{"transport": "agent"}, float64(len(tests))},
		{"saypro_logs_stored_total", nil, float64(len(tests))},
	} {
		require.Equal(t, c.want, metric(t, tp.reg, c.name, c.labels), "%s%v", c.name, c.labels)
	}
	// Only the auth services' lines are read as security events.
	require.True(t, math.IsNaN(metric(t, tp.reg, "saypro_security_events_total", map[string]string{"instance": "auth-no-event"})))
}

func TestPipelineAccessMetricsOff(t *testing.T) {
	tp := newPipeline(t, logs.Options{})
	tp.ingest(t, "web1", agentapi.LogEntry{Source: "nginx-access", Format: agentapi.FormatNginx,
		Message: `198.51.100.20 - - [` + tp.now.Format("02/Jan/2006:15:04:05 -0700") + `] "GET / HTTP/1.1" 200 5 "-" "curl"`})
	n, err := testutil.GatherAndCount(tp.reg, "saypro_http_requests_total")
	require.NoError(t, err)
	require.Zero(t, n)
	es := all(t, tp.store, logs.Filter{})
	require.Len(t, es, 1)
	require.Equal(t, "200", es[0].Fields["status"], "fields are parsed without the metrics too")
}

func TestPipelineRedacts(t *testing.T) {
	r, err := logs.NewRedactor(logs.RedactOptions{Emails: true, IPAddresses: true, Key: []byte("k")})
	require.NoError(t, err)
	tp := newPipeline(t, logs.Options{Redactor: r})
	tp.ingest(t, "web1", agentapi.LogEntry{Source: "auth", Format: agentapi.FormatSyslog,
		Message: tp.now.Format(time.RFC3339) + " web1 sshd[1]: Failed password for root from 203.0.113.9 port 22 ssh2"},
		agentapi.LogEntry{Source: "app", Message: "mail to jane@example.com bounced"})
	es := all(t, tp.store, logs.Filter{})
	require.Len(t, es, 2)
	for _, e := range es {
		require.NotContains(t, e.Message, "203.0.113.9")
		require.NotContains(t, e.Message, "jane@example.com")
		if e.Source == "auth" {
			require.Equal(t, "ssh_failed", e.Fields["event"])
			require.Regexp(t, `^ip-[0-9a-f]{8}$`, e.Fields["src_ip"])
			require.Contains(t, e.Message, e.Fields["src_ip"], "the field and the message carry the same pseudonym")
		}
	}
}

func TestPipelineReadOnlyStore(t *testing.T) {
	st := openStore(t, vlstore.Options{MinFreeDiskBytes: math.MaxInt64 / 2})
	tp := newPipeline(t, logs.Options{Store: st})
	sub := tp.Hub().Subscribe(mustMatcher(t, logs.Filter{}), 10)
	defer sub.Close()
	err := tp.IngestAgent(context.Background(), agentapi.LogBatch{Host: "web1", Entries: []agentapi.LogEntry{
		{Source: "syslog", Message: "one"}, {Source: "syslog", Message: "two"}, {Source: "auth", Message: "three"},
	}})
	require.Error(t, err)
	require.True(t, errors.Is(err, logs.ErrStoreFull), "%v does not wrap ErrStoreFull", err)
	require.True(t, errors.Is(err, vlstore.ErrReadOnly), "%v does not wrap the store's error", err)
	require.Equal(t, 2.0, metric(t, tp.reg, "saypro_logs_dropped_total", map[string]string{"source": "syslog", "reason": "store_read_only"}))
	require.Equal(t, 1.0, metric(t, tp.reg, "saypro_logs_dropped_total", map[string]string{"source": "auth", "reason": "store_read_only"}))
	require.Equal(t, 0.0, metric(t, tp.reg, "saypro_logs_stored_total", nil))
	require.Empty(t, sub.C, "entries the store refused went to live tails")
	// An empty batch is no error even then.
	require.NoError(t, tp.IngestAgent(context.Background(), agentapi.LogBatch{Host: "web1"}))
}

func TestNewPipelineNeedsStore(t *testing.T) {
	_, err := logs.NewPipeline(logs.Options{})
	require.Error(t, err)
}

func TestDetectLevel(t *testing.T) {
	tests := []struct{ msg, want string }{
		{"ERROR could not connect", "err"},
		{"[INFO] started", "info"},
		{"level=warn msg=slow", "warning"},
		{`{"level":"debug","msg":"x"}`, "debug"},
		{"FATAL: out of memory", "emerg"},
		{"panic: runtime error", "emerg"},
		{"2026/11/22 02:38:10 [crit] 1234#0: open() failed", "crit"},
		{"W: Warning: apt-key is deprecated", "warning"},
		{"SEVERE: broken", "err"},
		{"<notice> rotated", "notice"},
		{"trace id=42", "debug"},
		{"alert raised", "alert"},
		{"Started nginx.service", ""},
		{"", ""},
		{"errors=3 informational", ""}, // words must be whole
		{strings.Repeat("word ", 30) + "ERROR late", ""},
	}
	for _, tc := range tests {
		require.Equal(t, tc.want, logs.DetectLevel(tc.msg), "DetectLevel(%q)", tc.msg)
	}
}

func mustMatcher(t testing.TB, f logs.Filter) *logs.Matcher {
	t.Helper()
	m, err := logs.NewMatcher(f)
	require.NoError(t, err)
	return m
}
