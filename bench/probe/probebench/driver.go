package main

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/saypro/monitor/bench/promtext"
	"github.com/saypro/monitor/internal/probe"
)

// stateError is a /probe request that failed, in the unexpected reasons.
const stateError = probe.State("error")

// driverStates are how the driver classifies a completed probe.
var driverStates = []string{"up", "degraded", "down"}

// driverBuckets are the lateness buckets of the driver's sending, the
// scheduler's own.
var driverBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, math.Inf(1)}

// driver calls blackbox_exporter's /probe for every target once per
// interval, each at a fixed phase taken from a hash of its name (as our
// scheduler spreads its checks), as Prometheus would with one scrape job
// of all the targets. A probe still running when due again is skipped.
type driver struct {
	client   *http.Client
	urls     []string
	kinds    []int
	phase    []time.Duration
	interval time.Duration
	warn     time.Duration
	header   string // X-Prometheus-Scrape-Timeout-Seconds

	running []atomic.Bool
	states  [3][3]atomic.Int64
	errors  atomic.Int64
	skipped atomic.Int64
	late    [16]atomic.Int64 // per bucket, not cumulative
	lateSum atomic.Int64     // nanoseconds
	odd     unexpected
	wg      sync.WaitGroup
}

func newDriver(base, module string, ts []Target, interval, timeout, warn time.Duration) *driver {
	d := &driver{
		interval: interval,
		warn:     warn,
		// Prometheus sends the scrape timeout; blackbox uses the module's
		// timeout when it is shorter (less its 0.5 s offset).
		header:  strconv.FormatFloat(interval.Seconds(), 'f', -1, 64),
		running: make([]atomic.Bool, len(ts)),
		client: &http.Client{
			Timeout: timeout + 10*time.Second,
			Transport: &http.Transport{
				MaxIdleConns:        0,
				MaxIdleConnsPerHost: 4096,
				IdleConnTimeout:     time.Minute,
			},
		},
	}
	kindIdx := map[string]int{}
	for i, k := range targetKinds {
		kindIdx[k] = i
	}
	for _, t := range ts {
		q := url.Values{"module": {module}, "target": {t.URL}}
		d.urls = append(d.urls, base+"/probe?"+q.Encode())
		d.kinds = append(d.kinds, kindIdx[t.Kind])
		h := fnv.New64a()
		h.Write([]byte("blackbox/" + t.Name))
		d.phase = append(d.phase, time.Duration(h.Sum64()%uint64(interval)))
	}
	return d
}

// run sends probes until ctx is done, then waits for those in flight.
func (d *driver) run(ctx context.Context) {
	defer d.wg.Wait()
	order := make([]int, len(d.urls))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return int(d.phase[a] - d.phase[b]) })
	start := time.Now()
	base := start.Truncate(d.interval)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for round := 0; ; round++ {
		for _, i := range order {
			due := base.Add(time.Duration(round)*d.interval + d.phase[i])
			if due.Before(start) {
				continue
			}
			if w := time.Until(due); w > 0 {
				timer.Reset(w)
				select {
				case <-ctx.Done():
					return
				case <-timer.C:
				}
			} else if ctx.Err() != nil {
				return
			}
			if !d.running[i].CompareAndSwap(false, true) {
				d.skipped.Add(1)
				continue
			}
			d.observeLate(time.Since(due))
			d.wg.Add(1)
			go d.probe(i)
		}
	}
}

func (d *driver) observeLate(l time.Duration) {
	s := l.Seconds()
	i, _ := slices.BinarySearch(driverBuckets, s)
	d.late[i].Add(1)
	d.lateSum.Add(int64(l))
}

// probe runs one /probe request; it is not cancelled with the driver's
// context, so that a probe in flight at the end of the window completes.
func (d *driver) probe(i int) {
	defer d.wg.Done()
	defer d.running[i].Store(false)
	req, err := http.NewRequest(http.MethodGet, d.urls[i], nil)
	if err != nil {
		d.errors.Add(1)
		return
	}
	req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", d.header)
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	kind := targetKinds[d.kinds[i]]
	resp, err := d.client.Do(req)
	if err != nil {
		d.errors.Add(1)
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		d.odd.add(kind, stateError, err.Error())
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, resp.Body)
		d.errors.Add(1)
		d.odd.add(kind, stateError, "status "+resp.Status)
		return
	}
	st, dur, err := classifyProbe(resp.Body, d.warn)
	if err != nil {
		d.errors.Add(1)
		d.odd.add(kind, stateError, err.Error())
		return
	}
	d.states[d.kinds[i]][st].Add(1)
	if st != int(d.kinds[i]) { // fast up (0), slow degraded (1), hang down (2)
		success := 1
		if st == 2 {
			success = 0
		}
		d.odd.addRaw(kind, probe.State(driverStates[st]), fmt.Sprintf("probe_success %d, probe_duration_seconds %s", success, durClass(dur)))
	}
}

// durClass is a coarse class of a probe's duration, for reasons.
func durClass(s float64) string {
	switch {
	case s < 1:
		return "< 1s"
	case s < 3:
		return "1s to 3s"
	case s < 5:
		return "3s to 5s"
	}
	return ">= 5s"
}

// classifyProbe reads a blackbox /probe answer: 2 (down) when
// probe_success is 0, 1 (degraded) when it succeeded slower than warn,
// 0 (up) otherwise; and probe_duration_seconds.
func classifyProbe(r io.Reader, warn time.Duration) (state int, dur float64, err error) {
	success := -1.0
	err = promtext.Scan(r, []string{"probe_success", "probe_duration_seconds"}, func(name, _ string, v float64) error {
		if name == "probe_success" {
			success = v
		} else {
			dur = v
		}
		return nil
	})
	if err != nil {
		return 0, 0, err
	}
	switch {
	case success < 0:
		return 0, dur, errNoProbeSuccess
	case success == 0:
		return 2, dur, nil
	case dur > warn.Seconds():
		return 1, dur, nil
	}
	return 0, dur, nil
}

type errString string

func (e errString) Error() string { return string(e) }

const errNoProbeSuccess = errString("no probe_success in the answer")

// driverCounts is a reading of the driver's counters.
type driverCounts struct {
	states   [3][3]float64
	errors   float64
	skipped  float64
	lateness Histogram
}

func (d *driver) counts() driverCounts {
	var c driverCounts
	for i := range d.states {
		for j := range d.states[i] {
			c.states[i][j] = float64(d.states[i][j].Load())
		}
	}
	c.errors = float64(d.errors.Load())
	c.skipped = float64(d.skipped.Load())
	var cum float64
	for i, b := range driverBuckets {
		cum += float64(d.late[i].Load())
		c.lateness.Bounds = append(c.lateness.Bounds, b)
		c.lateness.Counts = append(c.lateness.Counts, cum)
	}
	c.lateness.Count = cum
	c.lateness.Sum = time.Duration(d.lateSum.Load()).Seconds()
	return c
}

func (c driverCounts) sub(earlier driverCounts) driverCounts {
	d := c
	for i := range c.states {
		for j := range c.states[i] {
			d.states[i][j] -= earlier.states[i][j]
		}
	}
	d.errors -= earlier.errors
	d.skipped -= earlier.skipped
	d.lateness, _ = c.lateness.Sub(earlier.lateness)
	return d
}

func (c driverCounts) total() float64 {
	var t float64
	for i := range c.states {
		for j := range c.states[i] {
			t += c.states[i][j]
		}
	}
	return t
}
