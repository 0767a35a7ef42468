package collector

import (
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"
)

// labelKey renders a metric's labels for sorting and comparing.
func labelKey(m *dto.Metric) string {
	var b strings.Builder
	for _, l := range m.Label {
		b.WriteString(l.GetName() + "=" + l.GetValue() + ",")
	}
	return b.String()
}

// fastGather is Node.Gather as a map, with each family's series sorted as
// a registry sorts them.
func fastGather(t *testing.T, n *Node) map[string]*dto.MetricFamily {
	t.Helper()
	mfs, err := n.Gather()
	require.NoError(t, err)
	require.True(t, slices.IsSortedFunc(mfs, func(a, b *dto.MetricFamily) int { return strings.Compare(a.GetName(), b.GetName()) }))
	out := map[string]*dto.MetricFamily{}
	for _, mf := range mfs {
		slices.SortFunc(mf.Metric, func(a, b *dto.Metric) int { return strings.Compare(labelKey(a), labelKey(b)) })
		out[mf.GetName()] = mf
	}
	return out
}

// TestGatherMatchesRegistry holds Node.Gather, which skips the registry's
// checks, to what a pedantic registry makes of the same collection: on the
// fixtures the same exposition; on this machine the same families, types
// and series (values move between two collections).
func TestGatherMatchesRegistry(t *testing.T) {
	n := newFixtureNode(t, fixtureOptions("testdata", &logRecorder{}))
	require.Equal(t, exposition(t, gatherPedantic(t, n)), exposition(t, fastGather(t, n)))

	live, err := New(Options{Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	want := gatherPedantic(t, live)
	got := fastGather(t, live)
	require.Equal(t, len(want), len(got))
	for name, w := range want {
		g, ok := got[name]
		require.True(t, ok, name)
		require.Equal(t, w.GetType(), g.GetType(), name)
		require.Equal(t, w.GetHelp(), g.GetHelp(), name)
		if name == "node_filesystem_device_error" || strings.HasPrefix(name, "node_tcp_") {
			continue // mounts and sockets come and go between two collections
		}
		var wk, gk []string
		for _, m := range w.Metric {
			wk = append(wk, labelKey(m))
		}
		for _, m := range g.Metric {
			gk = append(gk, labelKey(m))
		}
		require.Equal(t, wk, gk, name)
	}
}

// BenchmarkGather compares Node.Gather with a registry's Gather on this
// machine.
func BenchmarkGather(b *testing.B) {
	n, err := New(Options{Logger: slog.New(slog.DiscardHandler)})
	require.NoError(b, err)
	reg := prometheus.NewRegistry()
	require.NoError(b, reg.Register(n))
	for name, g := range map[string]prometheus.Gatherer{"node": n, "registry": reg} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := g.Gather(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
