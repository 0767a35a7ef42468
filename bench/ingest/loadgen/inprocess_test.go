package main

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	sayproingest "github.com/saypro/monitor/internal/ingest"
	"github.com/saypro/monitor/internal/metrics"
)

// BenchmarkSayproRemoteWrite runs our remote-write handler and TSDB in
// process on the generator's requests: one op is one scrape round of 100
// hosts (10,000 series-samples in 5 requests). It reports samples/s of
// the handler alone, without HTTP transport or the generator's encoding.
func BenchmarkSayproRemoteWrite(b *testing.B) {
	const hosts, batch = 100, 2000
	store, err := metrics.Open(metrics.Options{
		Dir:        b.TempDir(),
		Retention:  30 * 24 * time.Hour,
		Logger:     slog.New(slog.DiscardHandler),
		Registerer: prometheus.NewRegistry(),
	})
	require.NoError(b, err)
	defer store.Close()
	const token = "bench-token-0123456789"
	h, err := sayproingest.NewRemoteWrite(sayproingest.Options{
		Appendable:    store,
		Logger:        slog.New(slog.DiscardHandler),
		Registerer:    prometheus.NewRegistry(),
		Tokens:        []string{token},
		MaxConcurrent: 4,
		Limits:        sayproingest.Limits{MaxBodySize: 32 << 20, MaxDecodedSize: 256 << 20, MaxAheadTime: 10 * time.Minute},
	})
	require.NoError(b, err)

	f := newFleet(hosts, 1, 1)
	s := &sender{fleet: f}
	// Rounds are 15 s apart and end before now, so the head accepts them
	// in order for as many rounds as the benchmark asks.
	start := time.Now().Add(-time.Duration(b.N+1) * 15 * time.Second).UnixMilli()
	pending := make([]sample, 0, batch)
	var bodies [][]byte
	round := func(r int) {
		bodies = bodies[:0]
		for hst := 1; hst <= hosts; hst++ {
			rng := f.rngs[hst-1]
			t := timestamp(start, r, hst, hosts, 0, rng)
			for i := (hst - 1) * seriesPerHost; i < hst*seriesPerHost; i++ {
				pending = append(pending, sample{series: int32(i), t: t, v: f.series[i].next(rng)})
				if len(pending) == batch {
					bodies = append(bodies, bytes.Clone(s.encode(pending)))
					pending = pending[:0]
				}
			}
		}
	}
	post := func(body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/api/v1/write", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/x-protobuf")
		req.Header.Set("Content-Encoding", "snappy")
		req.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusNoContent {
			b.Fatalf("status %d: %s", rec.Code, rec.Body.String())
		}
	}
	// The first round creates the series; it is not timed.
	round(0)
	for _, body := range bodies {
		post(body)
	}
	b.ResetTimer()
	for r := 1; r <= b.N; r++ {
		b.StopTimer()
		round(r)
		b.StartTimer()
		for _, body := range bodies {
			post(body)
		}
	}
	b.ReportMetric(float64(b.N*hosts*seriesPerHost)/b.Elapsed().Seconds(), "samples/s")
}
