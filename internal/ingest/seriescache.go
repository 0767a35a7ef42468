package ingest

import (
	"hash/maphash"
	"sync"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
)

// seriesCache remembers, for the label bytes of a series as they arrive on
// the wire, the validated label set built from them and the store's
// reference for the series. A sender repeats the same series in every
// request, so after the first request a series costs one map lookup
// instead of building, validating and hashing its labels, and the store
// finds it by reference instead of by label hash. This is what
// Prometheus's scrape loop does with its scrape cache.
//
// Entries not seen for two periods are dropped (two generations of maps,
// rotated every cachePeriod or when a generation fills up), so series
// churn does not grow the cache without bound. A reference that the store
// no longer knows (the series was garbage-collected from the head) is
// harmless: the store then falls back to the label set, which the entry
// keeps, and returns the new reference.
type seriesCache struct {
	seed   maphash.Seed
	shards [cacheShards]cacheShard
}

const (
	cacheShards = 64
	// cachePeriod is how long an unseen series stays cached: between one
	// and two periods.
	cachePeriod = 10 * time.Minute
	// cacheShardMax bounds each generation of a shard (about 4M series in
	// all, at roughly 200 bytes each).
	cacheShardMax = 1 << 16
)

type cacheEntry struct {
	ref storage.SeriesRef
	ls  labels.Labels
}

type cacheShard struct {
	mu        sync.Mutex
	gen       int64
	cur, prev map[string]cacheEntry
}

func newSeriesCache() *seriesCache {
	return &seriesCache{seed: maphash.MakeSeed()}
}

// cacheGeneration is the generation number of t; callers compute it once
// per request.
func cacheGeneration(t time.Time) int64 {
	return t.UnixNano() / int64(cachePeriod)
}

func (c *seriesCache) shard(key []byte) *cacheShard {
	return &c.shards[maphash.Bytes(c.seed, key)%cacheShards]
}

// rotate starts a new generation if gen has moved on or cur is full; the
// caller holds s.mu.
func (s *cacheShard) rotate(gen int64) {
	if s.cur != nil && s.gen == gen && len(s.cur) < cacheShardMax {
		return
	}
	if gen-s.gen > 1 {
		// Nothing in this shard was touched for a whole period.
		s.cur = nil
	}
	s.prev, s.cur, s.gen = s.cur, make(map[string]cacheEntry, len(s.cur)), gen
}

// get returns the entry for key, promoting it into the current generation.
func (c *seriesCache) get(key []byte, gen int64) (cacheEntry, bool) {
	s := c.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rotate(gen)
	if e, ok := s.cur[string(key)]; ok {
		return e, true
	}
	e, ok := s.prev[string(key)]
	if ok {
		s.cur[string(key)] = e
	}
	return e, ok
}

// put stores or updates the entry for key.
func (c *seriesCache) put(key []byte, e cacheEntry, gen int64) {
	s := c.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rotate(gen)
	s.cur[string(key)] = e
}
