package logs_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/saypro/monitor/internal/agentapi"
	"github.com/saypro/monitor/internal/logs"
)

func TestLimiter(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 2, 38, 10, 0, time.UTC)
	type step struct {
		key  string
		n    int
		at   time.Duration
		want int
	}
	tests := []struct {
		name  string
		rate  float64
		burst int
		steps []step
	}{
		{"burst then rate", 10, 20, []step{
			{"a", 50, 0, 20},
			{"a", 50, 0, 0},
			{"a", 50, time.Second, 10},
			{"a", 50, 1500 * time.Millisecond, 5},
			{"a", 5, 10 * time.Second, 5}, // refilled to the burst only
			{"a", 50, 10 * time.Second, 15},
		}},
		{"keys are apart", 1, 3, []step{
			{"a", 10, 0, 3},
			{"b", 10, 0, 3},
			{"a", 1, 0, 0},
		}},
		{"fractions accumulate", 0.5, 1, []step{
			{"a", 1, 0, 1},
			{"a", 1, time.Second, 0},
			{"a", 1, 2 * time.Second, 1},
		}},
		{"time going back takes nothing", 10, 10, []step{
			{"a", 10, time.Second, 10},
			{"a", 10, 0, 0},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := logs.NewLimiter(tc.rate, tc.burst, 100)
			for i, s := range tc.steps {
				require.Equal(t, s.want, l.Allow(s.key, s.n, t0.Add(s.at)), "step %d %+v", i, s)
			}
		})
	}
}

func TestLimiterBoundsKeys(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 2, 38, 10, 0, time.UTC)
	l := logs.NewLimiter(1, 5, 100)
	// A flooding key empties its bucket.
	require.Equal(t, 5, l.Allow("flood", 1000, t0))
	for i := range 10000 {
		l.Allow(fmt.Sprintf("host-%d\x00syslog", i), 1, t0.Add(time.Duration(i)*time.Millisecond))
		require.LessOrEqual(t, l.Keys(), 100)
	}
	// Idle keys (full buckets) go first: with 99 idle keys, a new key
	// evicts them and keeps the flooding one, still empty.
	l = logs.NewLimiter(1, 5, 100)
	require.Equal(t, 5, l.Allow("flood", 1000, t0))
	for i := range 99 {
		l.Allow(fmt.Sprintf("idle-%d", i), 0, t0)
	}
	require.Equal(t, 100, l.Keys())
	l.Allow("new", 1, t0)
	require.Equal(t, 2, l.Keys())
	require.Equal(t, 0, l.Allow("flood", 1000, t0), "eviction refilled a flooding source")
}

func TestPipelineRateLimit(t *testing.T) {
	tp := newPipeline(t, logs.Options{RatePerSecond: 10, Burst: 100})
	batch := func(host string, n int, prefix string) []agentapi.LogEntry {
		es := make([]agentapi.LogEntry, n)
		for i := range es {
			es[i] = agentapi.LogEntry{Source: "app", Format: agentapi.FormatRaw, Message: fmt.Sprintf("%s %d", prefix, i)}
		}
		return es
	}
	flood := batch("web1", 1000, "flood")
	// One batch holds the flood from web1 and five lines from web2.
	tp.ingest(t, "web1", flood...)
	tp.ingest(t, "web2", batch("web2", 5, "quiet")...)
	// Two seconds later the flood gets 20 more.
	tp.now = tp.now.Add(2 * time.Second)
	tp.ingest(t, "web1", batch("web1", 100, "later")...)

	web1 := all(t, tp.store, logs.Filter{Hosts: []string{"web1"}})
	web2 := all(t, tp.store, logs.Filter{Hosts: []string{"web2"}})
	require.Len(t, web1, 120)
	require.Len(t, web2, 5)
	got := map[string]bool{}
	for _, m := range messages(web1) {
		got[m] = true
	}
	// The first lines of each batch are kept, in order.
	for i := range 100 {
		require.True(t, got[fmt.Sprintf("flood %d", i)], "flood %d missing", i)
	}
	for i := range 20 {
		require.True(t, got[fmt.Sprintf("later %d", i)], "later %d missing", i)
	}
	require.Equal(t, 980.0, metric(t, tp.reg, "saypro_logs_dropped_total", map[string]string{"source": "app", "reason": "rate_limit"}))
	require.Equal(t, 125.0, metric(t, tp.reg, "saypro_logs_stored_total", nil))
	require.Equal(t, 1105.0, metric(t, tp.reg, "saypro_logs_received_total", map[string]string{"transport": "agent"}))
}

func TestPipelineRateLimitWithinOneBatch(t *testing.T) {
	tp := newPipeline(t, logs.Options{RatePerSecond: 1, Burst: 3})
	var es []agentapi.LogEntry
	for i := range 10 {
		es = append(es, agentapi.LogEntry{Source: "auth", Message: fmt.Sprintf("auth %d", i)}, agentapi.LogEntry{Source: "syslog", Message: fmt.Sprintf("syslog %d", i)})
	}
	tp.ingest(t, "web1", es...)
	got := messages(all(t, tp.store, logs.Filter{}))
	require.ElementsMatch(t, []string{"auth 0", "auth 1", "auth 2", "syslog 0", "syslog 1", "syslog 2"}, got)
	require.Equal(t, 7.0, metric(t, tp.reg, "saypro_logs_dropped_total", map[string]string{"source": "auth", "reason": "rate_limit"}))
	require.Equal(t, 7.0, metric(t, tp.reg, "saypro_logs_dropped_total", map[string]string{"source": "syslog", "reason": "rate_limit"}))
}

func TestPipelineRateWithoutBurst(t *testing.T) {
	tp := newPipeline(t, logs.Options{RatePerSecond: 3})
	var es []agentapi.LogEntry
	for i := range 5 {
		es = append(es, agentapi.LogEntry{Source: "app", Message: fmt.Sprint("line ", i)})
	}
	tp.ingest(t, "web1", es...)
	require.Len(t, all(t, tp.store, logs.Filter{}), 3, "the burst defaults to one second of the rate")
}
