// Package e2e holds tests that build the real saypro-monitor binary, run it
// on loopback ports with temporary data directories, and talk to it over
// HTTP with real clients: Prometheus's remote-write client, the Prometheus
// Go API client, and Prometheus 2.42 with promtool from Debian's package.
package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// binary is the path of the saypro-monitor binary built by TestMain, and
// agentBinary that of the small saypro-agent.
var binary, agentBinary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "saypro-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "saypro-monitor")
	agentBinary = filepath.Join(dir, "saypro-agent")
	for out, pkg := range map[string]string{binary: "../cmd/saypro-monitor", agentBinary: "../cmd/saypro-agent"} {
		build := exec.Command("go", "build", "-o", out,
			"-ldflags", "-X github.com/prometheus/common/version.Version=e2e-test -X github.com/prometheus/common/version.Revision=e2e",
			pkg)
		build.Stdout, build.Stderr = os.Stdout, os.Stderr
		if err := build.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "building", pkg+":", err)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// syncBuffer is a bytes.Buffer safe for a process writer and a reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// proc is a running saypro-monitor server.
type proc struct {
	t    *testing.T
	cmd  *exec.Cmd
	logs *syncBuffer
	URL  string
	done chan error
}

var listeningRE = regexp.MustCompile(`msg=listening address=(\S+)`)

// startServer runs `saypro-monitor server` on a free loopback port and
// waits until it is ready. Extra arguments follow the defaults.
func startServer(t *testing.T, dataDir string, args ...string) *proc {
	t.Helper()
	all := append([]string{"server", "--listen", "127.0.0.1:0", "--data-dir", dataDir, "--ingest-token", testToken}, args...)
	cmd := exec.Command(binary, all...)
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.Env = append(os.Environ(), "SAYPRO_LOG_LEVEL=info")
	require.NoError(t, cmd.Start())
	p := &proc{t: t, cmd: cmd, logs: logs, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("server logs:\n%s", logs.String())
		}
	})

	deadline := time.Now().Add(60 * time.Second)
	for p.URL == "" {
		if m := listeningRE.FindStringSubmatch(logs.String()); m != nil {
			p.URL = "http://" + m[1]
			break
		}
		select {
		case err := <-p.done:
			t.Fatalf("server exited before listening: %v\n%s", err, logs.String())
		case <-time.After(20 * time.Millisecond):
		}
		require.True(t, time.Now().Before(deadline), "server did not listen within 60s:\n%s", logs.String())
	}
	for {
		resp, err := http.Get(p.URL + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		require.True(t, time.Now().Before(deadline), "server not ready within 60s:\n%s", logs.String())
		time.Sleep(50 * time.Millisecond)
	}
}

// signal sends sig and, for terminating signals, waits for the exit.
func (p *proc) signal(sig syscall.Signal) error {
	p.t.Helper()
	require.NoError(p.t, p.cmd.Process.Signal(sig))
	if sig == syscall.SIGHUP {
		return nil
	}
	select {
	case err := <-p.done:
		return err
	case <-time.After(30 * time.Second):
		p.t.Fatalf("server did not exit within 30s of %v", sig)
		return nil
	}
}

// get fetches path and returns status and body.
func (p *proc) get(path string) (int, string) {
	p.t.Helper()
	resp, err := http.Get(p.URL + path)
	require.NoError(p.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(p.t, err)
	return resp.StatusCode, string(b)
}

// post sends a form-less POST and returns status and body.
func (p *proc) post(path string) (int, string) {
	p.t.Helper()
	resp, err := http.Post(p.URL+path, "", nil)
	require.NoError(p.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(p.t, err)
	return resp.StatusCode, string(b)
}

// eventually polls cond until it holds or the timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	require.NoError(t, os.WriteFile(path, []byte(strings.TrimLeft(content, "\n")), 0o644))
}
