// Package e2e holds tests that build the real saypro-monitor binary, run it
// on loopback ports with temporary data directories, and talk to it over
// HTTP with real clients: Prometheus's remote-write client, the Prometheus
// Go API client, and Prometheus 2.42 with promtool from Debian's package.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
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

// adminPassword is the first admin's password on every test server
// (SAYPRO_ADMIN_PASSWORD).
const adminPassword = "e2e admin password"

// credentials holds each running server's admin API token by host:port;
// the default HTTP transport adds it to requests to that server that
// carry no credentials of their own, as a logged-in script would.
var credentials sync.Map

type authTransport struct{ base http.RoundTripper }

func (a authTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if tok, ok := credentials.Load(r.URL.Host); ok && r.Header.Get("Authorization") == "" && !hasSessionCookie(r) {
		r = r.Clone(r.Context())
		r.Header.Set("Authorization", "Bearer "+tok.(string))
	}
	return a.base.RoundTrip(r)
}

func hasSessionCookie(r *http.Request) bool {
	_, err := r.Cookie("saypro_session")
	return err == nil
}

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
	http.DefaultTransport = authTransport{base: http.DefaultTransport}
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
	// Token is an admin API token, sent by the default HTTP client.
	Token string
}

// login signs in as user and returns the session cookie and CSRF token.
func (p *proc) login(t *testing.T, user, password string) (*http.Cookie, string) {
	t.Helper()
	body := fmt.Sprintf(`{"username":%q,"password":%q}`, user, password)
	resp, err := http.Post(p.URL+"/api/v1/auth/login", "application/json", strings.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	var v struct {
		Data struct {
			CSRF string `json:"csrf_token"`
		} `json:"data"`
	}
	b, _ := io.ReadAll(resp.Body)
	require.Equal(t, http.StatusOK, resp.StatusCode, "login as %s: %s", user, b)
	require.NoError(t, json.Unmarshal(b, &v))
	for _, c := range resp.Cookies() {
		if c.Name == "saypro_session" {
			return c, v.Data.CSRF
		}
	}
	t.Fatalf("login as %s set no session cookie", user)
	return nil, ""
}

// newToken logs in as user and creates an API token of the user's role.
func (p *proc) newToken(t *testing.T, user, password, name string) string {
	t.Helper()
	cookie, csrf := p.login(t, user, password)
	req, err := http.NewRequest("POST", p.URL+"/api/v1/tokens", strings.NewReader(fmt.Sprintf(`{"name":%q}`, name)))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", csrf)
	req.AddCookie(cookie)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	require.Equal(t, http.StatusCreated, resp.StatusCode, "creating a token: %s", b)
	var v struct {
		Data struct {
			Secret string `json:"secret"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal(b, &v))
	return v.Data.Secret
}

// httpConfig writes a Prometheus HTTP client config file (for promtool's
// and amtool's --http.config.file) that sends the admin token.
func (p *proc) httpConfig(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "http.yml")
	writeFile(t, path, "authorization:\n  credentials: "+p.Token+"\n")
	return path
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
	cmd.Env = append(os.Environ(), "SAYPRO_LOG_LEVEL=info", "SAYPRO_ADMIN_PASSWORD="+adminPassword)
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
				p.Token = p.newToken(t, "admin", adminPassword, "e2e")
				credentials.Store(strings.TrimPrefix(p.URL, "http://"), p.Token)
				t.Cleanup(func() { credentials.Delete(strings.TrimPrefix(p.URL, "http://")) })
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
