package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
)

func newTestHandler(t *testing.T, reloadErr error) *Handler {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewCounter(prometheus.CounterOpts{Name: "test_total", Help: "t"}))
	named := func(name string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(name)) })
	}
	h := NewHandler()
	err := h.Install(Options{
		API:         named("api"),
		RemoteWrite: named("write"),
		Gatherer:    reg,
		Reload:      func(context.Context) error { return reloadErr },
		Logger:      slog.New(slog.DiscardHandler),
		Version:     "1.2.3",
	})
	require.NoError(t, err)
	return h
}

func serve(h http.Handler, method, path string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec
}

func TestRouting(t *testing.T) {
	h := newTestHandler(t, nil)
	h.SetReady(true)
	for _, tc := range []struct {
		method, path string
		code         int
		body         string
	}{
		{"GET", "/-/healthy", 200, "Healthy"},
		{"HEAD", "/-/healthy", 200, ""},
		{"GET", "/-/ready", 200, "Ready"},
		{"POST", "/-/reload", 200, "reloaded"},
		{"PUT", "/-/reload", 200, "reloaded"},
		{"GET", "/-/reload", 405, "POST"},
		{"POST", "/api/v1/write", 200, "write"},
		{"GET", "/api/v1/query", 200, "api"},
		{"GET", "/api/v1/label/job/values", 200, "api"},
		{"GET", "/metrics", 200, "test_total 0"},
		{"GET", "/", 200, "Version 1.2.3"},
		{"GET", "/debug/pprof/", 200, "goroutine"},
		{"GET", "/nope", 404, ""},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			rec := serve(h, tc.method, tc.path)
			require.Equal(t, tc.code, rec.Code, rec.Body.String())
			require.Contains(t, rec.Body.String(), tc.body)
		})
	}
}

func TestNotReadyAnswers503ButHealthy(t *testing.T) {
	h := newTestHandler(t, nil)
	require.Equal(t, 200, serve(h, "GET", "/-/healthy").Code)
	for _, p := range []string{"/-/ready", "/api/v1/query", "/api/v1/write", "/metrics"} {
		rec := serve(h, "GET", p)
		require.Equal(t, 503, rec.Code, p)
		require.Equal(t, "1", rec.Header().Get("Retry-After"))
	}
	h.SetReady(true)
	require.Equal(t, 200, serve(h, "GET", "/-/ready").Code)
}

func TestReloadErrorIsShown(t *testing.T) {
	h := newTestHandler(t, errors.New("saypro-monitor.yml:3: unknown key x"))
	h.SetReady(true)
	rec := serve(h, "POST", "/-/reload")
	require.Equal(t, 500, rec.Code)
	require.True(t, strings.Contains(rec.Body.String(), "previous configuration stays in force"))
	require.Contains(t, rec.Body.String(), "saypro-monitor.yml:3")
}

func TestRequiredOptions(t *testing.T) {
	require.Error(t, NewHandler().Install(Options{}))
}

func TestHealthyBeforeInstall(t *testing.T) {
	h := NewHandler()
	require.Equal(t, 200, serve(h, "GET", "/-/healthy").Code)
	require.Equal(t, 503, serve(h, "GET", "/-/ready").Code)
	h.SetReady(true)
	require.Equal(t, 503, serve(h, "GET", "/api/v1/query").Code, "nothing to serve before Install")
}
