package ingest

import (
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
	"github.com/prometheus/prometheus/storage"
	"github.com/stretchr/testify/require"
)

func TestSeriesCacheGenerations(t *testing.T) {
	c := newSeriesCache()
	e := cacheEntry{ref: 7, ls: labels.FromStrings("__name__", "a")}
	c.put([]byte("k"), e, 1)
	got, ok := c.get([]byte("k"), 1)
	require.True(t, ok)
	require.Equal(t, e.ref, got.ref)
	// Seen in generation 2: kept into generation 3.
	_, ok = c.get([]byte("k"), 2)
	require.True(t, ok)
	_, ok = c.get([]byte("k"), 3)
	require.True(t, ok)
	// Unseen through generations 4 and 5: gone.
	_, ok = c.get([]byte("other"), 5)
	require.False(t, ok)
	_, ok = c.get([]byte("k"), 6)
	require.False(t, ok)
}

func TestCachedSeriesAcrossRequests(t *testing.T) {
	store := openStore(t)
	h := newHandler(t, store, nil)
	now := time.Now().UnixMilli()
	for i := range 3 {
		rec := post(h, encode(t, ts(now+int64(i)*1000, float64(i), "__name__", "cached", "job", "x")), nil)
		require.Equal(t, http.StatusNoContent, rec.Code, rec.Body.String())
	}
	require.Equal(t, 3, count(t, store, name("cached")))
	require.Equal(t, 1, cacheLen(h.cache))

	// A reference the store no longer knows (as after head garbage
	// collection) falls back to the labels, and the entry is corrected.
	var s series
	require.NoError(t, decodeWriteRequest(mustMarshal(t, ts(0, 0, "__name__", "cached", "job", "x")), &s, func(*series) error { return nil }))
	gen := cacheGeneration(time.Now())
	e, ok := h.cache.get(s.key, gen)
	require.True(t, ok)
	h.cache.put(s.key, cacheEntry{ref: storage.SeriesRef(1 << 40), ls: e.ls}, gen)
	rec := post(h, encode(t, ts(now+5000, 5, "__name__", "cached", "job", "x")), nil)
	require.Equal(t, http.StatusNoContent, rec.Code, rec.Body.String())
	require.Equal(t, 4, count(t, store, name("cached")))
	e2, _ := h.cache.get(s.key, gen)
	require.Equal(t, e.ref, e2.ref)
}

func TestInvalidSeriesIsNotCached(t *testing.T) {
	h := newHandler(t, openStore(t), nil)
	body := encode(t, prompb.TimeSeries{Labels: []prompb.Label{{Name: "job", Value: "x"}}, Samples: []prompb.Sample{{Timestamp: time.Now().UnixMilli(), Value: 1}}})
	for range 2 {
		require.Equal(t, http.StatusBadRequest, post(h, body, nil).Code)
	}
	require.Equal(t, 0, cacheLen(h.cache))
}

// cacheLen returns the number of entries in both generations; a series
// seen in both counts twice.
func cacheLen(c *seriesCache) int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		n += len(s.cur) + len(s.prev)
		s.mu.Unlock()
	}
	return n
}
