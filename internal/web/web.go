// Package web routes the server's HTTP endpoints: the Prometheus API under
// /api/v1, the remote-write receiver, the server's own /metrics, the
// lifecycle endpoints /-/healthy, /-/ready and /-/reload, the access-control
// API and the web interface, each route behind the access it declares
// (routes.go). It knows nothing of what is behind each handler.
package web

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/gzhttp"
	"github.com/prometheus/client_golang/prometheus"
)

// Options configure Install. API, RemoteWrite, Gatherer, Reload, Logger and
// Auth are required; components left nil have no routes.
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
	// Logs serves the log search API below /api/v1/logs/.
	Logs LogsAPI
	// AgentLogs receives agents' log batches (authenticated by the caller).
	AgentLogs http.Handler
	// Gatherer backs /metrics.
	Gatherer prometheus.Gatherer
	// Reload re-reads the configuration; its error is shown to the caller.
	Reload func(context.Context) error
	Logger *slog.Logger
	// Auth guards every route but the open ones.
	Auth Authorizer
	// UI serves the web interface's pages; the embedded build when nil.
	UI http.Handler
}

// LogsAPI is the log search API.
type LogsAPI interface {
	Query(http.ResponseWriter, *http.Request)
	Histogram(http.ResponseWriter, *http.Request)
	Fields(http.ResponseWriter, *http.Request)
	Tail(http.ResponseWriter, *http.Request)
	RulesHandler(http.ResponseWriter, *http.Request)
	StatusHandler(http.ResponseWriter, *http.Request)
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

// Install routes every endpoint to the components in o, each behind the
// access its route declares (see routes).
func (h *Handler) Install(o Options) error {
	if o.API == nil || o.RemoteWrite == nil || o.Gatherer == nil || o.Reload == nil || o.Logger == nil || o.Auth == nil {
		return errors.New("web: API, RemoteWrite, Gatherer, Reload, Logger and Auth are required")
	}
	gz, err := gzhttp.NewWrapper()
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	for _, rt := range routes(o) {
		h := guard(o.Auth, rt)
		if rt.compressed() {
			// Answers such as 500 hosts' inventory shrink tenfold.
			h = gz(h)
		}
		mux.Handle(rt.Pattern, h)
	}
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
