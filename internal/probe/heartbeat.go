package probe

import (
	"context"
	"fmt"
	"time"

	"github.com/saypro/monitor/internal/config/checkconfig"
)

// Ping is what a job reported on a heartbeat check's URL.
type Ping struct {
	Time time.Time
	// Failed is set by a call to .../fail.
	Failed bool
	// Runtime is the job's own run time, when it sent one.
	Runtime time.Duration
	// Message is the text the job sent with a failure.
	Message string
}

// PingSource returns a heartbeat check's last ping and since when it has
// been watched (the server's start or the check's creation), which is the
// reference when no ping ever came.
type PingSource interface {
	LastPing(check string) (p Ping, ok bool, watchedSince time.Time)
}

type heartbeatProber struct {
	name  string
	cfg   *checkconfig.Heartbeat
	pings PingSource
	now   func() time.Time
}

func newHeartbeat(c *checkconfig.Check, env Env) (Prober, error) {
	if env.Pings == nil {
		return nil, fmt.Errorf("heartbeat checks run on the server only")
	}
	return &heartbeatProber{name: c.Name, cfg: c.Heartbeat, pings: env.Pings, now: env.now}, nil
}

// Probe looks at the last ping: down when it failed or is older than the
// period plus grace, degraded when the job ran longer than max_runtime.
func (h *heartbeatProber) Probe(context.Context) Result {
	var r Result
	now := h.now()
	p, ok, since := h.pings.LastPing(h.name)
	deadline := h.cfg.Deadline()
	if !ok {
		if now.Sub(since) > deadline {
			return r.Failf("no ping received since %s (expected every %s, grace %s)", since.UTC().Format(time.RFC3339), h.cfg.Period, h.cfg.Grace)
		}
		// Not due yet: a new check is up until its first deadline passes.
		r.Success = true
		return r
	}
	age := now.Sub(p.Time)
	r.Add("saypro_heartbeat_last_ping_timestamp_seconds", float64(p.Time.UnixMilli())/1000)
	if p.Runtime > 0 {
		r.Add("saypro_heartbeat_runtime_seconds", p.Runtime.Seconds())
	}
	failed := 0.0
	if p.Failed {
		failed = 1
	}
	r.Add("saypro_heartbeat_last_ping_failed", failed)
	switch {
	case p.Failed:
		msg := "the job reported a failure"
		if p.Message != "" {
			msg += ": " + p.Message
		}
		return r.Failf("%s at %s", msg, p.Time.UTC().Format(time.RFC3339))
	case age > deadline:
		return r.Failf("last ping %s ago at %s, expected every %s (grace %s)", age.Round(time.Second), p.Time.UTC().Format(time.RFC3339), h.cfg.Period, h.cfg.Grace)
	}
	r.Success = true
	r.Latency = time.Nanosecond // the ping's age is not a latency
	if max := time.Duration(h.cfg.MaxRuntime); max > 0 && p.Runtime > max {
		r.Warnf("the job ran for %s, longer than max_runtime %s", p.Runtime.Round(time.Second), h.cfg.MaxRuntime)
	}
	return r
}
