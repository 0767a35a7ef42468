package remotewrite

import (
	"fmt"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
)

func openPayloadQueue(t *testing.T, dir string) (*Queue, *queueMetrics) {
	t.Helper()
	m := &queueMetrics{
		queueBytes:     prometheus.NewGauge(prometheus.GaugeOpts{Name: "b"}),
		pendingSamples: prometheus.NewGauge(prometheus.GaugeOpts{Name: "p"}),
		dropped:        prometheus.NewCounterVec(prometheus.CounterOpts{Name: "d"}, []string{"reason"}),
	}
	q, err := OpenQueue(QueueOptions{Dir: dir, MaxSize: 1 << 20, Logger: discardLogger(), Bytes: m.queueBytes, Pending: m.pendingSamples, Dropped: m.dropped})
	require.NoError(t, err)
	return q, m
}

// A payload queue keeps what was not committed across a reopen, and
// batches by items.
func TestPayloadQueue(t *testing.T) {
	dir := t.TempDir()
	q, m := openPayloadQueue(t, dir)
	for i := range 5 {
		require.NoError(t, q.Append(fmt.Appendf(nil, "payload %d", i), 10))
	}
	require.True(t, q.Wait(t.Context()))
	require.EqualValues(t, 50, q.Pending())
	require.EqualValues(t, 50, testutil.ToFloat64(m.pendingSamples))

	b, err := q.Next(20, 1<<20)
	require.NoError(t, err)
	require.Equal(t, 2, b.Len())
	require.EqualValues(t, 20, b.Items(2))
	p, err := b.Payload(1)
	require.NoError(t, err)
	require.Equal(t, "payload 1", string(p))
	q.Shrink(b, 1)
	q.Commit(b, 1)
	require.EqualValues(t, 40, q.Pending())

	b, err = q.Next(100, 1<<20)
	require.NoError(t, err)
	require.Equal(t, 4, b.Len())
	q.Commit(b, 0) // nothing delivered
	require.NoError(t, q.Close())

	q, _ = openPayloadQueue(t, dir)
	defer q.Close()
	require.EqualValues(t, 40, q.Pending())
	b, err = q.Next(100, 1<<20)
	require.NoError(t, err)
	var got []string
	for i := range b.Len() {
		p, err := b.Payload(i)
		require.NoError(t, err)
		got = append(got, string(p))
	}
	require.Equal(t, []string{"payload 1", "payload 2", "payload 3", "payload 4"}, got)
	q.Commit(b, b.Len())
	b, err = q.Next(100, 1<<20)
	require.NoError(t, err)
	require.Nil(t, b)
	require.Zero(t, q.Pending())
}
