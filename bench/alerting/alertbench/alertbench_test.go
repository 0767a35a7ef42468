package main

import (
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	amconfig "github.com/prometheus/alertmanager/config"
	"go.yaml.in/yaml/v2"
)

func TestSummarize(t *testing.T) {
	if got := summarize([]float64{3, 1, 2}); got != (summary{N: 3, MinS: 1, MedS: 2, MaxS: 3}) {
		t.Fatalf("odd: %+v", got)
	}
	if got := summarize([]float64{4, 1, 2, 3}); got != (summary{N: 4, MinS: 1, MedS: 2.5, MaxS: 4}) {
		t.Fatalf("even: %+v", got)
	}
	if got := summarize(nil); got != (summary{}) {
		t.Fatalf("empty: %+v", got)
	}
}

func TestPhasesCoverTheInterval(t *testing.T) {
	const n = 5
	interval := 15 * time.Second
	ps := phases(n, interval, rand.New(rand.NewPCG(1, 2)))
	seen := map[int]bool{}
	for _, p := range ps {
		if p < 0 || p >= interval {
			t.Fatalf("phase %v outside [0, %v)", p, interval)
		}
		seen[int(p/(interval/n))] = true
	}
	if len(seen) != n {
		t.Fatalf("phases %v do not fall one in each fifth of the interval", ps)
	}
}

func TestEvalScheduleNext(t *testing.T) {
	last := time.Unix(1000, 0)
	s := evalSchedule{last: last, interval: 15 * time.Second}
	for _, tc := range []struct{ after, want float64 }{{999, 1000}, {1000, 1015}, {1001, 1015}, {1015, 1030}, {1029.5, 1030}} {
		at := time.Unix(0, int64(tc.after*1e9))
		if got := s.next(at); !got.Equal(time.Unix(int64(tc.want), 0)) {
			t.Errorf("next(%v) = %v, want %v", tc.after, got.Unix(), tc.want)
		}
	}
}

func TestConfigAlertmanagerSectionParses(t *testing.T) {
	cfg := configYAML("/tmp/rules.yml", "127.0.0.1:1234", 15*time.Second, time.Second, 5*time.Minute)
	var top struct {
		Alertmanager struct {
			Config yaml.MapSlice `yaml:"config"`
		} `yaml:"alertmanager"`
	}
	if err := yaml.Unmarshal([]byte(cfg), &top); err != nil {
		t.Fatal(err)
	}
	am, err := yaml.Marshal(top.Alertmanager.Config)
	if err != nil {
		t.Fatal(err)
	}
	c, err := amconfig.Load(string(am))
	if err != nil {
		t.Fatalf("Alertmanager refuses the section: %v\n%s", err, am)
	}
	if len(c.Route.Routes) != 2 || c.Route.GroupWait == nil || time.Duration(*c.Route.GroupWait) != time.Second {
		t.Fatalf("unexpected route: %+v", c.Route)
	}
	// YAML 1.1 reads a bare n as false: the grouping labels must survive.
	for i, want := range []string{"alertname,group", "alertname,probe"} {
		if got := strings.Join(c.Route.Routes[i].GroupByStr, ","); got != want {
			t.Errorf("route %d groups by %s, want %s", i, got, want)
		}
	}
	if !strings.Contains(rulesYAML(), "bench_value > 100") {
		t.Fatal(rulesYAML())
	}
}

func TestWebhooksRecordFirstFiring(t *testing.T) {
	wh := newWebhooks(0)
	srv := httptest.NewServer(wh)
	defer srv.Close()
	ch := wh.wait("BenchHigh/3")
	post := func(path, body string) int {
		resp, err := http.Post(srv.URL+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if c := post("/fast", `{"status":"firing","groupLabels":{"alertname":"BenchHigh","trial":"3"},"alerts":[{"status":"firing","labels":{}}]}`); c != 200 {
		t.Fatalf("status %d", c)
	}
	select {
	case <-ch:
	case <-time.After(time.Second):
		t.Fatal("the waiter was not told")
	}
	if c := post("/fast", `not json`); c != 400 {
		t.Fatalf("status %d for a bad payload", c)
	}
	fast, slow, bad := wh.snapshot()
	if fast.Requests != 1 || fast.Groups != 1 || slow.Requests != 0 || bad != 1 {
		t.Fatalf("fast %+v slow %+v bad %d", fast, slow, bad)
	}
	select {
	case <-wh.wait("BenchHigh/3"):
	default:
		t.Fatal("a late waiter is not told at once")
	}
}
