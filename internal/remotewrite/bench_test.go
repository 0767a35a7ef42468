package remotewrite

import (
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/prometheus/prompb"
	"github.com/stretchr/testify/require"
)

// nodeCollection is a collection shaped like a node_exporter scrape of
// one host: 1000 series, node_* names, job and instance labels, counters
// with fractional values, one timestamp.
func nodeCollection(rng *rand.Rand, i int) []prompb.TimeSeries {
	const n = 1000
	modes := []string{"idle", "iowait", "irq", "nice", "softirq", "steal", "system", "user"}
	series := make([]prompb.TimeSeries, 0, n)
	ts := baseTS + int64(i)*15000
	add := func(name string, v float64, extra ...string) {
		ls := []prompb.Label{{Name: "__name__", Value: name}}
		for j := 0; j+1 < len(extra); j += 2 {
			ls = append(ls, prompb.Label{Name: extra[j], Value: extra[j+1]})
		}
		ls = append(ls, prompb.Label{Name: "instance", Value: "web-01.example.com"}, prompb.Label{Name: "job", Value: "node"})
		series = append(series, prompb.TimeSeries{Labels: ls, Samples: []prompb.Sample{{Value: v, Timestamp: ts}}})
	}
	for cpu := 0; len(series) < 512; cpu++ {
		for _, m := range modes {
			add("node_cpu_seconds_total", float64(i)*15*rng.Float64()+float64(cpu*1000), "cpu", strconv.Itoa(cpu), "mode", m)
		}
	}
	for dev := 0; len(series) < 800; dev++ {
		d := "sd" + string(rune('a'+dev%26)) + strconv.Itoa(dev/26)
		add("node_disk_read_bytes_total", float64(i*4096*rng.IntN(100)), "device", d)
		add("node_disk_written_bytes_total", float64(i*4096*rng.IntN(100)), "device", d)
		add("node_disk_io_time_seconds_total", float64(i)*rng.Float64(), "device", d)
		add("node_filesystem_avail_bytes", float64(1<<30+rng.IntN(1<<20)*4096), "device", "/dev/"+d, "fstype", "ext4", "mountpoint", "/srv/"+d)
	}
	for k := 0; len(series) < n; k++ {
		add("node_network_receive_bytes_total", float64(i*1500*rng.IntN(1000)), "device", "eth"+strconv.Itoa(k))
	}
	return series[:n]
}

// BenchmarkEnqueue measures one Enqueue of a 1000-series collection and
// the bytes it takes on disk.
func BenchmarkEnqueue(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	cols := make([][]prompb.TimeSeries, 64)
	for i := range cols {
		cols[i] = nodeCollection(rng, i)
	}
	dir := b.TempDir()
	c, err := New(Options{URL: "http://127.0.0.1:1/api/v1/write", Dir: dir, MaxQueueSize: 8 << 30,
		Logger: discardLogger(), Registerer: newRegistry()})
	require.NoError(b, err)
	defer c.Close()
	b.ReportAllocs()
	samples := 0
	for i := 0; b.Loop(); i++ {
		if err := c.Enqueue(cols[i%len(cols)]); err != nil {
			b.Fatal(err)
		}
		samples += 1000
	}
	b.StopTimer()
	require.Zero(b, testutil.ToFloat64(c.m.dropped.WithLabelValues(reasonQueueFull)))
	b.ReportMetric(float64(c.QueueBytes())/float64(samples), "disk-B/sample")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(samples), "ns/sample")
}

// BenchmarkDeliver measures reading, merging and sending the queue to a
// server that reads the body and answers 204.
func BenchmarkDeliver(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	cols := make([][]prompb.TimeSeries, 64)
	for i := range cols {
		cols[i] = nodeCollection(rng, i)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	c, err := New(Options{URL: srv.URL, Dir: b.TempDir(), MaxQueueSize: 8 << 30,
		Logger: discardLogger(), Registerer: newRegistry()})
	require.NoError(b, err)
	defer c.Close()
	for i := range b.N {
		require.NoError(b, c.Enqueue(cols[i%len(cols)]))
	}
	b.ResetTimer()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- c.Run(ctx) }()
	for testutil.ToFloat64(c.m.samplesSent) < float64(b.N*1000) {
		time.Sleep(100 * time.Microsecond)
	}
	b.StopTimer()
	cancel()
	require.NoError(b, <-done)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*1000), "ns/sample")
}
