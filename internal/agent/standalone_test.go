package agent

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
)

func TestHandlerCompression(t *testing.T) {
	reg := prometheus.NewRegistry()
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "node_load1", Help: "1m load average."})
	g.Set(0.25)
	reg.MustRegister(g)
	h := Handler(reg, "test", slog.New(slog.DiscardHandler))
	for _, tc := range []struct {
		accept string
		gzip   bool
	}{
		{"", false},
		{"gzip", true},
		{"identity, gzip;q=0.5", true},
		{"gzip;q=0", false},
		{"gzip; q=0.0", false},
		{"deflate, br", false},
	} {
		t.Run(tc.accept, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
			if tc.accept != "" {
				req.Header.Set("Accept-Encoding", tc.accept)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			require.Equal(t, http.StatusOK, rec.Code)
			var body io.Reader = rec.Body
			if tc.gzip {
				require.Equal(t, "gzip", rec.Header().Get("Content-Encoding"))
				zr, err := gzip.NewReader(rec.Body)
				require.NoError(t, err)
				body = zr
			} else {
				require.Empty(t, rec.Header().Get("Content-Encoding"))
			}
			b, err := io.ReadAll(body)
			require.NoError(t, err)
			require.True(t, strings.Contains(string(b), "node_load1 0.25"), "%s", b)
		})
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/-/healthy", nil))
	require.Equal(t, http.StatusOK, rec.Code)
}

// TestProcessCollector checks the agent's own process_* metrics against
// what the process knows of itself.
func TestProcessCollector(t *testing.T) {
	pc, err := newProcessCollector()
	require.NoError(t, err)
	reg := prometheus.NewRegistry()
	reg.MustRegister(pc)
	mfs, err := reg.Gather()
	require.NoError(t, err)
	got := map[string]float64{}
	for _, mf := range mfs {
		m := mf.Metric[0]
		switch {
		case m.Counter != nil:
			got[mf.GetName()] = m.Counter.GetValue()
		default:
			got[mf.GetName()] = m.Gauge.GetValue()
		}
	}
	require.Len(t, got, 6, "%v", got)
	require.Positive(t, got["process_resident_memory_bytes"])
	require.GreaterOrEqual(t, got["process_virtual_memory_bytes"], got["process_resident_memory_bytes"])
	require.Positive(t, got["process_open_fds"])
	require.GreaterOrEqual(t, got["process_max_fds"], got["process_open_fds"])
	require.GreaterOrEqual(t, got["process_cpu_seconds_total"], 0.0)
	start := time.Unix(int64(got["process_start_time_seconds"]), 0)
	require.WithinDuration(t, time.Now(), start, 10*time.Minute, "the test process started recently")
}
