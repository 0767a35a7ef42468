package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
)

// checkJSON is a check in GET /api/v1/checks.
type checkJSON struct {
	Name      string `json:"name"`
	Kind      string `json:"kind"`
	Target    string `json:"target"`
	State     string `json:"state"`
	RunOn     string `json:"run_on"`
	Locations []struct {
		Location string `json:"location"`
		State    string `json:"state"`
		Reason   string `json:"reason"`
	} `json:"locations"`
	Uptime map[string]struct {
		Percent *float64 `json:"percent"`
	} `json:"uptime"`
	Changes []changeJSON `json:"changes"`
}

type changeJSON struct {
	State  string `json:"state"`
	Reason string `json:"reason"`
}

func listChecks(t *testing.T, srv *proc) map[string]checkJSON {
	t.Helper()
	var list []checkJSON
	require.Equal(t, 200, getJSON(t, srv.URL+"/api/v1/checks", &list))
	out := map[string]checkJSON{}
	for _, c := range list {
		out[c.Name] = c
	}
	return out
}

func oneCheck(t *testing.T, srv *proc, name string) checkJSON {
	t.Helper()
	var c checkJSON
	require.Equal(t, 200, getJSON(t, srv.URL+"/api/v1/checks/"+name, &c))
	return c
}

// query evaluates an instant PromQL query and returns its vector.
func query(t *testing.T, srv *proc, q string) model.Vector {
	t.Helper()
	v, _, err := queryAPI(t, srv.URL).Query(context.Background(), q, time.Now())
	require.NoError(t, err)
	vec, ok := v.(model.Vector)
	require.True(t, ok, "want a vector, got %T", v)
	return vec
}

// TestChecksEndToEnd runs the server with checks of several kinds, one of
// them on an agent chosen by label, a job pinging a heartbeat check, and
// reads states, reasons, history and samples back through the API and
// PromQL; then reloads and restarts.
func TestChecksEndToEnd(t *testing.T) {
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/health" {
			fmt.Fprintln(w, `{"status":"ok"}`)
			return
		}
		http.Error(w, "maintenance", http.StatusServiceUnavailable)
	}))
	defer web.Close()
	// A port nothing listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := l.Addr().String()
	l.Close()
	// A server that accepts and never answers.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer silent.Close()
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()

	dir := t.TempDir()
	cfg := filepath.Join(dir, "saypro-monitor.yml")
	_, port, _ := net.SplitHostPort(silent.Addr().String())
	checks := fmt.Sprintf(`
agent:
  enabled: false
check_files: [checks/*.yml]
checks:
  - name: web-ok
    kind: http
    target: %[1]s/health
    interval: 1s
    http:
      json: [{path: status, equals: ok}]
  - name: web-bad
    kind: http
    target: %[1]s/down
    interval: 1s
  - name: refused
    kind: tcp
    target: %[2]s
    interval: 1s
  - name: silent
    kind: tcp
    target: %[3]s
    interval: 2s
    timeout: 500ms
    tcp: {send: "PING\r\n", expect: "PONG"}
`, web.URL, closed, silent.Addr())
	writeFile(t, cfg, checks)
	require.NoError(t, os.Mkdir(filepath.Join(dir, "checks"), 0o750))
	writeFile(t, filepath.Join(dir, "checks", "host.yml"), fmt.Sprintf(`
checks:
  - name: backup
    kind: heartbeat
    heartbeat:
      token: e2e-backup-token-0123456789
      period: 10s
      grace: 5s
  - name: agent-process
    kind: process
    target: saypro-agent
    interval: 1s
    run_on:
      agents: {role: e2e-checks}
  - name: agent-port
    kind: port
    target: "%s"
    interval: 1s
    run_on:
      agents: {role: e2e-checks}
`, port))

	dataDir := t.TempDir()
	srv := startServer(t, dataDir, "--config", cfg)
	startAgent(t, []string{agentBinary}, "--server", srv.URL, "--token", testToken, "--interval", "1s",
		"--queue-dir", t.TempDir(), "--instance", "e2e-checks-agent", "--labels", "role=e2e-checks")
	// The job's first ping; it runs "every 10s".
	code, _ := srv.post("/api/v1/heartbeat/e2e-backup-token-0123456789?runtime=1.5")
	require.Equal(t, 200, code)

	want := map[string]string{
		"web-ok": "up", "web-bad": "down", "refused": "down", "silent": "down",
		"backup": "up", "agent-process": "up", "agent-port": "up",
	}
	eventually(t, 30*time.Second, "every check in its expected state", func() bool {
		got := listChecks(t, srv)
		for name, state := range want {
			if got[name].State != state {
				return false
			}
		}
		return true
	})
	got := listChecks(t, srv)
	require.Contains(t, got["web-bad"].Locations[0].Reason, "status 503")
	require.Contains(t, got["refused"].Locations[0].Reason, "connection refused")
	require.Contains(t, got["silent"].Locations[0].Reason, "timeout")
	require.Equal(t, "e2e-checks-agent", got["agent-process"].Locations[0].Location)
	require.Equal(t, "agents{role=e2e-checks}", got["agent-process"].RunOn)
	require.NotNil(t, got["web-ok"].Uptime["24h"].Percent)
	require.Equal(t, 100.0, *got["web-ok"].Uptime["24h"].Percent)
	require.Equal(t, 0.0, *got["web-bad"].Uptime["24h"].Percent)

	// Samples with blackbox_exporter's names, from the server and through
	// the agent's remote-write.
	eventually(t, 20*time.Second, "check samples queryable", func() bool {
		return len(query(t, srv, `probe_http_status_code{check="web-bad"} == 503`)) == 1 &&
			len(query(t, srv, `probe_success{check="web-ok",job="checks"} == 1`)) == 1 &&
			len(query(t, srv, `saypro_check_state{check="agent-process",location="e2e-checks-agent",state="up"} == 1`)) == 1 &&
			len(query(t, srv, `saypro_process_count{check="agent-process"} >= 1`)) == 1
	})

	// The job stops pinging: down after period + grace.
	eventually(t, 30*time.Second, "the heartbeat check down", func() bool {
		return listChecks(t, srv)["backup"].State == "down"
	})
	require.Contains(t, listChecks(t, srv)["backup"].Locations[0].Reason, "last ping")
	code, _ = srv.post("/api/v1/heartbeat/e2e-backup-token-0123456789/fail")
	require.Equal(t, 200, code)
	eventually(t, 10*time.Second, "the reported failure", func() bool {
		c := listChecks(t, srv)["backup"]
		return c.State == "down" && strings.Contains(c.Locations[0].Reason, "reported a failure")
	})
	code, _ = srv.post("/api/v1/heartbeat/not-a-token-0000000000")
	require.Equal(t, 404, code)

	// Reload without web-bad: it disappears from the list.
	writeFile(t, cfg, strings.Replace(checks, "  - name: web-bad\n    kind: http\n    target: "+web.URL+"/down\n    interval: 1s\n", "", 1))
	require.NoError(t, srv.signal(syscall.SIGHUP))
	eventually(t, 10*time.Second, "web-bad gone after reload", func() bool {
		_, ok := listChecks(t, srv)["web-bad"]
		return !ok
	})

	// History survives a restart; the stop is recorded as unknown.
	require.NoError(t, srv.signal(syscall.SIGTERM))
	srv = startServer(t, dataDir, "--config", cfg)
	// Newest first; the restarted server may already have run the check
	// again (down after unknown).
	c := oneCheck(t, srv, "refused")
	stop := slices.IndexFunc(c.Changes, func(ch changeJSON) bool { return ch.State == "unknown" })
	require.GreaterOrEqual(t, stop, 0, "the stop is recorded: %+v", c.Changes)
	require.LessOrEqual(t, stop, 1, "the stop is one of the newest two changes: %+v", c.Changes)
	require.Equal(t, "the server stopped", c.Changes[stop].Reason)
	require.Greater(t, len(c.Changes), stop+1)
	require.Equal(t, "down", c.Changes[stop+1].State)
	eventually(t, 10*time.Second, "refused checked again after the restart", func() bool {
		return oneCheck(t, srv, "refused").State == "down"
	})
}

func TestCheckCommand(t *testing.T) {
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") }))
	defer web.Close()
	out, err := exec.Command(binary, "check", "--kind", "http", "--target", web.URL).CombinedOutput()
	require.NoError(t, err, string(out))
	require.Regexp(t, `cli\s+http\s+up`, string(out))

	out, err = exec.Command(binary, "check", "--kind", "tcp", "--target", "127.0.0.1:1").CombinedOutput()
	require.Error(t, err)
	require.Equal(t, 1, err.(*exec.ExitError).ExitCode())
	require.Contains(t, string(out), "connection refused")

	cfg := filepath.Join(t.TempDir(), "bad.yml")
	writeFile(t, cfg, "checks:\n  - name: fast\n    kind: tcp\n    target: db:5432\n    interval: 100ms\n")
	out, err = exec.Command(binary, "config", "check", cfg).CombinedOutput()
	require.Error(t, err)
	require.Contains(t, string(out), cfg+`:5: check "fast": interval 100ms is below the minimum of 1s`)
}
