package ingest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/prompb"
	"github.com/stretchr/testify/require"
)

// decodeAll collects what decodeWriteRequest yields, copied out of the
// reused buffers, in the shape of prompb for comparison.
func decodeAll(buf []byte) ([]prompb.TimeSeries, error) {
	var out []prompb.TimeSeries
	var s series
	err := decodeWriteRequest(buf, &s, func(s *series) error {
		if err := s.parseLabels(); err != nil {
			return err
		}
		var ts prompb.TimeSeries
		for _, l := range s.labels {
			ts.Labels = append(ts.Labels, prompb.Label{Name: string([]byte(l.name)), Value: string([]byte(l.value))})
		}
		for _, smp := range s.samples {
			ts.Samples = append(ts.Samples, prompb.Sample{Timestamp: smp.t, Value: smp.v})
		}
		for _, raw := range s.histograms {
			var h prompb.Histogram
			if err := h.Unmarshal(raw); err != nil {
				return err
			}
			ts.Histograms = append(ts.Histograms, h)
		}
		for _, raw := range s.exemplars {
			var e prompb.Exemplar
			if err := e.Unmarshal(raw); err != nil {
				return err
			}
			ts.Exemplars = append(ts.Exemplars, e)
		}
		out = append(out, ts)
		return nil
	})
	return out, err
}

// requireSame compares decoded series with prompb's, treating nil and
// empty slices alike.
func requireSame(t testing.TB, want, got []prompb.TimeSeries) {
	t.Helper()
	require.Equal(t, len(want), len(got), "series count")
	for i := range want {
		w, g := want[i], got[i]
		require.Equal(t, len(w.Labels), len(g.Labels), "series %d labels", i)
		for j := range w.Labels {
			require.Equal(t, w.Labels[j].Name, g.Labels[j].Name)
			require.Equal(t, w.Labels[j].Value, g.Labels[j].Value)
		}
		require.Equal(t, len(w.Samples), len(g.Samples), "series %d samples", i)
		for j := range w.Samples {
			require.Equal(t, w.Samples[j].Timestamp, g.Samples[j].Timestamp)
			require.Equal(t, math.Float64bits(w.Samples[j].Value), math.Float64bits(g.Samples[j].Value))
		}
		require.Equal(t, len(w.Histograms), len(g.Histograms))
		require.Equal(t, len(w.Exemplars), len(g.Exemplars))
	}
}

func randomRequest(r *rand.Rand) *prompb.WriteRequest {
	req := &prompb.WriteRequest{}
	for i := range r.IntN(50) {
		ts := prompb.TimeSeries{Labels: []prompb.Label{{Name: "__name__", Value: fmt.Sprintf("m_%d", r.IntN(10))}}}
		for j := range r.IntN(6) {
			ts.Labels = append(ts.Labels, prompb.Label{Name: fmt.Sprintf("l%d", j), Value: fmt.Sprintf("v%d-%d", i, r.Int())})
		}
		for range r.IntN(5) {
			ts.Samples = append(ts.Samples, prompb.Sample{Timestamp: r.Int64() - math.MaxInt64/2, Value: r.NormFloat64() * 1e6})
		}
		if r.IntN(4) == 0 {
			ts.Samples = append(ts.Samples, prompb.Sample{Timestamp: 0, Value: math.NaN()}, prompb.Sample{Timestamp: -1, Value: math.Inf(-1)})
		}
		if r.IntN(5) == 0 {
			ts.Histograms = append(ts.Histograms, prompb.Histogram{Count: &prompb.Histogram_CountInt{CountInt: 1}, Timestamp: 5, PositiveSpans: []prompb.BucketSpan{{Length: 1}}, PositiveDeltas: []int64{1}})
		}
		if r.IntN(5) == 0 {
			ts.Exemplars = append(ts.Exemplars, prompb.Exemplar{Labels: []prompb.Label{{Name: "trace_id", Value: "x"}}, Value: 1, Timestamp: 2})
		}
		req.Timeseries = append(req.Timeseries, ts)
	}
	if r.IntN(3) == 0 {
		req.Metadata = []prompb.MetricMetadata{{MetricFamilyName: "m_1", Type: prompb.MetricMetadata_COUNTER, Help: "h"}}
	}
	return req
}

func TestDecodeMatchesPrompb(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 500 {
		req := randomRequest(r)
		b, err := req.Marshal()
		require.NoError(t, err)
		got, err := decodeAll(b)
		require.NoError(t, err, "request %d", i)
		requireSame(t, req.Timeseries, got)
	}
}

func TestDecodeErrors(t *testing.T) {
	valid, err := (&prompb.WriteRequest{Timeseries: []prompb.TimeSeries{{
		Labels:  []prompb.Label{{Name: "__name__", Value: "up"}},
		Samples: []prompb.Sample{{Timestamp: 1, Value: 1}},
	}}}).Marshal()
	require.NoError(t, err)
	for _, tc := range []struct {
		name string
		in   []byte
		ok   bool
	}{
		{"empty", nil, true},
		{"valid", valid, true},
		{"truncated", valid[:len(valid)-3], false},
		{"bad tag", []byte{0x80}, false},
		{"length past end", []byte{0x0a, 0x10, 0x00}, false},
		{"field number zero", []byte{0x02, 0x00}, false},
		{"unknown varint field", []byte{0x10, 0x01}, true},
		{"truncated sample value", []byte{0x0a, 0x04, 0x12, 0x02, 0x09, 0x00}, false},
		{"label with varint in name field is skipped", []byte{0x0a, 0x04, 0x0a, 0x02, 0x08, 0x01}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeAll(tc.in)
			if tc.ok {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, errMalformed)
			}
		})
	}
}

// FuzzDecodeWriteRequest checks that any input decodes or fails cleanly,
// and that whatever prompb (the generated decoder) accepts, ours accepts
// with the same content.
func FuzzDecodeWriteRequest(f *testing.F) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 20 {
		b, err := randomRequest(r).Marshal()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{})
	f.Add([]byte{0x0a, 0x10, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := decodeAll(data)
		var want prompb.WriteRequest
		if want.Unmarshal(data) != nil {
			return
		}
		// prompb's generated code is lenient where protobuf says the
		// input is malformed: its skipper of unknown fields does not
		// match group end markers to their start, and it accepts varints
		// longer than 64 bits (dropping the excess). Ours rejects both;
		// every other difference is a bug.
		if err != nil && (strings.Contains(err.Error(), " field: ") || strings.Contains(err.Error(), "variable length integer overflow")) {
			return
		}
		require.NoError(t, err)
		requireSame(t, want.Timeseries, got)
	})
}

func BenchmarkDecodeWriteRequest(b *testing.B) {
	req := &prompb.WriteRequest{}
	for i := range 2000 {
		req.Timeseries = append(req.Timeseries, prompb.TimeSeries{
			Labels: []prompb.Label{
				{Name: "__name__", Value: "node_cpu_seconds_total"}, {Name: "cpu", Value: fmt.Sprint(i % 8)},
				{Name: "instance", Value: fmt.Sprintf("host-%d", i/100)}, {Name: "job", Value: "node"}, {Name: "mode", Value: "user"},
			},
			Samples: []prompb.Sample{{Timestamp: 1700000000000, Value: float64(i)}},
		})
	}
	buf, err := req.Marshal()
	require.NoError(b, err)
	b.Run("ours", func(b *testing.B) {
		b.SetBytes(int64(len(buf)))
		b.ReportAllocs()
		var s series
		for b.Loop() {
			if err := decodeWriteRequest(buf, &s, (*series).parseLabels); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("prompb", func(b *testing.B) {
		b.SetBytes(int64(len(buf)))
		b.ReportAllocs()
		for b.Loop() {
			var r prompb.WriteRequest
			if err := r.Unmarshal(buf); err != nil {
				b.Fatal(err)
			}
		}
	})
}
