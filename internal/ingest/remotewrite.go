// Package ingest holds the HTTP receivers that bring data into the server.
//
// RemoteWrite receives Prometheus remote-write 1.0 (protobuf, snappy) with
// its own streaming decoder that hands each series straight to a TSDB
// appender, and remote-write 2.0 through Prometheus's own handler. Status
// codes follow the remote-write specification so that Prometheus, vmagent
// and Grafana Alloy do the right thing: 204 stored, 400 bad data (do not
// retry), 401/403 authentication, 413 too large, 415 wrong format, 503
// overloaded or not ready (retry), 500 storage failure (retry).
package ingest

import (
	"bytes"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/snappy"
	"github.com/prometheus/client_golang/exp/api/remote"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/timestamp"
	"github.com/prometheus/prometheus/prompb"
	"github.com/prometheus/prometheus/storage"
	promremote "github.com/prometheus/prometheus/storage/remote"
	"github.com/prometheus/prometheus/tsdb"
)

// Options configure a RemoteWrite receiver. Appendable, Logger and
// Registerer are required.
type Options struct {
	Appendable storage.Appendable
	Logger     *slog.Logger
	Registerer prometheus.Registerer
	// Tokens are the accepted bearer tokens.
	Tokens []string
	// MaxConcurrent bounds the requests decoded at once. Requests beyond
	// it wait up to Limits.QueueTimeout, then get 503 so the sender retries.
	MaxConcurrent int
	Limits
}

// Limits bound what one request may carry; they can change at run time.
type Limits struct {
	// MaxBodySize is the largest compressed body accepted (413 beyond).
	MaxBodySize int64
	// MaxDecodedSize is the largest uncompressed body accepted (413 beyond).
	MaxDecodedSize int64
	// MaxAheadTime rejects samples further in the future than this.
	MaxAheadTime time.Duration
	// MaxAge rejects samples older than this (the retention: they would
	// be deleted at once). 0 accepts any age the store accepts.
	MaxAge time.Duration
	// QueueTimeout is how long a request waits for a free slot
	// (default 10s).
	QueueTimeout time.Duration
}

// RemoteWrite is the /api/v1/write handler.
type RemoteWrite struct {
	app     storage.Appendable
	logger  *slog.Logger
	tokens  atomic.Pointer[[]string]
	v2      http.Handler
	slots   chan struct{}
	bufs    sync.Pool
	limits  atomic.Pointer[Limits]
	cache   *seriesCache
	metrics writeMetrics
}

type writeMetrics struct {
	requests *prometheus.CounterVec
	samples  *prometheus.CounterVec
	series   prometheus.Counter
	duration prometheus.Histogram
	inflight prometheus.Gauge
}

// buffers is the pair of buffers a request needs, pooled between requests.
type buffers struct {
	body    bytes.Buffer
	decoded []byte
	ts      series
	builder labels.ScratchBuilder
}

// NewRemoteWrite returns a receiver; call SetTokens and SetLimits on reload.
func NewRemoteWrite(o Options) (*RemoteWrite, error) {
	if o.Appendable == nil || o.Logger == nil || o.Registerer == nil {
		return nil, errors.New("ingest: Appendable, Logger and Registerer are required")
	}
	if o.MaxConcurrent <= 0 {
		return nil, errors.New("ingest: MaxConcurrent must be positive")
	}
	reg := o.Registerer
	h := &RemoteWrite{
		app:    o.Appendable,
		logger: o.Logger,
		slots:  make(chan struct{}, o.MaxConcurrent),
		cache:  newSeriesCache(),
		metrics: writeMetrics{
			requests: promauto.With(reg).NewCounterVec(prometheus.CounterOpts{
				Name: "saypro_ingest_remote_write_requests_total",
				Help: "Remote-write requests received, by protocol version and HTTP status code.",
			}, []string{"version", "code"}),
			samples: promauto.With(reg).NewCounterVec(prometheus.CounterOpts{
				Name: "saypro_ingest_samples_total",
				Help: "Samples and histogram samples received by remote write, by result (stored or the reason they were rejected).",
			}, []string{"result"}),
			series: promauto.With(reg).NewCounter(prometheus.CounterOpts{
				Name: "saypro_ingest_invalid_series_total",
				Help: "Series rejected for a missing metric name, invalid or duplicate labels.",
			}),
			duration: promauto.With(reg).NewHistogram(prometheus.HistogramOpts{
				Name:                        "saypro_ingest_remote_write_duration_seconds",
				Help:                        "Time to decode and store one remote-write 1.0 request.",
				Buckets:                     prometheus.DefBuckets,
				NativeHistogramBucketFactor: 1.1,
			}),
			inflight: promauto.With(reg).NewGauge(prometheus.GaugeOpts{
				Name: "saypro_ingest_remote_write_inflight_requests",
				Help: "Remote-write requests being decoded and stored now.",
			}),
		},
	}
	h.bufs.New = func() any { return &buffers{builder: labels.NewScratchBuilder(16)} }
	h.SetTokens(o.Tokens)
	h.SetLimits(o.Limits)
	h.v2 = promremote.NewWriteHandler(o.Logger.With("protocol", "2.0"), reg, o.Appendable,
		remote.MessageTypes{remote.WriteV2MessageType}, false, false, false)
	return h, nil
}

// SetTokens replaces the accepted bearer tokens.
func (h *RemoteWrite) SetTokens(tokens []string) {
	t := append([]string(nil), tokens...)
	h.tokens.Store(&t)
}

// SetLimits replaces the size and time limits.
func (h *RemoteWrite) SetLimits(l Limits) {
	if l.QueueTimeout <= 0 {
		l.QueueTimeout = 10 * time.Second
	}
	h.limits.Store(&l)
}

// ServeHTTP implements http.Handler.
func (h *RemoteWrite) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	code, version := h.serve(w, r)
	h.metrics.requests.WithLabelValues(version, strconv.Itoa(code)).Inc()
}

// codeWriter records the status code written by the 2.0 handler.
type codeWriter struct {
	http.ResponseWriter
	code int
}

func (c *codeWriter) WriteHeader(code int) {
	c.code = code
	c.ResponseWriter.WriteHeader(code)
}

func (h *RemoteWrite) serve(w http.ResponseWriter, r *http.Request) (int, string) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return fail(w, http.StatusMethodNotAllowed, "remote write needs POST"), ""
	}
	if code, msg := h.authenticate(r); code != 0 {
		if code == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer realm="saypro-monitor"`)
		}
		return fail(w, code, msg), ""
	}
	version, err := protocolVersion(r.Header.Get("Content-Type"))
	if err != nil {
		return fail(w, http.StatusUnsupportedMediaType, err.Error()), ""
	}
	if enc := r.Header.Get("Content-Encoding"); enc != "" && !strings.EqualFold(enc, "snappy") {
		return fail(w, http.StatusUnsupportedMediaType, fmt.Sprintf("unsupported Content-Encoding %q: remote write bodies are snappy-compressed", enc)), version
	}
	lim := h.limits.Load()

	// Bound the work done at once; senders retry a 503.
	timer := time.NewTimer(lim.QueueTimeout)
	select {
	case h.slots <- struct{}{}:
		timer.Stop()
	case <-timer.C:
		w.Header().Set("Retry-After", "1")
		return fail(w, http.StatusServiceUnavailable, "too many concurrent remote-write requests; retry later"), version
	case <-r.Context().Done():
		timer.Stop()
		return fail(w, http.StatusServiceUnavailable, "request cancelled while waiting"), version
	}
	defer func() { <-h.slots }()
	h.metrics.inflight.Inc()
	defer h.metrics.inflight.Dec()

	r.Body = http.MaxBytesReader(w, r.Body, lim.MaxBodySize)
	if version == "2.0" {
		cw := &codeWriter{ResponseWriter: w, code: http.StatusOK}
		h.v2.ServeHTTP(cw, r)
		return cw.code, version
	}

	start := time.Now()
	defer func() { h.metrics.duration.Observe(time.Since(start).Seconds()) }()

	b := h.bufs.Get().(*buffers)
	defer h.bufs.Put(b)
	b.body.Reset()
	if _, err := b.body.ReadFrom(r.Body); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return fail(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body larger than %d bytes (ingest.max_body_size); send smaller batches", lim.MaxBodySize)), version
		}
		return fail(w, http.StatusBadRequest, "reading body: "+err.Error()), version
	}
	n, err := snappy.DecodedLen(b.body.Bytes())
	if err != nil {
		return fail(w, http.StatusBadRequest, "body is not snappy-compressed: "+err.Error()), version
	}
	if int64(n) > lim.MaxDecodedSize {
		return fail(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("decompressed body of %d bytes is larger than %d (ingest.max_decoded_size); send smaller batches", n, lim.MaxDecodedSize)), version
	}
	if cap(b.decoded) < n {
		b.decoded = make([]byte, n)
	}
	decoded, err := snappy.Decode(b.decoded[:cap(b.decoded)], b.body.Bytes())
	if err != nil {
		return fail(w, http.StatusBadRequest, "body is not snappy-compressed: "+err.Error()), version
	}

	res, err := h.store(r.Context(), decoded, b, lim)
	w.Header().Set("X-Prometheus-Remote-Write-Samples-Written", strconv.Itoa(res.stored))
	w.Header().Set("X-Prometheus-Remote-Write-Histograms-Written", strconv.Itoa(res.histograms))
	switch {
	case errors.Is(err, errMalformed):
		return fail(w, http.StatusBadRequest, err.Error()), version
	case errors.Is(err, tsdb.ErrNotReady):
		return fail(w, http.StatusServiceUnavailable, "metrics store is starting; retry"), version
	case err != nil:
		h.logger.Error("storing remote-write request failed", "err", err)
		return fail(w, http.StatusInternalServerError, "storing samples: "+err.Error()), version
	case res.rejected > 0 || res.invalidSeries > 0:
		// The valid part is stored; the rest would be rejected again, so
		// the sender must not retry.
		return fail(w, http.StatusBadRequest, res.message()), version
	}
	w.WriteHeader(http.StatusNoContent)
	return http.StatusNoContent, version
}

// Authorize wraps next so that it only runs for requests carrying one of
// the accepted ingest tokens: agents use the same token for heartbeats as
// for remote-write.
func (h *RemoteWrite) Authorize(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if code, msg := h.authenticate(r); code != 0 {
			if code == http.StatusUnauthorized {
				w.Header().Set("WWW-Authenticate", `Bearer realm="saypro-ingest"`)
			}
			http.Error(w, msg, code)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// authenticate returns 0 when the request carries an accepted bearer token.
func (h *RemoteWrite) authenticate(r *http.Request) (int, string) {
	auth := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(auth, " ")
	if auth == "" || !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return http.StatusUnauthorized, "missing bearer token: send Authorization: Bearer <token> (see ingest.tokens)"
	}
	match := 0
	for _, t := range *h.tokens.Load() {
		match |= subtle.ConstantTimeCompare([]byte(t), []byte(tok))
	}
	if match == 0 {
		return http.StatusForbidden, "bearer token not accepted"
	}
	return 0, ""
}

// protocolVersion maps a Content-Type to a remote-write protocol version.
func protocolVersion(contentType string) (string, error) {
	if contentType == "" {
		// Senders older than the 1.0 specification sent none.
		return "1.0", nil
	}
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || mt != "application/x-protobuf" {
		return "", fmt.Errorf("unsupported Content-Type %q: remote write needs application/x-protobuf", contentType)
	}
	switch params["proto"] {
	case "", "prometheus.WriteRequest":
		return "1.0", nil
	case "io.prometheus.write.v2.Request":
		return "2.0", nil
	default:
		return "", fmt.Errorf("unsupported remote-write message %q: use prometheus.WriteRequest or io.prometheus.write.v2.Request", params["proto"])
	}
}

func fail(w http.ResponseWriter, code int, msg string) int {
	http.Error(w, msg, code)
	return code
}

// result counts what happened to one request.
type result struct {
	stored, histograms, rejected, invalidSeries int
	firstReject                                 string
}

func (r result) message() string {
	var parts []string
	if r.rejected > 0 {
		parts = append(parts, fmt.Sprintf("%d samples rejected (first: %s)", r.rejected, r.firstReject))
	}
	if r.invalidSeries > 0 {
		parts = append(parts, fmt.Sprintf("%d series with invalid labels dropped", r.invalidSeries))
	}
	return fmt.Sprintf("stored %d samples and %d histograms; %s", r.stored, r.histograms, strings.Join(parts, "; "))
}

func (r *result) reject(what string, ls labels.Labels, t int64, err error) {
	r.rejected++
	if r.firstReject == "" {
		r.firstReject = fmt.Sprintf("%s %s at %s: %v", what, ls.String(), timestamp.Time(t).UTC().Format(time.RFC3339Nano), err)
	}
}

// rejectable reports whether an append error is about the sample itself,
// which a retry cannot fix.
func rejectable(err error) (string, bool) {
	switch {
	case errors.Is(err, storage.ErrOutOfOrderSample):
		return "out_of_order", true
	case errors.Is(err, storage.ErrTooOldSample), errors.Is(err, storage.ErrOutOfBounds), errors.Is(err, errTooOld):
		return "too_old", true
	case errors.Is(err, storage.ErrDuplicateSampleForTimestamp):
		return "duplicate", true
	case errors.Is(err, errTooFarAhead):
		return "too_far_ahead", true
	}
	var he histogram.Error
	if errors.As(err, &he) {
		return "invalid_histogram", true
	}
	return "", false
}

var (
	errTooFarAhead = errors.New("timestamp too far in the future (ingest.max_ahead_time)")
	errTooOld      = errors.New("timestamp older than the retention (storage.retention)")
)

// store decodes the request and appends every valid sample in one
// transaction. Samples the store refuses (out of order, too old,
// duplicate) are counted and skipped; the rest is committed.
func (h *RemoteWrite) store(ctx context.Context, buf []byte, b *buffers, lim *Limits) (res result, err error) {
	app := h.app.Appender(ctx)
	defer func() {
		if err != nil {
			_ = app.Rollback()
			res.stored, res.histograms = 0, 0
			return
		}
		err = app.Commit()
		if err != nil {
			res.stored, res.histograms = 0, 0
		}
		h.metrics.samples.WithLabelValues("stored").Add(float64(res.stored + res.histograms))
	}()
	now := time.Now()
	maxT := timestamp.FromTime(now.Add(lim.MaxAheadTime))
	minT := int64(math.MinInt64)
	if lim.MaxAge > 0 {
		minT = timestamp.FromTime(now.Add(-lim.MaxAge))
	}
	// window refuses timestamps outside [minT, maxT] before the store sees them.
	window := func(t int64) error {
		switch {
		case t > maxT:
			return errTooFarAhead
		case t < minT:
			return errTooOld
		}
		return nil
	}
	// refused counts an append error the sender cannot fix by retrying
	// and returns nil; any other error is returned to stop the request.
	refused := func(what string, ls labels.Labels, t int64, err error) error {
		reason, ok := rejectable(err)
		if !ok {
			return err
		}
		h.metrics.samples.WithLabelValues(reason).Inc()
		res.reject(what, ls, t, err)
		return nil
	}
	var exb labels.ScratchBuilder
	gen := cacheGeneration(now)
	err = decodeWriteRequest(buf, &b.ts, func(s *series) error {
		cached, hit := h.cache.get(s.key, gen)
		ls, ref := cached.ls, cached.ref
		if !hit {
			if err := s.parseLabels(); err != nil {
				return err
			}
			var ok bool
			if ls, ok = h.seriesLabels(s, &b.builder); !ok {
				res.invalidSeries++
				h.metrics.series.Inc()
				h.metrics.samples.WithLabelValues("invalid_series").Add(float64(len(s.samples) + len(s.histograms)))
				return nil
			}
		}
		for _, smp := range s.samples {
			err := window(smp.t)
			if err == nil {
				var r storage.SeriesRef
				if r, err = app.Append(ref, ls, smp.t, smp.v); err == nil {
					ref = r
					res.stored++
					continue
				}
			}
			if err := refused("sample", ls, smp.t, err); err != nil {
				return err
			}
		}
		if ref != 0 && (!hit || ref != cached.ref) {
			h.cache.put(s.key, cacheEntry{ref: ref, ls: ls}, gen)
		}
		for _, raw := range s.histograms {
			var hp prompb.Histogram
			if err := hp.Unmarshal(raw); err != nil {
				return malformed("histogram", err)
			}
			err := window(hp.Timestamp)
			if err == nil {
				if hp.IsFloatHistogram() {
					_, err = app.AppendHistogram(0, ls, hp.Timestamp, nil, hp.ToFloatHistogram())
				} else {
					_, err = app.AppendHistogram(0, ls, hp.Timestamp, hp.ToIntHistogram(), nil)
				}
				if err == nil {
					res.histograms++
					continue
				}
			}
			if err := refused("histogram", ls, hp.Timestamp, err); err != nil {
				return err
			}
		}
		for _, raw := range s.exemplars {
			var ep prompb.Exemplar
			if err := ep.Unmarshal(raw); err != nil {
				return malformed("exemplar", err)
			}
			// Exemplars are auxiliary: an out-of-order one is dropped
			// without failing the request, as Prometheus does.
			_, _ = app.AppendExemplar(0, ls, ep.ToExemplar(&exb, nil))
		}
		return nil
	})
	return res, err
}

// seriesLabels builds and validates the label set of s. It returns false
// for a series without a metric name, with an invalid name or value, or
// with a label name twice.
func (h *RemoteWrite) seriesLabels(s *series, b *labels.ScratchBuilder) (labels.Labels, bool) {
	b.Reset()
	for _, l := range s.labels {
		b.Add(l.name, l.value)
	}
	if !s.sorted {
		b.Sort()
	}
	ls := b.Labels()
	if ls.Get(model.MetricNameLabel) == "" || !ls.IsValid(model.UTF8Validation) {
		h.logger.Debug("dropping series with invalid labels", "labels", ls.String())
		return ls, false
	}
	if name, dup := ls.HasDuplicateLabelNames(); dup {
		h.logger.Debug("dropping series with duplicate label", "labels", ls.String(), "label", name)
		return ls, false
	}
	return ls, true
}
