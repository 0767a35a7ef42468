package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/compress/snappy"
	promapi "github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	remoteapi "github.com/prometheus/client_golang/exp/api/remote"
	config_util "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/prompb"
	"github.com/prometheus/prometheus/storage/remote"
	"github.com/stretchr/testify/require"
)

const testToken = "e2e-token-0123456789abcdef"

// remoteWrite pushes series with Prometheus's own remote-write client.
func remoteWrite(t *testing.T, baseURL, token string, series []prompb.TimeSeries) error {
	t.Helper()
	u, err := url.Parse(baseURL + "/api/v1/write")
	require.NoError(t, err)
	c, err := remote.NewWriteClient("e2e", &remote.ClientConfig{
		URL:     &config_util.URL{URL: u},
		Timeout: model.Duration(30 * time.Second),
		HTTPClientConfig: config_util.HTTPClientConfig{
			Authorization: &config_util.Authorization{Type: "Bearer", Credentials: config_util.Secret(token)},
		},
		WriteProtoMsg: remoteapi.WriteV1MessageType,
	})
	require.NoError(t, err)
	b, err := (&prompb.WriteRequest{Timeseries: series}).Marshal()
	require.NoError(t, err)
	_, err = c.Store(context.Background(), snappy.Encode(nil, b), 0)
	return err
}

func queryAPI(t *testing.T, baseURL string) promv1.API {
	t.Helper()
	// The default transport carries the server's admin token.
	c, err := promapi.NewClient(promapi.Config{Address: baseURL, RoundTripper: http.DefaultTransport})
	require.NoError(t, err)
	return promv1.NewAPI(c)
}

// testSeries makes hosts series of n samples 15 s apart ending at end.
func testSeries(hosts, n int, end time.Time) []prompb.TimeSeries {
	var out []prompb.TimeSeries
	for h := range hosts {
		s := prompb.TimeSeries{Labels: []prompb.Label{
			{Name: "__name__", Value: "e2e_requests_total"},
			{Name: "instance", Value: fmt.Sprintf("host-%02d", h)},
			{Name: "job", Value: "e2e"},
		}}
		for i := range n {
			ts := end.Add(-time.Duration(n-1-i) * 15 * time.Second)
			s.Samples = append(s.Samples, prompb.Sample{Timestamp: ts.UnixMilli(), Value: float64(h*1000 + i)})
		}
		out = append(out, s)
	}
	return out
}

// readBack queries every sample of testSeries through /api/v1/query_range.
func readBack(t *testing.T, baseURL string, hosts, n int, end time.Time) {
	t.Helper()
	start := end.Add(-time.Duration(n-1) * 15 * time.Second)
	val, warnings, err := queryAPI(t, baseURL).QueryRange(context.Background(), `e2e_requests_total{job="e2e"}`,
		promv1.Range{Start: start, End: end, Step: 15 * time.Second})
	require.NoError(t, err)
	require.Empty(t, warnings)
	matrix, ok := val.(model.Matrix)
	require.True(t, ok, "want a matrix, got %T", val)
	require.Len(t, matrix, hosts)
	for _, s := range matrix {
		var h int
		_, err := fmt.Sscanf(string(s.Metric["instance"]), "host-%d", &h)
		require.NoError(t, err)
		require.Len(t, s.Values, n, "samples of %s", s.Metric)
		for i, v := range s.Values {
			require.Equal(t, float64(h*1000+i), float64(v.Value), "%s sample %d", s.Metric, i)
			require.Equal(t, start.Add(time.Duration(i)*15*time.Second).UnixMilli(), int64(v.Timestamp))
		}
	}
}

// TestRemoteWriteSurvivesSIGKILL pushes samples with a real remote-write
// client, reads them back, kills the server without warning, and reads
// the same samples after a restart on the same data directory.
func TestRemoteWriteSurvivesSIGKILL(t *testing.T) {
	dataDir := t.TempDir()
	srv := startServer(t, dataDir)
	const hosts, n = 20, 120
	end := time.Now().Add(-time.Minute).Truncate(time.Second)
	series := testSeries(hosts, n, end)
	// Two requests, as a sender's shards would send them.
	require.NoError(t, remoteWrite(t, srv.URL, testToken, series[:hosts/2]))
	require.NoError(t, remoteWrite(t, srv.URL, testToken, series[hosts/2:]))
	readBack(t, srv.URL, hosts, n, end)

	err := srv.signal(syscall.SIGKILL)
	require.Error(t, err, "a killed process exits with an error")

	srv = startServer(t, dataDir)
	readBack(t, srv.URL, hosts, n, end)
	require.Contains(t, srv.logs.String(), "WAL replay completed")

	// A graceful stop exits 0 and the data is still there afterwards.
	require.NoError(t, srv.signal(syscall.SIGTERM))
	require.Contains(t, srv.logs.String(), "stopped cleanly")
	srv = startServer(t, dataDir)
	readBack(t, srv.URL, hosts, n, end)
}

func TestRemoteWriteAuthAndBadData(t *testing.T) {
	srv := startServer(t, t.TempDir())
	series := testSeries(1, 1, time.Now())
	err := remoteWrite(t, srv.URL, "wrong-token-0123456789", series)
	require.ErrorContains(t, err, "403")
	// Prometheus's client treats 4xx as unrecoverable: it must not retry.
	var rec remote.RecoverableError
	require.NotErrorAs(t, err, &rec)

	old := testSeries(1, 1, time.Now().Add(-1000*time.Hour))
	err = remoteWrite(t, srv.URL, testToken, old)
	require.ErrorContains(t, err, "400")
	require.NotErrorAs(t, err, &rec)
}

func TestQueryAPIErrors(t *testing.T) {
	cfgFile := filepath.Join(t.TempDir(), "saypro-monitor.yml")
	writeFile(t, cfgFile, `
query:
  max_samples: 100
`)
	srv := startServer(t, t.TempDir(), "--config", cfgFile)
	require.NoError(t, remoteWrite(t, srv.URL, testToken, testSeries(5, 100, time.Now().Add(-time.Minute))))

	for _, tc := range []struct {
		name, path string
		code       int
		contains   string
	}{
		{"bad promql", "/api/v1/query?query=sum(rate(", 400, `"errorType":"bad_data"`},
		{"bad time", "/api/v1/query?query=up&time=yesterday", 400, `"errorType":"bad_data"`},
		{"bad step", "/api/v1/query_range?query=up&start=0&end=100&step=0", 400, `"errorType":"bad_data"`},
		{"too many samples", "/api/v1/query?query=count_over_time(e2e_requests_total[1h])", 422, `"errorType":"execution"`},
		{"labels", "/api/v1/labels", 200, `"instance"`},
		{"label values", "/api/v1/label/job/values", 200, `"e2e"`},
		{"series", "/api/v1/series?match[]=e2e_requests_total", 200, `"host-00"`},
		{"metadata", "/api/v1/metadata", 200, `"status":"success"`},
		{"buildinfo", "/api/v1/status/buildinfo", 200, `"version":"e2e-test"`},
		{"runtimeinfo", "/api/v1/status/runtimeinfo", 200, `"storageRetention":"30d"`},
		{"tsdb status", "/api/v1/status/tsdb", 200, `"numSeries"`},
		{"format query", "/api/v1/format_query?query=sum(rate(x[5m]))by(a)", 200, `sum by (a) (rate(x[5m]))`},
		{"parse query", "/api/v1/parse_query?query=up", 200, `"type":"vectorSelector"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := srv.get(tc.path)
			require.Equal(t, tc.code, code, body)
			require.Contains(t, body, tc.contains)
		})
	}
	eventually(t, 30*time.Second, "the self-scrape target", func() bool {
		_, body := srv.get("/api/v1/targets")
		return strings.Contains(body, `"job":"saypro-monitor"`) && strings.Contains(body, `"health":"up"`)
	})
}

func TestQueryTimeoutIs503(t *testing.T) {
	cfgFile := filepath.Join(t.TempDir(), "saypro-monitor.yml")
	writeFile(t, cfgFile, `
query:
  timeout: 5ms
  max_samples: 1000000000
`)
	srv := startServer(t, t.TempDir(), "--config", cfgFile)
	// 8.6 million subquery steps take far longer than 5 ms.
	code, body := srv.get("/api/v1/query?query=" + url.QueryEscape("count_over_time(vector(1)[1d:10ms])"))
	require.Equal(t, 503, code, body)
	require.Contains(t, body, `"errorType":"timeout"`)
}

// TestReload checks SIGHUP and POST /-/reload: a valid file is applied
// (a new scrape job appears), an invalid one is reported and the previous
// configuration stays in force.
func TestReload(t *testing.T) {
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "saypro-monitor.yml")
	writeFile(t, cfgFile, `
global:
  scrape_interval: 1s
`)
	srv := startServer(t, filepath.Join(dir, "data"), "--config", cfgFile)
	addr := strings.TrimPrefix(srv.URL, "http://")

	writeFile(t, cfgFile, fmt.Sprintf(`
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: again
    authorization: {credentials: %q}
    static_configs: [{targets: [%q]}]
`, srv.Token, addr))
	require.NoError(t, srv.signal(syscall.SIGHUP))
	eventually(t, 30*time.Second, "the new job's up series", func() bool {
		_, body := srv.get(`/api/v1/query?query=up{job="again"}`)
		return strings.Contains(body, `"1"]`)
	})

	writeFile(t, cfgFile, `
scrape_configs:
  - job_name: again
    scrape_intervall: 1s
`)
	code, body := srv.post("/-/reload")
	require.Equal(t, 500, code)
	require.Contains(t, body, "saypro-monitor.yml:3: unknown key scrape_intervall")
	eventually(t, 30*time.Second, "the failed reload in the self-scraped metrics", func() bool {
		_, body := srv.get(`/api/v1/query?query=saypro_config_last_reload_successful{job="saypro-monitor"}`)
		return strings.Contains(body, `"0"]`)
	})
	_, body = srv.get("/api/v1/targets")
	require.Contains(t, body, `"job":"again"`, "the previous configuration stays in force")

	require.NoError(t, srv.signal(syscall.SIGHUP))
	eventually(t, 10*time.Second, "SIGHUP failure logged", func() bool {
		return strings.Contains(srv.logs.String(), "reload on SIGHUP failed")
	})
	code, _ = srv.get("/-/healthy")
	require.Equal(t, 200, code)
	code, _ = srv.get("/-/reload")
	require.Equal(t, 405, code)
}

func TestGeneratedIngestToken(t *testing.T) {
	dataDir := t.TempDir()
	cmd := exec.Command(binary, "server", "--listen", "127.0.0.1:0", "--data-dir", dataDir)
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	tokenFile := filepath.Join(dataDir, "ingest-token")
	eventually(t, 30*time.Second, "listening", func() bool { return listeningRE.MatchString(logs.String()) })
	base := "http://" + listeningRE.FindStringSubmatch(logs.String())[1]
	eventually(t, 30*time.Second, "ready", func() bool {
		resp, err := http.Get(base + "/-/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	require.Contains(t, logs.String(), tokenFile)
	b, err := os.ReadFile(tokenFile)
	require.NoError(t, err)
	fi, err := os.Stat(tokenFile)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	require.NoError(t, remoteWrite(t, base, strings.TrimSpace(string(b)), testSeries(1, 1, time.Now())))
	require.NotContains(t, logs.String(), strings.TrimSpace(string(b)), "the token itself is never logged")
}

func TestCLI(t *testing.T) {
	for _, tc := range []struct {
		name     string
		args     []string
		env      []string
		code     int
		contains string
	}{
		{"no args", nil, nil, 2, "Usage:"},
		{"help", []string{"--help"}, nil, 0, "config check FILE"},
		{"unknown command", []string{"frobnicate"}, nil, 2, `unknown command "frobnicate"`},
		{"version", []string{"version"}, nil, 0, "saypro-monitor, version e2e-test"},
		{"server help", []string{"server", "--help"}, nil, 0, "SAYPRO_DATA_DIR"},
		{"server bad flag", []string{"server", "--nope"}, nil, 2, "flag provided but not defined"},
		{"server bad retention", []string{"server", "--retention", "forever"}, nil, 2, `invalid retention "forever"`},
		{"server bad env", []string{"server"}, []string{"SAYPRO_RETENTION_SIZE=huge"}, 2, `invalid retention size "huge"`},
		{"server short token", []string{"server"}, []string{"SAYPRO_INGEST_TOKEN=abc"}, 2, "shorter than 16 characters"},
		{"server bad config", []string{"server", "--config", "../internal/config/testdata/unknown-key.bad.yml"}, nil, 2, "unknown-key.bad.yml:3: unknown key lisen"},
		{"config check good", []string{"config", "check", "../internal/config/testdata/full.good.yml"}, nil, 0, "valid (2 scrape configs, 0 checks)"},
		{"config check bad", []string{"config", "check", "../internal/config/testdata/negative-retention.bad.yml"}, nil, 1, "negative-retention.bad.yml:4: storage.retention"},
		{"config check missing", []string{"config", "check", "/nonexistent.yml"}, nil, 1, "no such file"},
		{"config check no file", []string{"config", "check"}, nil, 2, "Usage"},
		{"config without check", []string{"config"}, nil, 2, "config check FILE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(binary, tc.args...)
			cmd.Env = append(os.Environ(), tc.env...)
			out, _ := cmd.CombinedOutput()
			require.Equal(t, tc.code, cmd.ProcessState.ExitCode(), string(out))
			require.Contains(t, string(out), tc.contains)
		})
	}
}

func TestEnvAndFlagPrecedence(t *testing.T) {
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "c.yml")
	writeFile(t, cfgFile, `
storage:
  retention: 10d
`)
	// The environment beats the file, the flag beats the environment.
	t.Setenv("SAYPRO_RETENTION", "20d")
	srv := startServer(t, filepath.Join(dir, "a"), "--config", cfgFile)
	_, body := srv.get("/api/v1/status/runtimeinfo")
	require.Contains(t, body, `"storageRetention":"20d"`)
	srv2 := startServer(t, filepath.Join(dir, "b"), "--config", cfgFile, "--retention", "40d")
	_, body = srv2.get("/api/v1/status/runtimeinfo")
	require.Contains(t, body, `"storageRetention":"40d"`)
}
