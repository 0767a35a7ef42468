package e2e

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestRuleFiles evaluates rule_files against the store: a recording rule
// over check series and an alert on a check that is down, served by
// /api/v1/rules and /api/v1/alerts as Prometheus serves them.
func TestRuleFiles(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := l.Addr().String()
	l.Close()

	dir := t.TempDir()
	cfg := filepath.Join(dir, "saypro-monitor.yml")
	writeFile(t, cfg, `
global:
  evaluation_interval: 1s
agent:
  enabled: false
rule_files: [rules/*.yml]
checks:
  - name: refused
    kind: tcp
    target: `+closed+`
    interval: 1s
`)
	require.NoError(t, os.Mkdir(filepath.Join(dir, "rules"), 0o750))
	rules := filepath.Join(dir, "rules", "checks.yml")
	writeFile(t, rules, `
groups:
  - name: checks
    rules:
      - record: job:probe_success:min
        expr: min by (job) (probe_success)
      - alert: CheckDown
        expr: probe_success == 0
        for: 2s
        labels: {severity: critical}
        annotations:
          summary: 'check {{ $labels.check }} is down'
`)
	srv := startServer(t, t.TempDir(), "--config", cfg)

	var rs struct {
		Groups []struct {
			Name  string `json:"name"`
			Rules []struct {
				Name string `json:"name"`
				Type string `json:"type"`
			} `json:"rules"`
		} `json:"groups"`
	}
	require.Equal(t, 200, getJSON(t, srv.URL+"/api/v1/rules", &rs))
	// The built-in pack's groups, then the user's; the user's CheckDown
	// replaces the built-in one.
	groupOf := map[string][]string{}
	total := 0
	for _, g := range rs.Groups {
		for _, r := range g.Rules {
			groupOf[r.Name] = append(groupOf[r.Name], g.Name)
			total++
		}
	}
	require.Equal(t, []string{"checks"}, groupOf["CheckDown"])
	require.Equal(t, []string{"saypro-hosts"}, groupOf["HostHighCPU"])
	require.Equal(t, []string{"saypro-checks"}, groupOf["CertificateExpiringSoon"])
	require.Equal(t, 18-1+2, total)

	type alert struct {
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
		State       string            `json:"state"`
	}
	var firing alert
	eventually(t, 30*time.Second, "CheckDown firing", func() bool {
		var as struct {
			Alerts []alert `json:"alerts"`
		}
		require.Equal(t, 200, getJSON(t, srv.URL+"/api/v1/alerts", &as))
		for _, a := range as.Alerts {
			if a.Labels["alertname"] == "CheckDown" && a.State == "firing" {
				firing = a
				return true
			}
		}
		return false
	})
	require.Equal(t, "refused", firing.Labels["check"])
	require.Equal(t, "critical", firing.Labels["severity"])
	require.Equal(t, "check refused is down", firing.Annotations["summary"])
	eventually(t, 10*time.Second, "the recording rule's series", func() bool {
		v := query(t, srv, `job:probe_success:min{job="checks"}`)
		return len(v) == 1 && v[0].Value == 0
	})

	// A broken rule file is refused on reload, naming the file; the old
	// rules stay.
	writeFile(t, rules, "groups:\n  - name: checks\n    rules:\n      - alert: Broken\n        expr: probe_success ==\n")
	require.NoError(t, srv.signal(syscall.SIGHUP))
	eventually(t, 10*time.Second, "the failed reload reported", func() bool {
		return strings.Contains(srv.logs.String(), "reload on SIGHUP failed") && strings.Contains(srv.logs.String(), rules)
	})
	require.Equal(t, 200, getJSON(t, srv.URL+"/api/v1/rules", &rs))
	require.Len(t, rs.Groups, 3, "the previous rules stay")

	// The runbooks the alerts link to are served by the server.
	code, body := srv.get("/runbooks/CheckDown")
	require.Equal(t, 200, code)
	require.Contains(t, body, "Check first")
	code, _ = srv.get("/runbooks/NoSuchAlert")
	require.Equal(t, 404, code)
	code, body = srv.get("/runbooks/")
	require.Equal(t, 200, code)
	require.Contains(t, body, "HostHighCPU")

	out, err := exec.Command(binary, "config", "check", cfg).CombinedOutput()
	require.Error(t, err)
	require.Contains(t, string(out), rules)
}
