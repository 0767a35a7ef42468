package remotewrite

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/snappy"
)

// maxRetryAfter caps how long a Retry-After header may hold sending back.
const maxRetryAfter = 10 * time.Minute

// sendState is what the last attempt told about the server; its changes
// are logged, repeated failures are not.
type sendState int

const (
	stateOK sendState = iota
	stateRetrying
	stateAuth
	stateConfig
)

// outcome is what to do after an attempt.
type outcome int

const (
	outcomeSent     outcome = iota // done
	outcomeRejected                // non-retryable: drop the batch
	outcomeTooLarge                // send fewer records, or drop a single one
	outcomeAuth                    // token refused: keep the data, retry slowly
	outcomeConfig                  // wrong URL or format: keep the data, retry slowly
	outcomeRetry                   // transient: retry with backoff
)

// sendResult is the answer to one request.
type sendResult struct {
	code       int   // HTTP status, 0 when no answer came
	err        error // transport error
	msg        string
	retryAfter time.Duration
	written    int // X-Prometheus-Remote-Write-Samples-Written, -1 when absent
}

func classify(r sendResult) outcome {
	switch {
	case r.err != nil:
		return outcomeRetry
	case r.code/100 == 2:
		return outcomeSent
	case r.code == http.StatusUnauthorized || r.code == http.StatusForbidden:
		return outcomeAuth
	case r.code == http.StatusNotFound || r.code == http.StatusMethodNotAllowed || r.code == http.StatusUnsupportedMediaType:
		return outcomeConfig
	case r.code == http.StatusRequestEntityTooLarge:
		return outcomeTooLarge
	case r.code == http.StatusRequestTimeout || r.code == http.StatusTooManyRequests || r.code/100 == 5:
		return outcomeRetry
	case r.code/100 == 4:
		return outcomeRejected
	}
	// 1xx and 3xx the HTTP client did not resolve: not a remote-write
	// server at this URL.
	return outcomeConfig
}

// deliver sends b until the server took or refused it, or ctx is done.
func (c *Client) deliver(ctx context.Context, b *batch) {
	var (
		body    []byte
		bad     int64
		attempt int
	)
	for {
		if body == nil {
			body, bad = c.encode(b)
			if body == nil {
				c.m.dropped.WithLabelValues(reasonUnreadable).Add(float64(bad))
				c.q.commit(b, len(b.records))
				return
			}
		}
		res := c.post(ctx, body)
		out := classify(res)
		if ctx.Err() != nil && out != outcomeSent && out != outcomeRejected {
			// Stopping: what the server did not answer is sent again
			// next time.
			c.q.commit(b, 0)
			return
		}
		var delay time.Duration
		switch out {
		case outcomeSent:
			// Counted before the commit, so that whoever sees the
			// queue empty also sees them counted.
			c.m.dropped.WithLabelValues(reasonUnreadable).Add(float64(bad))
			c.m.samplesSent.Add(float64(b.samples - bad))
			c.m.lastSuccess.Set(float64(time.Now().UnixNano()) / 1e9)
			c.q.commit(b, len(b.records))
			c.setState(stateOK, res)
			return
		case outcomeTooLarge:
			if len(b.records) > 1 {
				c.q.shrink(b, len(b.records)/2)
				body = nil
				c.m.retries.Inc()
				continue
			}
			fallthrough
		case outcomeRejected:
			c.reject(b, bad, res)
			return
		case outcomeAuth:
			c.setState(stateAuth, res)
			delay = c.maxBackoff
		case outcomeConfig:
			c.setState(stateConfig, res)
			delay = c.maxBackoff
		case outcomeRetry:
			c.setState(stateRetrying, res)
			delay = max(c.backoff(attempt), min(res.retryAfter, maxRetryAfter))
			attempt++
		}
		c.logger.Debug("remote write failed; retrying", "status", res.code, "err", res.err, "delay", delay)
		if !c.sleep(ctx, delay) {
			c.q.commit(b, 0)
			return
		}
		c.m.retries.Inc()
	}
}

// reject drops b after a non-retryable answer. The server may have stored
// part of it, as it says in X-Prometheus-Remote-Write-Samples-Written.
func (c *Client) reject(b *batch, bad int64, res sendResult) {
	total := b.samples - bad
	written := int64(0)
	if res.written >= 0 {
		written = min(int64(res.written), total)
	}
	c.m.dropped.WithLabelValues(reasonUnreadable).Add(float64(bad))
	c.m.samplesSent.Add(float64(written))
	c.m.dropped.WithLabelValues(reasonRejected).Add(float64(total - written))
	c.q.commit(b, len(b.records))
	c.logger.Warn("the server rejected a batch as invalid; its samples are dropped, not retried",
		"url", c.logURL, "status", res.code, "message", res.msg, "samples", total, "stored", written)
	// The server answered: it is reachable and takes the token.
	c.setState(stateOK, res)
}

// encode returns the request body for b: the record's own snappy block
// when it is alone, else the records decoded, concatenated (a repeated
// protobuf field concatenates) and compressed again. Records that do not
// decode are marked bad and left out; bad is their samples.
func (c *Client) encode(b *batch) (body []byte, bad int64) {
	if len(b.records) == 1 && !b.records[0].bad {
		return b.records[0].payload, 0
	}
	raw := c.raw[:0]
	for i := range b.records {
		r := &b.records[i]
		if !r.bad {
			n := r.size
			raw = slices.Grow(raw, n)
			if _, err := snappy.Decode(raw[len(raw):len(raw)+n], r.payload); err == nil {
				raw = raw[:len(raw)+n]
				continue
			}
			r.bad = true
		}
		bad += r.samples
		c.logger.Error("a queued record does not decode; its samples are dropped", "segment", r.seg.num, "end_offset", r.end.off, "samples", r.samples)
	}
	if cap(raw) <= maxBatchBytes {
		c.raw = raw
	}
	if len(raw) == 0 {
		return nil, bad
	}
	// A new body every time: the transport may still read the previous
	// one after Do returned.
	return s2.EncodeSnappy(nil, raw), bad
}

// post sends one request.
func (c *Client) post(ctx context.Context, body []byte) sendResult {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return sendResult{err: err}
	}
	req.Header.Set("Content-Encoding", "snappy")
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
	req.Header.Set("User-Agent", c.userAgent)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		c.m.duration.Observe(time.Since(start).Seconds())
		c.m.requests.WithLabelValues("error").Inc()
		return sendResult{err: err}
	}
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	_ = resp.Body.Close()
	c.m.duration.Observe(time.Since(start).Seconds())
	c.m.requests.WithLabelValues(strconv.Itoa(resp.StatusCode)).Inc()
	res := sendResult{
		code:       resp.StatusCode,
		msg:        strings.TrimSpace(strings.ToValidUTF8(string(msg), "?")),
		retryAfter: ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now()),
		written:    -1,
	}
	if v := resp.Header.Get("X-Prometheus-Remote-Write-Samples-Written"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n >= 0 {
			res.written = n
		}
	}
	return res
}

// ParseRetryAfter reads a Retry-After header: seconds or an HTTP date,
// capped at 10 minutes; 0 when absent or in the past.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		if s <= 0 {
			return 0
		}
		return time.Duration(min(s, int64(maxRetryAfter/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// backoff returns the wait before retry number attempt (from 0): uniform
// between MinBackoff and MinBackoff·2^attempt, capped at MaxBackoff.
func (c *Client) backoff(attempt int) time.Duration {
	ceiling := c.minBackoff
	for i := 0; i < attempt && ceiling < c.maxBackoff; i++ {
		ceiling *= 2
	}
	ceiling = min(ceiling, c.maxBackoff)
	return c.minBackoff + rand.N(ceiling-c.minBackoff+1)
}

// setState logs the changes of what the server answers.
func (c *Client) setState(s sendState, res sendResult) {
	if s == c.state {
		return
	}
	prev := c.state
	c.state = s
	if prev == stateOK {
		c.failingSince = time.Now()
	}
	status := ""
	if res.code != 0 {
		status = strconv.Itoa(res.code) + " " + http.StatusText(res.code)
	}
	switch s {
	case stateOK:
		c.logger.Info("remote write delivers again", "url", c.logURL,
			"failed_for", time.Since(c.failingSince).Round(time.Second), "pending_samples", c.q.pending())
	case stateRetrying:
		args := []any{"url", c.logURL, "pending_samples", c.q.pending()}
		if res.err != nil {
			args = append(args, "err", res.err)
		} else {
			args = append(args, "status", status, "message", res.msg)
		}
		c.logger.Warn("remote write failed; samples stay queued and are retried with backoff", args...)
	case stateAuth:
		c.logger.Error("the server refused the agent's bearer token; samples stay queued and are retried: check that the agent's token is one of the server's ingest tokens",
			"url", c.logURL, "status", status, "message", res.msg, "token_set", c.token != "", "retry_every", c.maxBackoff)
	case stateConfig:
		c.logger.Error("the server does not take remote write at this URL; samples stay queued and are retried: check the server URL (it should end in /api/v1/write)",
			"url", c.logURL, "status", status, "message", res.msg, "retry_every", c.maxBackoff)
	}
}

// sleep waits d and reports whether to go on: false once ctx is done or
// the client closed.
func (c *Client) sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-c.done:
		return false
	case <-t.C:
		return true
	}
}
