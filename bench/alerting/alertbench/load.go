package main

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/saypro/monitor/bench/procstat"
)

// probeResult is one new group's notification latency.
type probeResult struct {
	Name         string  `json:"name"`
	LatencyS     float64 `json:"latency_s"`     // POST sent -> webhook received the firing notification
	PostS        float64 `json:"post_s"`        // the POST's own answer time
	DuringRepost bool    `json:"during_repost"` // the load was being re-posted when the POST was sent
}

// round is one posting of every load alert.
type round struct {
	At       time.Time `json:"at"`
	Requests int       `json:"requests"`
	Seconds  float64   `json:"seconds"`
	Errors   int       `json:"errors"`
}

type loadConfig struct {
	Groups, PerGroup, Batch int
	Repost, Duration        time.Duration
	BaselineProbes          int
	GroupWait               time.Duration
}

type loadResult struct {
	Alerts          int           `json:"alerts"`
	Groups          int           `json:"groups"`
	Batch           int           `json:"batch"`
	RepostEveryS    float64       `json:"repost_every_s"`
	Baseline        []probeResult `json:"baseline"`
	UnderLoad       []probeResult `json:"under_load"`
	Rounds          []round       `json:"rounds"`
	AlertsInServer  int           `json:"alerts_in_server"` // BenchLoad alerts /api/v2/alerts lists at the end
	RSSBeforeBytes  int64         `json:"rss_before_bytes"`
	RSSLoadedBytes  int64         `json:"rss_loaded_bytes"` // after the first round was posted
	RSSMaxBytes     int64         `json:"rss_max_bytes"`    // largest VmRSS sampled every second under load
	RSSEndBytes     int64         `json:"rss_end_bytes"`
	HWMEndBytes     int64         `json:"hwm_end_bytes"`
	CPUUnderLoadS   float64       `json:"cpu_under_load_s"` // server CPU seconds from just before the first round to the end
	LoadSeconds     float64       `json:"load_seconds"`
	SlowWebhook     counts        `json:"slow_webhook"`
	AllGroupsAfterS float64       `json:"all_groups_notified_after_s"` // from the first round's start to the 500th group's notification; 0: not all
}

// probe posts one alert of a new group and waits for its notification.
func probe(ctx context.Context, c *client, wh *webhooks, name string, timeout time.Duration) (probeResult, error) {
	res := probeResult{Name: name}
	notified := wh.wait(probeAlert + "/" + name)
	t0 := time.Now()
	err := c.postAlerts(ctx, []postableAlert{{
		Labels:      map[string]string{"alertname": probeAlert, "probe": name, "severity": "bench"},
		Annotations: map[string]string{"summary": "new group " + name},
		StartsAt:    t0,
		EndsAt:      t0.Add(time.Hour),
	}})
	res.PostS = seconds(time.Since(t0))
	if err != nil {
		return res, err
	}
	select {
	case t1 := <-notified:
		res.LatencyS = seconds(t1.Sub(t0))
		return res, nil
	case <-time.After(timeout):
		return res, fmt.Errorf("probe %s: no notification within %v", name, timeout)
	case <-ctx.Done():
		return res, ctx.Err()
	}
}

// loadAlerts returns the load: groups x perGroup firing alerts.
func loadAlerts(groups, perGroup int, startsAt time.Time) []postableAlert {
	out := make([]postableAlert, 0, groups*perGroup)
	for g := range groups {
		for i := range perGroup {
			out = append(out, postableAlert{
				Labels: map[string]string{
					"alertname": loadAlert, "group": "g" + strconv.Itoa(g), "i": strconv.Itoa(i), "severity": "bench",
				},
				Annotations:  map[string]string{"summary": "load alert"},
				StartsAt:     startsAt,
				GeneratorURL: "http://bench.invalid/graph",
			})
		}
	}
	return out
}

// postRound posts every alert in batches, one request after the other, as
// Prometheus's notifier does, with endsAt an hour from now.
func postRound(ctx context.Context, c *client, alerts []postableAlert, batch int, logger *slog.Logger) round {
	r := round{At: time.Now()}
	endsAt := r.At.Add(time.Hour)
	for i := range alerts {
		alerts[i].EndsAt = endsAt
	}
	for i := 0; i < len(alerts); i += batch {
		r.Requests++
		if err := c.postAlerts(ctx, alerts[i:min(i+batch, len(alerts))]); err != nil {
			r.Errors++
			logger.Warn("posting load alerts failed", "err", err)
		}
	}
	r.Seconds = seconds(time.Since(r.At))
	return r
}

// runLoad measures the baseline, then posts the load and measures under it.
func runLoad(ctx context.Context, c *client, wh *webhooks, cfg loadConfig, pid int, clkTck float64, rng *rand.Rand, logger *slog.Logger, progress func(string)) (loadResult, error) {
	res := loadResult{Alerts: cfg.Groups * cfg.PerGroup, Groups: cfg.Groups, Batch: cfg.Batch, RepostEveryS: seconds(cfg.Repost)}
	timeout := cfg.GroupWait + 60*time.Second
	pause := func() error { return sleepCtx(ctx, time.Duration(500+rng.IntN(1000))*time.Millisecond) }

	for k := range cfg.BaselineProbes {
		p, err := probe(ctx, c, wh, "base-"+strconv.Itoa(k+1), timeout)
		if err != nil {
			return res, err
		}
		res.Baseline = append(res.Baseline, p)
		progress(fmt.Sprintf("baseline new group %d/%d: notified after %.3fs (POST answered in %.3fs)", k+1, cfg.BaselineProbes, p.LatencyS, p.PostS))
		if err := pause(); err != nil {
			return res, err
		}
	}
	before, err := procstat.Read(pid, clkTck)
	if err != nil {
		return res, err
	}
	res.RSSBeforeBytes = before.RSSBytes

	alerts := loadAlerts(cfg.Groups, cfg.PerGroup, time.Now())
	progress(fmt.Sprintf("posting %d alerts in %d groups (%d per request), again every %v", len(alerts), cfg.Groups, cfg.Batch, cfg.Repost))
	loadStart := time.Now()
	first := postRound(ctx, c, alerts, cfg.Batch, logger)
	res.Rounds = append(res.Rounds, first)
	progress(fmt.Sprintf("round 1: %d requests in %.2fs, %d failed", first.Requests, first.Seconds, first.Errors))
	if first.Errors > 0 {
		return res, fmt.Errorf("%d of %d load requests failed", first.Errors, first.Requests)
	}
	loaded, err := procstat.Read(pid, clkTck)
	if err != nil {
		return res, err
	}
	res.RSSLoadedBytes, res.RSSMaxBytes = loaded.RSSBytes, loaded.RSSBytes

	// Re-posting and RSS sampling in the background while probing.
	var reposting atomic.Bool
	var mu sync.Mutex
	bgCtx, stopBG := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(cfg.Repost)
		defer t.Stop()
		for n := 2; ; n++ {
			select {
			case <-bgCtx.Done():
				return
			case <-t.C:
			}
			reposting.Store(true)
			r := postRound(bgCtx, c, alerts, cfg.Batch, logger)
			reposting.Store(false)
			if bgCtx.Err() != nil {
				return
			}
			mu.Lock()
			res.Rounds = append(res.Rounds, r)
			mu.Unlock()
			progress(fmt.Sprintf("round %d: %d requests in %.2fs, %d failed", n, r.Requests, r.Seconds, r.Errors))
		}
	})
	wg.Go(func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-bgCtx.Done():
				return
			case <-t.C:
			}
			if s, err := procstat.Read(pid, clkTck); err == nil {
				mu.Lock()
				res.RSSMaxBytes = max(res.RSSMaxBytes, s.RSSBytes)
				mu.Unlock()
			}
		}
	})

	var probeErr error
	for k := 0; time.Since(loadStart) < cfg.Duration; k++ {
		during := reposting.Load()
		p, err := probe(ctx, c, wh, "load-"+strconv.Itoa(k+1), timeout)
		if err != nil {
			probeErr = err
			break
		}
		p.DuringRepost = during || reposting.Load()
		res.UnderLoad = append(res.UnderLoad, p)
		_, slow, _ := wh.snapshot()
		progress(fmt.Sprintf("under load, new group %d: notified after %.3fs (POST answered in %.3fs)%s; slow webhook so far: %d notifications, %d groups",
			k+1, p.LatencyS, p.PostS, map[bool]string{true: ", during a re-post", false: ""}[p.DuringRepost], slow.Requests, slow.Groups))
		if err := pause(); err != nil {
			probeErr = err
			break
		}
	}
	end, err := procstat.Read(pid, clkTck)
	stopBG()
	wg.Wait()
	if probeErr != nil {
		return res, probeErr
	}
	if err != nil {
		return res, err
	}
	res.LoadSeconds = seconds(time.Since(loadStart))
	res.RSSEndBytes, res.HWMEndBytes = end.RSSBytes, end.HWMBytes
	res.RSSMaxBytes = max(res.RSSMaxBytes, end.RSSBytes)
	res.CPUUnderLoadS = end.CPUSeconds - before.CPUSeconds
	_, res.SlowWebhook, _ = wh.snapshot()
	if res.SlowWebhook.Groups >= cfg.Groups {
		res.AllGroupsAfterS = seconds(res.SlowWebhook.groupsLast.Sub(loadStart))
	}
	n, err := c.countAlerts(ctx, loadAlert)
	if err != nil {
		return res, err
	}
	res.AlertsInServer = n
	return res, nil
}
