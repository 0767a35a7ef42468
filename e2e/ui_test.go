package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// chromiumPath is Debian's Chromium, the browser of the UI tests.
const chromiumPath = "/usr/bin/chromium"

// browserMissing skips the test with the reason, or fails it when
// SAYPRO_REQUIRE_BROWSER=1 (make e2e sets it, so CI never skips silently).
func browserMissing(t *testing.T, format string, args ...any) {
	t.Helper()
	reason := fmt.Sprintf(format, args...)
	if os.Getenv("SAYPRO_REQUIRE_BROWSER") == "1" {
		t.Fatalf("%s (SAYPRO_REQUIRE_BROWSER=1, so this is a failure, not a skip)", reason)
	}
	t.Skip(reason)
}

// TestBrowser runs the web UI's browser tests (web/e2e/ui.test.mjs, node --test with
// playwright-core driving headless Chromium) against a real server that has
// its own host's metrics, an http check, and an alert that always fires
// (so an incident is open), with a support user besides the admin.
// Screenshots of every page go to bench/results/screenshots/.
func TestBrowser(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		browserMissing(t, "node is not installed (Node.js 20 or newer runs the browser tests)")
	}
	if _, err := os.Stat(chromiumPath); err != nil {
		browserMissing(t, "%s is missing: apt-get install chromium", chromiumPath)
	}
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	if _, err := os.Stat(filepath.Join(root, "web", "node_modules", "playwright-core", "package.json")); err != nil {
		browserMissing(t, "web/node_modules/playwright-core is missing: run `cd web && npm ci`")
	}

	dir := t.TempDir()
	listen := freePort(t)
	writeFile(t, filepath.Join(dir, "rules.yml"), `
groups:
  - name: browser
    rules:
      - alert: AlwaysFiring
        expr: vector(1)
        for: 0s
        labels: {severity: warning}
        annotations:
          summary: fires all the time, for the browser tests
`)
	writeFile(t, filepath.Join(dir, "saypro-monitor.yml"), `
global:
  evaluation_interval: 2s
rule_files: [rules.yml]
builtin_rules: {enabled: false}
agent: {interval: 5s}
checks:
  - name: self-healthy
    kind: http
    target: http://`+listen+`/-/healthy
    interval: 5s
    description: the server's own health endpoint
alertmanager:
  config:
    route:
      receiver: default
      group_by: [alertname]
      group_wait: 1s
      group_interval: 5m
      repeat_interval: 4h
    receivers:
      - name: default
`)
	srv := startServer(t, filepath.Join(dir, "data"), "--config", filepath.Join(dir, "saypro-monitor.yml"), "--listen", listen)

	code, body := srv.get("/")
	require.Equal(t, http.StatusOK, code)
	if strings.Contains(body, "was not built into this binary") {
		browserMissing(t, "the binary was built without the web UI: run `make ui` before the tests")
	}

	// The local host's tile needs its inventory entry and its metrics
	// (CPU is a rate: two samples).
	var host string
	eventually(t, 60*time.Second, "the local host in the inventory", func() bool {
		_, body := srv.get("/api/v1/hosts")
		var r struct {
			Data []struct {
				Instance string `json:"instance"`
			} `json:"data"`
		}
		if json.Unmarshal([]byte(body), &r) != nil || len(r.Data) == 0 {
			return false
		}
		host = r.Data[0].Instance
		return true
	})
	// Charts need a few points to draw lines: 8 collections, 35 s at 5 s.
	for _, q := range []string{
		`count_over_time(node_load1{instance="` + host + `"}[5m]) >= 8`,
		`rate(node_cpu_seconds_total{instance="` + host + `",mode="idle"}[2m])`,
		`node_memory_MemAvailable_bytes{instance="` + host + `"}`,
		`node_filesystem_avail_bytes{instance="` + host + `"}`,
	} {
		eventually(t, 90*time.Second, q, func() bool {
			_, body := srv.get("/api/v1/query?query=" + url.QueryEscape(q))
			var r struct {
				Data struct {
					Result []json.RawMessage `json:"result"`
				} `json:"data"`
			}
			return json.Unmarshal([]byte(body), &r) == nil && len(r.Data.Result) > 0
		})
	}
	eventually(t, 90*time.Second, "an open incident of AlwaysFiring", func() bool {
		for _, inc := range srv.incidents(t, "status=open") {
			if inc.Title == "AlwaysFiring" {
				return true
			}
		}
		return false
	})

	// A support user, created by the admin (the default client sends the
	// admin's token).
	const supportUser, supportPassword = "sam-support", "support password 0123"
	resp, err := http.Post(srv.URL+"/api/v1/users", "application/json",
		strings.NewReader(fmt.Sprintf(`{"name":%q,"role":"support","password":%q}`, supportUser, supportPassword)))
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Contains(t, []int{http.StatusOK, http.StatusCreated}, resp.StatusCode, "creating the support user: %s", b)

	shots := filepath.Join(root, "bench", "results", "screenshots")
	require.NoError(t, os.RemoveAll(shots))
	require.NoError(t, os.MkdirAll(shots, 0o755))
	t.Logf("screenshots of every page go to %s", shots)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	// The file, not the directory: from Node 21 on, --test takes globs,
	// and a directory no longer means the test files in it.
	cmd := exec.CommandContext(ctx, node, "--test", "--test-reporter=spec", "web/e2e/ui.test.mjs")
	cmd.Dir = root
	cmd.Env = append(os.Environ(),
		"SAYPRO_URL="+srv.URL,
		"SAYPRO_ADMIN_PASSWORD="+adminPassword,
		"SAYPRO_SUPPORT_USER="+supportUser,
		"SAYPRO_SUPPORT_PASSWORD="+supportPassword,
		"SAYPRO_SCREENSHOTS="+shots,
		"SAYPRO_HOST="+host,
		"SAYPRO_AGENT_TOKEN="+testToken,
		"SAYPRO_CHROMIUM="+chromiumPath,
		"NO_COLOR=1",
	)
	out := &lineLogger{t: t}
	cmd.Stdout, cmd.Stderr = out, out
	err = cmd.Run()
	out.flush()
	if ctx.Err() != nil {
		t.Fatalf("node --test web/e2e/ui.test.mjs did not finish within 10 minutes")
	}
	require.NoError(t, err, "node --test web/e2e/ui.test.mjs failed (its output is above; screenshots in %s)", shots)
}

// lineLogger writes a process's output into the test log line by line, as
// it comes.
type lineLogger struct {
	t   *testing.T
	mu  sync.Mutex
	buf []byte
}

func (l *lineLogger) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			break
		}
		l.t.Log("node: " + string(l.buf[:i]))
		l.buf = l.buf[i+1:]
	}
	return len(p), nil
}

func (l *lineLogger) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buf) > 0 {
		l.t.Log("node: " + string(l.buf))
		l.buf = nil
	}
}
