package checks

import (
	"context"
	"time"

	"github.com/saypro/monitor/internal/probe"
)

// LastPing implements probe.PingSource for heartbeat checks.
func (m *Manager) LastPing(check string) (probe.Ping, bool, time.Time) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	p, ok := m.pings[check]
	since := m.firstSeen[check]
	if since.IsZero() {
		since = m.now()
	}
	return p, ok, since
}

// Ping records a ping on a heartbeat check's URL. It reports false when no
// heartbeat check has the token.
func (m *Manager) Ping(ctx context.Context, token string, p probe.Ping, remoteAddr string) (string, bool, error) {
	m.mu.RLock()
	name, ok := m.byToken[token]
	m.mu.RUnlock()
	if !ok {
		m.pingsRecv.WithLabelValues("unknown_token").Inc()
		return "", false, nil
	}
	if err := m.store.savePing(ctx, name, p, remoteAddr); err != nil {
		return name, true, err
	}
	m.mu.Lock()
	m.pings[name] = p
	m.mu.Unlock()
	result := "ok"
	if p.Failed {
		result = "fail"
	}
	m.pingsRecv.WithLabelValues(result).Inc()
	m.logger.Debug("heartbeat ping", "check", name, "failed", p.Failed, "runtime", p.Runtime, "remote_addr", remoteAddr)
	return name, true, nil
}
