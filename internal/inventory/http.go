package inventory

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/saypro/monitor/internal/agentapi"
	"github.com/saypro/monitor/internal/jsonapi"
)

// MaxHeartbeatSize is the largest heartbeat body accepted (413 beyond).
const MaxHeartbeatSize = 64 << 10

// hostsPath is where APIHandler is mounted.
const hostsPath = "/api/v1/hosts"

// HeartbeatHandler receives agent heartbeats: POST of a JSON
// agentapi.Heartbeat, answered 200 with an agentapi.HeartbeatResponse.
// Errors are plain text for the agent's log: 400 for bad JSON or invalid
// fields, 405 for other methods, 413 for bodies over MaxHeartbeatSize, 500
// when the store fails (the agent retries at its next heartbeat). The
// caller authenticates the request.
func (inv *Inventory) HeartbeatHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "heartbeats are sent with POST", http.StatusMethodNotAllowed)
			return
		}
		var hb agentapi.Heartbeat
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxHeartbeatSize))
		if err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				inv.heartbeats.WithLabelValues(resultInvalid).Inc()
				http.Error(w, fmt.Sprintf("heartbeat larger than %d bytes", MaxHeartbeatSize), http.StatusRequestEntityTooLarge)
				return
			}
			http.Error(w, "reading the heartbeat: "+err.Error(), http.StatusBadRequest)
			return
		}
		if err := json.Unmarshal(body, &hb); err != nil {
			inv.heartbeats.WithLabelValues(resultInvalid).Inc()
			http.Error(w, "heartbeat is not valid JSON: "+err.Error(), http.StatusBadRequest)
			return
		}
		if err := inv.Heartbeat(r.Context(), hb, r.RemoteAddr); err != nil {
			if errors.Is(err, ErrInvalidHeartbeat) {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			inv.logger.Error("storing a heartbeat failed", "instance", hb.Instance, "remote_addr", r.RemoteAddr, "err", err)
			http.Error(w, "the server could not store the heartbeat; it is retried with the next one", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		resp := agentapi.HeartbeatResponse{ServerTime: inv.now().UTC()}
		if inv.checks != nil {
			resp.Checks = inv.checks(hb)
		}
		_ = json.NewEncoder(w).Encode(resp)
	})
}

// APIHandler serves the inventory in the JSON envelope of the Prometheus
// HTTP API ({"status":"success","data":...} or {"status":"error",
// "errorType":...,"error":...}):
//
//	GET /api/v1/hosts                 the hosts, filtered by ?status=up|down and ?label=name=value (repeatable)
//	GET /api/v1/hosts/{instance}      {"host":...,"events":[...]}, events newest first, ?limit= (default 100)
//
// The instance is the rest of the path, percent-encoded where needed.
func (inv *Inventory) APIHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			jsonapi.Error(w, http.StatusMethodNotAllowed, "bad_data", "the host inventory is read with GET")
			return
		}
		rest, ok := strings.CutPrefix(r.URL.Path, hostsPath)
		switch {
		case !ok:
			jsonapi.Error(w, http.StatusNotFound, "not_found", "no such endpoint: "+r.URL.Path)
		case rest == "":
			inv.serveHosts(w, r)
		case rest == "/":
			jsonapi.Error(w, http.StatusNotFound, "not_found", "no instance in the path: use "+hostsPath+" for the list or "+hostsPath+"/{instance}")
		default:
			inv.serveHost(w, r, rest[1:])
		}
	})
}

func (inv *Inventory) serveHosts(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var f Filter
	switch s := Status(q.Get("status")); s {
	case "", StatusUp, StatusDown:
		f.Status = s
	default:
		jsonapi.Error(w, http.StatusBadRequest, "bad_data", fmt.Sprintf("invalid status %q: use up or down", s))
		return
	}
	for _, l := range q["label"] {
		name, value, ok := strings.Cut(l, "=")
		if !ok || name == "" {
			jsonapi.Error(w, http.StatusBadRequest, "bad_data", fmt.Sprintf("invalid label filter %q: use label=name=value", l))
			return
		}
		if f.Labels == nil {
			f.Labels = map[string]string{}
		}
		if old, dup := f.Labels[name]; dup && old != value {
			jsonapi.Error(w, http.StatusBadRequest, "bad_data", fmt.Sprintf("label %q is given twice with different values; no host can match", name))
			return
		}
		f.Labels[name] = value
	}
	hosts, err := inv.Hosts(r.Context(), f)
	if err != nil {
		inv.internalError(w, r, err)
		return
	}
	jsonapi.Success(w, hosts)
}

func (inv *Inventory) serveHost(w http.ResponseWriter, r *http.Request, instance string) {
	limit := DefaultEventLimit
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxEventLimit {
			jsonapi.Error(w, http.StatusBadRequest, "bad_data", fmt.Sprintf("invalid limit %q: use a whole number from 1 to %d", s, MaxEventLimit))
			return
		}
		limit = n
	}
	host, events, err := inv.Host(r.Context(), instance, limit)
	if errors.Is(err, ErrNotFound) {
		jsonapi.Error(w, http.StatusNotFound, "not_found", fmt.Sprintf("no host with instance %q has sent a heartbeat", instance))
		return
	}
	if err != nil {
		inv.internalError(w, r, err)
		return
	}
	jsonapi.Success(w, struct {
		Host   Host    `json:"host"`
		Events []Event `json:"events"`
	}{host, events})
}

func (inv *Inventory) internalError(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() != nil {
		jsonapi.Error(w, http.StatusServiceUnavailable, "canceled", "request canceled")
		return
	}
	inv.logger.Error("reading the host inventory failed", "path", r.URL.Path, "err", err)
	jsonapi.Error(w, http.StatusInternalServerError, "internal", "reading the host inventory failed: "+err.Error())
}
