// Package probe runs health checks. One file per kind (http.go, tcp.go,
// dns.go, ...) turns a checkconfig.Check into a Prober; the Scheduler runs
// probers on their intervals with a bounded number at once and reports
// each run as an Outcome: a state (up, degraded or down) with its reason,
// and metrics named as blackbox_exporter names them (probe_success,
// probe_duration_seconds, probe_http_status_code, ...).
//
// The package knows nothing of HTTP routing or storage: the server stores
// outcomes in its metrics and state stores, an agent ships them to the
// server.
package probe

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/saypro/monitor/internal/config/checkconfig"
)

// Prober runs one check once. Probe must return when ctx is done (its
// deadline is the check's timeout) and must not keep goroutines running
// after it returns.
type Prober interface {
	Probe(ctx context.Context) Result
}

// Result is what a Prober found.
type Result struct {
	// Success is blackbox_exporter's probe_success.
	Success bool
	// Reason says why the run failed, in words an operator can act on:
	// "status 503, expected 2xx", "connection refused".
	Reason string
	// Warning makes a successful run degraded: "certificate expires in 3
	// days", "replication lag 42s".
	Warning string
	// Latency is the figure compared with the check's latency threshold;
	// zero compares the run's whole duration.
	Latency time.Duration
	// Metrics are the kind's own series.
	Metrics []Metric
}

// Metric is one sample of a run.
type Metric struct {
	Name   string
	Labels []Label
	Value  float64
}

// Label is a label of a Metric.
type Label struct{ Name, Value string }

// Add appends a sample; labels are name, value pairs.
func (r *Result) Add(name string, v float64, labels ...string) {
	m := Metric{Name: name, Value: v}
	for i := 0; i+1 < len(labels); i += 2 {
		m.Labels = append(m.Labels, Label{labels[i], labels[i+1]})
	}
	r.Metrics = append(r.Metrics, m)
}

// Failf marks the result failed with a reason and returns it, for
// `return r.Failf(...)` at the point of failure.
func (r *Result) Failf(format string, args ...any) Result {
	r.Success = false
	r.Reason = fmt.Sprintf(format, args...)
	return *r
}

// Warnf records a warning that makes a success degraded. The first warning
// wins; later ones are appended.
func (r *Result) Warnf(format string, args ...any) {
	w := fmt.Sprintf(format, args...)
	if r.Warning == "" {
		r.Warning = w
		return
	}
	r.Warning += "; " + w
}

// Env is what probers need from the process running them.
type Env struct {
	Logger *slog.Logger
	// Getenv reads password_env and similar settings; nil uses os.Getenv.
	Getenv func(string) string
	// Pings is where heartbeat checks read their last ping; nil makes
	// heartbeat checks an error (agents do not receive pings).
	Pings PingSource
	// ProcPath is the proc file system for process checks (default /proc).
	ProcPath string
	// Now is the clock of checks that compare with the time (heartbeat);
	// nil uses time.Now.
	Now func() time.Time
	// Transports are shared by http checks with the same client settings;
	// nil gives each check its own.
	Transports *Transports
}

func (e Env) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

func (e Env) getenv(name string) string {
	if e.Getenv != nil {
		return e.Getenv(name)
	}
	return os.Getenv(name)
}

// secret returns the value of a password setting: the literal value, or
// the environment variable it names.
func (e Env) secret(value, envName string) (string, error) {
	if value != "" || envName == "" {
		return value, nil
	}
	v := e.getenv(envName)
	if v == "" {
		return "", fmt.Errorf("environment variable %s is empty or not set where the check runs", envName)
	}
	return v, nil
}

// New builds the Prober of a validated check, with the constructor of its
// kind (one file each). Errors are about the check's settings (a CA file
// that does not parse), named by the caller.
func New(c *checkconfig.Check, env Env) (Prober, error) {
	if env.Logger == nil {
		env.Logger = slog.New(slog.DiscardHandler)
	}
	switch c.Kind {
	case checkconfig.KindHTTP:
		return newHTTP(c, env)
	case checkconfig.KindTLS:
		return newTLS(c, env)
	case checkconfig.KindTCP:
		return newTCP(c, env)
	case checkconfig.KindDNS:
		return newDNS(c, env)
	case checkconfig.KindICMP:
		return newICMP(c, env)
	case checkconfig.KindPostgres:
		return newPostgres(c, env)
	case checkconfig.KindMySQL:
		return newMySQL(c, env)
	case checkconfig.KindRedis:
		return newRedis(c, env)
	case checkconfig.KindMongoDB:
		return newMongoDB(c, env)
	case checkconfig.KindNginx:
		return newNginx(c, env)
	case checkconfig.KindApache:
		return newApache(c, env)
	case checkconfig.KindHeartbeat:
		return newHeartbeat(c, env)
	case checkconfig.KindProcess:
		return newProcess(c, env)
	case checkconfig.KindPort:
		return newPort(c, env)
	case checkconfig.KindSystemd:
		return newSystemd(c, env)
	case checkconfig.KindFileAge:
		return newFileAge(c, env)
	}
	return nil, fmt.Errorf("unknown kind %q", c.Kind)
}

// failing is a prober that cannot run for a reason found when it was
// built (a password's environment variable is not set): every run is down
// with that reason, so that the problem shows on the check.
type failing string

func (f failing) Probe(context.Context) Result { return Result{Reason: string(f)} }

// State is a check's health.
type State string

// States of a check.
const (
	StateUp       State = "up"
	StateDegraded State = "degraded"
	StateDown     State = "down"
)

// States lists the states in saypro_check_state order.
var States = []State{StateUp, StateDegraded, StateDown}

// Outcome is one run of a check, ready to be stored or shipped.
type Outcome struct {
	Check    string
	Kind     string
	Target   string // redacted: no password
	Location string // "server" or the agent's instance
	Labels   map[string]string
	Time     time.Time // when the run started
	Duration time.Duration
	State    State
	Reason   string // why it is down or degraded; empty when up
	Metrics  []Metric
}

// Evaluate turns a Result into an Outcome for check c.
func Evaluate(c *checkconfig.Check, location string, start time.Time, took time.Duration, r Result) Outcome {
	o := Outcome{
		Check: c.Name, Kind: c.Kind, Target: RedactTarget(c.Target), Location: location,
		Labels: c.Labels, Time: start, Duration: took, Metrics: r.Metrics,
	}
	latency := cmp.Or(r.Latency, took)
	switch {
	case !r.Success:
		o.State = StateDown
		o.Reason = cmp.Or(r.Reason, "failed")
	case latency > c.Latency():
		o.State = StateDegraded
		o.Reason = fmt.Sprintf("took %s, above the %s threshold", roundDuration(latency), roundDuration(c.Latency()))
		if r.Warning != "" {
			o.Reason += "; " + r.Warning
		}
	case r.Warning != "":
		o.State = StateDegraded
		o.Reason = r.Warning
	default:
		o.State = StateUp
	}
	return o
}

func roundDuration(d time.Duration) time.Duration {
	switch {
	case d >= 10*time.Second:
		return d.Round(100 * time.Millisecond)
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(100 * time.Microsecond)
	}
	return d
}

// Series is one sample of an Outcome with all of its labels, __name__
// first and the rest sorted.
type Series struct {
	Labels []Label
	Value  float64
}

// Job is the job label of every check series.
const Job = "checks"

// Series returns every sample of the outcome: the kind's own metrics, then
// probe_success, probe_duration_seconds and saypro_check_state, each
// labelled job, check, kind, instance (the target), location and the
// check's labels.
func (o *Outcome) Series() []Series {
	base := []Label{{"check", o.Check}, {"instance", o.Target}, {"job", Job}, {"kind", o.Kind}, {"location", o.Location}}
	for k, v := range o.Labels {
		base = append(base, Label{k, v})
	}
	success := 0.0
	if o.State != StateDown {
		success = 1
	}
	out := make([]Series, 0, len(o.Metrics)+5)
	add := func(name string, own []Label, v float64) {
		ls := make([]Label, 0, 1+len(base)+len(own))
		ls = append(ls, Label{"__name__", name})
		ls = append(ls, base...)
		for _, l := range own {
			if !slices.ContainsFunc(base, func(b Label) bool { return b.Name == l.Name }) {
				ls = append(ls, l)
			}
		}
		slices.SortFunc(ls[1:], func(a, b Label) int { return strings.Compare(a.Name, b.Name) })
		out = append(out, Series{Labels: ls, Value: v})
	}
	for _, m := range o.Metrics {
		add(m.Name, m.Labels, m.Value)
	}
	add("probe_success", nil, success)
	add("probe_duration_seconds", nil, o.Duration.Seconds())
	for _, s := range States {
		v := 0.0
		if s == o.State {
			v = 1
		}
		add("saypro_check_state", []Label{{"state", string(s)}}, v)
	}
	return out
}

// RedactTarget removes a password from a URL-shaped target (postgres://,
// mysql://, redis://, mongodb://, http://user:pass@) and from key=value
// DSNs, so that targets can be labels and shown in the API.
func RedactTarget(target string) string {
	if u, err := url.Parse(target); err == nil && u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
			return u.String()
		}
		return target
	}
	// go-sql-driver DSN: user:pass@tcp(host)/db
	if at := strings.Index(target, "@tcp("); at > 0 {
		if colon := strings.IndexByte(target[:at], ':'); colon >= 0 {
			return target[:colon] + ":xxxxx" + target[at:]
		}
	}
	// libpq key=value: password=secret
	fields := strings.Fields(target)
	changed := false
	for i, f := range fields {
		if k, _, ok := strings.Cut(f, "="); ok && strings.EqualFold(k, "password") {
			fields[i] = k + "=xxxxx"
			changed = true
		}
	}
	if changed {
		return strings.Join(fields, " ")
	}
	return target
}

// ErrNotSupported is returned by probers of kinds that cannot run on this
// operating system.
var ErrNotSupported = errors.New("not supported on this system")
