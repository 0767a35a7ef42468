package checks

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/saypro/monitor/internal/agentapi"
	"github.com/saypro/monitor/internal/config/checkconfig"
	"github.com/saypro/monitor/internal/probe"
	"github.com/saypro/monitor/internal/state"
	"github.com/saypro/monitor/internal/state/statetest"
)

// clock is a settable time for the manager under test.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }
func newManager(t *testing.T, db *state.DB, c *clock) *Manager {
	t.Helper()
	m, err := New(t.Context(), Options{DB: db, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	m.now = c.now
	return m
}

func testChecks() []checkconfig.Check {
	cs := []checkconfig.Check{
		{Name: "web", Kind: "http", Target: "https://example.com", Interval: model.Duration(10 * time.Second), Timeout: model.Duration(5 * time.Second)},
		{Name: "nginx", Kind: "process", Target: "nginx", Interval: model.Duration(10 * time.Second), Timeout: model.Duration(5 * time.Second),
			RunOn: checkconfig.RunOn{Agents: map[string]string{"role": "web"}}},
		{Name: "backup", Kind: "heartbeat", Interval: model.Duration(10 * time.Second), Timeout: model.Duration(5 * time.Second),
			Heartbeat: &checkconfig.Heartbeat{Token: "0123456789abcdef0123", Period: model.Duration(time.Hour), Grace: model.Duration(10 * time.Minute)}},
	}
	if err := checkconfig.ValidateAll("checks", cs); err != nil {
		panic(err)
	}
	return cs
}

func outcome(c *clock, check string, s probe.State, reason string) probe.Outcome {
	return probe.Outcome{Check: check, Kind: "http", Location: LocationServer, Time: c.t, Duration: 20 * time.Millisecond, State: s, Reason: reason}
}

func getJSON(t *testing.T, h http.Handler, url string, wantCode int, into any) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, url, nil))
	require.Equal(t, wantCode, rec.Code, rec.Body.String())
	var env struct {
		Status string          `json:"status"`
		Data   json.RawMessage `json:"data"`
		Error  string          `json:"error"`
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &env))
	if into != nil {
		require.NoError(t, json.Unmarshal(env.Data, into))
	}
}

func TestHistoryAndUptime(t *testing.T) {
	statetest.Run(t, func(t *testing.T, db *state.DB) {
		c := &clock{time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)}
		m := newManager(t, db, c)
		require.NoError(t, m.SetChecks(t.Context(), testChecks()))
		require.Equal(t, []string{"web", "backup"}, names(m.ServerChecks()))
		require.Equal(t, []string{"nginx"}, names(m.ChecksFor(map[string]string{"role": "web", "instance": "w1"})))
		require.Empty(t, m.ChecksFor(map[string]string{"role": "db"}))

		// Up for 20h, down for 1h, up again for 3h: 23/24 of a day.
		m.Record(outcome(c, "web", probe.StateUp, ""))
		c.advance(10 * time.Second)
		m.Record(outcome(c, "web", probe.StateUp, "")) // no change: no row
		c.advance(20*time.Hour - 10*time.Second)
		m.Record(outcome(c, "web", probe.StateDown, "status 503, expected 2xx"))
		c.advance(time.Hour)
		m.Record(outcome(c, "web", probe.StateUp, ""))
		c.advance(3 * time.Hour)

		var d CheckDetail
		getJSON(t, m.APIHandler(), "/api/v1/checks/web", 200, &d)
		require.Equal(t, "up", d.State)
		require.Len(t, d.Changes, 3)
		require.Equal(t, "down", d.Changes[1].State)
		require.Equal(t, "status 503, expected 2xx", d.Changes[1].Reason)
		require.Len(t, d.Results, 4)
		require.NotNil(t, d.Uptime["24h"].Percent)
		require.InDelta(t, 100*23.0/24, *d.Uptime["24h"].Percent, 0.01)
		require.Equal(t, 1, d.Uptime["24h"].Downs)
		require.Contains(t, d.Uptime, "2026-11")

		// A custom window holding only the outage.
		getJSON(t, m.APIHandler(), "/api/v1/checks/web?from=2026-11-21T08:00:00Z&to=2026-11-21T09:00:00Z", 200, &d)
		require.InDelta(t, 0, *d.Uptime["custom"].Percent, 0.01)
		getJSON(t, m.APIHandler(), "/api/v1/checks/web?month=2026-10", 200, &d)
		require.Nil(t, d.Uptime["2026-10"].Percent, "nothing is known of October")
		getJSON(t, m.APIHandler(), "/api/v1/checks/web?month=October", 400, nil)
		getJSON(t, m.APIHandler(), "/api/v1/checks/nope", 404, nil)

		var list []CheckView
		getJSON(t, m.APIHandler(), "/api/v1/checks", 200, &list)
		require.Len(t, list, 3)
		require.Equal(t, "up", list[0].State)
		require.Equal(t, "pending", list[1].State, "no agent has reported yet")
		require.Equal(t, "agents{role=web}", list[1].RunOn)
		require.NotNil(t, list[0].Uptime["2026-11"].Percent, "the list carries this month's uptime")
		require.InDelta(t, 100*23.0/24, *list[0].Uptime["2026-11"].Percent, 0.01)
		getJSON(t, m.APIHandler(), "/api/v1/checks?state=up", 200, &list)
		require.Len(t, list, 1)

		// A new manager on the same store starts from the recorded state.
		m2 := newManager(t, db, c)
		require.NoError(t, m2.SetChecks(t.Context(), testChecks()))
		getJSON(t, m2.APIHandler(), "/api/v1/checks/web", 200, &d)
		require.Equal(t, "up", d.State)
		require.InDelta(t, 100*23.0/24, *d.Uptime["24h"].Percent, 0.01)

		// Stopping records unknown, which does not count against uptime.
		m2.stopAll()
		c.advance(time.Hour)
		getJSON(t, m2.APIHandler(), "/api/v1/checks/web", 200, &d)
		require.Equal(t, StateUnknown, d.State)
		require.Equal(t, "the server stopped", d.Changes[0].Reason)
		require.InDelta(t, 3600, d.Uptime["24h"].UnknownSeconds, 1)
	})
}

func names(cs []checkconfig.Check) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Name)
	}
	return out
}

func TestAgentResultsAndStaleness(t *testing.T) {
	statetest.Run(t, func(t *testing.T, db *state.DB) {
		c := &clock{time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)}
		m := newManager(t, db, c)
		require.NoError(t, m.SetChecks(t.Context(), testChecks()))
		post := func(body string) *httptest.ResponseRecorder {
			rec := httptest.NewRecorder()
			m.ResultsHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, agentapi.CheckResultsPath, strings.NewReader(body)))
			return rec
		}
		rs := agentapi.CheckResults{Instance: "w1", Results: []agentapi.CheckResult{
			{Check: "nginx", Time: c.t, State: "down", Reason: "no process named nginx is running", Duration: 0.002},
		}}
		b, _ := json.Marshal(rs)
		require.Equal(t, http.StatusNoContent, post(string(b)).Code)
		require.Equal(t, http.StatusBadRequest, post(`{"instance":"w1","results":[{"check":"nginx","state":"sideways"}]}`).Code)
		require.Equal(t, http.StatusBadRequest, post(`{"results":[]}`).Code)
		require.Equal(t, http.StatusBadRequest, post(`{`).Code)

		var d CheckDetail
		getJSON(t, m.APIHandler(), "/api/v1/checks/nginx", 200, &d)
		require.Equal(t, "down", d.State)
		require.Equal(t, "w1", d.Locations[0].Location)
		require.Equal(t, "no process named nginx is running", d.Locations[0].Reason)

		// Silent for longer than three intervals plus the timeout.
		c.advance(time.Minute)
		m.sweep(t.Context(), c.t)
		getJSON(t, m.APIHandler(), "/api/v1/checks/nginx", 200, &d)
		require.Equal(t, StateUnknown, d.State)
		require.Contains(t, d.Locations[0].Reason, "no result from w1 since")

		// A check removed from the configuration becomes unknown and
		// late results for it are ignored.
		require.NoError(t, m.SetChecks(t.Context(), testChecks()[:1]))
		require.Equal(t, http.StatusNoContent, post(string(b)).Code)
		getJSON(t, m.APIHandler(), "/api/v1/checks/nginx", 404, nil)
	})
}

func TestHeartbeatPings(t *testing.T) {
	statetest.Run(t, func(t *testing.T, db *state.DB) {
		c := &clock{time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)}
		m := newManager(t, db, c)
		cs := testChecks()
		require.NoError(t, m.SetChecks(t.Context(), cs))
		hb := &cs[2]
		p, err := probe.New(hb, probe.Env{Pings: m, Now: c.now})
		require.NoError(t, err)
		ping := func(method, path, body string) (int, string) {
			rec := httptest.NewRecorder()
			m.PingHandler().ServeHTTP(rec, httptest.NewRequest(method, path, strings.NewReader(body)))
			b, _ := io.ReadAll(rec.Body)
			return rec.Code, string(b)
		}

		// Never pinged, within its first period: up.
		require.True(t, p.Probe(t.Context()).Success)

		code, _ := ping(http.MethodPost, "/api/v1/heartbeat/0123456789abcdef0123?runtime=93.5", "")
		require.Equal(t, 200, code)
		r := p.Probe(t.Context())
		require.True(t, r.Success, r.Reason)

		code, body := ping(http.MethodPost, "/api/v1/heartbeat/wrong-token-0000000", "")
		require.Equal(t, 404, code)
		require.Contains(t, body, "no heartbeat check has this token")
		code, _ = ping(http.MethodGet, "/api/v1/heartbeat/0123456789abcdef0123?runtime=soon", "")
		require.Equal(t, 400, code)

		// Late: period 1h + grace 10m.
		c.advance(71 * time.Minute)
		r = p.Probe(t.Context())
		require.False(t, r.Success)
		require.Contains(t, r.Reason, "last ping 1h11m0s ago")

		// A reported failure is down with the job's message.
		code, _ = ping(http.MethodPost, "/api/v1/heartbeat/0123456789abcdef0123/fail", "pg_dump: connection refused\n")
		require.Equal(t, 200, code)
		r = p.Probe(t.Context())
		require.False(t, r.Success)
		require.Contains(t, r.Reason, "the job reported a failure: pg_dump: connection refused")

		// The last ping survives a restart.
		m2 := newManager(t, db, c)
		require.NoError(t, m2.SetChecks(t.Context(), cs))
		last, ok, _ := m2.LastPing("backup")
		require.True(t, ok)
		require.True(t, last.Failed)
		require.Equal(t, "pg_dump: connection refused", last.Message)
		var d CheckDetail
		getJSON(t, m2.APIHandler(), "/api/v1/checks/backup", 200, &d)
		require.NotNil(t, d.LastPing)
		require.True(t, d.LastPing.Failed)

		// Never pinged past the first deadline: down.
		c.advance(2 * time.Hour)
		require.NoError(t, m2.SetChecks(t.Context(), cs))
		_, ok, since := m2.LastPing("backup")
		require.True(t, ok)
		require.Equal(t, time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC), since, "first seen is kept in the store")
	})
}
