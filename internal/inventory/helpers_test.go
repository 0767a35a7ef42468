package inventory

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/saypro/monitor/internal/agentapi"
	"github.com/saypro/monitor/internal/state"
	"github.com/saypro/monitor/internal/state/statetest"
)

// t0 is when the tests' server starts.
var t0 = time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC)

// clock is a settable clock for Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *clock { return &clock{t: t} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}

// fixture is an inventory on a fresh store with its own clock and registry.
type fixture struct {
	t     *testing.T
	db    *state.DB
	clock *clock
	reg   *prometheus.Registry
	inv   *Inventory
}

func newFixture(t *testing.T, db *state.DB, downAfter time.Duration) *fixture {
	t.Helper()
	f := &fixture{t: t, db: db, clock: newClock(t0)}
	f.restart(downAfter)
	return f
}

// restart makes a new Inventory on the same store, as a server restart
// does, at the clock's current time.
func (f *fixture) restart(downAfter time.Duration) {
	f.t.Helper()
	f.reg = prometheus.NewRegistry()
	inv, err := New(Options{DB: f.db, DownAfter: downAfter, Logger: statetest.Logger(f.t), Registerer: f.reg, Now: f.clock.Now})
	require.NoError(f.t, err)
	f.inv = inv
}

func (f *fixture) heartbeat(hb agentapi.Heartbeat) {
	f.t.Helper()
	require.NoError(f.t, f.inv.Heartbeat(f.t.Context(), hb, "192.0.2.10:40000"))
}

func (f *fixture) sweep() {
	f.t.Helper()
	require.NoError(f.t, f.inv.sweep(f.t.Context()))
}

func (f *fixture) host(instance string) (Host, []Event) {
	f.t.Helper()
	h, events, err := f.inv.Host(f.t.Context(), instance, 0)
	require.NoError(f.t, err)
	return h, events
}

// requireMetrics compares the named metrics with the exposition text.
func (f *fixture) requireMetrics(text string, names ...string) {
	f.t.Helper()
	require.NoError(f.t, testutil.GatherAndCompare(f.reg, strings.NewReader(text), names...))
}

// requireHeartbeats checks saypro_inventory_heartbeats_total by result.
func (f *fixture) requireHeartbeats(ok, invalid, failed int) {
	f.t.Helper()
	f.requireMetrics(fmt.Sprintf(`
# HELP saypro_inventory_heartbeats_total Agent heartbeats received, by result: ok, invalid (rejected with 400) or error (not stored).
# TYPE saypro_inventory_heartbeats_total counter
saypro_inventory_heartbeats_total{result="error"} %d
saypro_inventory_heartbeats_total{result="invalid"} %d
saypro_inventory_heartbeats_total{result="ok"} %d
`, failed, invalid, ok), "saypro_inventory_heartbeats_total")
}

// requireHostUp checks saypro_host_up of every known host: 1 up, 0 down.
func (f *fixture) requireHostUp(up map[string]int) {
	f.t.Helper()
	text := `
# HELP saypro_host_up Whether the host's agent reports (1) or has been silent longer than down_after (0). One series per known host.
# TYPE saypro_host_up gauge
`
	for _, instance := range slices.Sorted(maps.Keys(up)) {
		text += fmt.Sprintf("saypro_host_up{instance=%q} %d\n", instance, up[instance])
	}
	f.requireMetrics(text, "saypro_host_up")
}

// requireHostCounts checks saypro_inventory_hosts.
func (f *fixture) requireHostCounts(up, down int) {
	f.t.Helper()
	f.requireMetrics(fmt.Sprintf(`
# HELP saypro_inventory_hosts Hosts in the inventory by status.
# TYPE saypro_inventory_hosts gauge
saypro_inventory_hosts{status="down"} %d
saypro_inventory_hosts{status="up"} %d
`, down, up), "saypro_inventory_hosts")
}

// heartbeat returns a plausible heartbeat of instance, sent at t0.
func heartbeat(instance string) agentapi.Heartbeat {
	return agentapi.Heartbeat{
		Instance:       instance,
		Hostname:       instance,
		OS:             "Debian GNU/Linux 12 (bookworm)",
		OSID:           "debian",
		OSVersion:      "12",
		Kernel:         "6.1.0-18-amd64",
		Arch:           "x86_64",
		CPUs:           4,
		MemoryBytes:    8 << 30,
		AgentVersion:   "1.0.0",
		BootTime:       t0.Add(-72 * time.Hour),
		AgentStartTime: t0.Add(-72*time.Hour + 20*time.Second).Add(123456789 * time.Nanosecond),
		Labels:         map[string]string{"env": "prod"},
		Interval:       agentapi.Seconds(15 * time.Second),
		Time:           t0,
	}
}

// kinds lists the kinds of events, in order.
func kinds(events []Event) []EventKind {
	out := []EventKind{}
	for _, e := range events {
		out = append(out, e.Kind)
	}
	return out
}

// request sends a request to h and returns the status and body.
func request(t *testing.T, h http.Handler, method, target string, body []byte) (int, []byte) {
	t.Helper()
	r := httptest.NewRequestWithContext(context.Background(), method, target, bytes.NewReader(body))
	r.RemoteAddr = "192.0.2.10:40000"
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	b, err := io.ReadAll(w.Result().Body)
	require.NoError(t, err)
	return w.Code, b
}

// apiResponse is the Prometheus API envelope, data left raw.
type apiResponse struct {
	Status    string          `json:"status"`
	Data      json.RawMessage `json:"data"`
	ErrorType string          `json:"errorType"`
	Error     string          `json:"error"`
}

func getAPI(t *testing.T, h http.Handler, target string) (int, apiResponse) {
	t.Helper()
	code, body := request(t, h, http.MethodGet, target, nil)
	var resp apiResponse
	require.NoError(t, json.Unmarshal(body, &resp), string(body))
	return code, resp
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}
