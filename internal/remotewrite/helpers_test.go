package remotewrite

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/snappy"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/prometheus/prompb"
	"github.com/stretchr/testify/require"
)

const (
	testToken = "test-token-0123456789abcdef"
	baseTS    = int64(1_700_000_000_000)
)

// got is one sample as the receiver decoded it.
type got struct {
	series string // the full label set, Prometheus style
	t      int64
	v      float64
}

// receiver decodes remote-write 1.0 as a server does and records what it
// gets. fault, when set, may answer a request itself: it gets the
// request's number (from 1) and returns true when it answered.
type receiver struct {
	t *testing.T

	mu       sync.Mutex
	token    string
	requests int
	samples  []got
	sizes    []int // samples per stored request
	fault    func(w http.ResponseWriter, r *http.Request, n int) bool
}

func newReceiver(t *testing.T) *receiver {
	return &receiver{t: t, token: testToken}
}

func (rv *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rv.mu.Lock()
	rv.requests++
	n, fault, token := rv.requests, rv.fault, rv.token
	rv.mu.Unlock()
	if fault != nil && fault(w, r, n) {
		return
	}
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	for h, want := range map[string]string{
		"Content-Encoding":                  "snappy",
		"Content-Type":                      "application/x-protobuf",
		"X-Prometheus-Remote-Write-Version": "0.1.0",
	} {
		if got := r.Header.Get(h); got != want {
			rv.t.Errorf("header %s = %q, want %q", h, got, want)
			http.Error(w, "bad header "+h, http.StatusBadRequest)
			return
		}
	}
	if r.Header.Get("User-Agent") == "" {
		rv.t.Errorf("no User-Agent")
	}
	auth := r.Header.Get("Authorization")
	if !strings.HasPrefix(auth, "Bearer ") {
		http.Error(w, "missing bearer token", http.StatusUnauthorized)
		return
	}
	if strings.TrimPrefix(auth, "Bearer ") != token {
		http.Error(w, "bearer token not accepted", http.StatusForbidden)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	raw, err := snappy.Decode(nil, body)
	if err != nil {
		rv.t.Errorf("body is not snappy: %v", err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var req prompb.WriteRequest
	if err := req.Unmarshal(raw); err != nil {
		rv.t.Errorf("body is not a WriteRequest: %v", err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var out []got
	for _, ts := range req.Timeseries {
		for _, s := range ts.Samples {
			out = append(out, got{series: labelString(ts.Labels), t: s.Timestamp, v: s.Value})
		}
	}
	rv.mu.Lock()
	rv.samples = append(rv.samples, out...)
	rv.sizes = append(rv.sizes, len(out))
	rv.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (rv *receiver) got() []got {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	return slices.Clone(rv.samples)
}

func (rv *receiver) count() int {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	return len(rv.samples)
}

func (rv *receiver) setFault(f func(w http.ResponseWriter, r *http.Request, n int) bool) {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	rv.fault = f
}

func (rv *receiver) stored() []int {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	return slices.Clone(rv.sizes)
}

func labelString(ls []prompb.Label) string {
	var b strings.Builder
	name := ""
	var rest []string
	for _, l := range ls {
		if l.Name == "__name__" {
			name = l.Value
			continue
		}
		rest = append(rest, fmt.Sprintf("%s=%q", l.Name, l.Value))
	}
	sort.Strings(rest)
	b.WriteString(name)
	b.WriteString("{" + strings.Join(rest, ",") + "}")
	return b.String()
}

func seriesName(k int) string {
	return fmt.Sprintf(`test_metric{instance="host-1",job="node",series="%d"}`, k)
}

// collection is collection number i: nSeries series of one sample each.
func collection(i, nSeries int) []prompb.TimeSeries {
	out := make([]prompb.TimeSeries, nSeries)
	for k := range out {
		out[k] = prompb.TimeSeries{
			Labels: []prompb.Label{
				{Name: "__name__", Value: "test_metric"},
				{Name: "instance", Value: "host-1"},
				{Name: "job", Value: "node"},
				{Name: "series", Value: strconv.Itoa(k)},
			},
			Samples: []prompb.Sample{{Value: float64(i*1000+k) + 0.25, Timestamp: baseTS + int64(i)*15000}},
		}
	}
	return out
}

// verify checks that samples holds exactly collections want (in any
// number, each once when exactlyOnce) with the right labels, values and
// timestamps, and that every series arrived in time order (ignoring
// repeats of what was already received).
func verify(t *testing.T, samples []got, want []int, nSeries int, exactlyOnce bool) {
	t.Helper()
	type key struct {
		series string
		t      int64
	}
	expect := map[key]float64{}
	for _, i := range want {
		for k := range nSeries {
			expect[key{seriesName(k), baseTS + int64(i)*15000}] = float64(i*1000+k) + 0.25
		}
	}
	seen := map[key]bool{}
	last := map[string]int64{}
	for _, s := range samples {
		k := key{s.series, s.t}
		v, ok := expect[k]
		require.Truef(t, ok, "unexpected sample %v", s)
		require.Equal(t, v, s.v, "value of %v", s)
		if seen[k] {
			require.Falsef(t, exactlyOnce, "duplicate sample %v", s)
			continue
		}
		seen[k] = true
		require.Greaterf(t, s.t, last[s.series], "series %s went back in time", s.series)
		last[s.series] = s.t
	}
	require.Len(t, seen, len(expect), "samples delivered")
}

func span(from, to int) []int {
	var out []int
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

// logBuffer collects logs for assertions.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *logBuffer) count(s string) int {
	return strings.Count(l.String(), s)
}

type testClient struct {
	*Client
	reg  *prometheus.Registry
	logs *logBuffer
	dir  string
}

// newClient opens a client on dir with fast backoffs; mod adjusts the
// options.
func newClient(t *testing.T, dir, url string, mod func(*Options)) *testClient {
	t.Helper()
	logs := &logBuffer{}
	reg := prometheus.NewRegistry()
	o := Options{
		URL:        url,
		Token:      testToken,
		Dir:        dir,
		Timeout:    5 * time.Second,
		MinBackoff: 2 * time.Millisecond,
		MaxBackoff: 40 * time.Millisecond,
		Logger:     slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Registerer: reg,
	}
	if mod != nil {
		mod(&o)
	}
	c, err := New(o)
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = c.Close()
		if t.Failed() {
			t.Logf("client logs:\n%s", logs.String())
		}
	})
	return &testClient{Client: c, reg: reg, logs: logs, dir: dir}
}

// run starts Run and returns a function that stops it and checks that it
// returned nil; it is also called at cleanup.
func (c *testClient) run(t *testing.T) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- c.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-errc:
				require.NoError(t, err)
			case <-time.After(10 * time.Second):
				t.Error("Run did not return after cancellation")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func (c *testClient) enqueue(t *testing.T, from, to, nSeries int) {
	t.Helper()
	for i := from; i < to; i++ {
		require.NoError(t, c.Enqueue(collection(i, nSeries)))
	}
}

func (c *testClient) dropped(reason string) float64 {
	return testutil.ToFloat64(c.m.dropped.WithLabelValues(reason))
}

func (c *testClient) requestsWith(code string) float64 {
	return testutil.ToFloat64(c.m.requests.WithLabelValues(code))
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	require.Eventually(t, cond, 15*time.Second, 2*time.Millisecond, what)
}

// waitSent waits until the receiver stored n samples, the client counted
// them sent and has nothing left to send (the position is saved).
func waitSent(t *testing.T, c *testClient, rv *receiver, what string, n int) {
	t.Helper()
	waitFor(t, what, func() bool {
		return rv.count() >= n && testutil.ToFloat64(c.m.samplesSent) >= float64(n) &&
			testutil.ToFloat64(c.m.pendingSamples) == 0
	})
}

// freeAddr returns a local address where nothing listens.
func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

func startServer(t *testing.T, h http.Handler) *httptest.Server {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func newRegistry() *prometheus.Registry { return prometheus.NewRegistry() }
