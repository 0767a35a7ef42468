package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/prompb"
	"github.com/stretchr/testify/require"
)

// agentProc is a running agent.
type agentProc struct {
	t      *testing.T
	cmd    *exec.Cmd
	logs   *syncBuffer
	listen string
	done   chan error
}

// startAgent runs bin (saypro-monitor with "agent" first, or saypro-agent)
// with args, listening for /metrics on a free port.
func startAgent(t *testing.T, bin []string, args ...string) *agentProc {
	t.Helper()
	listen := freePort(t)
	all := append(append(bin[1:], "--listen", listen), args...)
	cmd := exec.Command(bin[0], all...)
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	require.NoError(t, cmd.Start())
	a := &agentProc{t: t, cmd: cmd, logs: logs, listen: listen, done: make(chan error, 1)}
	go func() { a.done <- cmd.Wait() }()
	t.Cleanup(func() {
		if a.cmd.ProcessState == nil {
			_ = a.cmd.Process.Kill()
			<-a.done
		}
		if t.Failed() {
			t.Logf("agent logs:\n%s", logs.String())
		}
	})
	eventually(t, 30*time.Second, "agent /-/healthy", func() bool {
		resp, err := http.Get("http://" + listen + "/-/healthy")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return a
}

// stop sends SIGTERM and waits for a clean exit.
func (a *agentProc) stop() {
	a.t.Helper()
	require.NoError(a.t, a.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-a.done:
		require.NoError(a.t, err, "agent exit")
	case <-time.After(30 * time.Second):
		a.t.Fatal("agent did not stop within 30s of SIGTERM")
	}
}

// scrape parses a /metrics page in the text format.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	parser := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := parser.TextToMetricFamilies(resp.Body)
	require.NoError(t, err)
	return mfs
}

type hostJSON struct {
	Instance       string            `json:"instance"`
	Hostname       string            `json:"hostname"`
	OS             string            `json:"os"`
	Kernel         string            `json:"kernel"`
	Arch           string            `json:"arch"`
	CPUs           int               `json:"cpus"`
	MemoryBytes    uint64            `json:"memory_bytes"`
	AgentVersion   string            `json:"agent_version"`
	Labels         map[string]string `json:"labels"`
	Status         string            `json:"status"`
	AgentStartTime time.Time         `json:"agent_start_time"`
	BootTime       time.Time         `json:"boot_time"`
}

type eventJSON struct {
	Time    time.Time `json:"time"`
	Kind    string    `json:"kind"`
	Message string    `json:"message"`
}

func getJSON(t *testing.T, url string, v any) int {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	var env struct {
		Status string          `json:"status"`
		Data   json.RawMessage `json:"data"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&env))
	if resp.StatusCode == http.StatusOK {
		require.Equal(t, "success", env.Status)
		require.NoError(t, json.Unmarshal(env.Data, v))
	}
	return resp.StatusCode
}

func host(t *testing.T, srv *proc, instance string) (hostJSON, []eventJSON) {
	t.Helper()
	var out struct {
		Host   hostJSON    `json:"host"`
		Events []eventJSON `json:"events"`
	}
	code := getJSON(t, srv.URL+"/api/v1/hosts/"+instance, &out)
	if code != http.StatusOK {
		return hostJSON{}, nil
	}
	return out.Host, out.Events
}

func hasEvent(events []eventJSON, kind string) bool {
	for _, e := range events {
		if e.Kind == kind {
			return true
		}
	}
	return false
}

// rawSamples returns the timestamps of the raw samples of the single
// series selected by sel over the last window.
func rawSamples(t *testing.T, srv *proc, sel string, window time.Duration) []time.Time {
	t.Helper()
	val, _, err := queryAPI(t, srv.URL).Query(context.Background(), fmt.Sprintf("%s[%ds]", sel, int(window.Seconds())), time.Now())
	require.NoError(t, err)
	m, ok := val.(model.Matrix)
	require.True(t, ok, "want a matrix, got %T", val)
	if len(m) != 1 {
		return nil
	}
	var out []time.Time
	for _, p := range m[0].Values {
		out = append(out, p.Timestamp.Time())
	}
	return out
}

// TestAgentShipsThroughServerOutage is the agent's end-to-end story: the
// agent ships to the server, the server goes away for a while and comes
// back on the same address and data, and the agent's series have no gap;
// then the agent restarts and the inventory records it.
func TestAgentShipsThroughServerOutage(t *testing.T) {
	data := t.TempDir()
	addr := freePort(t)
	srv := startServer(t, data, "--listen", addr)
	queue := t.TempDir()
	agentArgs := []string{"--server", srv.URL, "--token", testToken, "--interval", "1s",
		"--queue-dir", queue, "--instance", "e2e-agent", "--labels", "env=test,role=e2e"}
	ag := startAgent(t, []string{agentBinary}, agentArgs...)

	sel := `node_load1{job="node",instance="e2e-agent",env="test",role="e2e"}`
	eventually(t, 30*time.Second, "the agent's first samples", func() bool {
		return len(rawSamples(t, srv, sel, time.Minute)) > 2
	})
	h, events := host(t, srv, "e2e-agent")
	require.Equal(t, "up", h.Status)
	require.NotEmpty(t, h.Kernel)
	require.Positive(t, h.CPUs)
	require.Positive(t, h.MemoryBytes)
	require.Equal(t, "e2e-test", h.AgentVersion)
	require.Equal(t, map[string]string{"env": "test", "role": "e2e"}, h.Labels)
	require.True(t, hasEvent(events, "registered"), "events: %+v", events)

	// The server goes away for 8 collections.
	outageStart := time.Now()
	require.NoError(t, srv.signal(syscall.SIGTERM))
	time.Sleep(8 * time.Second)
	srv = startServer(t, data, "--listen", addr)
	outageEnd := time.Now()

	// The backlog arrives, in order, with no gap.
	var ts []time.Time
	eventually(t, 60*time.Second, "the backlog to arrive", func() bool {
		ts = rawSamples(t, srv, sel, time.Since(outageStart)+30*time.Second)
		return len(ts) > 0 && ts[len(ts)-1].After(outageEnd.Add(2*time.Second))
	})
	require.True(t, ts[0].Before(outageStart), "samples from before the outage are kept")
	for i := 1; i < len(ts); i++ {
		gap := ts[i].Sub(ts[i-1])
		require.Less(t, gap, 2500*time.Millisecond, "gap of %v at %v (outage %v to %v)", gap, ts[i-1], outageStart, outageEnd)
	}

	// An agent restart is recorded.
	before, _ := host(t, srv, "e2e-agent")
	ag.stop()
	startAgent(t, []string{agentBinary}, agentArgs...)
	eventually(t, 30*time.Second, "the agent_restart event", func() bool {
		_, events := host(t, srv, "e2e-agent")
		return hasEvent(events, "agent_restart")
	})
	after, events := host(t, srv, "e2e-agent")
	require.True(t, after.AgentStartTime.After(before.AgentStartTime))
	require.False(t, hasEvent(events, "reboot"), "the same boot time is not a reboot: %+v", events)

	// The server's own host is in the inventory through the in-process agent.
	var hosts []hostJSON
	require.Equal(t, http.StatusOK, getJSON(t, srv.URL+"/api/v1/hosts", &hosts))
	names := []string{}
	for _, h := range hosts {
		names = append(names, h.Instance)
	}
	hostname, err := os.Hostname()
	require.NoError(t, err)
	require.Contains(t, names, hostname)
	require.Contains(t, names, "e2e-agent")
}

// TestAgentHostDown stops an agent and sees its host marked down after
// inventory.down_after, then up again when it returns.
func TestAgentHostDown(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "saypro-monitor.yml")
	writeFile(t, cfg, `
inventory:
  down_after: 10s
agent:
  enabled: false
`)
	srv := startServer(t, t.TempDir(), "--config", cfg)
	args := []string{"--server", srv.URL, "--token", testToken, "--interval", "1s", "--queue-dir", t.TempDir(), "--instance", "e2e-down"}
	ag := startAgent(t, []string{binary, "agent"}, args...)
	eventually(t, 30*time.Second, "registration", func() bool {
		h, _ := host(t, srv, "e2e-down")
		return h.Status == "up"
	})
	ag.stop()
	eventually(t, 40*time.Second, "the host marked down", func() bool {
		h, events := host(t, srv, "e2e-down")
		return h.Status == "down" && hasEvent(events, "down")
	})
	require.Equal(t, 0.0, hostUp(t, srv, "e2e-down"), "saypro_host_up on the server's /metrics")
	// Stored by the self-scrape under the host's instance, where the
	// built-in HostDown rule looks.
	eventually(t, 40*time.Second, "saypro_host_up{instance=\"e2e-down\"} == 0 in the store", func() bool {
		v := query(t, srv, `saypro_host_up{instance="e2e-down",job="saypro-monitor"} == 0`)
		return len(v) == 1
	})

	startAgent(t, []string{binary, "agent"}, args...)
	eventually(t, 30*time.Second, "the host up again", func() bool {
		h, events := host(t, srv, "e2e-down")
		return h.Status == "up" && hasEvent(events, "up")
	})
	require.Equal(t, 1.0, hostUp(t, srv, "e2e-down"))
}

// hostUp reads saypro_host_up for instance from the server's /metrics.
func hostUp(t *testing.T, srv *proc, instance string) float64 {
	t.Helper()
	mf, ok := scrape(t, srv.URL+"/metrics")["saypro_host_up"]
	require.True(t, ok, "saypro_host_up on /metrics")
	for _, m := range mf.Metric {
		for _, l := range m.Label {
			if l.GetName() == "instance" && l.GetValue() == instance {
				return m.GetGauge().GetValue()
			}
		}
	}
	t.Fatalf("no saypro_host_up for %s", instance)
	return 0
}

// TestAgentRejectsBadToken: a wrong token keeps data queued and says so.
func TestAgentRejectsBadToken(t *testing.T) {
	srv := startServer(t, t.TempDir())
	ag := startAgent(t, []string{agentBinary}, "--server", srv.URL, "--token", "wrong-token-0123456789", "--interval", "1s", "--queue-dir", t.TempDir(), "--instance", "e2e-badtoken")
	eventually(t, 20*time.Second, "a log line about the token", func() bool {
		return strings.Contains(ag.logs.String(), "token")
	})
	code := getJSON(t, srv.URL+"/api/v1/hosts/e2e-badtoken", &struct{}{})
	require.Equal(t, http.StatusNotFound, code)
	// The samples are still queued on the agent.
	mfs := scrape(t, "http://"+ag.listen+"/metrics")
	require.Contains(t, mfs, "saypro_agent_queue_bytes")
	require.Positive(t, mfs["saypro_agent_queue_bytes"].Metric[0].GetGauge().GetValue())
}

// TestAgentCLI checks the agent command's conventions.
func TestAgentCLI(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "agent.yml")
	writeFile(t, bad, "server:\n  url: https://m:9900\ninterval: fast\n")
	for _, tc := range []struct {
		name string
		args []string
		code int
		out  string
	}{
		{"help", []string{"--help"}, 0, "--server"},
		{"version", []string{"--version"}, 0, "saypro-agent"},
		{"unknown flag", []string{"--nope"}, 2, "flag provided but not defined"},
		{"bad file", []string{"--config", bad}, 2, "agent.yml:3:"},
		{"bad label", []string{"--labels", "instance=x"}, 2, "label \"instance\" is set by the agent"},
		{"bad url", []string{"--server", "monitor:9900"}, 2, "must start with http:// or https://"},
		{"check good", []string{"--check-config", "--server", "https://m:9900", "--instance", "db-1"}, 0, "valid agent configuration"},
		{"check bad", []string{"--check-config", "--config", bad}, 2, "agent.yml:3:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, bin := range [][]string{{agentBinary}, {binary, "agent"}} {
				cmd := exec.Command(bin[0], append(bin[1:], tc.args...)...)
				out, err := cmd.CombinedOutput()
				code := 0
				if ee, ok := err.(*exec.ExitError); ok {
					code = ee.ExitCode()
				}
				require.Equal(t, tc.code, code, "%v: %s", bin, out)
				require.Contains(t, string(out), tc.out)
			}
		})
	}
}

// TestAgentMatchesNodeExporter runs Debian's node_exporter and our agent
// side by side and checks that every metric our collectors claim to share
// with node_exporter has, in both, the same type and label names.
func TestAgentMatchesNodeExporter(t *testing.T) {
	ne := requireTool(t, "prometheus-node-exporter", "prometheus-node-exporter")
	neAddr := freePort(t)
	cmd := exec.Command(ne, "--web.listen-address="+neAddr)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	ag := startAgent(t, []string{agentBinary})
	eventually(t, 20*time.Second, "node_exporter to listen", func() bool {
		resp, err := http.Get("http://" + neAddr + "/metrics")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return true
	})
	theirs := scrape(t, "http://"+neAddr+"/metrics")
	ours := scrape(t, "http://"+ag.listen+"/metrics")

	f, err := os.Open("../internal/collector/testdata/node_exporter_shared.txt")
	require.NoError(t, err)
	defer f.Close()
	checked := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name := strings.TrimSpace(sc.Text())
		if name == "" || strings.HasPrefix(name, "#") {
			continue
		}
		o, oOK := ours[name]
		n, nOK := theirs[name]
		if !oOK && !nOK {
			t.Logf("%s: absent from both on this machine", name)
			continue
		}
		require.True(t, oOK, "%s: node_exporter has it, our agent does not", name)
		require.True(t, nOK, "%s: our agent has it, node_exporter does not", name)
		require.Equal(t, n.GetType(), o.GetType(), "%s: type", name)
		require.Equal(t, labelNames(n), labelNames(o), "%s: label names", name)
		checked++
	}
	require.NoError(t, sc.Err())
	require.Greater(t, checked, 50, "shared metrics checked")
	t.Logf("%d shared metrics have the same type and labels in both", checked)
}

func labelNames(mf *dto.MetricFamily) []string {
	set := map[string]bool{}
	for _, m := range mf.Metric {
		for _, l := range m.Label {
			set[l.GetName()] = true
		}
	}
	out := make([]string, 0, len(set))
	for n := range set {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// TestAgentBacklogOlderThanTheHeadIsAccepted: an agent that was cut off
// for hours sends its backlog after other hosts have sent newer samples;
// the default out-of-order window accepts it, oldest first.
func TestAgentBacklogOlderThanTheHeadIsAccepted(t *testing.T) {
	srv := startServer(t, t.TempDir())
	now := time.Now().Truncate(time.Second)
	require.NoError(t, remoteWrite(t, srv.URL, testToken, testSeries(1, 1, now)))
	// Three hours of a host that was away, 15 s apart, in order.
	const n = 3 * 240
	backlog := testSeries(2, n, now.Add(-time.Minute))[1:]
	for i := 0; i < n; i += 120 {
		chunk := backlog[0]
		chunk.Samples = backlog[0].Samples[i:min(i+120, n)]
		require.NoError(t, remoteWrite(t, srv.URL, testToken, []prompb.TimeSeries{chunk}), "backlog chunk at %d", i)
	}
	val, _, err := queryAPI(t, srv.URL).Query(context.Background(), `count_over_time(e2e_requests_total{instance="host-01"}[4h])`, now)
	require.NoError(t, err)
	vec, ok := val.(model.Vector)
	require.True(t, ok)
	require.Len(t, vec, 1)
	require.Equal(t, float64(n), float64(vec[0].Value), "every backlog sample stored")

	// Without the window, the same backlog is refused: the window is what
	// makes the difference.
	cfg := filepath.Join(t.TempDir(), "saypro-monitor.yml")
	writeFile(t, cfg, "storage:\n  out_of_order_time_window: 0s\n")
	strict := startServer(t, t.TempDir(), "--config", cfg)
	require.NoError(t, remoteWrite(t, strict.URL, testToken, testSeries(1, 1, now)))
	chunk := backlog[0]
	chunk.Samples = backlog[0].Samples[:120]
	require.ErrorContains(t, remoteWrite(t, strict.URL, testToken, []prompb.TimeSeries{chunk}), "400")
}
