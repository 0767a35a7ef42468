package remotewrite

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/snappy"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/prompb"
)

// Defaults for the zero values of Options.
const (
	DefaultMaxQueueSize    = 512 << 20
	DefaultMaxBatchSamples = 10000
	DefaultMinBackoff      = 500 * time.Millisecond
	DefaultMaxBackoff      = time.Minute
	DefaultUserAgent       = "saypro-agent"

	// MinQueueSize is the smallest MaxQueueSize accepted.
	MinQueueSize = 64 << 10
)

// maxBatchBytes bounds the decoded size of a request merged from several
// records, well below the server's default limits.
const maxBatchBytes = 8 << 20

var (
	// ErrClosed is returned by Enqueue and Run once the client is closed.
	ErrClosed = errors.New("remote-write queue is closed")
	// ErrQueueInUse is returned by New when another client, in this
	// process or another, has the queue directory open.
	ErrQueueInUse = errors.New("queue directory is in use by another process")
)

// Options configure a Client. Dir, URL, Logger and Registerer are
// required; zero values of the others mean their defaults.
type Options struct {
	// URL is the full remote-write URL, for example
	// https://monitor:9900/api/v1/write.
	URL string
	// Token is the bearer token sent with every request; it may be empty.
	Token string
	// Client sends the requests; nil means NewHTTPClient(TLSOptions{},
	// Timeout).
	Client *http.Client
	// Timeout bounds each request (default DefaultTimeout).
	Timeout time.Duration
	// Dir is the queue directory, created with mode 0700 if missing.
	Dir string
	// MaxQueueSize bounds the bytes of the queue on disk (default
	// DefaultMaxQueueSize, at least MinQueueSize); beyond it the oldest
	// data is dropped.
	MaxQueueSize int64
	// MaxBatchSamples is how many samples one request may carry
	// (default DefaultMaxBatchSamples); consecutive queued collections
	// are merged up to it. A larger collection goes alone.
	MaxBatchSamples int
	// MinBackoff and MaxBackoff bound the wait between retries (defaults
	// DefaultMinBackoff and DefaultMaxBackoff).
	MinBackoff, MaxBackoff time.Duration
	// UserAgent is sent with every request (default DefaultUserAgent).
	UserAgent string
	// Logger receives the client's logs.
	Logger *slog.Logger
	// Registerer receives the client's metrics.
	Registerer prometheus.Registerer
}

// Client queues collections on disk and sends them to the server with
// Prometheus remote-write 1.0. Enqueue may be called from any goroutine,
// also while Run is sending.
type Client struct {
	url        string
	logURL     string // without a password
	token      string
	userAgent  string
	http       *http.Client
	timeout    time.Duration
	maxSamples int64
	minBackoff time.Duration
	maxBackoff time.Duration
	logger     *slog.Logger
	m          *metrics
	q          *queue

	notify    chan struct{}
	done      chan struct{}
	closeOnce sync.Once
	running   atomic.Bool

	// Used by Run only.
	state        sendState
	failingSince time.Time
	raw          []byte // decoded records of a merged batch, reused
}

// New opens the queue in o.Dir, recovering what a previous process left
// there, and returns a client; call Run to send and Close when done.
func New(o Options) (*Client, error) {
	if o.Logger == nil || o.Registerer == nil {
		return nil, errors.New("remotewrite: Logger and Registerer are required")
	}
	if o.Dir == "" {
		return nil, errors.New("remotewrite: Dir is required")
	}
	u, err := url.Parse(o.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("remotewrite: invalid URL %q: want http(s)://host:port/api/v1/write", o.URL)
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxQueueSize == 0 {
		o.MaxQueueSize = DefaultMaxQueueSize
	}
	if o.MaxQueueSize < MinQueueSize {
		return nil, fmt.Errorf("remotewrite: MaxQueueSize %d is below the minimum of %d bytes", o.MaxQueueSize, MinQueueSize)
	}
	if o.MaxBatchSamples <= 0 {
		o.MaxBatchSamples = DefaultMaxBatchSamples
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = DefaultMinBackoff
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = DefaultMaxBackoff
	}
	if o.MinBackoff > o.MaxBackoff {
		return nil, fmt.Errorf("remotewrite: MinBackoff %s is larger than MaxBackoff %s", o.MinBackoff, o.MaxBackoff)
	}
	if o.UserAgent == "" {
		o.UserAgent = DefaultUserAgent
	}
	if o.Client == nil {
		if o.Client, err = NewHTTPClient(TLSOptions{}, o.Timeout); err != nil {
			return nil, err
		}
	}
	m := newMetrics()
	q, err := openQueue(queueOptions{dir: o.Dir, maxSize: o.MaxQueueSize, logger: o.Logger, metrics: &m.queueMetrics})
	if err != nil {
		return nil, err
	}
	if err := m.register(o.Registerer); err != nil {
		_ = q.close()
		return nil, err
	}
	return &Client{
		url:        o.URL,
		logURL:     u.Redacted(),
		token:      o.Token,
		userAgent:  o.UserAgent,
		http:       o.Client,
		timeout:    o.Timeout,
		maxSamples: int64(o.MaxBatchSamples),
		minBackoff: o.MinBackoff,
		maxBackoff: o.MaxBackoff,
		logger:     o.Logger,
		m:          m,
		q:          q,
		notify:     make(chan struct{}, 1),
		done:       make(chan struct{}),
	}, nil
}

// Enqueue appends one collection to the queue on disk and returns; it never
// waits for the network. Samples and histogram samples are counted alike.
// It returns an error when the collection could not be written (it is then
// counted as dropped) or after Close.
func (c *Client) Enqueue(series []prompb.TimeSeries) error {
	if len(series) == 0 {
		return nil
	}
	rec, samples, err := encodeRecord(series)
	if err != nil {
		c.m.dropped.WithLabelValues(reasonWriteError).Add(float64(samples))
		return err
	}
	if err := c.q.append(rec, samples); err != nil {
		return err
	}
	select {
	case c.notify <- struct{}{}:
	default:
	}
	return nil
}

// Run sends the queue until ctx is done, then returns nil. It returns
// ErrClosed when the client is closed first, and an error when it is
// already running.
func (c *Client) Run(ctx context.Context) error {
	if !c.running.CompareAndSwap(false, true) {
		return errors.New("remotewrite: Run is already running")
	}
	defer c.running.Store(false)
	readFailing := false
	for ctx.Err() == nil {
		b, err := c.q.next(c.maxSamples, maxBatchBytes)
		if errors.Is(err, ErrClosed) {
			return err
		}
		if err != nil {
			if !readFailing {
				c.logger.Error("cannot read the queue; retrying", "err", err, "retry_every", c.maxBackoff)
				readFailing = true
			}
			c.sleep(ctx, c.maxBackoff)
			continue
		}
		if readFailing {
			c.logger.Info("reading the queue works again")
			readFailing = false
		}
		if b == nil {
			select {
			case <-ctx.Done():
			case <-c.done:
				return ErrClosed
			case <-c.notify:
			}
			continue
		}
		c.deliver(ctx, b)
	}
	return nil
}

// Close syncs and closes the queue's files. Call it after Run returned;
// the queue is durable without it except against power loss.
func (c *Client) Close() error {
	c.closeOnce.Do(func() { close(c.done) })
	return c.q.close()
}

// QueueBytes returns the size of the queue's files on disk, sent data not
// yet deleted included.
func (c *Client) QueueBytes() int64 {
	return c.q.size()
}

// encodeRecord returns the queue record (header and payload) for one
// collection and the samples it holds.
func encodeRecord(series []prompb.TimeSeries) ([]byte, int64, error) {
	var samples int64
	for i := range series {
		samples += int64(len(series[i].Samples) + len(series[i].Histograms))
	}
	req := prompb.WriteRequest{Timeseries: series}
	size := req.Size()
	if size > maxRecordPayload {
		return nil, samples, fmt.Errorf("collection of %d bytes is larger than the %d bytes a queue record holds", size, maxRecordPayload)
	}
	raw := make([]byte, size)
	n, err := req.MarshalToSizedBuffer(raw)
	if err == nil && n != size {
		err = fmt.Errorf("%d bytes written of %d", n, size)
	}
	if err != nil {
		return nil, samples, fmt.Errorf("encoding the collection: %w", err)
	}
	return snappyRecord(raw, samples), samples, nil
}

// snappyRecord returns the queue record (header and payload) holding raw
// compressed, counting items.
func snappyRecord(raw []byte, items int64) []byte {
	buf := make([]byte, recordHeaderSize+snappy.MaxEncodedLen(len(raw)))
	enc := s2.EncodeSnappy(buf[recordHeaderSize:], raw)
	rec := buf[:recordHeaderSize+len(enc)]
	putRecordHeader(rec, uint32(min(items, 1<<32-1)))
	return rec
}

// metrics are the client's and the queue's metrics.
type metrics struct {
	queueMetrics
	samplesSent prometheus.Counter
	requests    *prometheus.CounterVec
	duration    prometheus.Histogram
	retries     prometheus.Counter
	lastSuccess prometheus.Gauge
}

// queueMetrics are what the queue updates itself: its size, what it holds
// unsent (samples, or the items of another payload), and what it dropped
// by reason.
type queueMetrics struct {
	queueBytes     prometheus.Gauge
	pendingSamples prometheus.Gauge
	dropped        *prometheus.CounterVec
}

func newMetrics() *metrics {
	m := &metrics{
		queueMetrics: queueMetrics{
			queueBytes: prometheus.NewGauge(prometheus.GaugeOpts{
				Name: "saypro_agent_queue_bytes",
				Help: "Size of the remote-write queue on disk.",
			}),
			pendingSamples: prometheus.NewGauge(prometheus.GaugeOpts{
				Name: "saypro_agent_queue_pending_samples",
				Help: "Samples in the remote-write queue not yet sent.",
			}),
			dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
				Name: "saypro_agent_queue_dropped_samples_total",
				Help: "Samples dropped without being delivered: queue_full (oldest data dropped to stay within the queue's size), write_error (could not be written to disk), rejected (the server refused them as invalid), unreadable (damaged or removed on disk).",
			}, []string{"reason"}),
		},
		samplesSent: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "saypro_agent_remote_write_samples_sent_total",
			Help: "Samples the server accepted.",
		}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "saypro_agent_remote_write_requests_total",
			Help: "Remote-write requests by HTTP status code, or code=\"error\" when no answer came (unreachable, timeout).",
		}, []string{"code"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:                        "saypro_agent_remote_write_request_duration_seconds",
			Help:                        "Duration of remote-write requests, failed ones included.",
			Buckets:                     prometheus.DefBuckets,
			NativeHistogramBucketFactor: 1.1,
		}),
		retries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "saypro_agent_remote_write_retries_total",
			Help: "Remote-write requests sent again after a failure.",
		}),
		lastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "saypro_agent_remote_write_last_success_timestamp_seconds",
			Help: "Unix time of the last request the server accepted.",
		}),
	}
	for _, r := range []string{reasonQueueFull, reasonWriteError, reasonRejected, reasonUnreadable} {
		m.dropped.WithLabelValues(r)
	}
	return m
}

// register registers every metric, or none.
func (m *metrics) register(reg prometheus.Registerer) error {
	cs := []prometheus.Collector{m.samplesSent, m.requests, m.duration, m.retries, m.lastSuccess, m.queueBytes, m.pendingSamples, m.dropped}
	for i, c := range cs {
		if err := reg.Register(c); err != nil {
			for _, done := range cs[:i] {
				reg.Unregister(done)
			}
			return fmt.Errorf("remotewrite: registering metrics: %w", err)
		}
	}
	return nil
}
