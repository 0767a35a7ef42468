package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/saypro/monitor/bench/promtext"
)

// Histogram is a cumulative Prometheus histogram: counts of observations
// at most each upper bound, the last bound +Inf.
type Histogram struct {
	Bounds []float64 `json:"bounds"`
	Counts []float64 `json:"counts"`
	Sum    float64   `json:"sum"`
	Count  float64   `json:"count"`
}

func (h *Histogram) add(le, v float64) {
	i, found := slices.BinarySearch(h.Bounds, le)
	if found {
		h.Counts[i] = v
		return
	}
	h.Bounds = slices.Insert(h.Bounds, i, le)
	h.Counts = slices.Insert(h.Counts, i, v)
}

// Sub returns h minus an earlier reading of the same histogram: the
// observations between the two.
func (h Histogram) Sub(earlier Histogram) (Histogram, error) {
	if len(earlier.Bounds) == 0 {
		return h, nil
	}
	if !slices.Equal(h.Bounds, earlier.Bounds) {
		return Histogram{}, fmt.Errorf("histogram buckets changed between readings: %v, then %v", earlier.Bounds, h.Bounds)
	}
	d := Histogram{Bounds: h.Bounds, Counts: make([]float64, len(h.Counts)), Sum: h.Sum - earlier.Sum, Count: h.Count - earlier.Count}
	for i := range h.Counts {
		d.Counts[i] = h.Counts[i] - earlier.Counts[i]
	}
	return d, nil
}

// Quantile estimates the q-quantile as PromQL's histogram_quantile does:
// linear interpolation within the bucket holding the rank, from 0 for the
// first bucket; a rank in the +Inf bucket gives the highest finite bound.
// NaN when there are no observations.
func (h Histogram) Quantile(q float64) float64 {
	n := len(h.Counts)
	if n == 0 || h.Counts[n-1] <= 0 {
		return math.NaN()
	}
	total := h.Counts[n-1]
	rank := q * total
	i, _ := slices.BinarySearchFunc(h.Counts, rank, func(c, r float64) int {
		if c < r {
			return -1
		}
		return 1
	})
	if i >= n {
		i = n - 1
	}
	if math.IsInf(h.Bounds[i], 1) {
		if n >= 2 {
			return h.Bounds[n-2]
		}
		return math.NaN()
	}
	lower, before := 0.0, 0.0
	if i > 0 {
		lower, before = h.Bounds[i-1], h.Counts[i-1]
	}
	inBucket := h.Counts[i] - before
	if inBucket <= 0 {
		return h.Bounds[i]
	}
	return lower + (h.Bounds[i]-lower)*(rank-before)/inBucket
}

// MaxBound is the smallest bucket bound that holds every observation (an
// upper bound of the largest), +Inf if some are above the highest finite
// bound; NaN when there are none.
func (h Histogram) MaxBound() float64 {
	n := len(h.Counts)
	if n == 0 || h.Counts[n-1] <= 0 {
		return math.NaN()
	}
	for i, c := range h.Counts {
		if c >= h.Counts[n-1] {
			return h.Bounds[i]
		}
	}
	return math.Inf(1)
}

// Scheduler metric names read from a /metrics page.
const (
	mLateness = "saypro_check_schedule_lateness_seconds"
	mRuns     = "saypro_check_runs_total"
	mSkipped  = "saypro_check_runs_skipped_total"
	mInFlight = "saypro_check_runs_in_flight"
	mChecks   = "saypro_checks"
	mOutcomes = "bench_probe_outcomes_total"
)

// SchedReading is one reading of a scheduler's metrics.
type SchedReading struct {
	Runs     map[string]float64 `json:"runs"` // by state
	Skipped  float64            `json:"skipped"`
	InFlight float64            `json:"in_flight"`
	Checks   float64            `json:"checks"`
	Lateness Histogram          `json:"lateness"`
	// Outcomes by "target_kind/state", from the in-process prober only.
	Outcomes map[string]float64 `json:"outcomes,omitempty"`
}

// TotalRuns is the sum of runs over the states.
func (r SchedReading) TotalRuns() float64 {
	var t float64
	for _, v := range r.Runs {
		t += v
	}
	return t
}

// parseSched reads the scheduler metrics from a text exposition.
func parseSched(r io.Reader) (SchedReading, error) {
	s := SchedReading{Runs: map[string]float64{}, Outcomes: map[string]float64{}}
	names := []string{mLateness + "_bucket", mLateness + "_sum", mLateness + "_count", mRuns, mSkipped, mInFlight, mChecks, mOutcomes}
	seenHist := false
	err := promtext.Scan(r, names, func(name, labels string, v float64) error {
		switch name {
		case mLateness + "_bucket":
			le, ok := labelValue(labels, "le")
			if !ok {
				return fmt.Errorf("bucket without le")
			}
			b, err := strconv.ParseFloat(le, 64)
			if err != nil {
				return fmt.Errorf("le %q: %w", le, err)
			}
			s.Lateness.add(b, v)
			seenHist = true
		case mLateness + "_sum":
			s.Lateness.Sum = v
		case mLateness + "_count":
			s.Lateness.Count = v
		case mRuns:
			st, _ := labelValue(labels, "state")
			s.Runs[st] += v
		case mSkipped:
			s.Skipped = v
		case mInFlight:
			s.InFlight = v
		case mChecks:
			s.Checks = v
		case mOutcomes:
			k, _ := labelValue(labels, "target_kind")
			st, _ := labelValue(labels, "state")
			s.Outcomes[k+"/"+st] += v
		}
		return nil
	})
	if err != nil {
		return s, err
	}
	if !seenHist {
		return s, fmt.Errorf("no %s histogram on the page", mLateness)
	}
	if n := len(s.Lateness.Bounds); !math.IsInf(s.Lateness.Bounds[n-1], 1) {
		return s, fmt.Errorf("%s has no +Inf bucket", mLateness)
	}
	return s, nil
}

// labelValue finds name="value" in a label set as written between braces.
// Values with escaped quotes are not needed here and not handled.
func labelValue(labels, name string) (string, bool) {
	for labels != "" {
		labels = strings.TrimLeft(labels, ", ")
		k, rest, ok := strings.Cut(labels, "=")
		if !ok || !strings.HasPrefix(rest, `"`) {
			return "", false
		}
		v, after, ok := strings.Cut(rest[1:], `"`)
		if !ok {
			return "", false
		}
		if strings.TrimSpace(k) == name {
			return v, true
		}
		labels = after
	}
	return "", false
}
