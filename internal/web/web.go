// Package web routes the server's HTTP endpoints: the Prometheus API under
// /api/v1, the remote-write receiver, the server's own /metrics, the
// lifecycle endpoints /-/healthy, /-/ready and /-/reload, and the landing
// page. It knows nothing of what is behind each handler.
package web

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Options configure NewHandler. Every field but Version is required.
type Options struct {
	// API serves every path below /api/v1/ but the write path.
	API http.Handler
	// RemoteWrite serves /api/v1/write.
	RemoteWrite http.Handler
	// Heartbeat serves the agents' heartbeats (authenticated by the caller).
	Heartbeat http.Handler
	// Hosts serves the host inventory API below /api/v1/hosts.
	Hosts http.Handler
	// Checks serves the checks API below /api/v1/checks.
	Checks http.Handler
	// CheckPings receives heartbeat pings below /api/v1/heartbeat/ (the
	// token in the path is the credential).
	CheckPings http.Handler
	// CheckResults receives agents' check results (authenticated by the caller).
	CheckResults http.Handler
	// Runbooks are served at /runbooks/<name> from <name>.md, and
	// README.md at /runbooks/.
	Runbooks fs.FS
	// Alertmanager serves Alertmanager's API v2 below /api/v2/.
	Alertmanager http.Handler
	// Incidents serves /api/v1/incidents and the ack links below
	// /incidents/.
	Incidents http.Handler
	// Events serves the live event stream at /api/v1/events.
	Events http.Handler
	// Gatherer backs /metrics.
	Gatherer prometheus.Gatherer
	// Reload re-reads the configuration; its error is shown to the caller.
	Reload func(context.Context) error
	Logger *slog.Logger
	// Version is shown on the landing page.
	Version string
}

// Handler is the server's root handler. It can serve before the server's
// components exist: until Install and SetReady(true) it answers 503 on
// everything but /-/healthy, so that load balancers and tests can tell a
// starting (or stopping) server from a working one.
type Handler struct {
	mux   atomic.Pointer[http.ServeMux]
	ready atomic.Bool
}

// NewHandler returns a root handler that is not ready.
func NewHandler() *Handler {
	return &Handler{}
}

// Install routes every endpoint to the components in o.
func (h *Handler) Install(o Options) error {
	if o.API == nil || o.RemoteWrite == nil || o.Gatherer == nil || o.Reload == nil || o.Logger == nil {
		return errors.New("web: API, RemoteWrite, Gatherer, Reload and Logger are required")
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /-/ready", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "SayPro Monitor is Ready.")
	})
	mux.HandleFunc("HEAD /-/ready", func(http.ResponseWriter, *http.Request) {})
	mux.HandleFunc("/-/reload", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost && r.Method != http.MethodPut {
			w.Header().Set("Allow", "POST, PUT")
			http.Error(w, "reload needs POST", http.StatusMethodNotAllowed)
			return
		}
		if err := o.Reload(r.Context()); err != nil {
			http.Error(w, fmt.Sprintf("reload failed, the previous configuration stays in force:\n%v", err), http.StatusInternalServerError)
			return
		}
		fmt.Fprintln(w, "configuration reloaded")
	})
	mux.Handle("/metrics", promhttp.InstrumentMetricHandler(
		prometheus.NewRegistry(), // the handler's own counters stay out of the gathered set
		promhttp.HandlerFor(o.Gatherer, promhttp.HandlerOpts{ErrorLog: slogErrorLogger{o.Logger}, EnableOpenMetrics: true}),
	))
	mux.Handle("/api/v1/write", o.RemoteWrite)
	mux.Handle("/api/v1/", o.API)
	if o.Heartbeat != nil {
		mux.Handle("/api/v1/agent/heartbeat", o.Heartbeat)
	}
	if o.Hosts != nil {
		mux.Handle("/api/v1/hosts", o.Hosts)
		mux.Handle("/api/v1/hosts/", o.Hosts)
	}
	if o.Checks != nil {
		mux.Handle("/api/v1/checks", o.Checks)
		mux.Handle("/api/v1/checks/", o.Checks)
	}
	if o.Runbooks != nil {
		mux.HandleFunc("GET /runbooks/{name...}", func(w http.ResponseWriter, r *http.Request) {
			name := strings.TrimSuffix(r.PathValue("name"), ".md")
			if name == "" {
				name = "README"
			}
			if strings.ContainsAny(name, "/\\") {
				http.NotFound(w, r)
				return
			}
			b, err := fs.ReadFile(o.Runbooks, name+".md")
			if err != nil {
				http.Error(w, fmt.Sprintf("no runbook named %q; /runbooks/ lists them", name), http.StatusNotFound)
				return
			}
			w.Header().Set("Content-Type", "text/markdown; charset=utf-8")
			_, _ = w.Write(b)
		})
	}
	if o.Alertmanager != nil {
		mux.Handle("/api/v2/", o.Alertmanager)
	}
	if o.Incidents != nil {
		mux.Handle("/api/v1/incidents", o.Incidents)
		mux.Handle("/api/v1/incidents/", o.Incidents)
		mux.Handle("/incidents/", o.Incidents)
	}
	if o.Events != nil {
		mux.Handle("/api/v1/events", o.Events)
	}
	if o.CheckPings != nil {
		mux.Handle("/api/v1/heartbeat/", o.CheckPings)
	}
	if o.CheckResults != nil {
		mux.Handle("/api/v1/agent/checks", o.CheckResults)
	}
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if err := landing.Execute(w, o.Version); err != nil {
			o.Logger.Debug("writing landing page", "err", err)
		}
	})
	// Go's profiler, as Prometheus exposes it, for diagnosing CPU and
	// memory use in production.
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	h.mux.Store(mux)
	return nil
}

// SetReady marks the server as ready (or not) to serve everything.
func (h *Handler) SetReady(v bool) { h.ready.Store(v) }

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/-/healthy" {
		// Healthy means the process serves HTTP, whatever its state.
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "use GET", http.StatusMethodNotAllowed)
			return
		}
		if r.Method == http.MethodGet {
			fmt.Fprintln(w, "SayPro Monitor is Healthy.")
		}
		return
	}
	mux := h.mux.Load()
	if !h.ready.Load() || mux == nil {
		w.Header().Set("Retry-After", "1")
		http.Error(w, "Service Unavailable: SayPro Monitor is starting or stopping", http.StatusServiceUnavailable)
		return
	}
	mux.ServeHTTP(w, r)
}

// NewServer returns an http.Server with the timeouts a public listener needs.
// Write timeouts are left to the handlers: range queries may run for the
// query timeout.
func NewServer(addr string, h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       5 * time.Minute,
		IdleTimeout:       5 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

type slogErrorLogger struct{ l *slog.Logger }

func (s slogErrorLogger) Println(v ...any) { s.l.Error(fmt.Sprint(v...)) }

var landing = template.Must(template.New("landing").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>SayPro Monitor</title>
<style>body{font-family:system-ui,sans-serif;max-width:46rem;margin:3rem auto;padding:0 1rem;color:#1d2733}code{background:#eef1f4;padding:0 .25rem}</style>
</head><body>
<h1>SayPro Monitor</h1>
<p>Version {{.}}. The server is running.</p>
<ul>
<li><a href="/api/v1/query?query=up">/api/v1/query?query=up</a> — Prometheus-compatible query API (point Grafana's Prometheus data source at this server's URL)</li>
<li><a href="/api/v1/targets">/api/v1/targets</a> — scrape targets and their health</li>
<li><a href="/api/v1/status/tsdb">/api/v1/status/tsdb</a> — metrics store statistics</li>
<li><code>POST /api/v1/write</code> — Prometheus remote-write receiver (bearer token)</li>
<li><a href="/metrics">/metrics</a> — the server's own metrics</li>
<li><a href="/-/healthy">/-/healthy</a>, <a href="/-/ready">/-/ready</a>, <code>POST /-/reload</code></li>
</ul>
</body></html>
`))
