package agent

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/saypro/monitor/internal/agentapi"
	"github.com/saypro/monitor/internal/logs/tail"
	"github.com/saypro/monitor/internal/remotewrite"
)

// Limits of one request to agentapi.LogsPath, below the server's 8 MiB.
const (
	logRequestEntries = tail.MaxBatchEntries
	logRequestBytes   = tail.MaxBatchBytes
)

// LogShipperOptions configure a LogShipper; all but Client are required.
type LogShipperOptions struct {
	// BaseURL is the server's base URL; batches go to agentapi.LogsPath.
	BaseURL, Token, UserAgent string
	// Client sends the requests.
	Client *http.Client
	// Dir is the log queue's directory; MaxSize bounds it on disk.
	Dir     string
	MaxSize int64
	// MinBackoff and MaxBackoff bound the wait between retries (defaults
	// 1 s and 1 min).
	MinBackoff, MaxBackoff time.Duration
	Logger                 *slog.Logger
	Registerer             prometheus.Registerer
}

// LogShipper is the standalone agent's tail.LogSink: Logs writes each
// batch to a durable disk queue (so the tailer's offsets move on once it
// is there), and Run posts the queue to the server, oldest first.
type LogShipper struct {
	q          *remotewrite.Queue
	url        string
	token      string
	userAgent  string
	client     *http.Client
	minBackoff time.Duration
	maxBackoff time.Duration
	logger     *slog.Logger

	sent     prometheus.Counter
	requests *prometheus.CounterVec
	dropped  *prometheus.CounterVec

	// Used by Run only.
	problem string // what the last failure was, logged when it changes
}

var _ tail.LogSink = (*LogShipper)(nil)

// NewLogShipper opens the log queue in o.Dir.
func NewLogShipper(o LogShipperOptions) (*LogShipper, error) {
	if o.Logger == nil || o.Registerer == nil || o.Client == nil || o.Dir == "" || o.BaseURL == "" {
		return nil, errors.New("agent: BaseURL, Client, Dir, Logger and Registerer are required to ship logs")
	}
	o.MinBackoff = cmp.Or(o.MinBackoff, time.Second)
	o.MaxBackoff = cmp.Or(o.MaxBackoff, time.Minute)
	s := &LogShipper{
		url:        strings.TrimRight(o.BaseURL, "/") + agentapi.LogsPath,
		token:      o.Token,
		userAgent:  o.UserAgent,
		client:     o.Client,
		minBackoff: o.MinBackoff,
		maxBackoff: o.MaxBackoff,
		logger:     o.Logger,
		sent: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "saypro_agent_log_entries_sent_total",
			Help: "Log entries the server accepted.",
		}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "saypro_agent_log_requests_total",
			Help: "Requests posting log batches by HTTP status code, or code=\"error\" when no answer came.",
		}, []string{"code"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "saypro_agent_log_queue_dropped_entries_total",
			Help: "Log entries dropped without being delivered: queue_full (oldest dropped to stay within logs.queue_max_size), write_error (could not be written to disk), rejected (the server refused them as invalid), unreadable (damaged on disk).",
		}, []string{"reason"}),
	}
	bytesGauge := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "saypro_agent_log_queue_bytes",
		Help: "Size of the log queue on disk.",
	})
	pending := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "saypro_agent_log_queue_pending_entries",
		Help: "Log entries in the queue not yet sent.",
	})
	s.dropped.WithLabelValues("rejected")
	for _, c := range []prometheus.Collector{s.sent, s.requests, s.dropped, bytesGauge, pending} {
		if err := o.Registerer.Register(c); err != nil {
			return nil, fmt.Errorf("agent: registering the log shipper's metrics: %w", err)
		}
	}
	q, err := remotewrite.OpenQueue(remotewrite.QueueOptions{
		Dir: o.Dir, MaxSize: o.MaxSize, Logger: o.Logger,
		Bytes: bytesGauge, Pending: pending, Dropped: s.dropped,
	})
	if err != nil {
		return nil, fmt.Errorf("opening the log queue in %s: %w", o.Dir, err)
	}
	s.q = q
	return s, nil
}

// Logs writes b to the queue; once it returns nil the batch is the
// queue's to deliver.
func (s *LogShipper) Logs(_ context.Context, b agentapi.LogBatch) error {
	if len(b.Entries) == 0 {
		return nil
	}
	payload, err := json.Marshal(b)
	if err != nil {
		return fmt.Errorf("%w: %v", tail.ErrRejected, err)
	}
	return s.q.Append(payload, int64(len(b.Entries)))
}

// Close closes the queue; call it after Run returned.
func (s *LogShipper) Close() error { return s.q.Close() }

// Run posts the queue to the server until ctx is done, then returns nil.
func (s *LogShipper) Run(ctx context.Context) error {
	readFailing := false
	for ctx.Err() == nil {
		b, err := s.q.Next(logRequestEntries, logRequestBytes)
		if err != nil {
			if !readFailing {
				s.logger.Error("cannot read the log queue; retrying", "err", err)
				readFailing = true
			}
			sleepCtx(ctx, s.maxBackoff)
			continue
		}
		readFailing = false
		if b == nil {
			s.q.Wait(ctx)
			continue
		}
		s.deliver(ctx, b)
	}
	return nil
}

// deliver posts b until the server took or refused it, or ctx is done.
func (s *LogShipper) deliver(ctx context.Context, b *remotewrite.QueueBatch) {
	delay := s.minBackoff
	for {
		body, err := s.body(b)
		if err != nil {
			s.logger.Error("a queued log batch cannot be read; it is dropped", "err", err)
			s.dropped.WithLabelValues("unreadable").Add(float64(b.Items(b.Len())))
			s.q.Commit(b, b.Len())
			return
		}
		a := s.post(ctx, body)
		items := b.Items(b.Len())
		var wait time.Duration
		switch a.Outcome() {
		case remotewrite.OutcomeSent:
			s.sent.Add(float64(items))
			s.q.Commit(b, b.Len())
			s.setProblem("", nil)
			return
		case remotewrite.OutcomeTooLarge:
			if b.Len() > 1 {
				s.q.Shrink(b, b.Len()/2)
				continue
			}
			fallthrough
		case remotewrite.OutcomeRejected:
			// 400, or 413 for a single batch: never accepted as it is.
			s.dropped.WithLabelValues("rejected").Add(float64(items))
			s.q.Commit(b, b.Len())
			s.logger.Warn("the server rejected a log batch; it is dropped, not retried", "status", a.Code, "message", a.Msg, "entries", items)
			return
		case remotewrite.OutcomeAuth, remotewrite.OutcomeConfig:
			s.setProblem("the server refused the log batch: check the agent's token and server URL; the logs stay queued", []any{"status", a.Code, "message", a.Msg})
			wait = s.maxBackoff
		default:
			// No answer, 408, 429, 5xx, 507 (the log store is full or
			// read-only): keep it and retry.
			s.setProblem("posting logs failed; they stay queued and are retried with backoff", []any{"status", a.Code, "err", a.Err, "message", a.Msg})
			wait = max(jitter(delay), a.RetryAfter)
			delay = min(2*delay, s.maxBackoff)
		}
		if !sleepCtx(ctx, wait) {
			s.q.Commit(b, 0)
			return
		}
	}
}

// jitter returns a random wait between d/2 and d.
func jitter(d time.Duration) time.Duration {
	return d/2 + rand.N(d/2+1)
}

// setProblem logs what goes wrong when it changes, and the recovery.
func (s *LogShipper) setProblem(problem string, args []any) {
	if problem == s.problem {
		return
	}
	if problem == "" {
		s.logger.Info("posting logs works again", "pending_entries", s.q.Pending())
	} else {
		s.logger.Warn(problem, append(args, "url", s.url, "pending_entries", s.q.Pending())...)
	}
	s.problem = problem
}

// body merges the batches of b into one request body, gzipped. Batches
// from another host (the instance label changed) are left for the next
// request.
func (s *LogShipper) body(b *remotewrite.QueueBatch) ([]byte, error) {
	var merged agentapi.LogBatch
	for i := range b.Len() {
		p, err := b.Payload(i)
		var one agentapi.LogBatch
		if err == nil {
			err = json.Unmarshal(p, &one)
		}
		if err != nil {
			if i == 0 {
				s.q.Shrink(b, 1)
				return nil, err
			}
			s.q.Shrink(b, i)
			break
		}
		if i > 0 && one.Host != merged.Host {
			s.q.Shrink(b, i)
			break
		}
		merged.Host = one.Host
		merged.Entries = append(merged.Entries, one.Entries...)
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	if err := json.NewEncoder(zw).Encode(merged); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// post sends one request.
func (s *LogShipper) post(ctx context.Context, body []byte) remotewrite.Answer {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(body))
	if err != nil {
		return remotewrite.Answer{Err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Content-Encoding", "gzip")
	req.Header.Set("User-Agent", s.userAgent)
	if s.token != "" {
		req.Header.Set("Authorization", "Bearer "+s.token)
	}
	a := remotewrite.Post(s.client, req)
	s.requests.WithLabelValues(a.StatusLabel()).Inc()
	return a
}

// sleepCtx waits d; false when ctx ended first.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
