package logs

import "time"

// Limiter exposes the per-source token bucket to the external tests.
type Limiter struct{ l *limiter }

// NewLimiter returns a limiter of rate tokens a second, burst tokens at
// most and maxKeys buckets.
func NewLimiter(rate float64, burst, maxKeys int) Limiter {
	return Limiter{newLimiter(rate, burst, maxKeys)}
}

// Allow takes n tokens of key's bucket at now and returns how many it got.
func (l Limiter) Allow(key string, n int, now time.Time) int { return l.l.allow(key, n, now) }

// Keys is the number of buckets held.
func (l Limiter) Keys() int {
	l.l.mu.Lock()
	defer l.l.mu.Unlock()
	return len(l.l.buckets)
}
