package main

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestQuantile(t *testing.T) {
	inf := math.Inf(1)
	h := Histogram{Bounds: []float64{0.1, 1, 10, inf}, Counts: []float64{50, 90, 100, 100}}
	for _, c := range []struct{ q, want float64 }{
		{0.5, 0.1},   // rank 50: the end of the first bucket
		{0.25, 0.05}, // rank 25: halfway into [0, 0.1]
		{0.7, 0.55},  // rank 70: halfway into (0.1, 1]
		{0.99, 9.1},  // rank 99: 9/10 into (1, 10]
	} {
		if got := h.Quantile(c.q); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("Quantile(%v) = %v, want %v", c.q, got, c.want)
		}
	}
	if got := h.MaxBound(); got != 10 {
		t.Errorf("MaxBound = %v, want 10", got)
	}
	// Observations above the highest finite bound: the quantile is that
	// bound, as histogram_quantile says, and the max bucket +Inf.
	h2 := Histogram{Bounds: []float64{1, 10, inf}, Counts: []float64{10, 10, 20}}
	if got := h2.Quantile(0.99); got != 10 {
		t.Errorf("Quantile in the +Inf bucket = %v, want 10", got)
	}
	if got := h2.MaxBound(); !math.IsInf(got, 1) {
		t.Errorf("MaxBound = %v, want +Inf", got)
	}
	if got := (Histogram{Bounds: []float64{1, inf}, Counts: []float64{0, 0}}).Quantile(0.5); !math.IsNaN(got) {
		t.Errorf("Quantile of an empty histogram = %v, want NaN", got)
	}
}

func TestHistogramSub(t *testing.T) {
	inf := math.Inf(1)
	a := Histogram{Bounds: []float64{1, inf}, Counts: []float64{3, 4}, Sum: 5, Count: 4}
	b := Histogram{Bounds: []float64{1, inf}, Counts: []float64{10, 14}, Sum: 20, Count: 14}
	d, err := b.Sub(a)
	if err != nil {
		t.Fatal(err)
	}
	if d.Counts[0] != 7 || d.Counts[1] != 10 || d.Sum != 15 || d.Count != 10 {
		t.Errorf("Sub = %+v", d)
	}
	if _, err := b.Sub(Histogram{Bounds: []float64{2, inf}, Counts: []float64{1, 1}}); err == nil {
		t.Error("Sub of different buckets: no error")
	}
}

const schedPage = `# HELP saypro_check_runs_total Check runs by resulting state.
# TYPE saypro_check_runs_total counter
saypro_check_runs_total{state="degraded"} 5
saypro_check_runs_total{state="down"} 2
saypro_check_runs_total{state="up"} 93
saypro_check_runs_skipped_total 1
saypro_check_runs_in_flight 7
saypro_checks 100
saypro_check_schedule_lateness_seconds_bucket{le="0.001"} 90
saypro_check_schedule_lateness_seconds_bucket{le="0.01"} 99
saypro_check_schedule_lateness_seconds_bucket{le="+Inf"} 100
saypro_check_schedule_lateness_seconds_sum 0.5
saypro_check_schedule_lateness_seconds_count 100
bench_probe_outcomes_total{state="up",target_kind="fast"} 93
bench_probe_outcomes_total{state="degraded",target_kind="slow"} 5
go_goroutines 12
`

func TestParseSched(t *testing.T) {
	s, err := parseSched(strings.NewReader(schedPage))
	if err != nil {
		t.Fatal(err)
	}
	if s.TotalRuns() != 100 || s.Runs["down"] != 2 || s.Skipped != 1 || s.InFlight != 7 || s.Checks != 100 {
		t.Errorf("reading = %+v", s)
	}
	if len(s.Lateness.Bounds) != 3 || !math.IsInf(s.Lateness.Bounds[2], 1) || s.Lateness.Counts[1] != 99 || s.Lateness.Count != 100 {
		t.Errorf("lateness = %+v", s.Lateness)
	}
	if s.Outcomes["fast/up"] != 93 || s.Outcomes["slow/degraded"] != 5 {
		t.Errorf("outcomes = %v", s.Outcomes)
	}
	if _, err := parseSched(strings.NewReader("saypro_check_runs_total{state=\"up\"} 1\n")); err == nil {
		t.Error("a page without the histogram: no error")
	}
}

func TestLabelValue(t *testing.T) {
	for _, c := range []struct{ labels, name, want string }{
		{`le="0.5"`, "le", "0.5"},
		{`state="up",target_kind="fast"`, "target_kind", "fast"},
		{`a="x, y",le="+Inf"`, "le", "+Inf"},
	} {
		if got, ok := labelValue(c.labels, c.name); !ok || got != c.want {
			t.Errorf("labelValue(%q, %q) = %q, %v", c.labels, c.name, got, ok)
		}
	}
	if _, ok := labelValue(`state="up"`, "le"); ok {
		t.Error("missing label found")
	}
}

func TestTargetList(t *testing.T) {
	ts := targetList([]string{"127.0.0.1:1", "127.0.0.1:2"}, 10000, 0.05, 0.02)
	n := map[string]int{}
	names := map[string]bool{}
	for i, tg := range ts {
		n[tg.Kind]++
		if names[tg.Name] {
			t.Fatalf("name %s twice", tg.Name)
		}
		names[tg.Name] = true
		if kindOfCheck(tg.Name) != tg.Kind {
			t.Errorf("kindOfCheck(%q) = %q, want %q", tg.Name, kindOfCheck(tg.Name), tg.Kind)
		}
		wantHost := []string{"127.0.0.1:1", "127.0.0.1:2"}[i%2]
		if !strings.HasPrefix(tg.URL, "http://"+wantHost+"/"+tg.Kind+"/") {
			t.Errorf("URL %q", tg.URL)
		}
	}
	if n[kindHang] != 200 || n[kindSlow] != 500 || n[kindFast] != 9300 {
		t.Errorf("kinds = %v, want 200 hang, 500 slow, 9300 fast", n)
	}
	// The slow and hanging targets are spread, not bunched at the start.
	first := map[string]int{}
	for _, tg := range ts[:1000] {
		first[tg.Kind]++
	}
	if first[kindHang] < 10 || first[kindSlow] < 30 {
		t.Errorf("first 1000 targets: %v", first)
	}
}

func TestBuildChecksAndConfig(t *testing.T) {
	ts := targetList([]string{"127.0.0.1:8080"}, 3, 0, 0)
	checks, err := buildChecks(ts, 10*time.Second, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(checks) != 3 || checks[0].HTTP == nil {
		t.Fatalf("checks = %+v", checks)
	}
	cfg := serverConfig(ts, 10*time.Second, 5*time.Second, 512)
	for _, want := range []string{"self_scrape: false", "enabled: false", "max_concurrent: 512",
		`- {name: fast-00000, kind: http, target: "http://127.0.0.1:8080/fast/0?check=fast-00000", interval: 10s, timeout: 5s}`} {
		if !strings.Contains(cfg, want) {
			t.Errorf("config lacks %q:\n%s", want, cfg)
		}
	}
}

func TestClassifyProbe(t *testing.T) {
	for _, c := range []struct {
		body string
		want int
	}{
		{"probe_duration_seconds 0.002\nprobe_success 1\n", 0},
		{"probe_duration_seconds 3.6\nprobe_success 1\n", 1},
		{"probe_duration_seconds 5.0\nprobe_success 0\n", 2},
	} {
		got, _, err := classifyProbe(strings.NewReader(c.body), 3*time.Second)
		if err != nil || got != c.want {
			t.Errorf("classifyProbe(%q) = %d, %v; want %d", c.body, got, err, c.want)
		}
	}
	if _, _, err := classifyProbe(strings.NewReader("# nothing\n"), time.Second); err == nil {
		t.Error("an answer without probe_success: no error")
	}
}

func TestParseChecksAPI(t *testing.T) {
	doc := `{"status":"success","data":[
	 {"name":"fast-00001","state":"up","locations":[{"location":"server","state":"up"}]},
	 {"name":"fast-00002","state":"down","locations":[{"location":"server","state":"down","reason":"connecting to 127.0.0.1:4000: connection refused"}]},
	 {"name":"slow-00003","state":"degraded","locations":[]},
	 {"name":"hang-00004","state":"pending","locations":[]}]}`
	states, odd, err := parseChecksAPI(strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	if states["fast"]["up"] != 1 || states["fast"]["down"] != 1 || states["slow"]["degraded"] != 1 || states["hang"]["pending"] != 1 {
		t.Errorf("states = %v", states)
	}
	if len(odd) != 2 {
		t.Fatalf("unexpected = %+v", odd)
	}
	for _, u := range odd {
		if u.Kind == "fast" && u.Reason != "connecting to N.N.N.N:N: connection refused" {
			t.Errorf("reason %q", u.Reason)
		}
	}
}

func TestParseProcStatBusy(t *testing.T) {
	// user nice system idle iowait irq softirq steal guest guest_nice
	got, err := parseProcStatBusy("cpu  100 10 50 1000 20 5 5 10 30 0", 100)
	if err != nil {
		t.Fatal(err)
	}
	if want := 1.8; math.Abs(got-want) > 1e-9 {
		t.Errorf("busy = %v, want %v", got, want)
	}
}
