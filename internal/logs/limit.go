package logs

import (
	"sync"
	"time"
)

// limiter is a token bucket per key (host and source) with a bounded
// number of keys: a flood from one source is cut to its rate without
// slowing the others, and many sources cannot grow memory without bound.
type limiter struct {
	rate  float64
	burst float64
	max   int

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newLimiter(rate float64, burst, maxKeys int) *limiter {
	return &limiter{rate: rate, burst: float64(burst), max: maxKeys, buckets: map[string]*bucket{}}
}

// allow takes n tokens from key's bucket and returns how many it got.
func (l *limiter) allow(key string, n int, now time.Time) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= l.max {
			l.evict(now)
		}
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	if el := now.Sub(b.last).Seconds(); el > 0 {
		b.tokens = min(l.burst, b.tokens+el*l.rate)
		b.last = now
	}
	got := min(float64(n), b.tokens)
	if got < 0 {
		got = 0
	}
	b.tokens -= float64(int(got))
	return int(got)
}

// evict drops full buckets (idle keys); if none is full, all of them.
func (l *limiter) evict(now time.Time) {
	for k, b := range l.buckets {
		if b.tokens+now.Sub(b.last).Seconds()*l.rate >= l.burst {
			delete(l.buckets, k)
		}
	}
	if len(l.buckets) >= l.max {
		clear(l.buckets)
	}
}
