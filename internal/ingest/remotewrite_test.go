package ingest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/klauspost/compress/snappy"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/stretchr/testify/require"

	"github.com/saypro/monitor/internal/metrics"
)

const testToken = "test-token-0123456789abcdef"

func openStore(t *testing.T) *metrics.Store {
	t.Helper()
	s, err := metrics.Open(metrics.Options{
		Dir:        t.TempDir(),
		Retention:  24 * time.Hour,
		Logger:     slog.New(slog.DiscardHandler),
		Registerer: prometheus.NewRegistry(),
	})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s
}

func newHandler(t *testing.T, app storage.Appendable, mod func(*Options)) *RemoteWrite {
	t.Helper()
	o := Options{
		Appendable:    app,
		Logger:        slog.New(slog.DiscardHandler),
		Registerer:    prometheus.NewRegistry(),
		Tokens:        []string{testToken},
		MaxConcurrent: 4,
		Limits: Limits{
			MaxBodySize:    1 << 20,
			MaxDecodedSize: 4 << 20,
			MaxAheadTime:   10 * time.Minute,
			MaxAge:         7 * 24 * time.Hour,
		},
	}
	if mod != nil {
		mod(&o)
	}
	h, err := NewRemoteWrite(o)
	require.NoError(t, err)
	return h
}

func ts(t int64, v float64, lbls ...string) prompb.TimeSeries {
	s := prompb.TimeSeries{Samples: []prompb.Sample{{Timestamp: t, Value: v}}}
	for i := 0; i < len(lbls); i += 2 {
		s.Labels = append(s.Labels, prompb.Label{Name: lbls[i], Value: lbls[i+1]})
	}
	return s
}

func encode(t testing.TB, series ...prompb.TimeSeries) []byte {
	t.Helper()
	b, err := (&prompb.WriteRequest{Timeseries: series}).Marshal()
	require.NoError(t, err)
	return snappy.Encode(nil, b)
}

func post(h http.Handler, body []byte, mod func(*http.Request)) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/api/v1/write", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("Content-Encoding", "snappy")
	req.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
	req.Header.Set("Authorization", "Bearer "+testToken)
	if mod != nil {
		mod(req)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// count returns the samples stored for the series selected by matchers.
func count(t *testing.T, q storage.Queryable, ms ...*labels.Matcher) int {
	t.Helper()
	qr, err := q.Querier(math.MinInt64, math.MaxInt64)
	require.NoError(t, err)
	defer qr.Close()
	set := qr.Select(context.Background(), false, nil, ms...)
	n := 0
	for set.Next() {
		it := set.At().Iterator(nil)
		for it.Next() != chunkenc.ValNone {
			n++
		}
		require.NoError(t, it.Err())
	}
	require.NoError(t, set.Err())
	return n
}

func name(n string) *labels.Matcher {
	return labels.MustNewMatcher(labels.MatchEqual, labels.MetricName, n)
}

func TestRemoteWriteStatusCodes(t *testing.T) {
	now := time.Now().UnixMilli()
	good := encode(t, ts(now, 1, "__name__", "good", "job", "a"))
	noise := make([]byte, 3<<20)
	_, _ = rand.Read(noise)
	big := encode(t, ts(now, 1, "__name__", "big", "pad", hex.EncodeToString(noise)))
	hugeDecoded := snappy.Encode(nil, bytes.Repeat([]byte{0}, 5<<20))
	for _, tc := range []struct {
		name     string
		body     []byte
		mod      func(*http.Request)
		code     int
		contains string
	}{
		{name: "stored", body: good, code: http.StatusNoContent},
		{name: "no content type is 1.0", body: good, mod: func(r *http.Request) { r.Header.Del("Content-Type") }, code: http.StatusNoContent},
		{name: "explicit 1.0 proto", body: good, mod: func(r *http.Request) {
			r.Header.Set("Content-Type", "application/x-protobuf;proto=prometheus.WriteRequest")
		}, code: http.StatusNoContent},
		{name: "GET", body: good, mod: func(r *http.Request) { r.Method = http.MethodGet }, code: http.StatusMethodNotAllowed},
		{name: "no token", body: good, mod: func(r *http.Request) { r.Header.Del("Authorization") }, code: http.StatusUnauthorized, contains: "missing bearer token"},
		{name: "basic auth", body: good, mod: func(r *http.Request) { r.SetBasicAuth("u", "p") }, code: http.StatusUnauthorized},
		{name: "wrong token", body: good, mod: func(r *http.Request) { r.Header.Set("Authorization", "Bearer nope") }, code: http.StatusForbidden},
		{name: "json", body: good, mod: func(r *http.Request) { r.Header.Set("Content-Type", "application/json") }, code: http.StatusUnsupportedMediaType, contains: "application/x-protobuf"},
		{name: "unknown proto", body: good, mod: func(r *http.Request) {
			r.Header.Set("Content-Type", "application/x-protobuf;proto=foo.Bar")
		}, code: http.StatusUnsupportedMediaType},
		{name: "gzip", body: good, mod: func(r *http.Request) { r.Header.Set("Content-Encoding", "gzip") }, code: http.StatusUnsupportedMediaType, contains: "snappy"},
		{name: "not snappy", body: []byte("hello, this is not snappy"), code: http.StatusBadRequest},
		{name: "empty body", body: nil, code: http.StatusBadRequest, contains: "snappy"},
		{name: "empty request", body: snappy.Encode(nil, nil), code: http.StatusNoContent},
		{name: "truncated protobuf", body: snappy.Encode(nil, mustMarshal(t, ts(now, 1, "__name__", "x"))[:7]), code: http.StatusBadRequest, contains: "malformed"},
		{name: "garbage protobuf", body: snappy.Encode(nil, []byte{0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f}), code: http.StatusBadRequest, contains: "malformed"},
		{name: "body too large", body: big, code: http.StatusRequestEntityTooLarge, contains: "max_body_size"},
		{name: "decoded too large", body: hugeDecoded, code: http.StatusRequestEntityTooLarge, contains: "max_decoded_size"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHandler(t, openStore(t), nil)
			rec := post(h, tc.body, tc.mod)
			require.Equal(t, tc.code, rec.Code, rec.Body.String())
			require.Contains(t, rec.Body.String(), tc.contains)
		})
	}
}

func TestRemoteWriteStoresSamples(t *testing.T) {
	store := openStore(t)
	h := newHandler(t, store, nil)
	now := time.Now().UnixMilli()
	var series []prompb.TimeSeries
	for i := range 100 {
		s := ts(now-60_000, float64(i), "__name__", "node_load1", "instance", fmt.Sprintf("host-%d", i), "job", "node")
		s.Samples = append(s.Samples, prompb.Sample{Timestamp: now, Value: float64(i) + 0.5})
		series = append(series, s)
	}
	// Labels out of order are accepted and sorted.
	series = append(series, prompb.TimeSeries{
		Labels:  []prompb.Label{{Name: "job", Value: "x"}, {Name: "__name__", Value: "unsorted"}},
		Samples: []prompb.Sample{{Timestamp: now, Value: 7}},
	})
	rec := post(h, encode(t, series...), nil)
	require.Equal(t, http.StatusNoContent, rec.Code, rec.Body.String())
	require.Equal(t, "201", rec.Header().Get("X-Prometheus-Remote-Write-Samples-Written"))
	require.Equal(t, 200, count(t, store, name("node_load1")))
	require.Equal(t, 1, count(t, store, name("unsorted"), labels.MustNewMatcher(labels.MatchEqual, "job", "x")))
}

func TestRemoteWritePartialRejects(t *testing.T) {
	now := time.Now().UnixMilli()
	for _, tc := range []struct {
		name     string
		first    []prompb.TimeSeries // sent before, must succeed
		series   []prompb.TimeSeries
		stored   int // samples of metric "ok" stored
		contains string
	}{
		{
			name:     "out of order",
			first:    []prompb.TimeSeries{ts(now, 1, "__name__", "old")},
			series:   []prompb.TimeSeries{ts(now-1000, 2, "__name__", "old"), ts(now, 1, "__name__", "ok")},
			stored:   1,
			contains: "out of order sample",
		},
		{
			name:     "duplicate timestamp with another value",
			first:    []prompb.TimeSeries{ts(now, 1, "__name__", "dup")},
			series:   []prompb.TimeSeries{ts(now, 2, "__name__", "dup"), ts(now, 1, "__name__", "ok")},
			stored:   1,
			contains: "duplicate sample",
		},
		{
			name:     "too far ahead",
			series:   []prompb.TimeSeries{ts(now+time.Hour.Milliseconds(), 1, "__name__", "future"), ts(now, 1, "__name__", "ok")},
			stored:   1,
			contains: "too far in the future",
		},
		{
			name:     "too old for the head",
			first:    []prompb.TimeSeries{ts(now, 1, "__name__", "x")},
			series:   []prompb.TimeSeries{ts(now-5*24*time.Hour.Milliseconds(), 1, "__name__", "ancient"), ts(now, 1, "__name__", "ok")},
			stored:   1,
			contains: "out of bounds",
		},
		{
			name:     "older than the retention",
			series:   []prompb.TimeSeries{ts(now-8*24*time.Hour.Milliseconds(), 1, "__name__", "ancient"), ts(now, 1, "__name__", "ok")},
			stored:   1,
			contains: "older than the retention",
		},
		{
			name:     "no metric name",
			series:   []prompb.TimeSeries{ts(now, 1, "job", "x"), ts(now, 1, "__name__", "ok")},
			stored:   1,
			contains: "1 series with invalid labels",
		},
		{
			name:     "duplicate label",
			series:   []prompb.TimeSeries{ts(now, 1, "__name__", "d", "a", "1", "a", "2"), ts(now, 1, "__name__", "ok")},
			stored:   1,
			contains: "1 series with invalid labels",
		},
		{
			name:     "invalid utf-8 label name",
			series:   []prompb.TimeSeries{ts(now, 1, "__name__", "u", "\xff", "1"), ts(now, 1, "__name__", "ok")},
			stored:   1,
			contains: "1 series with invalid labels",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := openStore(t)
			h := newHandler(t, store, nil)
			if tc.first != nil {
				rec := post(h, encode(t, tc.first...), nil)
				require.Equal(t, http.StatusNoContent, rec.Code, rec.Body.String())
			}
			rec := post(h, encode(t, tc.series...), nil)
			require.Equal(t, http.StatusBadRequest, rec.Code, "a sender must not retry")
			require.Contains(t, rec.Body.String(), tc.contains)
			require.Equal(t, tc.stored, count(t, store, name("ok")), "valid samples of the batch are kept")
		})
	}
}

func TestRemoteWriteHistogramsAndExemplars(t *testing.T) {
	store := openStore(t)
	h := newHandler(t, store, nil)
	now := time.Now().UnixMilli()
	s := ts(now, 3, "__name__", "req_total")
	s.Exemplars = []prompb.Exemplar{{Labels: []prompb.Label{{Name: "trace_id", Value: "abc"}}, Value: 1, Timestamp: now}}
	hist := prompb.TimeSeries{
		Labels: []prompb.Label{{Name: "__name__", Value: "latency"}},
		Histograms: []prompb.Histogram{{
			Count: &prompb.Histogram_CountInt{CountInt: 2}, Sum: 0.3, Schema: 0, ZeroThreshold: 1e-128,
			ZeroCount:      &prompb.Histogram_ZeroCountInt{ZeroCountInt: 0},
			PositiveSpans:  []prompb.BucketSpan{{Offset: 0, Length: 1}},
			PositiveDeltas: []int64{2},
			Timestamp:      now,
		}},
	}
	rec := post(h, encode(t, s, hist), nil)
	require.Equal(t, http.StatusNoContent, rec.Code, rec.Body.String())
	require.Equal(t, "1", rec.Header().Get("X-Prometheus-Remote-Write-Histograms-Written"))
	require.Equal(t, 1, count(t, store, name("latency")))

	eq, err := store.ExemplarQuerier(context.Background())
	require.NoError(t, err)
	res, err := eq.Select(now-1000, now+1000, []*labels.Matcher{name("req_total")})
	require.NoError(t, err)
	require.Len(t, res, 1)
	require.Len(t, res[0].Exemplars, 1)
}

func TestRemoteWriteV2(t *testing.T) {
	store := openStore(t)
	h := newHandler(t, store, nil)
	st := writev2.NewSymbolTable()
	now := time.Now().UnixMilli()
	req := writev2.Request{Timeseries: []writev2.TimeSeries{{
		LabelsRefs: st.SymbolizeLabels(labels.FromStrings("__name__", "v2_metric", "job", "x"), nil),
		Samples:    []writev2.Sample{{Value: 4, Timestamp: now}},
		Metadata:   writev2.Metadata{Type: writev2.Metadata_METRIC_TYPE_GAUGE},
	}}}
	req.Symbols = st.Symbols()
	b, err := req.Marshal()
	require.NoError(t, err)
	rec := post(h, snappy.Encode(nil, b), func(r *http.Request) {
		r.Header.Set("Content-Type", "application/x-protobuf;proto=io.prometheus.write.v2.Request")
		r.Header.Set("X-Prometheus-Remote-Write-Version", "2.0.0")
	})
	require.Equal(t, http.StatusNoContent, rec.Code, rec.Body.String())
	require.Equal(t, 1, count(t, store, name("v2_metric")))

	// Authentication applies to 2.0 as well.
	rec = post(h, snappy.Encode(nil, b), func(r *http.Request) {
		r.Header.Set("Content-Type", "application/x-protobuf;proto=io.prometheus.write.v2.Request")
		r.Header.Del("Authorization")
	})
	require.Equal(t, http.StatusUnauthorized, rec.Code)
}

func TestRemoteWriteTokensReload(t *testing.T) {
	h := newHandler(t, openStore(t), nil)
	body := encode(t, ts(time.Now().UnixMilli(), 1, "__name__", "x"))
	h.SetTokens([]string{"new-token-0123456789abcdef"})
	require.Equal(t, http.StatusForbidden, post(h, body, nil).Code)
	rec := post(h, body, func(r *http.Request) { r.Header.Set("Authorization", "Bearer new-token-0123456789abcdef") })
	require.Equal(t, http.StatusNoContent, rec.Code)
}

// blockingAppendable holds every appender until released, to fill the
// handler's concurrency slots.
type blockingAppendable struct {
	storage.Appendable
	entered chan struct{}
	release chan struct{}
}

func (b blockingAppendable) Appender(ctx context.Context) storage.Appender {
	b.entered <- struct{}{}
	<-b.release
	return b.Appendable.Appender(ctx)
}

func TestRemoteWriteOverloadIs503(t *testing.T) {
	app := blockingAppendable{Appendable: openStore(t), entered: make(chan struct{}, 1), release: make(chan struct{})}
	h := newHandler(t, app, func(o *Options) { o.MaxConcurrent = 1; o.QueueTimeout = 50 * time.Millisecond })
	body := encode(t, ts(time.Now().UnixMilli(), 1, "__name__", "x"))
	done := make(chan int)
	go func() { done <- post(h, body, nil).Code }()
	<-app.entered
	rec := post(h, body, nil)
	require.Equal(t, http.StatusServiceUnavailable, rec.Code)
	require.NotEmpty(t, rec.Header().Get("Retry-After"))
	close(app.release)
	require.Equal(t, http.StatusNoContent, <-done)
}

func TestRemoteWriteClosedStoreIs5xx(t *testing.T) {
	s, err := metrics.Open(metrics.Options{Dir: t.TempDir(), Retention: time.Hour, Logger: slog.New(slog.DiscardHandler), Registerer: prometheus.NewRegistry()})
	require.NoError(t, err)
	h := newHandler(t, s, nil)
	require.NoError(t, s.Close())
	rec := post(h, encode(t, ts(time.Now().UnixMilli(), 1, "__name__", "x")), nil)
	require.GreaterOrEqual(t, rec.Code, 500, rec.Body.String())
	_, _ = io.Copy(io.Discard, rec.Body)
}

func mustMarshal(t testing.TB, series ...prompb.TimeSeries) []byte {
	t.Helper()
	b, err := (&prompb.WriteRequest{Timeseries: series}).Marshal()
	require.NoError(t, err)
	return b
}

// BenchmarkRemoteWrite measures the whole receive path, from the snappy
// body to committed samples in a real TSDB: 10,000 series in requests of
// 2,000, each round one sample per series 15 s after the previous one.
func BenchmarkRemoteWrite(b *testing.B) {
	const seriesN, batch = 10_000, 2_000
	store, err := metrics.Open(metrics.Options{Dir: b.TempDir(), Retention: 365 * 24 * time.Hour, Logger: slog.New(slog.DiscardHandler), Registerer: prometheus.NewRegistry()})
	require.NoError(b, err)
	defer store.Close()
	o := Options{Appendable: store, Logger: slog.New(slog.DiscardHandler), Registerer: prometheus.NewRegistry(), Tokens: []string{testToken}, MaxConcurrent: 4,
		Limits: Limits{MaxBodySize: 64 << 20, MaxDecodedSize: 256 << 20, MaxAheadTime: 1000 * 24 * time.Hour}}
	h, err := NewRemoteWrite(o)
	require.NoError(b, err)
	modes := []string{"user", "system", "idle", "iowait"}
	start := time.Now().Add(-24 * time.Hour).UnixMilli()
	body := func(round, first int) []byte {
		req := &prompb.WriteRequest{}
		for i := first; i < first+batch; i++ {
			req.Timeseries = append(req.Timeseries, prompb.TimeSeries{
				Labels: []prompb.Label{
					{Name: "__name__", Value: "node_cpu_seconds_total"}, {Name: "cpu", Value: fmt.Sprint(i % 25)},
					{Name: "instance", Value: fmt.Sprintf("host-%04d:9100", i/100)}, {Name: "job", Value: "node"},
					{Name: "mode", Value: modes[(i/25)%4]},
				},
				Samples: []prompb.Sample{{Timestamp: start + int64(round)*15_000, Value: float64(round * i)}},
			})
		}
		return encode(b, req.Timeseries...)
	}
	// Pre-encode the requests (rounds of every series), then replay them
	// with shifted timestamps by creating new rounds only when needed.
	const rounds = 40
	var bodies [][]byte
	for r := range rounds {
		for first := 0; first < seriesN; first += batch {
			bodies = append(bodies, body(r, first))
		}
	}
	b.ReportAllocs()
	samples := 0
	for n := 0; b.Loop(); n++ {
		if n == len(bodies) {
			b.Fatalf("benchmark ran past %d requests; raise rounds", len(bodies))
		}
		rec := post(h, bodies[n], nil)
		if rec.Code != http.StatusNoContent {
			b.Fatalf("status %d: %s", rec.Code, rec.Body.String())
		}
		samples += batch
	}
	b.ReportMetric(float64(samples)/b.Elapsed().Seconds(), "samples/s")
}
