package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/snappy"
	"github.com/prometheus/prometheus/prompb"
)

// ingestConfig is what one load run sends and where.
type ingestConfig struct {
	URL     string // remote-write endpoint
	Token   string
	Hosts   int
	Rounds  int   // scrape rounds, 15 s apart
	End     int64 // ms; the last round starts 15 s before it
	Batch   int   // series-samples per request
	Senders int
	Seed    uint64
	// JitterMs is the largest random delay of a scrape's timestamp (0:
	// aligned, as Prometheus sends).
	JitterMs int64
	// MaxAttempts bounds the tries of one request (5xx, 429, network).
	MaxAttempts int
	Timeout     time.Duration // the whole run
}

// start is the timestamp of the first round.
func (c ingestConfig) start() int64 { return c.End - int64(c.Rounds)*scrapeInterval }

// IngestResult is what the generator saw of one load run.
type IngestResult struct {
	Hosts          int              `json:"hosts"`
	Series         int              `json:"series"`
	Rounds         int              `json:"rounds"`
	JitterMs       int64            `json:"jitter_ms"`
	StartMs        int64            `json:"start_ms"`
	EndMs          int64            `json:"end_ms"`
	SamplesSent    int64            `json:"samples_sent"`
	SamplesOK      int64            `json:"samples_accepted"` // in requests answered 2xx
	SamplesRefused int64            `json:"samples_refused"`  // in requests answered 4xx
	SamplesFailed  int64            `json:"samples_failed"`   // in requests that never succeeded
	Requests       int64            `json:"requests"`
	Retries        int64            `json:"retries"`
	BytesSent      int64            `json:"bytes_sent"` // compressed bodies, retries included
	StatusCodes    map[string]int64 `json:"status_codes"`
	Errors         []string         `json:"errors,omitempty"` // first few distinct error responses
	WallSeconds    float64          `json:"wall_seconds"`
}

// sample is one value of one series, as queued for a sender.
type sample struct {
	series int32
	t      int64
	v      float64
}

// ingest sends the whole load and returns what the server answered. It
// stops early, with an error, when ctx ends or when every attempt of a
// request fails with a network error.
func ingest(ctx context.Context, c ingestConfig, logger *slog.Logger) (*IngestResult, error) {
	if c.Hosts < 1 || c.Rounds < 1 || c.Batch < 1 || c.Senders < 1 || c.MaxAttempts < 1 {
		return nil, errors.New("hosts, rounds, batch, senders and attempts must be positive")
	}
	if c.JitterMs < 0 || c.JitterMs >= 1000 {
		return nil, errors.New("jitter must be in [0, 1000) ms")
	}
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	f := newFleet(c.Hosts, c.Senders, c.Seed)
	res := &IngestResult{Hosts: c.Hosts, Series: len(f.series), Rounds: c.Rounds, JitterMs: c.JitterMs, StartMs: c.start(), EndMs: c.End, StatusCodes: map[string]int64{}}
	client := &http.Client{
		Timeout:   2 * time.Minute,
		Transport: &http.Transport{MaxIdleConnsPerHost: c.Senders, MaxConnsPerHost: c.Senders, DisableCompression: true},
	}
	var st senderStats
	queues := make([]chan []sample, c.Senders)
	// Spent batches come back for reuse; the pool is sized so that the
	// producer never allocates once it is full.
	free := make(chan []sample, c.Senders*4)
	var wg sync.WaitGroup
	errc := make(chan error, c.Senders)
	for i := range queues {
		queues[i] = make(chan []sample, 2)
		wg.Go(func() {
			s := sender{cfg: c, fleet: f, client: client, stats: &st, logger: logger}
			for b := range queues[i] {
				if err := s.send(ctx, b); err != nil {
					errc <- err
					cancel()
					// Drain so the producer is never blocked.
					for range queues[i] {
					}
					return
				}
				select {
				case free <- b[:0]:
				default:
				}
			}
		})
	}
	began := time.Now()
	produce(ctx, c, f, queues, free, logger)
	for _, q := range queues {
		close(q)
	}
	wg.Wait()
	res.WallSeconds = time.Since(began).Seconds()
	st.fill(res)
	select {
	case err := <-errc:
		return res, err
	default:
	}
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("load run stopped: %w", err)
	}
	return res, nil
}

// produce generates every round in order and hands full batches to the
// senders. Generation is single-threaded and in a fixed order, so the same
// flags give byte-identical requests on every run.
func produce(ctx context.Context, c ingestConfig, f *fleet, queues []chan []sample, free chan []sample, logger *slog.Logger) {
	pending := make([][]sample, len(queues))
	get := func() []sample {
		select {
		case b := <-free:
			return b
		default:
			return make([]sample, 0, c.Batch)
		}
	}
	for i := range pending {
		pending[i] = get()
	}
	put := func(shard int) bool {
		select {
		case queues[shard] <- pending[shard]:
		case <-ctx.Done():
			return false
		}
		pending[shard] = get()
		return true
	}
	start := c.start()
	lastLog := time.Now()
	for r := range c.Rounds {
		for h := 1; h <= f.hosts; h++ {
			rng := f.rngs[h-1]
			t := timestamp(start, r, h, f.hosts, c.JitterMs, rng)
			base := (h - 1) * seriesPerHost
			for i := base; i < base+seriesPerHost; i++ {
				s := &f.series[i]
				v := s.next(rng)
				pending[s.shard] = append(pending[s.shard], sample{series: int32(i), t: t, v: v})
				if len(pending[s.shard]) >= c.Batch && !put(s.shard) {
					return
				}
			}
		}
		if time.Since(lastLog) > 15*time.Second {
			logger.Info("sending", "round", r+1, "rounds", c.Rounds)
			lastLog = time.Now()
		}
	}
	for i := range pending {
		if len(pending[i]) > 0 && !put(i) {
			return
		}
	}
}

// senderStats are the counters that all senders share.
type senderStats struct {
	sent, ok, refused, failed, requests, retries, bytes atomic.Int64
	mu                                                  sync.Mutex
	codes                                               map[string]int64
	errs                                                []string
}

func (st *senderStats) record(code string, errText string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.codes == nil {
		st.codes = map[string]int64{}
	}
	st.codes[code]++
	if errText == "" || len(st.errs) >= 10 {
		return
	}
	for _, e := range st.errs {
		if e == errText {
			return
		}
	}
	st.errs = append(st.errs, errText)
}

func (st *senderStats) fill(r *IngestResult) {
	r.SamplesSent = st.sent.Load()
	r.SamplesOK = st.ok.Load()
	r.SamplesRefused = st.refused.Load()
	r.SamplesFailed = st.failed.Load()
	r.Requests = st.requests.Load()
	r.Retries = st.retries.Load()
	r.BytesSent = st.bytes.Load()
	st.mu.Lock()
	defer st.mu.Unlock()
	for k, v := range st.codes {
		r.StatusCodes[k] = v
	}
	r.Errors = append(r.Errors, st.errs...)
}

// sender encodes and posts the batches of one shard, one at a time, so the
// samples of each series arrive in order.
type sender struct {
	cfg    ingestConfig
	fleet  *fleet
	client *http.Client
	stats  *senderStats
	logger *slog.Logger

	req     prompb.WriteRequest
	samples []prompb.Sample
	raw     []byte
	body    []byte
}

// encode builds the snappy-compressed remote-write 1.0 body of b: one
// time series with one sample per entry, as Prometheus sends live data.
func (s *sender) encode(b []sample) []byte {
	if cap(s.samples) < len(b) {
		s.samples = make([]prompb.Sample, len(b))
		s.req.Timeseries = make([]prompb.TimeSeries, len(b))
	}
	s.samples = s.samples[:len(b)]
	s.req.Timeseries = s.req.Timeseries[:len(b)]
	for i, x := range b {
		s.samples[i] = prompb.Sample{Timestamp: x.t, Value: x.v}
		s.req.Timeseries[i] = prompb.TimeSeries{Labels: s.fleet.series[x.series].labels, Samples: s.samples[i : i+1]}
	}
	n := s.req.Size()
	if cap(s.raw) < n {
		s.raw = make([]byte, n)
	}
	s.raw = s.raw[:n]
	if _, err := s.req.MarshalToSizedBuffer(s.raw); err != nil {
		// Only a buffer of the wrong size fails, and Size sized it.
		panic(err)
	}
	s.body = snappy.Encode(s.body[:cap(s.body)], s.raw)
	return s.body
}

// send posts one batch, retrying on 5xx, 429 and network errors. A 4xx
// answer counts the batch as refused (the server may have kept part of it;
// the count query tells). It returns an error only when the server cannot
// be reached at all.
func (s *sender) send(ctx context.Context, b []sample) error {
	body := s.encode(b)
	n := int64(len(b))
	s.stats.sent.Add(n)
	backoff := 100 * time.Millisecond
	var lastErr error
	for attempt := 1; attempt <= s.cfg.MaxAttempts; attempt++ {
		if attempt > 1 {
			s.stats.retries.Add(1)
			select {
			case <-time.After(backoff):
			case <-ctx.Done():
				s.stats.failed.Add(n)
				return ctx.Err()
			}
			backoff = min(2*backoff, 10*time.Second)
		}
		code, text, err := s.post(ctx, body)
		s.stats.requests.Add(1)
		s.stats.bytes.Add(int64(len(body)))
		if err != nil {
			if ctx.Err() != nil {
				s.stats.failed.Add(n)
				return ctx.Err()
			}
			s.stats.record("error", err.Error())
			lastErr = err
			continue
		}
		lastErr = nil
		s.stats.record(strconv.Itoa(code), text)
		switch {
		case code/100 == 2:
			s.stats.ok.Add(n)
			return nil
		case code == http.StatusTooManyRequests || code/100 == 5:
			continue
		default:
			s.stats.refused.Add(n)
			return nil
		}
	}
	s.stats.failed.Add(n)
	if lastErr != nil {
		return fmt.Errorf("server unreachable after %d attempts: %w", s.cfg.MaxAttempts, lastErr)
	}
	return nil
}

// post sends one body and returns the status code and, for an error
// status, the start of the response text.
func (s *sender) post(ctx context.Context, body []byte) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("Content-Encoding", "snappy")
	req.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
	req.Header.Set("User-Agent", "saypro-bench-loadgen")
	req.Header.Set("Authorization", "Bearer "+s.cfg.Token)
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	text, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if err != nil {
		return 0, "", err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode/100 == 2 {
		return resp.StatusCode, "", nil
	}
	msg := string(bytes.TrimSpace(text))
	if len(msg) > 300 {
		msg = msg[:300] + "..."
	}
	return resp.StatusCode, fmt.Sprintf("%d: %s", resp.StatusCode, msg), nil
}
