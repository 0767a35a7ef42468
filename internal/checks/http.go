package checks

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/saypro/monitor/internal/agentapi"
	"github.com/saypro/monitor/internal/config/checkconfig"
	"github.com/saypro/monitor/internal/jsonapi"
	"github.com/saypro/monitor/internal/probe"
)

// Paths where the handlers are mounted.
const (
	ChecksPath    = "/api/v1/checks"
	HeartbeatPath = "/api/v1/heartbeat/"
	// maxPingBody bounds the message a job sends with a ping.
	maxPingBody = 10 << 10
	// maxResultsBody bounds an agent's batch of results.
	maxResultsBody = 4 << 20
	// changesLimit is how many state changes a check's page shows by default.
	changesLimit = 100
)

// CheckView is a check as the API shows it: its settings without secrets.
type CheckView struct {
	Name          string            `json:"name"`
	Kind          string            `json:"kind"`
	Target        string            `json:"target,omitempty"`
	Description   string            `json:"description,omitempty"`
	Interval      float64           `json:"interval_seconds"`
	Timeout       float64           `json:"timeout_seconds"`
	Labels        map[string]string `json:"labels,omitempty"`
	LatencyWarn   float64           `json:"latency_threshold_seconds"`
	CertExpiryDay float64           `json:"cert_expiry_threshold_days,omitempty"`
	RunOn         string            `json:"run_on"`
	// State is the worst state over the locations.
	State     string                       `json:"state"`
	Locations []LocationView               `json:"locations"`
	Uptime    map[string]Uptime            `json:"uptime"`
	ByPlace   map[string]map[string]Uptime `json:"uptime_by_location,omitempty"`
}

// LocationView is a check's state at one location.
type LocationView struct {
	Location string    `json:"location"`
	State    string    `json:"state"`
	Reason   string    `json:"reason,omitempty"`
	Since    time.Time `json:"since"`
	LastRun  time.Time `json:"last_run,omitzero"`
	Duration float64   `json:"last_duration_seconds"`
}

// CheckDetail is GET /api/v1/checks/{name}.
type CheckDetail struct {
	CheckView
	LastPing *PingView `json:"last_ping,omitempty"`
	Results  []Result  `json:"results"`
	Changes  []Change  `json:"changes"`
}

// PingView is the last ping of a heartbeat check.
type PingView struct {
	Time    time.Time `json:"time"`
	Failed  bool      `json:"failed"`
	Runtime float64   `json:"runtime_seconds,omitempty"`
	Message string    `json:"message,omitempty"`
}

var stateRank = map[string]int{"down": 3, "degraded": 2, "up": 1, StateUnknown: 0, "pending": -1}

// view shows check c with its states at its locations (from byCheck).
func (m *Manager) view(c *checkconfig.Check, locs map[string]*status) CheckView {
	v := CheckView{
		Name: c.Name, Kind: c.Kind, Target: probe.RedactTarget(c.Target), Description: c.Description,
		Interval: time.Duration(c.Interval).Seconds(), Timeout: c.EffectiveTimeout().Seconds(),
		Labels: c.Labels, LatencyWarn: c.Latency().Seconds(), RunOn: LocationServer, State: "pending",
	}
	switch c.Kind {
	case checkconfig.KindHTTP, checkconfig.KindTLS, checkconfig.KindTCP:
		v.CertExpiryDay = c.CertExpiry().Hours() / 24
	}
	if !c.RunOn.OnServer() {
		var sel []string
		for _, k := range slices.Sorted(maps.Keys(c.RunOn.Agents)) {
			sel = append(sel, k+"="+c.RunOn.Agents[k])
		}
		v.RunOn = "agents{" + strings.Join(sel, ",") + "}"
	}
	for loc, st := range locs {
		v.Locations = append(v.Locations, LocationView{
			Location: loc, State: st.State, Reason: st.Reason, Since: st.Since,
			LastRun: st.LastRun, Duration: st.Duration.Seconds(),
		})
		if stateRank[st.State] > stateRank[v.State] {
			v.State = st.State
		}
	}
	slices.SortFunc(v.Locations, func(a, b LocationView) int { return strings.Compare(a.Location, b.Location) })
	if v.Locations == nil {
		v.Locations = []LocationView{}
	}
	return v
}

// statusByCheck groups the states by check and location, of one check or
// of all when check is empty. The caller holds m.mu.
func (m *Manager) statusByCheck(check string) map[string]map[string]*status {
	out := map[string]map[string]*status{}
	for k, st := range m.status {
		if check != "" && k.check != check {
			continue
		}
		if out[k.check] == nil {
			out[k.check] = map[string]*status{}
		}
		out[k.check][k.location] = st
	}
	return out
}

// uptimes computes the uptime of every check and location over windows
// from the history: one query for the state at the earliest start, one
// for the changes since.
func (m *Manager) uptimes(r *http.Request, check string, windows []Window) (map[string]map[string]map[string]Uptime, error) {
	from := windows[0].From
	to := windows[0].To
	for _, w := range windows {
		if w.From.Before(from) {
			from = w.From
		}
		if w.To.After(to) {
			to = w.To
		}
	}
	before, err := m.store.stateAt(r.Context(), from, check)
	if err != nil {
		return nil, err
	}
	changes, err := m.store.changesBetween(r.Context(), from, to, check)
	if err != nil {
		return nil, err
	}
	type hist struct {
		before  *Change
		changes []Change
	}
	hs := map[key]*hist{}
	get := func(k key) *hist {
		h := hs[k]
		if h == nil {
			h = &hist{}
			hs[k] = h
		}
		return h
	}
	for i := range before {
		get(key{before[i].Check, before[i].Location}).before = &before[i]
	}
	for _, c := range changes {
		h := get(key{c.Check, c.Location})
		h.changes = append(h.changes, c)
	}
	now := m.now()
	out := map[string]map[string]map[string]Uptime{} // check, location, window
	for k, h := range hs {
		us := map[string]Uptime{}
		for _, w := range windows {
			// The state at the window's start: the last change before it.
			b := h.before
			var in []Change
			for i := range h.changes {
				c := &h.changes[i]
				if c.Time.Before(w.From) {
					b = c
					continue
				}
				in = append(in, *c)
			}
			us[w.Name] = computeUptime(b, in, w.From, w.To, now)
		}
		if out[k.check] == nil {
			out[k.check] = map[string]map[string]Uptime{}
		}
		out[k.check][k.location] = us
	}
	return out, nil
}

// fillUptime sets v's uptime from its locations' (by location, then
// window): per location, and for the check the lowest of its locations.
func fillUptime(v *CheckView, by map[string]map[string]Uptime, windows []Window) {
	v.Uptime = map[string]Uptime{}
	for _, us := range by {
		for name, u := range us {
			cur, ok := v.Uptime[name]
			if !ok || (u.Percent != nil && (cur.Percent == nil || *u.Percent < *cur.Percent)) {
				v.Uptime[name] = u
			}
		}
	}
	for _, w := range windows {
		if _, ok := v.Uptime[w.Name]; !ok {
			v.Uptime[w.Name] = Uptime{From: w.From, To: w.To}
		}
	}
	if len(by) > 1 {
		v.ByPlace = by
	}
}

// APIHandler serves, in the Prometheus API's JSON envelope:
//
//	GET /api/v1/checks          every check with its state per location and uptime over 24h, 7d and 30d; ?state=down filters
//	GET /api/v1/checks/{name}   one check, its recent results and state changes, and its uptime over 24h, 7d,
//	                            30d, the current calendar month, and the window asked for by ?month=2026-10,
//	                            ?window=12h or ?from=&to= (RFC 3339 or Unix seconds)
func (m *Manager) APIHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			jsonapi.Error(w, http.StatusMethodNotAllowed, "bad_data", "checks are read with GET; they are defined in the configuration")
			return
		}
		rest, _ := strings.CutPrefix(r.URL.Path, ChecksPath)
		rest = strings.TrimPrefix(rest, "/")
		if rest == "" {
			m.serveList(w, r)
			return
		}
		m.serveCheck(w, r, rest)
	})
}

func (m *Manager) serveList(w http.ResponseWriter, r *http.Request) {
	want := r.URL.Query().Get("state")
	if _, known := stateRank[want]; want != "" && !known {
		jsonapi.Error(w, http.StatusBadRequest, "bad_data", fmt.Sprintf("unknown state %q: use up, degraded, down, unknown or pending", want))
		return
	}
	// The standard windows and this calendar month, so that an overview
	// of the month's uptime needs no call per check.
	now := m.now()
	y, mo, _ := now.Date()
	windows := append(standardWindows(now), monthWindow(y, mo, now.Location()))
	all, err := m.uptimes(r, "", windows)
	if err != nil {
		jsonapi.Error(w, http.StatusInternalServerError, "internal", "reading check history: "+err.Error())
		return
	}
	m.mu.RLock()
	byCheck := m.statusByCheck("")
	out := make([]CheckView, 0, len(m.checks))
	for i := range m.checks {
		v := m.view(&m.checks[i], byCheck[m.checks[i].Name])
		if want != "" && v.State != want {
			continue
		}
		out = append(out, v)
	}
	m.mu.RUnlock()
	for i := range out {
		fillUptime(&out[i], all[out[i].Name], windows)
	}
	jsonapi.Success(w, out)
}

func (m *Manager) serveCheck(w http.ResponseWriter, r *http.Request, name string) {
	now := m.now()
	windows := standardWindows(now)
	y, mo, _ := now.Date()
	windows = append(windows, monthWindow(y, mo, now.Location()))
	custom, err := parseWindow(r, now)
	if err != nil {
		jsonapi.Error(w, http.StatusBadRequest, "bad_data", err.Error())
		return
	}
	if custom != nil {
		windows = append(windows, *custom)
	}
	m.mu.RLock()
	i, ok := m.byName[name]
	if !ok {
		m.mu.RUnlock()
		jsonapi.Error(w, http.StatusNotFound, "not_found", fmt.Sprintf("no check named %q; GET %s lists them", name, ChecksPath))
		return
	}
	c := m.checks[i]
	locs := m.statusByCheck(name)[name]
	d := CheckDetail{CheckView: m.view(&c, locs), Results: []Result{}}
	for _, st := range locs {
		d.Results = append(d.Results, st.recent...)
	}
	if p, ok := m.pings[name]; ok && c.Kind == checkconfig.KindHeartbeat {
		d.LastPing = &PingView{Time: p.Time, Failed: p.Failed, Runtime: p.Runtime.Seconds(), Message: p.Message}
	}
	m.mu.RUnlock()
	slices.SortFunc(d.Results, func(a, b Result) int { return b.Time.Compare(a.Time) })
	all, err := m.uptimes(r, name, windows)
	if err != nil {
		jsonapi.Error(w, http.StatusInternalServerError, "internal", "reading check history: "+err.Error())
		return
	}
	fillUptime(&d.CheckView, all[name], windows)
	if custom != nil {
		d.Changes, err = m.store.changesBetween(r.Context(), custom.From, custom.To, name)
		slices.Reverse(d.Changes)
	} else {
		d.Changes, err = m.store.recentChanges(r.Context(), name, changesLimit)
	}
	if err != nil {
		jsonapi.Error(w, http.StatusInternalServerError, "internal", "reading check history: "+err.Error())
		return
	}
	if d.Changes == nil {
		d.Changes = []Change{}
	}
	jsonapi.Success(w, d)
}

// parseWindow reads ?month=, ?window= or ?from=&to=.
func parseWindow(r *http.Request, now time.Time) (*Window, error) {
	q := r.URL.Query()
	switch {
	case q.Get("month") != "":
		t, err := time.ParseInLocation("2006-01", q.Get("month"), now.Location())
		if err != nil {
			return nil, fmt.Errorf("month %q: use YYYY-MM, such as 2026-10", q.Get("month"))
		}
		w := monthWindow(t.Year(), t.Month(), now.Location())
		return &w, nil
	case q.Get("window") != "":
		d, err := model.ParseDuration(q.Get("window"))
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("window %q: use a duration such as 12h, 7d or 90d", q.Get("window"))
		}
		return &Window{Name: q.Get("window"), From: now.Add(-time.Duration(d)), To: now}, nil
	case q.Get("from") != "" || q.Get("to") != "":
		from, err := jsonapi.ParseTime(q.Get("from"), time.Time{})
		if err != nil {
			return nil, fmt.Errorf("from: %w", err)
		}
		to, err := jsonapi.ParseTime(q.Get("to"), now)
		if err != nil {
			return nil, fmt.Errorf("to: %w", err)
		}
		if from.IsZero() || !to.After(from) {
			return nil, errors.New("from must be set and before to")
		}
		return &Window{Name: "custom", From: from, To: to}, nil
	}
	return nil, nil
}

// PingHandler receives heartbeat pings:
//
//	GET|POST|HEAD /api/v1/heartbeat/{token}        the job succeeded
//	GET|POST|HEAD /api/v1/heartbeat/{token}/fail   the job failed; a POST body is kept as the message
//
// ?runtime= gives the job's run time (seconds, or a duration such as 4m30s).
// The token is the only credential: it is the check's secret.
func (m *Manager) PingHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodPost && r.Method != http.MethodHead && r.Method != http.MethodPut {
			w.Header().Set("Allow", "GET, POST, PUT, HEAD")
			http.Error(w, "ping with POST or GET", http.StatusMethodNotAllowed)
			return
		}
		rest := strings.TrimPrefix(r.URL.Path, HeartbeatPath)
		token, suffix, _ := strings.Cut(rest, "/")
		p := probe.Ping{Time: m.now()}
		switch suffix {
		case "":
		case "fail":
			p.Failed = true
		default:
			http.Error(w, "unknown ping path: use .../heartbeat/<token> or .../heartbeat/<token>/fail", http.StatusNotFound)
			return
		}
		if rt := r.URL.Query().Get("runtime"); rt != "" {
			d, err := parseRuntime(rt)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			p.Runtime = d
		}
		if r.Method == http.MethodPost || r.Method == http.MethodPut {
			body, err := io.ReadAll(io.LimitReader(r.Body, maxPingBody))
			if err != nil {
				http.Error(w, "reading the body: "+err.Error(), http.StatusBadRequest)
				return
			}
			p.Message = strings.ToValidUTF8(strings.TrimSpace(string(body)), "?")
		}
		name, ok, err := m.Ping(r.Context(), token, p, r.RemoteAddr)
		switch {
		case !ok:
			http.Error(w, "no heartbeat check has this token; check the URL against the check's heartbeat.token", http.StatusNotFound)
		case err != nil:
			m.logger.Error("storing a heartbeat ping", "check", name, "err", err)
			http.Error(w, "the server could not store the ping; retry", http.StatusInternalServerError)
		default:
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			fmt.Fprintln(w, "OK")
		}
	})
}

func parseRuntime(s string) (time.Duration, error) {
	if f, err := strconv.ParseFloat(s, 64); err == nil && f >= 0 && f < 1e9 {
		return time.Duration(f * float64(time.Second)), nil
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return d, nil
	}
	return 0, fmt.Errorf("runtime %q: use seconds (such as 93.5) or a duration (such as 4m30s)", s)
}

// ResultsHandler receives the check results of agents: POST of a JSON
// agentapi.CheckResults, answered 204. The caller authenticates it.
func (m *Manager) ResultsHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "check results are sent with POST", http.StatusMethodNotAllowed)
			return
		}
		var rs agentapi.CheckResults
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxResultsBody))
		if err := dec.Decode(&rs); err != nil {
			http.Error(w, "check results are not valid JSON: "+err.Error(), http.StatusBadRequest)
			return
		}
		if rs.Instance == "" {
			http.Error(w, "check results need the agent's instance", http.StatusBadRequest)
			return
		}
		if err := m.RecordRemote(r.Context(), rs); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}
