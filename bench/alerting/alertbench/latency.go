package main

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"time"
)

// trialResult is one alert-latency trial.
type trialResult struct {
	Trial int       `json:"trial"`
	T0    time.Time `json:"t0"` // the crossing sample was sent (its timestamp)
	T1    time.Time `json:"t1"` // the webhook received the firing notification
	// PhaseS is T0 minus the rule evaluation before it, as the evaluation
	// schedule (from /api/v1/rules) predicts; WaitForEvalS is the next
	// evaluation minus T0: the part of the latency due to the phase.
	PhaseS       float64 `json:"phase_s"`
	WaitForEvalS float64 `json:"wait_for_eval_s"`
	LatencyS     float64 `json:"latency_s"`
	// AfterEvalS is T1 minus the first evaluation after T0: evaluation,
	// group_wait, dispatch and delivery. Above the evaluation interval
	// means the evaluation right after T0 missed the sample.
	AfterEvalS float64 `json:"after_eval_s"`
	WriteErrs  int     `json:"write_errors"`
}

// evalSchedule is the rule group's evaluation times: last + k*interval.
type evalSchedule struct {
	last     time.Time
	interval time.Duration
}

// next returns the first evaluation strictly after t.
func (s evalSchedule) next(t time.Time) time.Time {
	if t.Before(s.last) {
		return s.last
	}
	k := t.Sub(s.last)/s.interval + 1
	return s.last.Add(k * s.interval)
}

// waitSchedule waits until the bench rule group has been evaluated once
// and returns its schedule.
func waitSchedule(ctx context.Context, c *client, interval time.Duration) (evalSchedule, error) {
	deadline := time.Now().Add(2*interval + 30*time.Second)
	for {
		last, err := c.lastEvaluation(ctx)
		if err != nil {
			return evalSchedule{}, err
		}
		if !last.IsZero() {
			return evalSchedule{last: last, interval: interval}, nil
		}
		if time.Now().After(deadline) {
			return evalSchedule{}, fmt.Errorf("the bench rule group was not evaluated within %v", 2*interval+30*time.Second)
		}
		if err := sleepCtx(ctx, 250*time.Millisecond); err != nil {
			return evalSchedule{}, err
		}
	}
}

// phases returns n offsets after an evaluation, one drawn at random from
// each of n equal slices of the interval, in random order: random, yet
// covering the whole interval (the worst case, just after an evaluation,
// and the best, just before one) even with few trials.
func phases(n int, interval time.Duration, rng *rand.Rand) []time.Duration {
	out := make([]time.Duration, n)
	for i, slot := range rng.Perm(n) {
		out[i] = time.Duration((float64(slot) + rng.Float64()) * float64(interval) / float64(n))
	}
	return out
}

// runTrials measures the alert latency n times.
func runTrials(ctx context.Context, c *client, wh *webhooks, n int, interval, groupWait time.Duration, rng *rand.Rand, logger *slog.Logger, progress func(string)) ([]trialResult, error) {
	sched, err := waitSchedule(ctx, c, interval)
	if err != nil {
		return nil, err
	}
	progress(fmt.Sprintf("rule group evaluated at %s, every %v", sched.last.Format("15:04:05.000"), interval))
	var out []trialResult
	for k, phase := range phases(n, interval, rng) {
		r, err := runTrial(ctx, c, wh, k+1, phase, sched, groupWait, logger)
		if err != nil {
			return out, fmt.Errorf("trial %d: %w", k+1, err)
		}
		out = append(out, r)
		progress(fmt.Sprintf("trial %d/%d: crossed %.2fs after an evaluation (%.2fs before the next); notified after %.3fs (%.3fs after that evaluation)",
			k+1, n, r.PhaseS, r.WaitForEvalS, r.LatencyS, r.AfterEvalS))
	}
	return out, nil
}

// runTrial writes the trial's series below the threshold every second from
// now, past one evaluation, until phase after an evaluation; then writes
// 200 (T0) and keeps writing 200 every second until the webhook receives
// the firing notification (T1).
func runTrial(ctx context.Context, c *client, wh *webhooks, trial int, phase time.Duration, sched evalSchedule, groupWait time.Duration, logger *slog.Logger) (trialResult, error) {
	res := trialResult{Trial: trial}
	labels := map[string]string{"job": "bench", "trial": strconv.Itoa(trial)}
	notified := wh.wait(ruleAlert + "/" + strconv.Itoa(trial))

	start := time.Now()
	// The evaluation at first sees the below-threshold value; T0 is phase
	// after it or after the one following it.
	first := sched.next(start.Add(1500 * time.Millisecond))
	target := first.Add(phase)

	cross := make(chan chan time.Time)
	stop := make(chan struct{})
	done := make(chan int)
	go func() {
		value, errs := 50.0, 0
		var last time.Time
		write := func() time.Time {
			now := time.Now()
			// A sample per millisecond at most: the TSDB refuses a
			// second value with the same timestamp.
			ts := now.Truncate(time.Millisecond)
			if !ts.After(last) {
				ts = last.Add(time.Millisecond)
			}
			last = ts
			if err := c.write(ctx, ts, value, labels); err != nil {
				errs++
				logger.Warn("remote write failed", "trial", trial, "value", value, "err", err)
			}
			return now
		}
		write()
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				write()
			case reply := <-cross:
				value = 200
				reply <- write()
				tick.Reset(time.Second)
			case <-stop:
				value = 0 // resolve it, so that the rule does not keep it firing
				write()
				done <- errs
				return
			case <-ctx.Done():
				done <- errs
				return
			}
		}
	}()
	finish := func() { close(stop); res.WriteErrs = <-done }

	if err := sleepCtx(ctx, time.Until(target)); err != nil {
		finish()
		return res, err
	}
	reply := make(chan time.Time, 1)
	select {
	case cross <- reply:
	case <-ctx.Done():
		finish()
		return res, ctx.Err()
	}
	t0 := <-reply
	timeout := 2*sched.interval + groupWait + 30*time.Second
	select {
	case t1 := <-notified:
		res.T0, res.T1 = t0, t1
	case <-time.After(timeout):
		finish()
		return res, fmt.Errorf("no firing notification within %v of the crossing sample", timeout)
	case <-ctx.Done():
		finish()
		return res, ctx.Err()
	}
	finish()
	next := sched.next(res.T0)
	res.PhaseS = seconds(sched.interval - next.Sub(res.T0))
	res.WaitForEvalS = seconds(next.Sub(res.T0))
	res.LatencyS = seconds(res.T1.Sub(res.T0))
	res.AfterEvalS = seconds(res.T1.Sub(next))
	if res.WriteErrs > 0 {
		return res, fmt.Errorf("%d remote writes failed", res.WriteErrs)
	}
	return res, nil
}

func seconds(d time.Duration) float64 { return d.Seconds() }

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
