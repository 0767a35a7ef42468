package main

import (
	"context"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/snappy"
	"github.com/prometheus/prometheus/prompb"
	"github.com/stretchr/testify/require"
)

func TestHostModel(t *testing.T) {
	f := newFleet(3, 4, 1)
	require.Len(t, f.series, 3*seriesPerHost)
	seen := map[string]bool{}
	for _, s := range f.series {
		var b strings.Builder
		names := map[string]bool{}
		for i, l := range s.labels {
			if i > 0 {
				require.Less(t, s.labels[i-1].Name, l.Name, "labels sorted and unique")
			}
			names[l.Name] = true
			b.WriteString(l.Name + "=" + l.Value + ",")
		}
		require.True(t, names["__name__"] && names["instance"] && names["job"], b.String())
		require.True(t, strings.HasPrefix(s.labels[0].Value, "node_"), b.String())
		require.False(t, seen[b.String()], "duplicate series %s", b.String())
		seen[b.String()] = true
		require.GreaterOrEqual(t, s.shard, 0)
		require.Less(t, s.shard, 4)
	}
}

// The values depend only on the seed, not on the number of senders, so
// every server and every sender count get the same data.
func TestFleetDeterministic(t *testing.T) {
	for _, tc := range []struct {
		name             string
		seedA, seedB     uint64
		sendersA, sender int
		same             bool
	}{
		{"same seed, same senders", 7, 7, 4, 4, true},
		{"same seed, other senders", 7, 7, 4, 1, true},
		{"other seed", 7, 8, 4, 4, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := newFleet(5, tc.sendersA, tc.seedA), newFleet(5, tc.sender, tc.seedB)
			same := true
			for range 50 {
				for i := range a.series {
					h := i / seriesPerHost
					if a.series[i].next(a.rngs[h]) != b.series[i].next(b.rngs[h]) {
						same = false
					}
				}
			}
			require.Equal(t, tc.same, same)
		})
	}
}

func TestValuesBehave(t *testing.T) {
	f := newFleet(4, 2, 3)
	prev := make([]float64, len(f.series))
	for i := range f.series {
		prev[i] = f.series[i].value
	}
	for range 500 {
		for i := range f.series {
			s := &f.series[i]
			v := s.next(f.rngs[i/seriesPerHost])
			m := s.model
			switch m.kind {
			case counter:
				require.GreaterOrEqual(t, v, prev[i], "%s decreased", m.name)
			case constant:
				require.Equal(t, prev[i], v, m.name)
			case walk, smallInt:
				require.GreaterOrEqual(t, v, m.lo, m.name)
				require.LessOrEqual(t, v, m.hi, m.name)
			}
			if m.quantum >= 1 {
				require.Equal(t, math.Trunc(v), v, "%s should be whole", m.name)
			}
			prev[i] = v
		}
	}
}

func TestQuantize(t *testing.T) {
	for _, tc := range []struct {
		v, q, want float64
	}{
		{1.234567, 0.01, 1.23},
		{0.1 + 0.2, 0.01, 0.3},
		{4097, 4096, 4096},
		{6143, 4096, 4096},
		{6145, 4096, 8192},
		{12.3456, 0, 12.3456},
		{5e4 + 0.0004, 0.001, 5e4},
	} {
		require.Equal(t, tc.want, quantize(tc.v, tc.q), "quantize(%v, %v)", tc.v, tc.q)
	}
}

func TestTimestamps(t *testing.T) {
	const start = int64(1_000_000_000_000)
	for _, jitter := range []int64{0, 7, 999} {
		f := newFleet(10, 1, 1)
		for h := 1; h <= 10; h++ {
			prev := int64(0)
			for r := range 5 {
				ts := timestamp(start, r, h, 10, jitter, f.rngs[h-1])
				lo := start + int64(r)*scrapeInterval
				require.GreaterOrEqual(t, ts, lo)
				require.Less(t, ts, lo+scrapeInterval, "a round stays inside its interval")
				if jitter == 0 && r > 0 {
					require.Equal(t, scrapeInterval, ts-prev, "aligned scrapes are exactly one interval apart")
				}
				require.Greater(t, ts, prev)
				prev = ts
			}
		}
	}
}

func TestSumMetrics(t *testing.T) {
	text := `# HELP prometheus_tsdb_compactions_total Total.
# TYPE prometheus_tsdb_compactions_total counter
prometheus_tsdb_compactions_total 2
prometheus_tsdb_head_samples_appended_total{type="float"} 1e+06
prometheus_tsdb_head_samples_appended_total{type="histogram"} 5 1700000000000
vm_rows_added_to_storage_total 42
odd_total{path="a b}c"} 7
prometheus_tsdb_compactions_total_other 9
`
	for _, tc := range []struct {
		name string
		want float64
		ok   bool
	}{
		{"prometheus_tsdb_compactions_total", 2, true},
		{"prometheus_tsdb_head_samples_appended_total", 1e6 + 5, true},
		{"vm_rows_added_to_storage_total", 42, true},
		{"odd_total", 7, true},
		{"absent_total", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := sumMetrics(strings.NewReader(text), tc.name)
			require.NoError(t, err)
			v, ok := m[tc.name]
			require.Equal(t, tc.ok, ok)
			require.Equal(t, tc.want, v)
		})
	}
}

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		xs   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{3}, 3},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 1, 3, 2}, 2.5},
	} {
		require.Equal(t, tc.want, median(tc.xs), "%v", tc.xs)
	}
}

func TestThousands(t *testing.T) {
	for _, tc := range []struct {
		n    int64
		want string
	}{
		{0, "0"}, {999, "999"}, {1000, "1,000"}, {96_000_000, "96,000,000"}, {-1234567, "-1,234,567"},
	} {
		require.Equal(t, tc.want, thousands(tc.n))
	}
}

// Every query window lies inside the generated data, and the oldest-hour
// query appears only when it does not overlap the last hour.
func TestDashboardQueries(t *testing.T) {
	end := int64(1_763_000_000_000) / scrapeInterval * scrapeInterval
	for _, tc := range []struct {
		hours  float64
		oldest bool
	}{
		{4, true}, {3, true}, {1, false}, {0.5, false},
	} {
		rounds := int(tc.hours * 240)
		start := end - int64(rounds)*scrapeInterval
		qs := dashboardQueries(start, end)
		var names []string
		for _, q := range qs {
			names = append(names, q.Name)
			require.Equal(t, int64(3_600_000), q.End-q.Start, q.Name)
			require.LessOrEqual(t, q.End, end, q.Name)
			require.Zero(t, q.Start%q.Step, "%s: start on a step", q.Name)
			if tc.hours >= 1 {
				require.GreaterOrEqual(t, q.Start, start-60_000, q.Name)
			}
		}
		require.Equal(t, tc.oldest, names[len(names)-1] == "cpu_all_hosts_oldest_hour", "hours %g: %v", tc.hours, names)
	}
}

// decodeBody undoes sender.encode.
func decodeBody(t testing.TB, body []byte) *prompb.WriteRequest {
	raw, err := snappy.Decode(nil, body)
	require.NoError(t, err)
	var req prompb.WriteRequest
	require.NoError(t, req.Unmarshal(raw))
	return &req
}

// A fake remote-write receiver: checks headers and the order of each
// series' samples, answers 503 to the first request to exercise retries.
func TestIngest(t *testing.T) {
	var (
		mu       sync.Mutex
		requests int
		samples  int
		last     = map[string]int64{}
		badOrder []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		requests++
		if requests == 1 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		if r.Header.Get("Authorization") != "Bearer tok" || r.Header.Get("Content-Encoding") != "snappy" ||
			r.Header.Get("X-Prometheus-Remote-Write-Version") != "0.1.0" {
			http.Error(w, "bad headers", http.StatusBadRequest)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		req := decodeBody(t, body)
		for _, ts := range req.Timeseries {
			var key strings.Builder
			for _, l := range ts.Labels {
				key.WriteString(l.Name + "=" + l.Value + ",")
			}
			for _, s := range ts.Samples {
				if s.Timestamp <= last[key.String()] {
					badOrder = append(badOrder, key.String())
				}
				last[key.String()] = s.Timestamp
				samples++
			}
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	c := ingestConfig{
		URL: srv.URL, Token: "tok", Hosts: 7, Rounds: 12, End: 1_763_000_010_000 / scrapeInterval * scrapeInterval,
		Batch: 97, Senders: 3, Seed: 1, MaxAttempts: 3, Timeout: time.Minute,
	}
	res, err := ingest(context.Background(), c, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	want := int64(7 * seriesPerHost * 12)
	require.Equal(t, want, res.SamplesSent)
	require.Equal(t, want, res.SamplesOK)
	require.Equal(t, int64(1), res.Retries)
	require.Equal(t, int64(1), res.StatusCodes["503"])
	require.Empty(t, badOrder)
	require.Equal(t, int(want), samples)
	require.Len(t, last, 7*seriesPerHost)
	for _, ts := range last {
		require.Less(t, ts, c.End)
	}
}

func TestIngestUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	c := ingestConfig{URL: url, Hosts: 2, Rounds: 2, End: 1_763_000_010_000, Batch: 50, Senders: 2, Seed: 1, MaxAttempts: 2, Timeout: time.Minute}
	_, err := ingest(context.Background(), c, slog.New(slog.DiscardHandler))
	require.ErrorContains(t, err, "unreachable")
}

func TestDiskUsage(t *testing.T) {
	dir := t.TempDir()
	block := filepath.Join(dir, "metrics", "01HBLOCK")
	require.NoError(t, os.MkdirAll(filepath.Join(block, "chunks"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(block, "meta.json"), []byte(`{"stats":{"numSamples":1234}}`), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(block, "chunks", "000001"), make([]byte, 50_000), 0o644))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "metrics", "wal"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "metrics", "wal", "00000000"), make([]byte, 70_000), 0o644))
	u, err := diskUsage(dir)
	require.NoError(t, err)
	require.Equal(t, 1, u.Blocks)
	require.Equal(t, int64(1234), u.BlockSamples)
	require.GreaterOrEqual(t, u.BlockBytes, int64(50_000))
	require.Less(t, u.BlockBytes, int64(70_000), "the WAL is not part of a block")
	require.GreaterOrEqual(t, u.Bytes, int64(120_000))
}

func TestEncodeRoundTrip(t *testing.T) {
	f := newFleet(2, 1, 1)
	s := &sender{fleet: f}
	batch := []sample{{series: 0, t: 1000, v: 1.5}, {series: 150, t: 2000, v: 2.5}}
	req := decodeBody(t, s.encode(batch))
	require.Len(t, req.Timeseries, 2)
	require.Equal(t, f.series[150].labels, req.Timeseries[1].Labels)
	require.Equal(t, []prompb.Sample{{Timestamp: 2000, Value: 2.5}}, req.Timeseries[1].Samples)
	// A smaller batch after a larger one reuses the buffers correctly.
	req = decodeBody(t, s.encode(batch[:1]))
	require.Len(t, req.Timeseries, 1)
	require.Equal(t, f.series[0].labels, req.Timeseries[0].Labels)
}

// BenchmarkEncode is the generator's own cost per request of 2,000
// series-samples (not counted in the server comparison).
func BenchmarkEncode(b *testing.B) {
	f := newFleet(20, 1, 1)
	batch := make([]sample, 2000)
	for i := range batch {
		batch[i] = sample{series: int32(i), t: int64(i), v: float64(i) * 1.5}
	}
	s := &sender{fleet: f}
	b.ReportAllocs()
	for b.Loop() {
		b.SetBytes(int64(len(s.encode(batch))))
	}
}
