package agent

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/prompb"
	"github.com/stretchr/testify/require"

	"github.com/saypro/monitor/internal/agentapi"
	"github.com/saypro/monitor/internal/config/agentconfig"
	"github.com/saypro/monitor/internal/config/checkconfig"
)

// fakeSink records what the agent sends and can be told to fail.
type fakeSink struct {
	mu         sync.Mutex
	writes     [][]prompb.TimeSeries
	heartbeats []agentapi.Heartbeat
	fail       error
	// checks are assigned in every heartbeat answer; results records
	// what the agent reports, failing with resultsFail while it is set.
	checks      []checkconfig.Check
	results     []agentapi.CheckResults
	resultsFail error
}

func (f *fakeSink) Write(_ context.Context, s []prompb.TimeSeries) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return f.fail
	}
	f.writes = append(f.writes, s)
	return nil
}

func (f *fakeSink) Heartbeat(_ context.Context, hb agentapi.Heartbeat) (agentapi.HeartbeatResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return agentapi.HeartbeatResponse{}, f.fail
	}
	f.heartbeats = append(f.heartbeats, hb)
	return agentapi.HeartbeatResponse{ServerTime: time.Now(), Checks: f.checks}, nil
}

func (f *fakeSink) CheckResults(_ context.Context, rs agentapi.CheckResults) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.resultsFail != nil {
		return f.resultsFail
	}
	f.results = append(f.results, rs)
	return nil
}

func (f *fakeSink) counts() (int, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.writes), len(f.heartbeats)
}

// fixtureCollect points the collectors at the collector package's fixture
// trees, so the test does not depend on this machine.
func fixtureCollect() agentconfig.Collect {
	c := agentconfig.DefaultCollect
	c.Paths = agentconfig.Paths{Proc: "../collector/testdata/proc", Sys: "../collector/testdata/sys", Root: "../collector/testdata/root"}
	c.Interval = model.Duration(20 * time.Millisecond)
	c.Labels = map[string]string{"env": "test"}
	return c
}

func newTestAgent(t *testing.T, sink Sink, logs *bytes.Buffer) *Agent {
	t.Helper()
	a, err := New(Options{
		Collect:  fixtureCollect(),
		Version:  "1.2.3",
		Sink:     sink,
		Logger:   slog.New(slog.NewTextHandler(logs, nil)),
		Hostname: func() (string, error) { return "fixture-host", nil },
	})
	require.NoError(t, err)
	return a
}

func TestAgentRunShipsLabelledSeriesAndHeartbeats(t *testing.T) {
	sink := &fakeSink{}
	var logs bytes.Buffer
	a := newTestAgent(t, sink, &logs)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- a.Run(ctx) }()
	require.Eventually(t, func() bool {
		w, h := sink.counts()
		return w >= 3 && h >= 3
	}, 10*time.Second, 5*time.Millisecond)
	cancel()
	require.NoError(t, <-done)

	sink.mu.Lock()
	defer sink.mu.Unlock()
	names := map[string]bool{}
	for _, ts := range sink.writes[len(sink.writes)-1] {
		lset := map[string]string{}
		for _, l := range ts.Labels {
			lset[l.Name] = l.Value
		}
		require.Equal(t, "node", lset["job"], "%v", ts.Labels)
		require.Equal(t, "fixture-host", lset["instance"])
		require.Equal(t, "test", lset["env"])
		names[lset["__name__"]] = true
	}
	for _, n := range []string{"node_cpu_seconds_total", "node_load1", "node_memory_MemAvailable_bytes", "node_boot_time_seconds", "saypro_agent_info", "node_scrape_collector_success", "saypro_agent_collections_total"} {
		require.True(t, names[n], "%s in the pushed series", n)
	}
	hb := sink.heartbeats[0]
	require.Equal(t, "fixture-host", hb.Instance)
	require.Equal(t, "1.2.3", hb.AgentVersion)
	require.Positive(t, hb.CPUs)
	require.Positive(t, hb.MemoryBytes)
	require.False(t, hb.BootTime.IsZero())
	require.Equal(t, map[string]string{"env": "test"}, hb.Labels)
	require.Equal(t, sink.heartbeats[0].AgentStartTime, sink.heartbeats[len(sink.heartbeats)-1].AgentStartTime, "start time is stable")
}

func TestAgentLogsSinkFailureOnce(t *testing.T) {
	sink := &fakeSink{fail: errors.New("disk on fire")}
	var logs bytes.Buffer
	a := newTestAgent(t, sink, &logs)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- a.Run(ctx) }()
	time.Sleep(200 * time.Millisecond)
	sink.mu.Lock()
	sink.fail = nil
	sink.mu.Unlock()
	require.Eventually(t, func() bool { w, _ := sink.counts(); return w > 0 }, 5*time.Second, 5*time.Millisecond)
	cancel()
	require.NoError(t, <-done)
	out := logs.String()
	require.Equal(t, 1, bytes.Count([]byte(out), []byte("collection could not be stored")), out)
	require.Equal(t, 1, bytes.Count([]byte(out), []byte("heartbeat failed")), out)
	require.Contains(t, out, "collections are stored again")
}

func TestAgentDefaultInstanceNeedsHostname(t *testing.T) {
	_, err := New(Options{
		Collect:  fixtureCollect(),
		Logger:   slog.New(slog.DiscardHandler),
		Hostname: func() (string, error) { return "", errors.New("no uts namespace") },
	})
	require.ErrorContains(t, err, "set instance")
}

// BenchmarkCollect measures one collection as the push path does it:
// gather every collector on this machine's /proc and /sys and build the
// labelled remote-write series.
func BenchmarkCollect(b *testing.B) {
	a, err := New(Options{Collect: agentconfig.DefaultCollect, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(b, err)
	b.ReportAllocs()
	var n int
	for b.Loop() {
		s, err := a.Collect(time.Now())
		if err != nil {
			b.Fatal(err)
		}
		n = len(s)
	}
	b.ReportMetric(float64(n), "series")
}

// BenchmarkScrape measures one scrape of the standalone agent's /metrics
// as Prometheus does it (text format, gzip): what node_exporter is compared
// with in bench/agent.
func BenchmarkScrape(b *testing.B) {
	reg := newStandaloneRegistry()
	a, err := New(Options{Collect: agentconfig.DefaultCollect, Registerer: reg, Extra: reg, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(b, err)
	h := Handler(a.Gatherer(), "bench", slog.New(slog.DiscardHandler))
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		req.Header.Set("Accept-Encoding", "gzip")
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatal(rec.Code)
		}
	}
}
