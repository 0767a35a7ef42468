package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/saypro/monitor/bench/subcmd"
)

// results is everything one run measured.
type results struct {
	Labels        map[string]string `json:"labels"`
	EvalIntervalS float64           `json:"evaluation_interval_s"`
	GroupWaitS    float64           `json:"group_wait_s"`
	SlowDelayS    float64           `json:"slow_webhook_delay_s"`
	Trials        []trialResult     `json:"trials"`
	Latency       summary           `json:"latency"`
	GoalS         float64           `json:"goal_max_s"` // evaluation interval + 2 s
	GoalMet       bool              `json:"goal_met"`
	Load          *loadResult       `json:"load,omitempty"`
	Baseline      summary           `json:"baseline_new_group"`
	UnderLoad     summary           `json:"under_load_new_group"`
	MedianRatio   float64           `json:"median_ratio"` // under load / baseline
	MaxRatio      float64           `json:"max_ratio"`
	FastWebhook   counts            `json:"fast_webhook"`
	BadRequests   int               `json:"webhook_bad_requests"`
}

type summary struct {
	N    int     `json:"n"`
	MinS float64 `json:"min_s"`
	MedS float64 `json:"median_s"`
	MaxS float64 `json:"max_s"`
}

func summarize(xs []float64) summary {
	if len(xs) == 0 {
		return summary{}
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return summary{N: len(s), MinS: s[0], MedS: med, MaxS: s[len(s)-1]}
}

func cmdRun(ctx context.Context, args []string, stdout io.Writer, logger *slog.Logger) error {
	fs := subcmd.NewFlagSet(toolName, "run", "Measures alert latency (remote-written sample -> webhook) and the latency of a new alert group with and without 10,000 firing alerts, against a server started with `alertbench config`'s configuration.")
	base := fs.String("url", "", "the server's base URL, e.g. http://127.0.0.1:9900 (required)")
	token := fs.String("token", "", "ingest token for remote write (required)")
	listen := fs.String("webhook-listen", "", "host:port to serve the webhooks on, as given to config --webhook (required)")
	pid := fs.Int("pid", 0, "the server's process id, for its RSS and CPU (required)")
	clkTck := fs.Float64("clk-tck", 100, "kernel clock ticks per second (getconf CLK_TCK)")
	trials := fs.Int("trials", 5, "alert-latency trials")
	eval := fs.Duration("eval", 15*time.Second, "the server's evaluation interval (as given to config)")
	groupWait := fs.Duration("group-wait", time.Second, "the routes' group_wait (as given to config)")
	groups := fs.Int("load-groups", 500, "groups of load alerts")
	perGroup := fs.Int("load-per-group", 20, "load alerts per group")
	batch := fs.Int("load-batch", 256, "load alerts per POST (Prometheus's notifier sends at most 256)")
	repost := fs.Duration("load-repost", 30*time.Second, "re-post every load alert this often")
	loadFor := fs.Duration("load-duration", 75*time.Second, "how long to measure new groups under load, from the first posting")
	probes := fs.Int("baseline-probes", 10, "new groups measured before the load")
	slowDelay := fs.Duration("slow-delay", 200*time.Millisecond, "the slow webhook's answer time")
	skipLoad := fs.Bool("skip-load", false, "measure alert latency only")
	seed := fs.Uint64("seed", 0, "random seed (0: from the clock)")
	outJSON := fs.String("out-json", "", "write all results here")
	outMD := fs.String("out-md", "", "write the tables here")
	labels := map[string]string{}
	fs.Func("label", "key=value noted in the results (repeatable)", subcmd.KeyValue(labels))
	if err := subcmd.Parse(fs, args); err != nil {
		return err
	}
	if *base == "" || *token == "" || *listen == "" || *pid <= 0 {
		return subcmd.Usagef("--url, --token, --webhook-listen and --pid are required")
	}
	if *trials < 1 || *eval <= 0 || *groupWait < 0 {
		return subcmd.Usagef("--trials must be at least 1 and --eval positive")
	}
	if *seed == 0 {
		*seed = uint64(time.Now().UnixNano())
	}
	labels["seed"] = fmt.Sprint(*seed)
	rng := rand.New(rand.NewPCG(*seed, *seed^0x9e3779b97f4a7c15))

	wh := newWebhooks(*slowDelay)
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("webhooks: %w", err)
	}
	srv := &http.Server{Handler: wh, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	c := &client{base: strings.TrimRight(*base, "/"), token: *token, http: &http.Client{Timeout: 30 * time.Second}}
	progress := func(s string) { fmt.Fprintf(os.Stderr, "%s alertbench: %s\n", time.Now().UTC().Format("15:04:05"), s) }

	res := results{
		Labels: labels, EvalIntervalS: seconds(*eval), GroupWaitS: seconds(*groupWait), SlowDelayS: seconds(*slowDelay),
		GoalS: seconds(*eval + 2*time.Second),
	}
	progress(fmt.Sprintf("part 1: alert latency, %d trials (evaluation every %v, group_wait %v)", *trials, *eval, *groupWait))
	tr, err := runTrials(ctx, c, wh, *trials, *eval, *groupWait, rng, logger, progress)
	res.Trials = tr
	lat := make([]float64, len(tr))
	for i, t := range tr {
		lat[i] = t.LatencyS
	}
	res.Latency = summarize(lat)
	res.GoalMet = err == nil && res.Latency.MaxS <= res.GoalS
	var runErr error
	if err != nil {
		runErr = fmt.Errorf("alert latency: %w", err)
	}

	if runErr == nil && !*skipLoad {
		progress(fmt.Sprintf("part 2: new-group latency, %d baseline probes, then under %d alerts in %d groups for %v", *probes, *groups**perGroup, *groups, *loadFor))
		lr, err := runLoad(ctx, c, wh, loadConfig{
			Groups: *groups, PerGroup: *perGroup, Batch: *batch, Repost: *repost, Duration: *loadFor,
			BaselineProbes: *probes, GroupWait: *groupWait,
		}, *pid, *clkTck, rng, logger, progress)
		res.Load = &lr
		if err != nil {
			runErr = fmt.Errorf("load isolation: %w", err)
		}
		res.Baseline = summarize(latencies(lr.Baseline))
		res.UnderLoad = summarize(latencies(lr.UnderLoad))
		if res.Baseline.MedS > 0 {
			res.MedianRatio = res.UnderLoad.MedS / res.Baseline.MedS
		}
		if res.Baseline.MaxS > 0 {
			res.MaxRatio = res.UnderLoad.MaxS / res.Baseline.MaxS
		}
	}
	res.FastWebhook, _, res.BadRequests = wh.snapshot()

	md := report(&res)
	fmt.Fprint(stdout, md)
	if *outMD != "" {
		if err := os.WriteFile(*outMD, []byte(md), 0o644); err != nil {
			return err
		}
	}
	if *outJSON != "" {
		b, err := json.MarshalIndent(res, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(*outJSON, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	if runErr == nil && res.BadRequests > 0 {
		runErr = errors.New("the webhooks received requests that were not Alertmanager payloads")
	}
	return runErr
}

func latencies(ps []probeResult) []float64 {
	out := make([]float64, len(ps))
	for i, p := range ps {
		out[i] = p.LatencyS
	}
	return out
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// report renders the results as markdown.
func report(r *results) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Alerting benchmark\n\n")
	for _, k := range sortedKeys(r.Labels) {
		fmt.Fprintf(&b, "- %s: %s\n", k, r.Labels[k])
	}
	fmt.Fprintf(&b, "- settings: evaluation_interval %gs, group_wait %gs, group_interval 5m, slow webhook answers after %gs\n\n",
		r.EvalIntervalS, r.GroupWaitS, r.SlowDelayS)

	fmt.Fprintf(&b, "## 1. Alert latency: crossing sample -> webhook notification\n\n")
	fmt.Fprintf(&b, "| trial | crossed after an evaluation (s) | until next evaluation (s) | **latency (s)** | after that evaluation (s) |\n|---:|---:|---:|---:|---:|\n")
	for _, t := range r.Trials {
		fmt.Fprintf(&b, "| %d | %.2f | %.2f | **%.3f** | %.3f |\n", t.Trial, t.PhaseS, t.WaitForEvalS, t.LatencyS, t.AfterEvalS)
	}
	verdict := "MET"
	if !r.GoalMet {
		verdict = "MISSED"
	}
	if len(r.Trials) > 0 {
		fmt.Fprintf(&b, "\nlatency over %d trials: min %.3fs, median %.3fs, max %.3fs; goal max <= %gs (evaluation interval + 2s): **%s**\n\n",
			r.Latency.N, r.Latency.MinS, r.Latency.MedS, r.Latency.MaxS, r.GoalS, verdict)
	}

	if l := r.Load; l != nil {
		fmt.Fprintf(&b, "## 2. New alert group: POST /api/v2/alerts -> webhook, without and with load\n\n")
		fmt.Fprintf(&b, "Load: %d firing alerts in %d groups (%s), %d per POST, re-posted every %gs, notified to a webhook answering after %gs.\n\n",
			l.Alerts, l.Groups, loadAlert, l.Batch, l.RepostEveryS, r.SlowDelayS)
		fmt.Fprintf(&b, "| new group latency | probes | min (s) | **median (s)** | **max (s)** |\n|---|---:|---:|---:|---:|\n")
		fmt.Fprintf(&b, "| baseline (no load) | %d | %.3f | **%.3f** | **%.3f** |\n", r.Baseline.N, r.Baseline.MinS, r.Baseline.MedS, r.Baseline.MaxS)
		fmt.Fprintf(&b, "| under load | %d | %.3f | **%.3f** | **%.3f** |\n", r.UnderLoad.N, r.UnderLoad.MinS, r.UnderLoad.MedS, r.UnderLoad.MaxS)
		fmt.Fprintf(&b, "| ratio load / baseline | | | **%.2f** | **%.2f** |\n\n", r.MedianRatio, r.MaxRatio)
		var during []float64
		for _, p := range l.UnderLoad {
			if p.DuringRepost {
				during = append(during, p.LatencyS)
			}
		}
		if s := summarize(during); s.N > 0 {
			fmt.Fprintf(&b, "Of the probes under load, %d were posted while the load was being re-posted: median %.3fs, max %.3fs.\n\n", s.N, s.MedS, s.MaxS)
		}
		fmt.Fprintf(&b, "| server under load | |\n|---|---|\n")
		fmt.Fprintf(&b, "| RSS before the load (VmRSS) | %s |\n", mib(l.RSSBeforeBytes))
		fmt.Fprintf(&b, "| **RSS with the %d alerts loaded** (VmRSS after the first posting) | **%s** |\n", l.Alerts, mib(l.RSSLoadedBytes))
		fmt.Fprintf(&b, "| RSS largest sampled / at the end / peak (VmHWM) | %s / %s / %s |\n", mib(l.RSSMaxBytes), mib(l.RSSEndBytes), mib(l.HWMEndBytes))
		fmt.Fprintf(&b, "| server CPU under load | %.2fs in %.0fs |\n", l.CPUUnderLoadS, l.LoadSeconds)
		fmt.Fprintf(&b, "| %s alerts listed by /api/v2/alerts at the end | %d |\n", loadAlert, l.AlertsInServer)
		for i, rd := range l.Rounds {
			fmt.Fprintf(&b, "| posting round %d | %d requests in %.2fs, %d failed |\n", i+1, rd.Requests, rd.Seconds, rd.Errors)
		}
		all := "not all groups notified"
		if l.AllGroupsAfterS > 0 {
			all = fmt.Sprintf("all %d groups notified %.1fs after the first posting began", l.Groups, l.AllGroupsAfterS)
		}
		fmt.Fprintf(&b, "| slow webhook | %d notifications, %d alerts, %d groups; %s |\n\n", l.SlowWebhook.Requests, l.SlowWebhook.Alerts, l.SlowWebhook.Groups, all)
	}
	return b.String()
}
