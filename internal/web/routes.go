package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"net/http/pprof"
	"net/url"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/saypro/monitor/internal/auth"
	"github.com/saypro/monitor/internal/web/ui"
)

// Authorizer is the access control the routes are guarded by.
type Authorizer interface {
	// Require wraps h so that only callers whose role grants perm reach
	// it; basic also accepts HTTP basic auth.
	Require(perm auth.Permission, basic bool, h http.Handler) http.Handler
	// Handler serves the login, session, user, token and audit API.
	Handler() http.Handler
	// Record writes an audit entry for r's caller.
	Record(r *http.Request, action, target, detail string, success bool)
}

// Access is who may call a route.
type Access string

// Accesses. Public, Ingest and Link routes are not wrapped by the access
// control: Ingest handlers check the agents' ingest token themselves, and
// Link handlers a credential carried in the URL (heartbeat ping tokens,
// signed incident ack links).
const (
	Public  Access = "public"
	Ingest  Access = "ingest"
	Link    Access = "link"
	View    Access = Access(auth.PermView)
	Respond Access = Access(auth.PermRespond)
	Operate Access = Access(auth.PermOperate)
	Admin   Access = Access(auth.PermAdmin)
)

// Route is one endpoint and the access it needs.
type Route struct {
	// Pattern is a net/http ServeMux pattern, usually with a method.
	Pattern string
	Access  Access
	// Basic also accepts HTTP basic auth (the Prometheus-compatible and
	// Alertmanager APIs, for Grafana and amtool).
	Basic bool
	// Audit, when set, is the audit log action written for each call.
	Audit string
	// Uncompressed answers go out as written: streams that must reach
	// the client as they happen, and profiles that are compressed already.
	Uncompressed bool
	Handler      http.Handler
}

// compressed reports whether the route's answers are gzipped for clients
// that accept it: all but the uncompressed ones and the agents' ingest
// answers, which are empty.
func (rt Route) compressed() bool { return !rt.Uncompressed && rt.Access != Ingest }

// routes is every endpoint the server has. Components that o leaves out
// (nil) have no routes.
func routes(o Options) []Route {
	var rs []Route
	add := func(access Access, h http.Handler, patterns ...string) {
		for _, p := range patterns {
			rs = append(rs, Route{Pattern: p, Access: access, Handler: h})
		}
	}
	addBasic := func(access Access, h http.Handler, patterns ...string) {
		for _, p := range patterns {
			rs = append(rs, Route{Pattern: p, Access: access, Basic: true, Handler: h})
		}
	}
	audited := func(access Access, basic bool, action string, h http.Handler, pattern string) {
		rs = append(rs, Route{Pattern: pattern, Access: access, Basic: basic, Audit: action, Handler: h})
	}
	uncompressed := func(access Access, h http.Handler, patterns ...string) {
		for _, p := range patterns {
			rs = append(rs, Route{Pattern: p, Access: access, Uncompressed: true, Handler: h})
		}
	}

	// Lifecycle. /-/healthy is answered by Handler itself, before routing.
	ready := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			fmt.Fprintln(w, "SayPro Monitor is Ready.")
		}
	})
	add(Public, ready, "GET /-/ready")
	reload := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := o.Reload(r.Context()); err != nil {
			http.Error(w, fmt.Sprintf("reload failed, the previous configuration stays in force:\n%v", err), http.StatusInternalServerError)
			return
		}
		fmt.Fprintln(w, "configuration reloaded")
	})
	audited(Operate, false, "config.reload", reload, "POST /-/reload")
	audited(Operate, false, "config.reload", reload, "PUT /-/reload")
	add(Public, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Allow", "POST, PUT")
		http.Error(w, "reload needs POST", http.StatusMethodNotAllowed)
	}), "/-/reload")

	// The server's own metrics, as Prometheus scrapes them.
	addBasic(View, promhttp.InstrumentMetricHandler(
		prometheus.NewRegistry(), // the handler's own counters stay out of the gathered set
		promhttp.HandlerFor(o.Gatherer, promhttp.HandlerOpts{ErrorLog: slogErrorLogger{o.Logger}, EnableOpenMetrics: true}),
	), "GET /metrics")

	// Access control itself.
	a := o.Auth.Handler()
	add(Public, a, "POST /api/v1/auth/login")
	add(View, a, "POST /api/v1/auth/logout", "GET /api/v1/auth/session", "POST /api/v1/auth/password",
		"GET /api/v1/tokens", "POST /api/v1/tokens", "DELETE /api/v1/tokens/{id}")
	add(Admin, a, "GET /api/v1/users", "POST /api/v1/users", "PATCH /api/v1/users/{name}", "DELETE /api/v1/users/{name}",
		"GET /api/v1/audit")

	// The Prometheus HTTP API. Queries may be sent with POST.
	for _, p := range []string{"query", "query_range", "query_exemplars", "format_query", "parse_query", "labels", "series", "read"} {
		addBasic(View, o.API, "GET /api/v1/"+p, "POST /api/v1/"+p)
	}
	addBasic(View, o.API, "GET /api/v1/label/{name}/values", "GET /api/v1/metadata", "GET /api/v1/targets",
		"GET /api/v1/targets/metadata", "GET /api/v1/scrape_pools", "GET /api/v1/alertmanagers", "GET /api/v1/rules",
		"GET /api/v1/alerts", "GET /api/v1/status/{page...}", "GET /api/v1/notifications", "GET /api/v1/notifications/live")
	addBasic(Admin, o.API, "DELETE /api/v1/series", "/api/v1/admin/")
	// Anything else below /api/v1/ is the Prometheus API's to answer
	// (with 404 for what does not exist), for viewers.
	addBasic(View, o.API, "/api/v1/")

	// Ingest, with the agents' token.
	add(Ingest, o.RemoteWrite, "POST /api/v1/write")
	if o.Heartbeat != nil {
		add(Ingest, o.Heartbeat, "POST /api/v1/agent/heartbeat")
	}
	if o.CheckResults != nil {
		add(Ingest, o.CheckResults, "POST /api/v1/agent/checks")
	}
	if o.CheckPings != nil {
		add(Link, o.CheckPings, "/api/v1/heartbeat/")
	}
	if o.AgentLogs != nil {
		add(Ingest, o.AgentLogs, "POST /api/v1/agent/logs")
	}
	if l := o.Logs; l != nil {
		add(View, http.HandlerFunc(l.Query), "GET /api/v1/logs/query")
		add(View, http.HandlerFunc(l.Histogram), "GET /api/v1/logs/histogram")
		add(View, http.HandlerFunc(l.Fields), "GET /api/v1/logs/fields")
		add(View, http.HandlerFunc(l.RulesHandler), "GET /api/v1/logs/rules")
		add(View, http.HandlerFunc(l.StatusHandler), "GET /api/v1/logs/status")
		uncompressed(View, http.HandlerFunc(l.Tail), "GET /api/v1/logs/tail")
	}

	if o.Hosts != nil {
		add(View, o.Hosts, "GET /api/v1/hosts", "GET /api/v1/hosts/{instance...}")
	}
	if o.Checks != nil {
		add(View, o.Checks, "GET /api/v1/checks", "GET /api/v1/checks/{name...}")
	}
	if o.Events != nil {
		uncompressed(View, o.Events, "GET /api/v1/events")
	}
	if o.Incidents != nil {
		add(View, o.Incidents, "GET /api/v1/incidents", "GET /api/v1/incidents/stats", "GET /api/v1/incidents/{id}")
		audited(Respond, false, "incident.ack", o.Incidents, "POST /api/v1/incidents/{id}/ack")
		audited(Respond, false, "incident.note", o.Incidents, "POST /api/v1/incidents/{id}/notes")
		audited(Operate, false, "incident.update", o.Incidents, "PATCH /api/v1/incidents/{id}")
		audited(Operate, false, "incident.resolve", o.Incidents, "POST /api/v1/incidents/{id}/resolve")
		audited(Operate, false, "incident.reopen", o.Incidents, "POST /api/v1/incidents/{id}/reopen")
		add(Link, o.Incidents, "GET /incidents/{id}/ack")
		audited(Link, false, "incident.ack", o.Incidents, "POST /incidents/{id}/ack")
	}
	if o.Alertmanager != nil {
		addBasic(View, o.Alertmanager, "GET /api/v2/status", "GET /api/v2/receivers", "GET /api/v2/alerts",
			"GET /api/v2/alerts/groups", "GET /api/v2/silences", "GET /api/v2/silence/{id}")
		addBasic(Operate, o.Alertmanager, "POST /api/v2/alerts")
		audited(Operate, true, "silence.create", o.Alertmanager, "POST /api/v2/silences")
		audited(Operate, true, "silence.expire", o.Alertmanager, "DELETE /api/v2/silence/{id}")
		addBasic(View, o.Alertmanager, "/api/v2/")
	}
	if o.Runbooks != nil {
		add(View, runbooks(o.Runbooks), "GET /runbooks/{name...}")
	}

	// Go's profiler, as Prometheus exposes it, for diagnosing CPU and
	// memory use in production.
	uncompressed(Admin, http.HandlerFunc(pprof.Index), "/debug/pprof/")
	uncompressed(Admin, http.HandlerFunc(pprof.Cmdline), "/debug/pprof/cmdline")
	uncompressed(Admin, http.HandlerFunc(pprof.Profile), "/debug/pprof/profile")
	uncompressed(Admin, http.HandlerFunc(pprof.Symbol), "/debug/pprof/symbol")
	uncompressed(Admin, http.HandlerFunc(pprof.Trace), "/debug/pprof/trace")

	// The web interface: the page shell and its assets hold no data and
	// are open; the pages read everything through the API above.
	page := o.UI
	if page == nil {
		page = ui.Handler()
	}
	add(Public, page, UIPaths...)
	return rs
}

// runbooks serves <name>.md from fsys at /runbooks/<name>, README.md at
// /runbooks/.
func runbooks(fsys fs.FS) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimSuffix(r.PathValue("name"), ".md")
		if name == "" {
			name = "README"
		}
		if strings.ContainsAny(name, "/\\") {
			http.NotFound(w, r)
			return
		}
		b, err := fs.ReadFile(fsys, name+".md")
		if err != nil {
			http.Error(w, fmt.Sprintf("no runbook named %q; /runbooks/ lists them", name), http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "text/markdown; charset=utf-8")
		_, _ = w.Write(b)
	})
}

// UIPaths are the web interface's pages and assets.
var UIPaths = []string{
	"GET /{$}", "GET /login", "GET /account", "GET /hosts/{instance...}", "GET /checks", "GET /checks/{name...}",
	"GET /alerts", "GET /incidents", "GET /incidents/{id}", "GET /explore", "GET /logs", "GET /home/{role}",
	"GET /admin/{page}", "GET /assets/{file...}", "GET /favicon.ico",
}

// guard wraps a route's handler in its access check and audit.
func guard(a Authorizer, rt Route) http.Handler {
	h := rt.Handler
	if rt.Audit != "" {
		h = audit(a, rt.Audit, h)
	}
	switch rt.Access {
	case Public, Ingest, Link:
		return h
	}
	return a.Require(auth.Permission(rt.Access), rt.Basic, h)
}

// maxAuditBody is how much of a request body goes into the audit detail.
const maxAuditBody = 2048

// audit records each call of h: who, the target (the path, or the id the
// answer names), the request body (silence matchers, note text) and
// whether it succeeded.
func audit(a Authorizer, action string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body bytes.Buffer
		if r.Body != nil {
			r.Body = struct {
				io.Reader
				io.Closer
			}{io.TeeReader(r.Body, &limitWriter{w: &body, n: maxAuditBody}), r.Body}
		}
		rec := &auditRecorder{ResponseWriter: w, code: http.StatusOK}
		h.ServeHTTP(rec, r)
		if r.Body != nil {
			// What the handler did not read still belongs in the record.
			_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, maxAuditBody))
		}
		target := r.URL.Path
		if id := rec.silenceID(); id != "" {
			target = "silence " + id
		}
		detail := strings.Join(strings.Fields(redactForm(r, body.String())), " ")
		if rec.code >= 300 {
			detail = strings.TrimSpace(fmt.Sprintf("HTTP %d: %s %s", rec.code, strings.TrimSpace(rec.head.String()), detail))
		}
		a.Record(r, action, target, detail, rec.code < 300)
	})
}

// redactForm drops the credentials a form carries (an ack link's token,
// a CSRF token) from its audited copy.
func redactForm(r *http.Request, body string) string {
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/x-www-form-urlencoded" {
		return body
	}
	v, err := url.ParseQuery(body)
	if err != nil {
		return "(a form that does not parse)"
	}
	for _, k := range []string{"token", "csrf_token", "password"} {
		if v.Has(k) {
			v.Set(k, "(redacted)")
		}
	}
	return v.Encode()
}

// auditRecorder keeps the status code and the start of the answer.
type auditRecorder struct {
	http.ResponseWriter
	code int
	head bytes.Buffer
}

func (r *auditRecorder) WriteHeader(code int) {
	r.code = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *auditRecorder) Write(b []byte) (int, error) {
	if n := 512 - r.head.Len(); n > 0 {
		r.head.Write(b[:min(n, len(b))])
	}
	return r.ResponseWriter.Write(b)
}

func (r *auditRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// silenceID is the id in Alertmanager's answer to a new silence.
func (r *auditRecorder) silenceID() string {
	var v struct {
		SilenceID string `json:"silenceID"`
	}
	if json.Unmarshal(r.head.Bytes(), &v) != nil {
		return ""
	}
	return v.SilenceID
}

// limitWriter keeps the first n bytes written to it and drops the rest.
type limitWriter struct {
	w *bytes.Buffer
	n int
}

func (l *limitWriter) Write(b []byte) (int, error) {
	if room := l.n - l.w.Len(); room > 0 {
		l.w.Write(b[:min(room, len(b))])
	}
	return len(b), nil
}
