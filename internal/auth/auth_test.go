package auth

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/saypro/monitor/internal/state"
	"github.com/saypro/monitor/internal/state/statetest"
)

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

const pw = "a long enough password"

func newService(t *testing.T, db *state.DB, o Options) (*Service, *clock) {
	t.Helper()
	c := &clock{t: time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)}
	o.DB, o.Logger, o.Now = db, slog.New(slog.DiscardHandler), c.now
	if o.DataDir == "" {
		o.DataDir = t.TempDir()
	}
	s, err := New(o)
	require.NoError(t, err)
	s.hasher = newHasher(argonParams{memory: 1024, time: 1, threads: 1}, 2) // fast in tests
	require.NoError(t, s.Bootstrap(t.Context()))
	return s, c
}

// call runs one request against the access-control API behind Require.
func call(s *Service, perm Permission, method, path, body string, with func(*http.Request)) *httptest.ResponseRecorder {
	mux := http.NewServeMux()
	mux.Handle("POST /api/v1/auth/login", s.Handler())
	mux.Handle("/", s.Require(perm, true, s.Handler()))
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.RemoteAddr = "198.51.100.7:5555"
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if with != nil {
		with(req)
	}
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	return rec
}

type browserSession struct{ cookie, csrf string }

func (se browserSession) with(r *http.Request) {
	r.AddCookie(&http.Cookie{Name: CookieName, Value: se.cookie})
	r.Header.Set(CSRFHeader, se.csrf)
}

func login(t *testing.T, s *Service, user, password string) (browserSession, *httptest.ResponseRecorder) {
	t.Helper()
	rec := call(s, PermView, "POST", "/api/v1/auth/login", `{"username":"`+user+`","password":"`+password+`"}`, nil)
	if rec.Code != 200 {
		return browserSession{}, rec
	}
	var v struct {
		Data sessionView `json:"data"`
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &v))
	c := rec.Result().Cookies()[0]
	require.True(t, c.HttpOnly)
	require.Equal(t, http.SameSiteStrictMode, c.SameSite)
	return browserSession{cookie: c.Value, csrf: v.Data.CSRFToken}, rec
}

func TestBootstrapWritesGeneratedPasswordOnce(t *testing.T) {
	dir := t.TempDir()
	db := statetest.Open(t, "sqlite")
	s, _ := newService(t, db, Options{DataDir: dir})
	b, err := os.ReadFile(filepath.Join(dir, AdminPasswordFile))
	require.NoError(t, err)
	generated := strings.TrimSpace(string(b))
	require.Len(t, generated, 26)
	fi, err := os.Stat(filepath.Join(dir, AdminPasswordFile))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	_, rec := login(t, s, "admin", generated)
	require.Equal(t, 200, rec.Code, rec.Body.String())

	// A second start with users present changes nothing.
	require.NoError(t, os.Remove(filepath.Join(dir, AdminPasswordFile)))
	s2, _ := newService(t, db, Options{DataDir: dir, AdminPassword: "another password entirely"})
	_, err = os.Stat(filepath.Join(dir, AdminPasswordFile))
	require.True(t, os.IsNotExist(err))
	_, rec = login(t, s2, "admin", generated)
	require.Equal(t, 200, rec.Code)
}

func TestBootstrapRefusesAWeakAdminPassword(t *testing.T) {
	s, err := New(Options{DB: statetest.Open(t, "sqlite"), Logger: slog.New(slog.DiscardHandler), AdminPassword: "short"})
	require.NoError(t, err)
	err = s.Bootstrap(t.Context())
	require.ErrorContains(t, err, "SAYPRO_ADMIN_PASSWORD: the password is too short")
}

func TestSessions(t *testing.T) {
	statetest.Run(t, func(t *testing.T, db *state.DB) {
		s, clk := newService(t, db, Options{AdminPassword: pw, IdleTimeout: time.Hour, MaxAge: 3 * time.Hour})
		_, rec := login(t, s, "admin", "wrong password!!")
		require.Equal(t, 401, rec.Code)
		require.Contains(t, rec.Body.String(), "wrong user name or password")
		_, rec = login(t, s, "nobody", pw)
		require.Equal(t, 401, rec.Code)
		require.Contains(t, rec.Body.String(), "wrong user name or password", "unknown names answer the same")

		se, rec := login(t, s, "admin", pw)
		require.Equal(t, 200, rec.Code)
		rec = call(s, PermView, "GET", "/api/v1/auth/session", "", se.with)
		require.Equal(t, 200, rec.Code)
		require.Contains(t, rec.Body.String(), `"permissions":["view","respond","operate","admin"]`)

		// Used every 50 minutes, the session lives to its maximum age.
		for range 3 {
			clk.add(50 * time.Minute)
			require.Equal(t, 200, call(s, PermView, "GET", "/api/v1/auth/session", "", se.with).Code)
		}
		clk.add(40 * time.Minute)
		rec = call(s, PermView, "GET", "/api/v1/auth/session", "", se.with)
		require.Equal(t, 401, rec.Code, "past its maximum age")
		require.Contains(t, rec.Body.String(), "log in again")

		// Idle for longer than the timeout.
		se, _ = login(t, s, "admin", pw)
		clk.add(61 * time.Minute)
		require.Equal(t, 401, call(s, PermView, "GET", "/api/v1/auth/session", "", se.with).Code)

		// Logout ends the session.
		se, _ = login(t, s, "admin", pw)
		require.Equal(t, 204, call(s, PermView, "POST", "/api/v1/auth/logout", "", se.with).Code)
		require.Equal(t, 401, call(s, PermView, "GET", "/api/v1/auth/session", "", se.with).Code)

		// A password change ends every session of the user.
		se, _ = login(t, s, "admin", pw)
		other, _ := login(t, s, "admin", pw)
		rec = call(s, PermView, "POST", "/api/v1/auth/password", `{"current":"nope","new":"`+pw+` 2"}`, se.with)
		require.Equal(t, 400, rec.Code)
		require.Contains(t, rec.Body.String(), "current password is wrong")
		rec = call(s, PermView, "POST", "/api/v1/auth/password", `{"current":"`+pw+`","new":"short"}`, se.with)
		require.Equal(t, 400, rec.Code)
		require.Contains(t, rec.Body.String(), "at least 12 characters")
		require.Equal(t, 204, call(s, PermView, "POST", "/api/v1/auth/password", `{"current":"`+pw+`","new":"`+pw+` 2"}`, se.with).Code)
		require.Equal(t, 401, call(s, PermView, "GET", "/api/v1/auth/session", "", other.with).Code)
		_, rec = login(t, s, "admin", pw+" 2")
		require.Equal(t, 200, rec.Code)
	})
}

func TestLoginRateLimit(t *testing.T) {
	s, clk := newService(t, statetest.Open(t, "sqlite"), Options{AdminPassword: pw})
	for range limitPerUser {
		_, rec := login(t, s, "admin", "wrong password!!")
		require.Equal(t, 401, rec.Code)
	}
	_, rec := login(t, s, "admin", pw)
	require.Equal(t, 429, rec.Code, "even the right password waits")
	require.NotEmpty(t, rec.Header().Get("Retry-After"))
	require.Contains(t, rec.Body.String(), "too many failed logins")
	// Basic auth from the same address is limited too.
	rec = call(s, PermView, "GET", "/api/v1/auth/session", "", func(r *http.Request) { r.SetBasicAuth("admin", pw) })
	require.Equal(t, 429, rec.Code)
	clk.add(limitWindow + time.Second)
	_, rec = login(t, s, "admin", pw)
	require.Equal(t, 200, rec.Code)

	entries, _, err := s.Audit(t.Context(), AuditFilter{Action: "login"})
	require.NoError(t, err)
	var failed, refused int
	for _, e := range entries {
		if !e.Success {
			failed++
			require.Equal(t, "198.51.100.7", e.RemoteAddr)
		}
		if strings.Contains(e.Detail, "too many") {
			refused++
		}
	}
	require.Equal(t, limitPerUser+1, failed, "five wrong passwords and one refused login")
	require.Equal(t, 1, refused)
}

func TestTokens(t *testing.T) {
	statetest.Run(t, func(t *testing.T, db *state.DB) {
		s, clk := newService(t, db, Options{AdminPassword: pw})
		_, err := s.CreateUser(t.Context(), "sam", RoleSupport, pw)
		require.NoError(t, err)
		sam, _ := login(t, s, "sam", pw)
		rec := call(s, PermView, "POST", "/api/v1/tokens", `{"name":"grafana","role":"devops"}`, sam.with)
		require.Equal(t, 403, rec.Code, "support cannot hand out devops")
		rec = call(s, PermView, "POST", "/api/v1/tokens", `{"name":"grafana","expires_in":"1h"}`, sam.with)
		require.Equal(t, 201, rec.Code, rec.Body.String())
		var created struct {
			Data struct {
				Token  Token  `json:"token"`
				Secret string `json:"secret"`
			} `json:"data"`
		}
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &created))
		require.True(t, strings.HasPrefix(created.Data.Secret, TokenPrefix))
		require.Equal(t, RoleSupport, created.Data.Token.Role)
		bearer := func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+created.Data.Secret) }

		rec = call(s, PermView, "GET", "/api/v1/auth/session", "", bearer)
		require.Equal(t, 200, rec.Code)
		require.Contains(t, rec.Body.String(), `"kind":"token"`)
		require.Equal(t, 403, call(s, PermOperate, "GET", "/api/v1/auth/session", "", bearer).Code)
		// A token cannot mint tokens.
		require.Equal(t, 403, call(s, PermView, "POST", "/api/v1/tokens", `{"name":"x"}`, bearer).Code)
		// The secret is not stored.
		var n int
		require.NoError(t, db.SQL().QueryRow(`SELECT COUNT(*) FROM api_tokens WHERE hash = $1`, created.Data.Secret).Scan(&n))
		require.Zero(t, n)

		// Expiry.
		clk.add(61 * time.Minute)
		rec = call(s, PermView, "GET", "/api/v1/auth/session", "", bearer)
		require.Equal(t, 401, rec.Code)
		require.Contains(t, rec.Body.String(), "expired")

		// Revocation, by the owner; others' tokens do not exist for them.
		rec = call(s, PermView, "POST", "/api/v1/tokens", `{"name":"script"}`, sam.with)
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &created))
		admin, _ := login(t, s, "admin", pw)
		rec = call(s, PermView, "POST", "/api/v1/tokens", `{"name":"admin-script"}`, admin.with)
		require.Equal(t, 201, rec.Code)
		rec = call(s, PermView, "DELETE", "/api/v1/tokens/3", "", sam.with)
		require.Equal(t, 404, rec.Code, "sam cannot see the admin's token")
		rec = call(s, PermView, "GET", "/api/v1/tokens", "", sam.with)
		require.NotContains(t, rec.Body.String(), "admin-script")
		rec = call(s, PermView, "GET", "/api/v1/tokens?user=sam", "", admin.with)
		require.Contains(t, rec.Body.String(), "script")
		require.Equal(t, 204, call(s, PermView, "DELETE", "/api/v1/tokens/2", "", sam.with).Code)
		rec = call(s, PermView, "GET", "/api/v1/auth/session", "", func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+created.Data.Secret) })
		require.Equal(t, 401, rec.Code)
		require.Contains(t, rec.Body.String(), "revoked")

		// A demoted user's tokens lose the role with them.
		rec = call(s, PermView, "POST", "/api/v1/tokens", `{"name":"ops"}`, admin.with)
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &created))
		_, err = s.CreateUser(t.Context(), "root2", RoleAdmin, pw)
		require.NoError(t, err)
		require.NoError(t, s.updateUser(t.Context(), "admin", userPatch{role: ptr(RoleSupport)}))
		rec = call(s, PermOperate, "GET", "/api/v1/auth/session", "", func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+created.Data.Secret) })
		require.Equal(t, 403, rec.Code)
	})
}

func ptr[T any](v T) *T { return &v }

func TestUsersAdmin(t *testing.T) {
	s, _ := newService(t, statetest.Open(t, "sqlite"), Options{AdminPassword: pw})
	admin, _ := login(t, s, "admin", pw)
	for _, tc := range []struct {
		method, path, body string
		code               int
		want               string
	}{
		{"POST", "/api/v1/users", `{"name":"kim","role":"devops","password":"` + pw + `"}`, 201, `"role":"devops"`},
		{"POST", "/api/v1/users", `{"name":"kim","role":"devops","password":"` + pw + `"}`, 409, "already exists"},
		{"POST", "/api/v1/users", `{"name":"lee","role":"root","password":"` + pw + `"}`, 400, `unknown role`},
		{"POST", "/api/v1/users", `{"name":"a b","role":"support","password":"` + pw + `"}`, 400, "use letters, digits"},
		{"POST", "/api/v1/users", `{"name":"lee","role":"support","password":"short"}`, 400, "too short"},
		{"POST", "/api/v1/users", `{"name":"lee","role":"support","pass":"x"}`, 400, "unknown field"},
		{"PATCH", "/api/v1/users/kim", `{"role":"support"}`, 200, `"role":"support"`},
		{"PATCH", "/api/v1/users/kim", `{"disabled":true}`, 200, `"disabled":true`},
		{"PATCH", "/api/v1/users/nobody", `{"role":"support"}`, 404, "not found"},
		{"PATCH", "/api/v1/users/admin", `{"role":"support"}`, 409, "last enabled admin"},
		{"DELETE", "/api/v1/users/admin", ``, 409, "your own account"},
		{"DELETE", "/api/v1/users/kim", ``, 204, ""},
		{"GET", "/api/v1/users", ``, 200, `"name":"admin"`},
		{"GET", "/api/v1/audit?action=user.&limit=2", ``, 200, `"total":`},
		{"GET", "/api/v1/audit?limit=0", ``, 400, "limit"},
		{"GET", "/api/v1/audit?from=yesterday", ``, 400, "from"},
	} {
		t.Run(tc.method+" "+tc.path+" "+tc.body, func(t *testing.T) {
			rec := call(s, PermAdmin, tc.method, tc.path, tc.body, admin.with)
			require.Equal(t, tc.code, rec.Code, rec.Body.String())
			require.Contains(t, rec.Body.String(), tc.want)
		})
	}
	// The disabled then deleted user cannot log in.
	_, rec := login(t, s, "kim", pw)
	require.Equal(t, 401, rec.Code)
	entries, total, err := s.Audit(context.Background(), AuditFilter{Action: "user."})
	require.NoError(t, err)
	require.Equal(t, len(entries), total)
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.Action+" "+e.Target)
	}
	require.Contains(t, actions, "user.delete kim")
	require.Contains(t, actions, "user.update kim")
	require.Contains(t, actions, "user.create admin")
}

func TestBasicAuthIsCachedAndDroppedOnChange(t *testing.T) {
	s, _ := newService(t, statetest.Open(t, "sqlite"), Options{AdminPassword: pw})
	basic := func(r *http.Request) { r.SetBasicAuth("admin", pw) }
	require.Equal(t, 200, call(s, PermAdmin, "GET", "/api/v1/users", "", basic).Code)
	_, ok := s.basicCache.get("admin", pw)
	require.True(t, ok)
	admin, _ := login(t, s, "admin", pw)
	require.Equal(t, 200, call(s, PermAdmin, "PATCH", "/api/v1/users/admin", `{"password":"`+pw+` new"}`, admin.with).Code)
	require.Equal(t, 401, call(s, PermAdmin, "GET", "/api/v1/users", "", basic).Code, "the old password no longer works")
}

func TestPasswordHash(t *testing.T) {
	h := newHasher(argonParams{memory: 1024, time: 1, threads: 1}, 1)
	enc, err := h.hash(t.Context(), "secret words here")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(enc, "$argon2id$v=19$m=1024,t=1,p=1$"))
	ok, err := h.verify(t.Context(), enc, "secret words here")
	require.NoError(t, err)
	require.True(t, ok)
	ok, err = h.verify(t.Context(), enc, "secret words herE")
	require.NoError(t, err)
	require.False(t, ok)
	for _, bad := range []string{"", "$2a$10$abc", "$argon2id$v=19$m=0,t=1,p=1$AAAA$AAAAAAAAAAAAAAAAAAAAAA", "$argon2id$v=19$m=1024,t=1,p=1$!!$AAAA"} {
		_, err := h.verify(t.Context(), bad, "x")
		require.Error(t, err, bad)
	}
}

func FuzzDecodeHash(f *testing.F) {
	f.Add("$argon2id$v=19$m=47104,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5")
	f.Add("$argon2id$v=19$m=99999999,t=1,p=1$$")
	f.Fuzz(func(t *testing.T, s string) {
		p, salt, key, err := decodeHash(s)
		if err == nil && (p.memory == 0 || p.memory > 1<<21 || p.time == 0 || len(key) < 16 || salt == nil) {
			t.Fatalf("accepted %q with %+v", s, p)
		}
	})
}
