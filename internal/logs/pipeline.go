package logs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/saypro/monitor/internal/agentapi"
	"github.com/saypro/monitor/internal/logs/parse"
)

// Options configure a Pipeline.
type Options struct {
	Store Store
	// MaxLineBytes truncates longer messages (with a marker).
	MaxLineBytes int
	// MaxAge and MaxAhead bound an entry's own time against its arrival;
	// outside, the arrival time is used and the original kept in the
	// original_time field.
	MaxAge, MaxAhead time.Duration
	// RatePerSecond and Burst limit lines per host and source.
	RatePerSecond float64
	Burst         int
	Redactor      *Redactor
	// AccessMetrics turns access-log lines into HTTP metrics.
	AccessMetrics bool
	// Location is the time zone of syslog times without an offset.
	Location   *time.Location
	Logger     *slog.Logger
	Registerer prometheus.Registerer
	Now        func() time.Time
}

// Pipeline turns raw lines from agents and syslog senders into stored
// entries: it sanitises, parses, finds security and kernel events, derives
// HTTP metrics from access logs, bounds times, redacts, rate-limits per
// source, stores, and hands the entries to live tails.
type Pipeline struct {
	o       Options
	limiter *limiter
	hub     *Hub
	m       pipelineMetrics
	access  *accessMetrics

	logMu   sync.Mutex
	lastErr time.Time
}

type pipelineMetrics struct {
	received     *prometheus.CounterVec
	stored       prometheus.Counter
	dropped      *prometheus.CounterVec
	truncated    prometheus.Counter
	timeAdjusted *prometheus.CounterVec
	security     *prometheus.CounterVec
	kernel       *prometheus.CounterVec
}

// NewPipeline builds a pipeline; its metrics go to o.Registerer.
func NewPipeline(o Options) (*Pipeline, error) {
	if o.Store == nil {
		return nil, errors.New("logs: a pipeline needs a store")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Registerer == nil {
		o.Registerer = prometheus.NewRegistry()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Location == nil {
		o.Location = time.Local
	}
	if o.MaxLineBytes <= 0 {
		o.MaxLineBytes = 64 << 10
	}
	if o.RatePerSecond <= 0 {
		o.RatePerSecond, o.Burst = 5000, 50000
	}
	if o.Burst <= 0 {
		// A bucket of no tokens would drop every line.
		o.Burst = max(1, int(o.RatePerSecond))
	}
	if o.MaxAge <= 0 {
		o.MaxAge = 7 * 24 * time.Hour
	}
	if o.MaxAhead <= 0 {
		o.MaxAhead = time.Hour
	}
	f := promauto.With(o.Registerer)
	p := &Pipeline{
		o:       o,
		limiter: newLimiter(o.RatePerSecond, o.Burst, 10000),
		hub:     NewHub(),
		m: pipelineMetrics{
			received: f.NewCounterVec(prometheus.CounterOpts{
				Name: "saypro_logs_received_total", Help: "Log entries received, by transport (agent, syslog-udp, syslog-tcp, syslog-tls).",
			}, []string{"transport"}),
			stored: f.NewCounter(prometheus.CounterOpts{
				Name: "saypro_logs_stored_total", Help: "Log entries handed to the log store.",
			}),
			dropped: f.NewCounterVec(prometheus.CounterOpts{
				Name: "saypro_logs_dropped_total", Help: "Log entries dropped, by source and reason (rate_limit, store_read_only, store_error, queue_full).",
			}, []string{"source", "reason"}),
			truncated: f.NewCounter(prometheus.CounterOpts{
				Name: "saypro_logs_truncated_total", Help: "Log lines cut to logs.max_line_size.",
			}),
			timeAdjusted: f.NewCounterVec(prometheus.CounterOpts{
				Name: "saypro_logs_time_adjusted_total", Help: "Log entries whose own time was too old or too far ahead and was replaced by the arrival time.",
			}, []string{"reason"}),
			security: f.NewCounterVec(prometheus.CounterOpts{
				Name: "saypro_security_events_total", Help: "Security events found in auth logs (ssh_failed, ssh_accepted, sudo, user_added, ...).",
			}, []string{"instance", "event"}),
			kernel: f.NewCounterVec(prometheus.CounterOpts{
				Name: "saypro_kernel_events_total", Help: "Kernel events found in kernel logs (oom_kill, disk_io_error, fs_error, segfault).",
			}, []string{"instance", "event"}),
		},
	}
	if o.AccessMetrics {
		p.access = newAccessMetrics(f)
	}
	return p, nil
}

// Hub is the pipeline's live-tail fan-out.
func (p *Pipeline) Hub() *Hub { return p.hub }

// ErrStoreFull is wrapped by Ingest errors when the store refuses writes.
var ErrStoreFull = errors.New("the log store is not accepting entries")

// IngestAgent stores a batch from an agent. A store that refuses writes
// (disk full) is an error wrapping ErrStoreFull and nothing is stored;
// lines over the rate limit are dropped and counted, not refused.
func (p *Pipeline) IngestAgent(ctx context.Context, b agentapi.LogBatch) error {
	now := p.o.Now()
	p.m.received.WithLabelValues("agent").Add(float64(len(b.Entries)))
	entries := make([]Entry, 0, len(b.Entries))
	for i := range b.Entries {
		entries = append(entries, p.fromAgent(b.Host, &b.Entries[i], now))
	}
	return p.commit(entries, now)
}

// Logs implements the agent's log sink for the in-process agent.
func (p *Pipeline) Logs(ctx context.Context, b agentapi.LogBatch) error {
	return p.IngestAgent(ctx, b)
}

func (p *Pipeline) fromAgent(host string, le *agentapi.LogEntry, now time.Time) Entry {
	e := Entry{Time: le.Time, Host: label(host), Source: label(le.Source), Service: label(le.Service), Severity: label(le.Severity)}
	if e.Time.IsZero() {
		e.Time = now
	}
	for k, v := range le.Fields {
		if k = label(k); k != "" {
			e.setField(k, p.sanitize(v))
		}
	}
	msg := p.sanitize(le.Message)
	switch le.Format {
	case agentapi.FormatSyslog:
		if s, ok := parse.ParseSyslogLine(msg, now, p.o.Location); ok {
			if s.HasTime {
				e.Time = s.Time
			}
			if s.App != "" {
				e.Service = s.App
			}
			if s.ProcID != "" {
				e.setField("pid", s.ProcID)
			}
			msg = s.Message
		}
	case agentapi.FormatNginx, agentapi.FormatApache:
		if e.Service == "" {
			e.Service = le.Format
		}
		if a, ok := parse.ParseAccess(msg); ok {
			p.accessEntry(&e, &a)
		}
	}
	if le.File != "" {
		e.setField("file", le.File)
	}
	e.Message = msg
	p.enrich(&e)
	return e
}

// FromSyslog turns a received syslog message into an entry; sender is the
// peer's address, used as the host when the message names none.
func (p *Pipeline) FromSyslog(msg []byte, sender string, now time.Time) Entry {
	s, err := parse.ParseSyslog(msg, now, p.o.Location)
	e := Entry{Time: now, Host: s.Host, Source: "syslog", Service: s.App, Severity: parse.SeverityName(s.Severity)}
	if e.Host == "" {
		e.Host = sender
	}
	if s.HasTime {
		e.Time = s.Time
	}
	e.setField("sender", sender)
	e.setField("facility", parse.FacilityName(s.Facility))
	if s.ProcID != "" {
		e.setField("pid", s.ProcID)
	}
	if s.MsgID != "" {
		e.setField("msgid", s.MsgID)
	}
	for k, v := range s.Structured {
		e.setField("sd."+k, p.sanitize(v))
	}
	if err != nil {
		e.setField("parse_error", err.Error())
	}
	e.Message = p.sanitize(s.Message)
	if e.Message == "" && err != nil {
		e.Message = p.sanitize(string(msg))
	}
	p.enrich(&e)
	return e
}

func (e *Entry) setField(k, v string) {
	if v == "" {
		return
	}
	if e.Fields == nil {
		e.Fields = make(map[string]string, 4)
	}
	e.Fields[k] = v
}

// label cleans a short value an agent sends (host, source, service, a
// field name): sanitised and at most 256 bytes.
func label(s string) string {
	out, _ := Sanitize(s, 256)
	return out
}

func (p *Pipeline) sanitize(s string) string {
	out, truncated := Sanitize(s, p.o.MaxLineBytes)
	if truncated {
		p.m.truncated.Inc()
	}
	return out
}

// accessEntry fills an access-log entry's fields, severity and metrics.
func (p *Pipeline) accessEntry(e *Entry, a *parse.Access) {
	if a.HasTime {
		e.Time = a.Time
	}
	class := strconv.Itoa(a.Status/100) + "xx"
	e.setField("status", strconv.Itoa(a.Status))
	e.setField("status_class", class)
	e.setField("method", a.Method)
	e.setField("vhost", a.VHost)
	// The path, client, size and response time stay in the message only
	// (searchable as words there): as fields of their own they cost more
	// to store than they save (see bench/logs), and the metrics carry
	// sizes and response times.
	if e.Severity == "" {
		switch {
		case a.Status >= 500:
			e.Severity = "err"
		case a.Status >= 400:
			e.Severity = "warning"
		default:
			e.Severity = "info"
		}
	}
	if p.access != nil {
		p.access.observe(e.Host, a)
	}
}

// enrich finds security and kernel events and a severity in the message.
// ParseAuth knows which programs write security events (and answers at
// once for any other).
func (p *Pipeline) enrich(e *Entry) {
	if s, ok := parse.ParseAuth(e.Service, e.Message); ok {
		e.setField("event", s.Event)
		e.setField("user", s.User)
		e.setField("src_ip", s.SourceIP)
		e.setField("src_port", s.Port)
		e.setField("auth_method", s.Method)
		e.setField("target_user", s.TargetUser)
		e.setField("command", s.Command)
		e.setField("group", s.Group)
		e.setField("category", "security")
		p.m.security.WithLabelValues(e.Host, s.Event).Inc()
	} else if e.Service == "kernel" || e.Source == "kern" {
		if k, ok := parse.ParseKernel(e.Message); ok {
			e.setField("event", k.Event)
			e.setField("process", k.Process)
			e.setField("pid", k.PID)
			e.setField("device", k.Device)
			p.m.kernel.WithLabelValues(e.Host, k.Event).Inc()
			if e.Severity == "" {
				e.Severity = "err"
			}
		}
	}
	if e.Severity == "" {
		e.Severity = DetectLevel(e.Message)
	}
}

// DetectLevel guesses a severity from a level word near the start of an
// application's line ("ERROR", "level=warn", "[INFO]", "FATAL:"); "" when
// there is none.
func DetectLevel(msg string) string {
	head := msg
	if len(head) > 120 {
		head = head[:120]
	}
	for i := 0; i < len(head); {
		for i < len(head) && !isWordByte(head[i]) {
			i++
		}
		j := i
		for j < len(head) && isWordByte(head[j]) {
			j++
		}
		if j > i && j-i <= 8 {
			if sev := levelWord(head[i:j]); sev != "" {
				return sev
			}
		}
		i = j
	}
	return ""
}

func isWordByte(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// levelWord maps a word of ASCII letters (as DetectLevel cuts them) to a
// severity; it upper-cases in a buffer on the stack, without allocating.
func levelWord(w string) string {
	var buf [len("EMERGENCY")]byte
	if len(w) > len(buf) {
		return ""
	}
	for i := 0; i < len(w); i++ {
		buf[i] = w[i] &^ 0x20 // a-z to A-Z; A-Z stay
	}
	switch string(buf[:len(w)]) {
	case "FATAL", "PANIC", "EMERG", "EMERGENCY":
		return "emerg"
	case "ALERT":
		return "alert"
	case "CRIT", "CRITICAL":
		return "crit"
	case "ERROR", "ERR", "SEVERE":
		return "err"
	case "WARN", "WARNING":
		return "warning"
	case "NOTICE":
		return "notice"
	case "INFO":
		return "info"
	case "DEBUG", "TRACE":
		return "debug"
	}
	return ""
}

// commit bounds times, rate-limits, redacts, stores and publishes entries.
func (p *Pipeline) commit(entries []Entry, now time.Time) error {
	if len(entries) == 0 {
		return nil
	}
	entries = p.rateLimit(entries, now)
	for i := range entries {
		e := &entries[i]
		switch {
		case e.Time.Before(now.Add(-p.o.MaxAge)):
			p.adjustTime(e, now, "too_old")
		case e.Time.After(now.Add(p.o.MaxAhead)):
			p.adjustTime(e, now, "too_new")
		}
		if p.o.Redactor.Active() {
			e.Host = p.o.Redactor.Redact(e.Host)
			e.Message = p.o.Redactor.Redact(e.Message)
			for k, v := range e.Fields {
				if r := p.o.Redactor.Redact(v); r != v {
					e.Fields[k] = r
				}
			}
		}
	}
	if len(entries) == 0 {
		return nil
	}
	if err := p.o.Store.Add(entries); err != nil {
		reason := "store_error"
		if strings.Contains(err.Error(), "read-only") {
			reason = "store_read_only"
		}
		for i := range entries {
			p.m.dropped.WithLabelValues(entries[i].Source, reason).Inc()
		}
		p.logError("the log store refused entries", err, len(entries))
		return fmt.Errorf("%w: %w", ErrStoreFull, err)
	}
	p.m.stored.Add(float64(len(entries)))
	p.hub.Publish(entries)
	return nil
}

func (p *Pipeline) adjustTime(e *Entry, now time.Time, reason string) {
	e.setField("original_time", e.Time.UTC().Format(time.RFC3339Nano))
	e.Time = now
	p.m.timeAdjusted.WithLabelValues(reason).Inc()
}

// rateLimit keeps, per host and source, the entries the bucket allows, in
// order, and counts the rest.
func (p *Pipeline) rateLimit(entries []Entry, now time.Time) []Entry {
	type key struct{ host, source string }
	counts := map[key]int{}
	for i := range entries {
		counts[key{entries[i].Host, entries[i].Source}]++
	}
	allowed := make(map[key]int, len(counts))
	limited := false
	for k, n := range counts {
		got := p.limiter.allow(k.host+"\x00"+k.source, n, now)
		allowed[k] = got
		if got < n {
			limited = true
			p.m.dropped.WithLabelValues(k.source, "rate_limit").Add(float64(n - got))
		}
	}
	if !limited {
		return entries
	}
	out := entries[:0]
	for _, e := range entries {
		k := key{e.Host, e.Source}
		if allowed[k] > 0 {
			allowed[k]--
			out = append(out, e)
		}
	}
	return out
}

// Dropped counts a dropped entry of source (for receivers that drop before
// the pipeline, such as a full syslog queue).
func (p *Pipeline) Dropped(source, reason string, n int) {
	p.m.dropped.WithLabelValues(source, reason).Add(float64(n))
}

// logError logs store errors at most once a minute.
func (p *Pipeline) logError(msg string, err error, n int) {
	p.logMu.Lock()
	defer p.logMu.Unlock()
	if now := time.Now(); now.Sub(p.lastErr) >= time.Minute {
		p.lastErr = now
		p.o.Logger.Error(msg+"; free disk space in the data directory or raise logs.max_disk_size limits", "entries", n, "err", err)
	}
}
