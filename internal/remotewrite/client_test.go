package remotewrite

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/prometheus/prompb"
	"github.com/stretchr/testify/require"
)

func TestDeliverInOrderAndBatched(t *testing.T) {
	rv := newReceiver(t)
	srv := startServer(t, rv)
	c := newClient(t, t.TempDir(), srv.URL+"/api/v1/write", func(o *Options) { o.MaxBatchSamples = 1000 })

	// 50 collections of 100 samples queued before sending starts: 5
	// requests of 10 collections each.
	c.enqueue(t, 0, 50, 100)
	require.EqualValues(t, 5000, testutil.ToFloat64(c.m.pendingSamples))
	c.run(t)
	waitSent(t, c, rv, "first 50 collections", 5000)
	require.Equal(t, []int{1000, 1000, 1000, 1000, 1000}, rv.stored())

	// Run waits for new data without polling and sends it.
	c.enqueue(t, 50, 60, 100)
	waitSent(t, c, rv, "10 more collections", 6000)
	verify(t, rv.got(), span(0, 60), 100, true)

	require.EqualValues(t, 6000, testutil.ToFloat64(c.m.samplesSent))
	waitFor(t, "nothing pending", func() bool { return testutil.ToFloat64(c.m.pendingSamples) == 0 })
	require.Zero(t, testutil.ToFloat64(c.m.retries))
	require.Greater(t, testutil.ToFloat64(c.m.lastSuccess), float64(time.Now().Add(-time.Minute).Unix()))
	for _, r := range []string{reasonQueueFull, reasonWriteError, reasonRejected, reasonUnreadable} {
		require.Zero(t, c.dropped(r), r)
	}
	// Sent segments are deleted: what is left is at most the segment
	// being written.
	require.LessOrEqual(t, c.QueueBytes(), segmentSizeFor(DefaultMaxQueueSize))

	names := map[string]bool{}
	mfs, err := c.reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		names[mf.GetName()] = true
	}
	for _, n := range []string{
		"saypro_agent_remote_write_samples_sent_total",
		"saypro_agent_remote_write_requests_total",
		"saypro_agent_remote_write_request_duration_seconds",
		"saypro_agent_remote_write_retries_total",
		"saypro_agent_remote_write_last_success_timestamp_seconds",
		"saypro_agent_queue_bytes",
		"saypro_agent_queue_pending_samples",
		"saypro_agent_queue_dropped_samples_total",
	} {
		require.True(t, names[n], n)
	}
}

func TestServerDownThenUp(t *testing.T) {
	addr := freeAddr(t)
	c := newClient(t, t.TempDir(), "http://"+addr+"/api/v1/write", nil)
	c.run(t)
	c.enqueue(t, 0, 10, 50)
	waitFor(t, "failed attempts", func() bool { return c.requestsWith("error") >= 3 })
	c.enqueue(t, 10, 20, 50)

	rv := newReceiver(t)
	ln, err := net.Listen("tcp", addr)
	require.NoError(t, err)
	srv := httptest.NewUnstartedServer(rv)
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)

	waitFor(t, "backlog delivered", func() bool { return testutil.ToFloat64(c.m.samplesSent) == 1000 })
	verify(t, rv.got(), span(0, 20), 50, false)
	require.GreaterOrEqual(t, testutil.ToFloat64(c.m.retries), 3.0)
	// One warning when it started failing, one line when it recovered.
	require.Equal(t, 1, c.logs.count("remote write failed; samples stay queued"))
	require.Equal(t, 1, c.logs.count("remote write delivers again"))
}

// failFirst answers the first n requests with code and msg, after header
// (when not nil) set the response's headers.
func failFirst(n, code int, msg string, header func(http.Header)) func(http.ResponseWriter, *http.Request, int) bool {
	return func(w http.ResponseWriter, _ *http.Request, i int) bool {
		if i > n {
			return false
		}
		if header != nil {
			header(w.Header())
		}
		http.Error(w, msg, code)
		return true
	}
}

func TestServerFaults(t *testing.T) {
	const nSeries = 20
	cases := []struct {
		name  string
		fault func(w http.ResponseWriter, r *http.Request, n int) bool
		mod   func(*Options)
		check func(t *testing.T, c *testClient, rv *receiver, times []time.Time)
	}{
		{
			name:  "5xx then success",
			fault: failFirst(3, http.StatusInternalServerError, "storage failure", nil),
			check: func(t *testing.T, c *testClient, rv *receiver, _ []time.Time) {
				verify(t, rv.got(), span(0, 10), nSeries, true)
				require.EqualValues(t, 3, c.requestsWith("500"))
				require.EqualValues(t, 3, testutil.ToFloat64(c.m.retries))
			},
		},
		{
			name: "429 with Retry-After in seconds",
			fault: failFirst(1, http.StatusTooManyRequests, "slow down", func(h http.Header) {
				h.Set("Retry-After", "1")
			}),
			check: func(t *testing.T, c *testClient, rv *receiver, times []time.Time) {
				verify(t, rv.got(), span(0, 10), nSeries, true)
				require.GreaterOrEqual(t, times[1].Sub(times[0]), 950*time.Millisecond, "Retry-After honoured")
			},
		},
		{
			name: "503 with Retry-After as a date",
			fault: failFirst(1, http.StatusServiceUnavailable, "starting", func(h http.Header) {
				h.Set("Retry-After", time.Now().Add(2*time.Second).UTC().Format(http.TimeFormat))
			}),
			check: func(t *testing.T, c *testClient, rv *receiver, times []time.Time) {
				verify(t, rv.got(), span(0, 10), nSeries, true)
				// The date has a one-second resolution.
				require.GreaterOrEqual(t, times[1].Sub(times[0]), 900*time.Millisecond, "Retry-After honoured")
			},
		},
		{
			name: "400 drops the batch and goes on",
			fault: failFirst(1, http.StatusBadRequest, "5 samples rejected: out of bounds", func(h http.Header) {
				h.Set("X-Prometheus-Remote-Write-Samples-Written", "15")
			}),
			mod: func(o *Options) { o.MaxBatchSamples = 5 * nSeries },
			check: func(t *testing.T, c *testClient, rv *receiver, _ []time.Time) {
				// The first batch (collections 0-4) is not retried.
				verify(t, rv.got(), span(5, 10), nSeries, true)
				require.EqualValues(t, 5*nSeries-15, c.dropped(reasonRejected))
				require.EqualValues(t, 5*nSeries+15, testutil.ToFloat64(c.m.samplesSent))
				require.Zero(t, testutil.ToFloat64(c.m.retries))
				require.Contains(t, c.logs.String(), "5 samples rejected: out of bounds")
			},
		},
		{
			name:  "401 keeps the data and retries",
			fault: failFirst(6, http.StatusUnauthorized, "bearer token not accepted", nil),
			check: func(t *testing.T, c *testClient, rv *receiver, times []time.Time) {
				verify(t, rv.got(), span(0, 10), nSeries, true)
				require.Zero(t, c.dropped(reasonRejected))
				require.EqualValues(t, 6, c.requestsWith("401"))
				// Logged once for the six refusals, with what to do.
				require.Equal(t, 1, c.logs.count("the server refused the agent's bearer token"))
				// Retried at the maximum backoff.
				for i := 1; i < 6; i++ {
					require.GreaterOrEqual(t, times[i].Sub(times[i-1]), 40*time.Millisecond)
				}
			},
		},
		{
			name: "slow server past the timeout",
			fault: func(w http.ResponseWriter, r *http.Request, n int) bool {
				if n <= 2 {
					_, _ = io.Copy(io.Discard, r.Body) // so that the server notices the client leave
					select {
					case <-r.Context().Done(): // the client gives up first
					case <-time.After(5 * time.Second):
						t.Error("the client did not time out")
					}
					return true
				}
				return false
			},
			mod: func(o *Options) { o.Timeout = 100 * time.Millisecond },
			check: func(t *testing.T, c *testClient, rv *receiver, _ []time.Time) {
				verify(t, rv.got(), span(0, 10), nSeries, true)
				require.EqualValues(t, 2, c.requestsWith("error"))
			},
		},
		{
			name: "413 splits the batch",
			fault: func(w http.ResponseWriter, r *http.Request, _ int) bool {
				if r.ContentLength > 600 {
					http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
					return true
				}
				return false
			},
			check: func(t *testing.T, c *testClient, rv *receiver, _ []time.Time) {
				verify(t, rv.got(), span(0, 10), nSeries, true)
				require.Greater(t, c.requestsWith("413"), 0.0)
				require.Zero(t, c.dropped(reasonRejected))
			},
		},
		{
			name:  "404 keeps the data",
			fault: failFirst(2, http.StatusNotFound, "404 page not found", nil),
			check: func(t *testing.T, c *testClient, rv *receiver, _ []time.Time) {
				verify(t, rv.got(), span(0, 10), nSeries, true)
				require.Equal(t, 1, c.logs.count("the server does not take remote write at this URL"))
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rv := newReceiver(t)
			var (
				mu    sync.Mutex
				times []time.Time
			)
			rv.setFault(func(w http.ResponseWriter, r *http.Request, n int) bool {
				mu.Lock()
				times = append(times, time.Now())
				mu.Unlock()
				return tc.fault(w, r, n)
			})
			srv := startServer(t, rv)
			c := newClient(t, t.TempDir(), srv.URL+"/api/v1/write", tc.mod)
			c.enqueue(t, 0, 10, nSeries)
			c.run(t)
			waitFor(t, "all sent or dropped", func() bool {
				return testutil.ToFloat64(c.m.pendingSamples) == 0
			})
			mu.Lock()
			defer mu.Unlock()
			tc.check(t, c, rv, times)
		})
	}
}

func TestNewValidates(t *testing.T) {
	base := func() Options {
		return Options{
			URL:        "http://127.0.0.1:9900/api/v1/write",
			Dir:        t.TempDir(),
			Logger:     slog.New(slog.DiscardHandler),
			Registerer: prometheus.NewRegistry(),
		}
	}
	for name, mod := range map[string]func(*Options){
		"no logger":        func(o *Options) { o.Logger = nil },
		"no registerer":    func(o *Options) { o.Registerer = nil },
		"no dir":           func(o *Options) { o.Dir = "" },
		"bad url":          func(o *Options) { o.URL = "monitor:9900" },
		"tiny queue":       func(o *Options) { o.MaxQueueSize = 1000 },
		"backoffs swapped": func(o *Options) { o.MinBackoff, o.MaxBackoff = time.Minute, time.Second },
	} {
		o := base()
		mod(&o)
		_, err := New(o)
		require.Error(t, err, name)
	}

	// One queue directory, one client: the second gets ErrQueueInUse,
	// and its failed New leaves the registry usable.
	o := base()
	c, err := New(o)
	require.NoError(t, err)
	o2 := o
	o2.Registerer = prometheus.NewRegistry()
	_, err = New(o2)
	require.ErrorIs(t, err, ErrQueueInUse)
	require.NoError(t, c.Close())
	c2, err := New(o2)
	require.NoError(t, err)
	require.NoError(t, c2.Close())

	// The same registry twice is an error, not a panic.
	o3 := o
	o3.Dir = t.TempDir()
	_, err = New(o3)
	require.Error(t, err)

	require.ErrorIs(t, c.Enqueue(collection(0, 1)), ErrClosed)
	require.ErrorIs(t, c.Run(t.Context()), ErrClosed)
}

func TestRetryAfterAndBackoff(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"":         0,
		"3":        3 * time.Second,
		"-1":       0,
		"junk":     0,
		"99999999": maxRetryAfter,
		now.Add(90 * time.Second).Format(http.TimeFormat): 90 * time.Second,
		now.Add(-time.Hour).Format(http.TimeFormat):       0,
	} {
		require.Equal(t, want, ParseRetryAfter(v, now), "%q", v)
	}

	c := &Client{minBackoff: 500 * time.Millisecond, maxBackoff: time.Minute}
	for attempt := range 20 {
		ceiling := min(c.minBackoff<<min(attempt, 20), c.maxBackoff)
		for range 50 {
			d := c.backoff(attempt)
			require.GreaterOrEqual(t, d, c.minBackoff)
			require.LessOrEqual(t, d, ceiling)
		}
	}
	// The jitter spreads: not every wait at attempt 10 is the same.
	seen := map[time.Duration]bool{}
	for range 20 {
		seen[c.backoff(10)] = true
	}
	require.Greater(t, len(seen), 1)

	for code, want := range map[int]Outcome{
		200: OutcomeSent, 204: OutcomeSent, 400: OutcomeRejected, 401: OutcomeAuth, 403: OutcomeAuth,
		404: OutcomeConfig, 408: OutcomeRetry, 413: OutcomeTooLarge, 422: OutcomeRejected,
		429: OutcomeRetry, 500: OutcomeRetry, 502: OutcomeRetry, 503: OutcomeRetry, 302: OutcomeConfig,
	} {
		require.Equal(t, want, Answer{Code: code}.Outcome(), strconv.Itoa(code))
	}
}

func TestEnqueueHistogramsCounted(t *testing.T) {
	rv := newReceiver(t)
	srv := startServer(t, rv)
	c := newClient(t, t.TempDir(), srv.URL, nil)
	require.NoError(t, c.Enqueue(nil))
	series := collection(0, 2)
	series[0].Histograms = []prompb.Histogram{{Count: &prompb.Histogram_CountInt{CountInt: 1}, Timestamp: baseTS}}
	require.NoError(t, c.Enqueue(series))
	require.EqualValues(t, 3, testutil.ToFloat64(c.m.pendingSamples))
}
