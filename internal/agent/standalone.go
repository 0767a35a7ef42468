package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/saypro/monitor/internal/config/agentconfig"
	"github.com/saypro/monitor/internal/logs/tail"
	"github.com/saypro/monitor/internal/remotewrite"
)

// Standalone runs the agent as its own process, as `saypro-monitor agent`
// does: collectors, the disk queue and its sender when a server is
// configured, and the /metrics listener. It returns when ctx is cancelled
// (nil) or when the listener fails.
func Standalone(ctx context.Context, cfg *agentconfig.Config, version string, logger *slog.Logger) error {
	reg := newStandaloneRegistry()
	userAgent := "saypro-agent/" + version

	var (
		sink   Sink
		queue  *remotewrite.Client
		client *http.Client
		token  string
	)
	if cfg.Server.URL != "" {
		token = string(cfg.Server.Token)
		if cfg.Server.TokenFile != "" {
			b, err := os.ReadFile(cfg.Server.TokenFile)
			if err != nil {
				return fmt.Errorf("reading the token file: %w", err)
			}
			token = strings.TrimSpace(string(b))
		}
		if token == "" {
			logger.Warn("no token configured: the server will refuse the samples (set --token, SAYPRO_AGENT_TOKEN or server.token; the server's token is in <data-dir>/ingest-token)")
		}
		tlsOpts := remotewrite.TLSOptions{
			CAFile:             cfg.Server.TLS.CAFile,
			Fingerprint:        cfg.Server.TLS.Fingerprint,
			InsecureSkipVerify: cfg.Server.TLS.InsecureSkipVerify,
			ServerName:         cfg.Server.TLS.ServerName,
		}
		var err error
		client, err = remotewrite.NewHTTPClient(tlsOpts, time.Duration(cfg.Server.Timeout))
		if err != nil {
			return err
		}
		queue, err = remotewrite.New(remotewrite.Options{
			URL:          strings.TrimRight(cfg.Server.URL, "/") + "/api/v1/write",
			Token:        token,
			Client:       client,
			Timeout:      time.Duration(cfg.Server.Timeout),
			Dir:          cfg.Queue.Dir,
			MaxQueueSize: int64(cfg.Queue.MaxSize),
			UserAgent:    userAgent,
			Logger:       logger.With("component", "remote-write"),
			Registerer:   reg,
		})
		if err != nil {
			return fmt.Errorf("opening the queue in %s: %w", cfg.Queue.Dir, err)
		}
		defer func() {
			if err := queue.Close(); err != nil {
				logger.Error("closing the queue", "err", err)
			}
		}()
		sink = NewRemoteSink(queue, client, cfg.Server.URL, token, userAgent)
		logger.Info("shipping to the server", "url", cfg.Server.URL, "queue", cfg.Queue.Dir, "queue_max_size", cfg.Queue.MaxSize)
	}

	a, err := New(Options{
		Collect:    cfg.Collect,
		Version:    version,
		Sink:       sink,
		Registerer: reg,
		Extra:      reg,
		Logger:     logger,
	})
	if err != nil {
		return err
	}

	logs, err := newStandaloneLogs(cfg, a.Instance(), client, token, userAgent, logger, reg)
	if err != nil {
		return err
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 4)
	var wg sync.WaitGroup
	if logs != nil {
		defer func() {
			if err := logs.shipper.Close(); err != nil {
				logger.Error("closing the log queue", "err", err)
			}
		}()
		for name, run := range map[string]func(context.Context) error{"log shipping": logs.shipper.Run, "log collection": logs.tailer.Run} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := run(ctx); err != nil {
					errc <- fmt.Errorf("%s: %w", name, err)
					cancel()
				}
			}()
		}
	}
	var srv *http.Server
	if cfg.Listen != "" {
		ln, err := net.Listen("tcp", cfg.Listen)
		if err != nil {
			return fmt.Errorf("listening on %s: %w (is node_exporter or another agent there? set --listen, or --listen= to turn /metrics off)", cfg.Listen, err)
		}
		srv = &http.Server{Handler: Handler(a.Gatherer(), version, logger), ReadHeaderTimeout: 10 * time.Second}
		logger.Info("serving /metrics", "address", ln.Addr().String())
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("metrics listener: %w", err)
				cancel()
			}
		}()
	}
	if queue != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := queue.Run(ctx); err != nil {
				errc <- fmt.Errorf("remote write: %w", err)
				cancel()
			}
		}()
	}
	runErr := a.Run(ctx)
	cancel()
	if srv != nil {
		sctx, c := context.WithTimeout(context.Background(), 5*time.Second)
		_ = srv.Shutdown(sctx)
		c()
	}
	wg.Wait()
	select {
	case err := <-errc:
		return err
	default:
	}
	return runErr
}

// standaloneLogs are the standalone agent's log tailer and the shipper it
// hands batches to.
type standaloneLogs struct {
	tailer  *tail.Collector
	shipper *LogShipper
}

// newStandaloneLogs sets up log shipping when logs are enabled and a server
// is configured: offsets in logs.state_dir (default <queue.dir>/logs) and
// the log queue in <queue.dir>/logs/queue. It returns nil otherwise.
func newStandaloneLogs(cfg *agentconfig.Config, instance string, client *http.Client, token, userAgent string, logger *slog.Logger, reg prometheus.Registerer) (*standaloneLogs, error) {
	if !cfg.Logs.Enabled || cfg.Server.URL == "" {
		return nil, nil
	}
	shipper, err := NewLogShipper(LogShipperOptions{
		BaseURL:    cfg.Server.URL,
		Token:      token,
		UserAgent:  userAgent,
		Client:     client,
		Dir:        filepath.Join(cfg.Queue.Dir, "logs", "queue"),
		MaxSize:    int64(cfg.Logs.QueueMaxSize),
		Logger:     logger.With("component", "log-shipper"),
		Registerer: reg,
	})
	if err != nil {
		return nil, err
	}
	tailer, err := tail.New(tail.Options{
		Config:     cfg.Logs,
		Host:       instance,
		StateDir:   filepath.Join(cfg.Queue.Dir, "logs"),
		Sink:       shipper,
		Logger:     logger.With("component", "logs"),
		Registerer: reg,
	})
	if err != nil {
		_ = shipper.Close()
		return nil, err
	}
	return &standaloneLogs{tailer: tailer, shipper: shipper}, nil
}

// newStandaloneRegistry holds the standalone agent's own metrics: the Go
// runtime and process ones, as node_exporter has, and the queue's.
func newStandaloneRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector())
	if pc, err := newProcessCollector(); err == nil {
		reg.MustRegister(pc)
	}
	return reg
}

// Handler serves /metrics from g, /-/healthy and a landing page, like
// node_exporter.
func Handler(g prometheus.Gatherer, version string, logger *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", gzipped(promhttp.HandlerFor(g, promhttp.HandlerOpts{
		ErrorLog:            slog.NewLogLogger(logger.Handler(), slog.LevelError),
		ErrorHandling:       promhttp.ContinueOnError,
		MaxRequestsInFlight: 4,
		Timeout:             30 * time.Second,
		// gzipped compresses, faster than promhttp's default level.
		DisableCompression: true,
	})))
	mux.HandleFunc("GET /-/healthy", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "OK")
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<!doctype html><title>SayPro agent</title><h1>SayPro agent %s</h1><p><a href=\"/metrics\">Metrics</a> · <a href=\"/-/healthy\">Health</a></p>\n", version)
	})
	return mux
}

// gzipped compresses next's answer when the client accepts gzip, as every
// Prometheus scraper does, at the fastest level: a /metrics page is small
// and scraped often, so CPU matters more than the last few percent of
// size. This alone takes a fifth off the agent's CPU per scrape (measured
// with BenchmarkScrape).
func gzipped(next http.Handler) http.Handler {
	pool := sync.Pool{New: func() any {
		w, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed)
		return w
	}}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !acceptsGzip(r.Header.Get("Accept-Encoding")) {
			next.ServeHTTP(w, r)
			return
		}
		gz := pool.Get().(*gzip.Writer)
		defer pool.Put(gz)
		gz.Reset(w)
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Add("Vary", "Accept-Encoding")
		next.ServeHTTP(gzipWriter{ResponseWriter: w, w: gz}, r)
		_ = gz.Close()
	})
}

func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		enc, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(enc), "gzip") {
			continue
		}
		q, ok := strings.CutPrefix(strings.ReplaceAll(params, " ", ""), "q=")
		if !ok {
			return true
		}
		v, err := strconv.ParseFloat(q, 64)
		return err == nil && v > 0
	}
	return false
}

// gzipWriter sends the body through the gzip writer; headers go as they are.
type gzipWriter struct {
	http.ResponseWriter
	w *gzip.Writer
}

func (g gzipWriter) Write(p []byte) (int, error) { return g.w.Write(p) }
