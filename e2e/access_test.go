package e2e

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// request sends method path with body and only the credentials with sets
// (none when with is nil): it goes around the default transport, which
// would add the admin token.
func (p *proc) request(t *testing.T, method, path, body string, with func(*http.Request)) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, p.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if with != nil {
		with(req)
	}
	resp, err := http.DefaultTransport.(authTransport).base.RoundTrip(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestAccessControl checks the real binary's access control end to end:
// nothing without credentials, roles refused where they should be, basic
// auth on the Prometheus API, the audit log, and the command-line
// password reset.
func TestAccessControl(t *testing.T) {
	dataDir := t.TempDir()
	srv := startServer(t, dataDir)
	admin := func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+srv.Token) }

	code, _ := srv.request(t, "GET", "/-/healthy", "", nil)
	require.Equal(t, 200, code)
	code, body := srv.request(t, "GET", "/", "", nil)
	require.Equal(t, 200, code, "the page shell is open")
	require.Contains(t, body, "<html")
	for _, path := range []string{"/api/v1/query?query=up", "/api/v1/hosts", "/api/v2/silences", "/metrics", "/api/v1/incidents"} {
		code, body := srv.request(t, "GET", path, "", nil)
		require.Equal(t, 401, code, "%s without credentials: %s", path, body)
	}

	code, body = srv.request(t, "POST", "/api/v1/users", `{"name":"sue","role":"support","password":"sue's long password"}`, admin)
	require.Equal(t, 201, code, body)
	sue := srv.newToken(t, "sue", "sue's long password", "sue-script")
	asSue := func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+sue) }

	code, _ = srv.request(t, "GET", "/api/v1/hosts", "", asSue)
	require.Equal(t, 200, code)
	silence := `{"matchers":[{"name":"instance","value":"db1","isRegex":false}],"startsAt":"2026-01-01T00:00:00Z","endsAt":"2099-01-01T00:00:00Z","createdBy":"sue","comment":"try"}`
	code, body = srv.request(t, "POST", "/api/v2/silences", silence, asSue)
	require.Equal(t, 403, code)
	require.Contains(t, body, "your role (support) may not do this")
	code, _ = srv.request(t, "GET", "/api/v1/users", "", asSue)
	require.Equal(t, 403, code)
	code, body = srv.request(t, "POST", "/api/v2/silences", silence, admin)
	require.Equal(t, 200, code, body)

	// Basic auth works on the Prometheus API, as Grafana sends it, and not
	// on the others.
	code, body = srv.request(t, "GET", "/api/v1/query?query=1", "", func(r *http.Request) { r.SetBasicAuth("sue", "sue's long password") })
	require.Equal(t, 200, code, body)
	code, _ = srv.request(t, "GET", "/api/v1/hosts", "", func(r *http.Request) { r.SetBasicAuth("sue", "sue's long password") })
	require.Equal(t, 401, code)
	code, _ = srv.request(t, "GET", "/api/v1/query?query=1", "", func(r *http.Request) { r.SetBasicAuth("sue", "wrong") })
	require.Equal(t, 401, code)

	// The audit log has the logins, the new user, the refused login and
	// the silence, with their actors.
	var audit struct {
		Entries []struct {
			Actor, Action, Target string
			Success               bool
		} `json:"entries"`
	}
	require.Equal(t, 200, getJSON(t, srv.URL+"/api/v1/audit?limit=1000", &audit))
	seen := map[string]bool{}
	for _, e := range audit.Entries {
		seen[fmt.Sprintf("%s %s %t", e.Actor, e.Action, e.Success)] = true
	}
	for _, want := range []string{"admin login true", "admin user.create true", "sue login true", "sue token.create true", "admin silence.create true", "sue login false"} {
		require.True(t, seen[want], "audit log lacks %q: %v", want, seen)
	}

	// A lost password is reset from the command line, while the server runs.
	cmd := exec.Command(binary, "user", "reset-password", "--data-dir", dataDir, "sue")
	cmd.Env = append(os.Environ(), "SAYPRO_NEW_PASSWORD=sue's brand new password")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	require.Contains(t, string(out), "password of sue reset")
	srv.login(t, "sue", "sue's brand new password")
	cmd = exec.Command(binary, "user", "reset-password", "--data-dir", dataDir, "nobody")
	cmd.Env = append(os.Environ(), "SAYPRO_NEW_PASSWORD=long enough password")
	out, err = cmd.CombinedOutput()
	require.Error(t, err)
	require.Contains(t, string(out), `no user named "nobody"; the users are: admin, sue`)
}
