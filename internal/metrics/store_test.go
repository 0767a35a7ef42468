package metrics

import (
	"context"
	"log/slog"
	"math"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/stretchr/testify/require"
)

func open(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := Open(Options{Dir: dir, Retention: 30 * 24 * time.Hour, Logger: slog.New(slog.DiscardHandler), Registerer: prometheus.NewRegistry()})
	require.NoError(t, err)
	return s
}

// TestCommittedSamplesSurviveReopen covers a clean restart; a crash
// (SIGKILL) is covered by the end-to-end tests, since the TSDB's directory
// lock cannot be dropped inside one process.
func TestCommittedSamplesSurviveReopen(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	app := s.Appender(context.Background())
	now := time.Now().UnixMilli()
	ls := labels.FromStrings("__name__", "m", "job", "j")
	for i := range 10 {
		_, err := app.Append(0, ls, now+int64(i)*1000, float64(i))
		require.NoError(t, err)
	}
	require.NoError(t, app.Commit())
	require.NoError(t, s.Close())

	s2 := open(t, dir)
	defer s2.Close()
	q, err := s2.Querier(math.MinInt64, math.MaxInt64)
	require.NoError(t, err)
	defer q.Close()
	set := q.Select(context.Background(), false, nil, labels.MustNewMatcher(labels.MatchEqual, "__name__", "m"))
	require.True(t, set.Next())
	it := set.At().Iterator(nil)
	n := 0
	for it.Next() == chunkenc.ValFloat {
		_, v := it.At()
		require.Equal(t, float64(n), v)
		n++
	}
	require.Equal(t, 10, n)
}

func TestApplyConfigAndStats(t *testing.T) {
	s := open(t, t.TempDir())
	defer s.Close()
	require.NoError(t, s.ApplyConfig(7*24*time.Hour, 1<<30, 10*time.Minute))
	require.NoError(t, s.ApplyConfig(7*24*time.Hour, 0, 0))
	st, err := s.Stats("__name__", 10)
	require.NoError(t, err)
	require.NotNil(t, st)
	_, err = s.WALReplayStatus()
	require.NoError(t, err)
	metas, err := s.BlockMetas()
	require.NoError(t, err)
	require.Empty(t, metas)
}

func TestMaxBlockDuration(t *testing.T) {
	for _, tc := range []struct{ retention, want time.Duration }{
		{30 * 24 * time.Hour, 72 * time.Hour},
		{time.Hour, 2 * time.Hour},
		{10 * 365 * 24 * time.Hour, 31 * 24 * time.Hour},
	} {
		require.Equal(t, tc.want, maxBlockDuration(tc.retention), tc.retention)
	}
}
