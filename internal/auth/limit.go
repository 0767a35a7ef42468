package auth

import (
	"crypto/sha256"
	"fmt"
	"sync"
	"time"
)

// Login rate limits: failures allowed per window before further attempts
// are refused until the window ends. Per address and user name, so that
// one person mistyping does not lock out the office; per address alone,
// so that one machine cannot try many names.
const (
	limitWindow     = 15 * time.Minute
	limitPerUser    = 5
	limitPerAddress = 20
	limitMaxKeys    = 10000
)

type limitEntry struct {
	failures int
	reset    time.Time
}

// loginLimiter counts failed logins in fixed windows, in memory.
type loginLimiter struct {
	now     func() time.Time
	mu      sync.Mutex
	entries map[string]*limitEntry
}

func newLoginLimiter(now func() time.Time) *loginLimiter {
	return &loginLimiter{now: now, entries: map[string]*limitEntry{}}
}

// blocked returns how long ip (trying user) must wait, or 0.
func (l *loginLimiter) blocked(ip, user string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	var wait time.Duration
	for key, max := range map[string]int{"a " + ip: limitPerAddress, "u " + ip + " " + user: limitPerUser} {
		e, ok := l.entries[key]
		if !ok || now.After(e.reset) {
			continue
		}
		if e.failures >= max && e.reset.Sub(now) > wait {
			wait = e.reset.Sub(now)
		}
	}
	return wait
}

// fail counts a failed attempt.
func (l *loginLimiter) fail(ip, user string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if len(l.entries) >= limitMaxKeys {
		for k, e := range l.entries {
			if now.After(e.reset) {
				delete(l.entries, k)
			}
		}
	}
	for _, key := range []string{"a " + ip, "u " + ip + " " + user} {
		e, ok := l.entries[key]
		if !ok || now.After(e.reset) {
			if len(l.entries) >= limitMaxKeys {
				// Still full of live entries: an attack from many
				// addresses. Count it under one shared key.
				key = "overflow"
				if e, ok = l.entries[key]; ok && !now.After(e.reset) {
					e.failures++
					continue
				}
			}
			e = &limitEntry{reset: now.Add(limitWindow)}
			l.entries[key] = e
		}
		e.failures++
	}
}

// succeed forgets the user's failures from ip.
func (l *loginLimiter) succeed(ip, user string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.entries, "u "+ip+" "+user)
}

// limitedError is a refused attempt and how long to wait.
type limitedError struct{ wait time.Duration }

func (e *limitedError) Error() string {
	return fmt.Sprintf("too many failed logins: try again in %s", e.wait.Round(time.Second))
}

// basicCache remembers recent successful basic-auth checks, so that a
// Grafana data source sending the password on every query costs one
// argon2 hash a few minutes, not one per request. Entries are keyed by a
// hash of the user and password and dropped when any user changes.
type basicCache struct {
	now     func() time.Time
	mu      sync.Mutex
	entries map[[32]byte]basicEntry
}

type basicEntry struct {
	id      Identity
	expires time.Time
}

const basicCacheTTL = 5 * time.Minute

func newBasicCache(now func() time.Time) *basicCache {
	return &basicCache{now: now, entries: map[[32]byte]basicEntry{}}
}

func basicKey(user, pw string) [32]byte {
	return sha256.Sum256([]byte(user + "\x00" + pw))
}

func (c *basicCache) get(user, pw string) (Identity, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[basicKey(user, pw)]
	if !ok || c.now().After(e.expires) {
		return Identity{}, false
	}
	return e.id, true
}

func (c *basicCache) put(user, pw string, id Identity) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) > 1000 {
		clear(c.entries)
	}
	c.entries[basicKey(user, pw)] = basicEntry{id: id, expires: c.now().Add(basicCacheTTL)}
}

// reset forgets everything: a user was changed.
func (c *basicCache) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.entries)
}
