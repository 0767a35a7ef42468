package agent

import (
	"sort"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/prompb"
	"github.com/stretchr/testify/require"
)

func TestSeriesBuilder(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "node_forks_total", Help: "h"}, []string{"instance", "cpu"})
	c.WithLabelValues("from-metric", "0").Add(3)
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "node_load1", Help: "h"})
	g.Set(0.5)
	s := prometheus.NewSummary(prometheus.SummaryOpts{Name: "rt_seconds", Help: "h", Objectives: map[float64]float64{0.5: 0.05}})
	s.Observe(2)
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "lat_seconds", Help: "h", Buckets: []float64{1, 5}})
	h.Observe(3)
	reg.MustRegister(c, g, s, h)
	mfs, err := reg.Gather()
	require.NoError(t, err)

	b := newSeriesBuilder(map[string]string{"job": "node", "instance": "web-1", "env": "prod"})
	got := map[string]float64{}
	for _, ts := range b.build(nil, mfs, 1234) {
		require.True(t, sort.SliceIsSorted(ts.Labels, func(i, j int) bool { return ts.Labels[i].Name < ts.Labels[j].Name }), "labels sorted: %v", ts.Labels)
		require.Equal(t, []prompb.Sample{{Value: ts.Samples[0].Value, Timestamp: 1234}}, ts.Samples)
		got[labelString(ts.Labels)] = ts.Samples[0].Value
	}
	require.Equal(t, map[string]float64{
		`{__name__="node_forks_total",cpu="0",env="prod",instance="web-1",job="node"}`:     3,
		`{__name__="node_load1",env="prod",instance="web-1",job="node"}`:                   0.5,
		`{__name__="rt_seconds",env="prod",instance="web-1",job="node",quantile="0.5"}`:    2,
		`{__name__="rt_seconds_sum",env="prod",instance="web-1",job="node"}`:               2,
		`{__name__="rt_seconds_count",env="prod",instance="web-1",job="node"}`:             1,
		`{__name__="lat_seconds_bucket",env="prod",instance="web-1",job="node",le="1"}`:    0,
		`{__name__="lat_seconds_bucket",env="prod",instance="web-1",job="node",le="5"}`:    1,
		`{__name__="lat_seconds_bucket",env="prod",instance="web-1",job="node",le="+Inf"}`: 1,
		`{__name__="lat_seconds_sum",env="prod",instance="web-1",job="node"}`:              3,
		`{__name__="lat_seconds_count",env="prod",instance="web-1",job="node"}`:            1,
	}, got)
}

func labelString(ls []prompb.Label) string {
	s := "{"
	for i, l := range ls {
		if i > 0 {
			s += ","
		}
		s += l.Name + `="` + l.Value + `"`
	}
	return s + "}"
}

func TestConcatGatherers(t *testing.T) {
	a, b := prometheus.NewRegistry(), prometheus.NewRegistry()
	ga := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "shared", Help: "h"}, []string{"from"})
	ga.WithLabelValues("a").Set(1)
	gb := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "shared", Help: "h"}, []string{"from"})
	gb.WithLabelValues("b").Set(2)
	a.MustRegister(ga, prometheus.NewGauge(prometheus.GaugeOpts{Name: "zeta", Help: "h"}))
	b.MustRegister(gb, prometheus.NewGauge(prometheus.GaugeOpts{Name: "alpha", Help: "h"}))
	mfs, err := concat{a, b}.Gather()
	require.NoError(t, err)
	var names []string
	for _, mf := range mfs {
		names = append(names, mf.GetName())
	}
	require.Equal(t, []string{"alpha", "shared", "zeta"}, names)
	require.Len(t, mfs[1].Metric, 2, "series of a name found in both are kept")
}
