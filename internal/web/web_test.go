package web

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/saypro/monitor/internal/auth"
	"github.com/saypro/monitor/internal/state/statetest"
)

// stubAuth is the real access control with its own API replaced by a
// named handler, so that every route's handler answers 200 when reached.
type stubAuth struct {
	*auth.Service
	api http.Handler
}

func (s stubAuth) Handler() http.Handler { return s.api }

func named(name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(name)) })
}

// testEnv is a handler with every component stubbed and a real access
// control with one user of each role.
type testEnv struct {
	h     *Handler
	svc   *auth.Service
	creds map[auth.Role]credentials
}

// credentials of one user: a browser session, an API token and the
// password for basic auth.
type credentials struct {
	name, password string
	cookie, csrf   string
	token          string
}

const testPassword = "correct horse battery"

func newTestEnv(t *testing.T, reloadErr error) *testEnv {
	t.Helper()
	db := statetest.Open(t, "sqlite")
	svc, err := auth.New(auth.Options{DB: db, Logger: slog.New(slog.DiscardHandler), DataDir: t.TempDir(), AdminPassword: testPassword})
	require.NoError(t, err)
	require.NoError(t, svc.Bootstrap(t.Context()))
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewCounter(prometheus.CounterOpts{Name: "test_total", Help: "t"}))
	h := NewHandler()
	require.NoError(t, h.Install(Options{
		API:          named("api"),
		RemoteWrite:  named("write"),
		Heartbeat:    named("heartbeat"),
		Hosts:        named("hosts"),
		Checks:       named("checks"),
		CheckPings:   named("ping"),
		CheckResults: named("results"),
		Runbooks:     fstest.MapFS{"README.md": {Data: []byte("# runbooks")}, "x.md": {Data: []byte("# x")}},
		Alertmanager: named("alertmanager"),
		Incidents:    named("incidents"),
		Events:       named("events"),
		Logs:         stubLogs{},
		AgentLogs:    named("agentlogs"),
		Gatherer:     reg,
		Reload:       func(context.Context) error { return reloadErr },
		Logger:       slog.New(slog.DiscardHandler),
		Auth:         stubAuth{Service: svc, api: named("auth")},
		UI:           named("ui"),
	}))
	h.SetReady(true)
	env := &testEnv{h: h, svc: svc, creds: map[auth.Role]credentials{}}

	// The real login and token API, to get each role's credentials.
	real := NewHandler()
	require.NoError(t, real.Install(Options{API: named("api"), RemoteWrite: named("write"), Gatherer: reg,
		Reload: func(context.Context) error { return nil }, Logger: slog.New(slog.DiscardHandler), Auth: svc, UI: named("ui")}))
	real.SetReady(true)
	for _, role := range auth.Roles() {
		name := string(role) + "-user"
		_, err := svc.CreateUser(t.Context(), name, role, testPassword)
		require.NoError(t, err)
		c := credentials{name: name, password: testPassword}
		rec := do(real, "POST", "/api/v1/auth/login", `{"username":"`+name+`","password":"`+testPassword+`"}`, nil)
		require.Equal(t, 200, rec.Code, rec.Body.String())
		c.cookie = rec.Result().Cookies()[0].Value
		var login struct {
			Data struct {
				CSRF string `json:"csrf_token"`
			} `json:"data"`
		}
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &login))
		c.csrf = login.Data.CSRF
		rec = do(real, "POST", "/api/v1/tokens", `{"name":"matrix"}`, c.session())
		require.Equal(t, 201, rec.Code, rec.Body.String())
		var tok struct {
			Data struct {
				Secret string `json:"secret"`
			} `json:"data"`
		}
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &tok))
		c.token = tok.Data.Secret
		env.creds[role] = c
	}
	return env
}

// session, bearer and basic set one kind of credentials on a request.
func (c credentials) session() func(*http.Request) {
	return func(r *http.Request) {
		r.AddCookie(&http.Cookie{Name: auth.CookieName, Value: c.cookie})
		r.Header.Set(auth.CSRFHeader, c.csrf)
	}
}

func (c credentials) bearer() func(*http.Request) {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+c.token) }
}

func (c credentials) basic() func(*http.Request) {
	return func(r *http.Request) { r.SetBasicAuth(c.name, c.password) }
}

func do(h http.Handler, method, path, body string, with func(*http.Request)) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.RemoteAddr = "192.0.2.1:1234"
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if with != nil {
		with(req)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// stubLogs answers every logs endpoint with 200.
type stubLogs struct{}

func (stubLogs) Query(w http.ResponseWriter, _ *http.Request)         { w.WriteHeader(200) }
func (stubLogs) Histogram(w http.ResponseWriter, _ *http.Request)     { w.WriteHeader(200) }
func (stubLogs) Fields(w http.ResponseWriter, _ *http.Request)        { w.WriteHeader(200) }
func (stubLogs) Tail(w http.ResponseWriter, _ *http.Request)          { w.WriteHeader(200) }
func (stubLogs) RulesHandler(w http.ResponseWriter, _ *http.Request)  { w.WriteHeader(200) }
func (stubLogs) StatusHandler(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(200) }

var wildcard = regexp.MustCompile(`\{[^}]*\}`)

// example turns a route pattern into a request that it matches.
func example(pattern string) (method, path string) {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok {
		method, path = "GET", pattern
	}
	path = strings.ReplaceAll(path, "{$}", "")
	path = wildcard.ReplaceAllString(path, "x1")
	if strings.HasSuffix(path, "/") && path != "/" {
		path += "sub"
	}
	if strings.HasPrefix(path, "/debug/pprof/") {
		path += "?seconds=1" // the profilers run 30 s by default
	}
	return method, path
}

// TestAccessMatrix walks every route with every role and every kind of
// credentials: allowed calls reach the handler (200), others get 403, and
// calls without credentials 401. Open routes answer without credentials.
func TestAccessMatrix(t *testing.T) {
	env := newTestEnv(t, nil)
	rs := routes(Options{API: named("api"), RemoteWrite: named("write"), Heartbeat: named("hb"), Hosts: named("h"),
		Checks: named("c"), CheckPings: named("p"), CheckResults: named("r"), Runbooks: fstest.MapFS{},
		Alertmanager: named("am"), Incidents: named("i"), Events: named("e"), Logs: stubLogs{}, AgentLogs: named("al"), Gatherer: prometheus.NewRegistry(),
		Reload: func(context.Context) error { return nil }, Logger: slog.New(slog.DiscardHandler), Auth: env.svc, UI: named("ui")})
	require.Greater(t, len(rs), 80)
	mux := env.h.mux.Load()
	for _, rt := range rs {
		method, path := example(rt.Pattern)
		t.Run(rt.Pattern, func(t *testing.T) {
			// The example reaches this route, not another.
			_, pattern := mux.Handler(httptest.NewRequest(method, path, nil))
			require.Equal(t, rt.Pattern, pattern, "example %s %s", method, path)
			switch rt.Access {
			case Public, Ingest, Link:
				rec := do(env.h, method, path, "", nil)
				require.NotContains(t, []int{401, 403}, rec.Code, "open route refused: %s", rec.Body.String())
				return
			}
			rec := do(env.h, method, path, "", nil)
			require.Equal(t, 401, rec.Code, "without credentials: %s", rec.Body.String())
			require.NotEmpty(t, rec.Header().Get("WWW-Authenticate"))
			for _, role := range auth.Roles() {
				allowed := role.Allows(auth.Permission(rt.Access))
				c := env.creds[role]
				kinds := map[string]func(*http.Request){"session": c.session(), "token": c.bearer()}
				if rt.Basic {
					kinds["basic"] = c.basic()
				}
				for kind, with := range kinds {
					rec := do(env.h, method, path, "", with)
					if allowed {
						// Stubs answer 200; the real runbook and profiler
						// handlers may answer 404 for the example path.
						require.NotContains(t, []int{401, 403}, rec.Code, "%s with a %s: %s", role, kind, rec.Body.String())
					} else {
						require.Equal(t, 403, rec.Code, "%s with a %s: %s", role, kind, rec.Body.String())
					}
				}
				if !rt.Basic {
					rec := do(env.h, method, path, "", c.basic())
					require.Equal(t, 401, rec.Code, "basic auth is refused here")
				}
			}
		})
	}
}

func TestSessionNeedsCSRFTokenOnWrites(t *testing.T) {
	env := newTestEnv(t, nil)
	c := env.creds[auth.RoleAdmin]
	noCSRF := func(r *http.Request) { r.AddCookie(&http.Cookie{Name: auth.CookieName, Value: c.cookie}) }
	wrongCSRF := func(r *http.Request) { c.session()(r); r.Header.Set(auth.CSRFHeader, "x"+c.csrf[1:]) }
	require.Equal(t, 200, do(env.h, "GET", "/api/v1/hosts", "", noCSRF).Code, "reads need no CSRF token")
	require.Equal(t, 403, do(env.h, "POST", "/api/v2/silences", "{}", noCSRF).Code)
	rec := do(env.h, "POST", "/api/v2/silences", "{}", wrongCSRF)
	require.Equal(t, 403, rec.Code)
	require.Contains(t, rec.Body.String(), "CSRF")
	require.Equal(t, 200, do(env.h, "POST", "/api/v2/silences", "{}", c.session()).Code)
	require.Equal(t, 200, do(env.h, "POST", "/api/v2/silences", "{}", c.bearer()).Code, "tokens need no CSRF token")
}

func TestAuditedRoutes(t *testing.T) {
	env := newTestEnv(t, errors.New("cfg.yml:3: unknown key x"))
	c := env.creds[auth.RoleDevops]
	body := `{"matchers":[{"name":"instance","value":"db1","isRegex":false}],"comment":"disk swap"}`
	require.Equal(t, 200, do(env.h, "POST", "/api/v2/silences", body, c.session()).Code)
	require.Equal(t, 500, do(env.h, "POST", "/-/reload", "", c.bearer()).Code)
	require.Equal(t, 403, do(env.h, "POST", "/api/v1/incidents/7/resolve", "", env.creds[auth.RoleSupport].bearer()).Code)
	require.Equal(t, 200, do(env.h, "POST", "/api/v1/incidents/7/ack", `{}`, env.creds[auth.RoleSupport].bearer()).Code)

	entries, _, err := env.svc.Audit(t.Context(), auth.AuditFilter{Actor: c.name})
	require.NoError(t, err)
	actions := map[string]auth.AuditEntry{}
	for _, e := range entries {
		actions[e.Action] = e
	}
	require.Contains(t, actions, "login")
	require.Contains(t, actions, "token.create")
	sil := actions["silence.create"]
	require.True(t, sil.Success)
	require.Contains(t, sil.Detail, "disk swap")
	require.Equal(t, "192.0.2.1", sil.RemoteAddr)
	rel := actions["config.reload"]
	require.False(t, rel.Success)
	require.Contains(t, rel.Detail, "cfg.yml:3")

	// An ack through a notification's link: audited without its token.
	form := func(r *http.Request) { r.Header.Set("Content-Type", "application/x-www-form-urlencoded") }
	require.Equal(t, 200, do(env.h, "POST", "/incidents/7/ack", "token=s3cret-link-token&name=alice", form).Code)
	entries, _, err = env.svc.Audit(t.Context(), auth.AuditFilter{Actor: "(signed link)"})
	require.NoError(t, err)
	require.Len(t, entries, 1)
	require.Equal(t, "incident.ack", entries[0].Action)
	require.Contains(t, entries[0].Detail, "name=alice")
	require.NotContains(t, entries[0].Detail, "s3cret")

	entries, _, err = env.svc.Audit(t.Context(), auth.AuditFilter{Actor: env.creds[auth.RoleSupport].name, Action: "incident."})
	require.NoError(t, err)
	require.Len(t, entries, 1, "the refused resolve never reached the handler")
	require.Equal(t, "incident.ack", entries[0].Action)
	require.Equal(t, "/api/v1/incidents/7/ack", entries[0].Target)
}

func TestRouting(t *testing.T) {
	env := newTestEnv(t, nil)
	admin := env.creds[auth.RoleAdmin].bearer()
	for _, tc := range []struct {
		method, path string
		code         int
		body         string
	}{
		{"GET", "/-/healthy", 200, "Healthy"},
		{"HEAD", "/-/healthy", 200, ""},
		{"GET", "/-/ready", 200, "Ready"},
		{"POST", "/-/reload", 200, "reloaded"},
		{"PUT", "/-/reload", 200, "reloaded"},
		{"GET", "/-/reload", 405, "POST"},
		{"POST", "/api/v1/write", 200, "write"},
		{"GET", "/api/v1/query", 200, "api"},
		{"POST", "/api/v1/query", 200, "api"},
		{"GET", "/api/v1/label/job/values", 200, "api"},
		{"GET", "/api/v1/hosts/db%2F1", 200, "hosts"},
		{"GET", "/api/v1/incidents/3", 200, "incidents"},
		{"GET", "/incidents/3", 200, "ui"},
		{"GET", "/incidents/3/ack", 200, "incidents"},
		{"GET", "/api/v2/silences", 200, "alertmanager"},
		{"GET", "/metrics", 200, "test_total 0"},
		{"GET", "/runbooks/", 200, "# runbooks"},
		{"GET", "/runbooks/x", 200, "# x"},
		{"GET", "/runbooks/nope", 404, "no runbook"},
		{"GET", "/", 200, "ui"},
		{"GET", "/hosts/web1", 200, "ui"},
		{"GET", "/assets/app.js", 200, "ui"},
		{"GET", "/debug/pprof/", 200, "goroutine"},
		{"GET", "/nope", 404, ""},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			rec := do(env.h, tc.method, tc.path, "", admin)
			require.Equal(t, tc.code, rec.Code, rec.Body.String())
			require.Contains(t, rec.Body.String(), tc.body)
		})
	}
}

func TestNotReadyAnswers503ButHealthy(t *testing.T) {
	env := newTestEnv(t, nil)
	env.h.SetReady(false)
	require.Equal(t, 200, do(env.h, "GET", "/-/healthy", "", nil).Code)
	for _, p := range []string{"/-/ready", "/api/v1/query", "/api/v1/write", "/metrics"} {
		rec := do(env.h, "GET", p, "", nil)
		require.Equal(t, 503, rec.Code, p)
		require.Equal(t, "1", rec.Header().Get("Retry-After"))
	}
	env.h.SetReady(true)
	require.Equal(t, 200, do(env.h, "GET", "/-/ready", "", nil).Code)
}

func TestRequiredOptions(t *testing.T) {
	require.Error(t, NewHandler().Install(Options{}))
}

func TestHealthyBeforeInstall(t *testing.T) {
	h := NewHandler()
	require.Equal(t, 200, do(h, "GET", "/-/healthy", "", nil).Code)
	require.Equal(t, 503, do(h, "GET", "/-/ready", "", nil).Code)
	h.SetReady(true)
	require.Equal(t, 503, do(h, "GET", "/api/v1/query", "", nil).Code, "nothing to serve before Install")
}

func TestAnswersAreCompressedButTheEventStream(t *testing.T) {
	env := newTestEnv(t, nil)
	big := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(strings.Repeat(`{"instance":"host-0001","status":"up"},`, 200)))
	})
	h := NewHandler()
	require.NoError(t, h.Install(Options{API: big, RemoteWrite: big, Hosts: big, Events: big, Gatherer: prometheus.NewRegistry(),
		Reload: func(context.Context) error { return nil }, Logger: slog.New(slog.DiscardHandler), Auth: env.svc, UI: big}))
	h.SetReady(true)
	gzipped := func(r *http.Request) { env.creds[auth.RoleAdmin].bearer()(r); r.Header.Set("Accept-Encoding", "gzip") }
	for _, tc := range []struct {
		path string
		gzip bool
	}{
		{"/api/v1/hosts", true},
		{"/api/v1/query", true},
		{"/", true},
		{"/api/v1/events", false},
	} {
		rec := do(h, "GET", tc.path, "", gzipped)
		require.Equal(t, 200, rec.Code, tc.path)
		require.Equal(t, tc.gzip, rec.Header().Get("Content-Encoding") == "gzip", tc.path)
	}
}
