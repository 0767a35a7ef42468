package e2e

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// requireTool finds a peer binary from Debian's packages. In CI (.ci/run
// installs them) a missing one fails the test; elsewhere it is skipped
// with the install line.
func requireTool(t *testing.T, name, pkg string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		msg := fmt.Sprintf("%s not found: apt-get install %s", name, pkg)
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return path
}

// startPeer runs a peer binary until the test ends, and shows its output
// if the test fails.
func startPeer(t *testing.T, name, bin string, args ...string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("%s logs:\n%s", name, logs.String())
		}
	})
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().String()
}

// TestPrometheusRemoteWritesAndPromtoolReads runs Prometheus 2.42 as a
// real peer: it scrapes itself and remote-writes to our server with the
// bearer token; then promtool (the CLI that operators use) reads the
// series back from our server through the query API.
func TestPrometheusRemoteWritesAndPromtoolReads(t *testing.T) {
	prometheus := requireTool(t, "prometheus", "prometheus")
	promtool := requireTool(t, "promtool", "prometheus")

	srv := startServer(t, t.TempDir())
	dir := t.TempDir()
	promAddr := freePort(t)
	cfg := filepath.Join(dir, "prometheus.yml")
	writeFile(t, cfg, fmt.Sprintf(`
global:
  scrape_interval: 1s
  external_labels:
    replica: peer
scrape_configs:
  - job_name: prometheus
    static_configs: [{targets: [%q]}]
remote_write:
  - url: %s/api/v1/write
    authorization:
      credentials: %s
    queue_config:
      batch_send_deadline: 1s
`, promAddr, srv.URL, testToken))

	startPeer(t, "prometheus", prometheus,
		"--config.file="+cfg,
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+promAddr,
		"--log.level=warn",
	)

	// Prometheus's own series arrive by remote write with its labels.
	query := `up{job="prometheus",replica="peer"}`
	eventually(t, 90*time.Second, "Prometheus's samples in our server", func() bool {
		_, body := srv.get("/api/v1/query?query=" + query)
		return strings.Contains(body, `"replica":"peer"`)
	})
	eventually(t, 60*time.Second, "five seconds of Prometheus's samples", func() bool {
		_, body := srv.get("/api/v1/query?query=" + url.QueryEscape(`count_over_time(`+query+`[1m]) >= 5`))
		return strings.Contains(body, `"replica":"peer"`)
	})

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// promtool 2.42 has no --http.config.file; credentials in the URL
	// become basic auth, with the API token as the password.
	u, err := url.Parse(srv.URL)
	require.NoError(t, err)
	u.User = url.UserPassword("admin", srv.Token)
	authURL := u.String()
	out, err := exec.CommandContext(ctx, promtool, "query", "instant", authURL, query).CombinedOutput()
	require.NoError(t, err, string(out))
	require.Contains(t, string(out), `up{instance="`+promAddr+`", job="prometheus", replica="peer"} => 1`)

	end := time.Now()
	out, err = exec.CommandContext(ctx, promtool, "query", "range",
		"--start", end.Add(-time.Minute).Format(time.RFC3339), "--end", end.Format(time.RFC3339), "--step", "1s",
		authURL, `sum by (replica) (count_over_time(`+query+`[10s]))`).CombinedOutput()
	require.NoError(t, err, string(out))
	require.Contains(t, string(out), `{replica="peer"} =>`)

	out, err = exec.CommandContext(ctx, promtool, "query", "labels", authURL, "job").CombinedOutput()
	require.NoError(t, err, string(out))
	require.Contains(t, string(out), "prometheus")

	out, err = exec.CommandContext(ctx, promtool, "query", "series", "--match", query, authURL).CombinedOutput()
	require.NoError(t, err, string(out))
	require.Contains(t, string(out), `replica="peer"`)

	// Nothing Prometheus sent was refused.
	_, body := srv.get("/api/v1/query?query=" + `sum by (code) (saypro_ingest_remote_write_requests_total)`)
	require.NotContains(t, body, `"code":"4`)
	require.NotContains(t, body, `"code":"5`)
}
