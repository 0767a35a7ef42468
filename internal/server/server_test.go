package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/snappy"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/discovery"
	"github.com/prometheus/prometheus/prompb"
	"github.com/stretchr/testify/require"

	"github.com/saypro/monitor/internal/config"
)

const token = "server-test-token-0123456789"

// TestRunReloadWriteAndStop runs the server in-process and, at the same
// time, writes samples, queries, scrapes and reloads, then cancels: under
// the race detector this exercises every shared path of the server.
func TestRunReloadWriteAndStop(t *testing.T) {
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "c.yml")
	require.NoError(t, os.WriteFile(cfgFile, []byte("global:\n  scrape_interval: 1s\n"), 0o644))
	addrCh := make(chan net.Addr, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{
			ConfigFile: cfgFile,
			Logger:     slog.New(slog.DiscardHandler),
			Override: func(c *config.Config) error {
				c.Server.Listen = "127.0.0.1:0"
				c.Server.DataDir = filepath.Join(dir, "data")
				c.Ingest.Tokens = []config.Secret{token}
				return nil
			},
			Listening:     func(a net.Addr) { addrCh <- a },
			AdminPassword: adminPassword,
		})
	}()
	base := "http://" + (<-addrCh).String()
	require.Eventually(t, func() bool {
		resp, err := http.Get(base + "/-/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	}, 30*time.Second, 20*time.Millisecond)

	var wg sync.WaitGroup
	for w := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				body := writeBody(t, fmt.Sprintf("w%d", w), time.Now().UnixMilli()+int64(i))
				req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/write", bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+token)
				req.Header.Set("Content-Encoding", "snappy")
				resp, err := http.DefaultClient.Do(req)
				if !assertNoErr(t, err) {
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusNoContent {
					t.Errorf("write: status %d", resp.StatusCode)
				}
			}
		}()
	}
	cookie, csrf := login(t, base)
	wg.Add(2)
	go func() {
		defer wg.Done()
		for range 10 {
			req, _ := http.NewRequest(http.MethodPost, base+"/-/reload", nil)
			req.AddCookie(cookie)
			req.Header.Set("X-CSRF-Token", csrf)
			resp, err := http.DefaultClient.Do(req)
			if !assertNoErr(t, err) {
				return
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Errorf("reload: status %d", resp.StatusCode)
			}
		}
	}()
	go func() {
		defer wg.Done()
		for range 20 {
			resp, err := getAs(base+"/api/v1/query?query=count(up)", "admin", adminPassword)
			if !assertNoErr(t, err) {
				return
			}
			resp.Body.Close()
			resp, err = getAs(base+"/api/v1/status/runtimeinfo", "admin", adminPassword)
			if !assertNoErr(t, err) {
				return
			}
			resp.Body.Close()
		}
	}()
	wg.Wait()

	resp, err := getAs(base+"/api/v1/query?query=count(w0)", "admin", adminPassword)
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Contains(t, string(b), `"1"]`)

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

const adminPassword = "server test admin password"

// getAs fetches url with basic auth, as Grafana does.
func getAs(url, user, password string) (*http.Response, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.SetBasicAuth(user, password)
	return http.DefaultClient.Do(req)
}

// login signs in as the admin and returns the session cookie and CSRF token.
func login(t *testing.T, base string) (*http.Cookie, string) {
	t.Helper()
	resp, err := http.Post(base+"/api/v1/auth/login", "application/json",
		strings.NewReader(`{"username":"admin","password":"`+adminPassword+`"}`))
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(b))
	var v struct {
		Data struct {
			CSRF string `json:"csrf_token"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal(b, &v))
	require.NotEmpty(t, resp.Cookies())
	return resp.Cookies()[0], v.Data.CSRF
}

func assertNoErr(t *testing.T, err error) bool {
	if err != nil {
		t.Error(err)
		return false
	}
	return true
}

func writeBody(t *testing.T, name string, ts int64) []byte {
	b, err := (&prompb.WriteRequest{Timeseries: []prompb.TimeSeries{{
		Labels:  []prompb.Label{{Name: "__name__", Value: name}},
		Samples: []prompb.Sample{{Timestamp: ts, Value: 1}},
	}}}).Marshal()
	if err != nil {
		t.Error(err)
	}
	return snappy.Encode(nil, b)
}

func TestRunFailsOnBusyPort(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	err = Run(context.Background(), Options{
		Logger: slog.New(slog.DiscardHandler),
		Override: func(c *config.Config) error {
			c.Server.Listen = l.Addr().String()
			c.Server.DataDir = t.TempDir()
			return nil
		},
	})
	require.ErrorContains(t, err, "is another server running")
}

func TestIngestTokens(t *testing.T) {
	dir := t.TempDir()
	logger := slog.New(slog.DiscardHandler)
	c := config.Default()
	first, err := ingestTokens(c, dir, logger)
	require.NoError(t, err)
	require.Len(t, first, 1)
	require.Len(t, first[0], 64)
	again, err := ingestTokens(c, dir, logger)
	require.NoError(t, err)
	require.Equal(t, first, again, "the generated token is kept")

	c.Ingest.Tokens = []config.Secret{"configured-token-0123456789"}
	got, err := ingestTokens(c, dir, logger)
	require.NoError(t, err)
	require.Equal(t, []string{"configured-token-0123456789"}, got)

	empty := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(empty, tokenFile), []byte("\n"), 0o600))
	_, err = ingestTokens(config.Default(), empty, logger)
	require.ErrorContains(t, err, "is empty")
}

func TestDisplayAddr(t *testing.T) {
	for in, want := range map[string]string{
		"[::]:9900":      "localhost:9900",
		"0.0.0.0:9900":   "localhost:9900",
		"127.0.0.1:9900": "127.0.0.1:9900",
		"[::1]:9900":     "[::1]:9900",
	} {
		a, err := net.ResolveTCPAddr("tcp", in)
		require.NoError(t, err)
		require.Equal(t, want, displayAddr(a), in)
	}
}

func TestAddSelfScrapeRespectsUserJob(t *testing.T) {
	c, err := config.Parse([]byte("scrape_configs:\n  - job_name: saypro-monitor\n    static_configs: [{targets: ['x:1']}]\n"), "")
	require.NoError(t, err)
	addSelfScrape(c.Prometheus, "localhost:9900", "tok")
	require.Len(t, c.Prometheus.ScrapeConfigs, 1)
	static, ok := c.Prometheus.ScrapeConfigs[0].ServiceDiscoveryConfigs[0].(discovery.StaticConfig)
	require.True(t, ok)
	require.Equal(t, model.LabelValue("x:1"), static[0].Targets[0][model.AddressLabel], "the user's job is kept")

	d := config.Default()
	addSelfScrape(d.Prometheus, "localhost:9900", "tok")
	require.Len(t, d.Prometheus.ScrapeConfigs, 1)
	self := d.Prometheus.ScrapeConfigs[0]
	require.Equal(t, config.DefaultScrapeInterval, self.ScrapeInterval)
	require.True(t, self.HonorLabels, "saypro_host_up{instance=<host>} keeps the host's instance")
	require.Equal(t, "tok", string(self.HTTPClientConfig.Authorization.Credentials))
}
