// Package server wires the components of saypro-monitor server together and
// runs them: the metrics store, the scrape and discovery managers, the
// remote-write receiver, the query API and the HTTP server. It is the only
// package that knows all of them.
//
// Lifecycle: Run opens the listener first (so /-/healthy answers during a
// long write-ahead-log replay), opens the store, starts every component in
// one run group, and marks the server ready. SIGHUP and POST /-/reload
// re-read the configuration; an invalid one is reported and the previous
// one stays in force. Cancelling Run's context (SIGTERM in the command)
// stops scraping, drains HTTP requests, and closes the store, which syncs
// its write-ahead log.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"reflect"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/oklog/run"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/prometheus/common/version"
	promconfig "github.com/prometheus/prometheus/config"
	v1 "github.com/prometheus/prometheus/web/api/v1"

	"github.com/saypro/monitor/docs"
	"github.com/saypro/monitor/internal/agent"
	"github.com/saypro/monitor/internal/agentapi"
	"github.com/saypro/monitor/internal/alerting"
	"github.com/saypro/monitor/internal/alertmanager"
	"github.com/saypro/monitor/internal/auth"
	"github.com/saypro/monitor/internal/checks"
	"github.com/saypro/monitor/internal/config"
	"github.com/saypro/monitor/internal/config/checkconfig"
	"github.com/saypro/monitor/internal/events"
	"github.com/saypro/monitor/internal/incident"
	"github.com/saypro/monitor/internal/ingest"
	"github.com/saypro/monitor/internal/inventory"
	"github.com/saypro/monitor/internal/logs/tail"
	"github.com/saypro/monitor/internal/metrics"
	"github.com/saypro/monitor/internal/probe"
	"github.com/saypro/monitor/internal/query"
	"github.com/saypro/monitor/internal/state"
	"github.com/saypro/monitor/internal/web"
)

// Options configure Run. Logger is required.
type Options struct {
	// ConfigFile is the path of saypro-monitor.yml; empty runs on defaults.
	ConfigFile string
	// Override applies command-line flags and SAYPRO_* environment
	// variables on top of every configuration loaded, at start and on
	// reload, so that they keep precedence over the file.
	Override func(*config.Config) error
	Logger   *slog.Logger
	// Listening, when set, receives the bound address once the listener
	// is open (tests listen on port 0).
	Listening func(net.Addr)
	// AdminPassword is the first admin's password (SAYPRO_ADMIN_PASSWORD),
	// used only when the state store has no users yet.
	AdminPassword string
}

// Load reads the configuration named by o (or the defaults) and applies
// the overrides.
func (o Options) Load() (*config.Config, error) {
	var (
		cfg *config.Config
		err error
	)
	if o.ConfigFile == "" {
		cfg = config.Default()
	} else if cfg, err = config.LoadFile(o.ConfigFile); err != nil {
		return nil, err
	}
	if o.Override != nil {
		if err := o.Override(cfg); err != nil {
			return nil, err
		}
	}
	return cfg, nil
}

// server holds the running components.
type server struct {
	opts    Options
	logger  *slog.Logger
	started time.Time

	mu        sync.RWMutex
	cfg       *config.Config
	lastLoad  time.Time
	lastOK    bool
	reloadReq chan chan error

	store     *metrics.Store
	state     *state.DB
	inventory *inventory.Inventory
	checks    *checks.Manager
	prober    *probe.Scheduler
	agent     *agent.Agent
	api       *query.API
	rules     *alerting.Rules
	am        *alertmanager.Alertmanager
	incidents *incident.Manager
	events    *events.Broker
	auth      *auth.Service
	scrape    *scraping
	ingest    *ingest.RemoteWrite
	logs      *logging
	logTail   *tail.Collector
	reloads   reloadMetrics
}

type reloadMetrics struct {
	success   prometheus.Gauge
	timestamp prometheus.Gauge
}

// Run starts the server and blocks until ctx is cancelled or a component
// fails. It returns nil after a clean shutdown.
func Run(ctx context.Context, o Options) error {
	if o.Logger == nil {
		return errors.New("server: Logger is required")
	}
	cfg, err := o.Load()
	if err != nil {
		return err
	}
	logger := o.Logger
	s := &server{opts: o, logger: logger, started: time.Now(), cfg: cfg, lastLoad: time.Now(), lastOK: true, reloadReq: make(chan chan error)}
	if o.ConfigFile == "" {
		logger.Info("no configuration file given, running on built-in defaults")
	}
	applyGoGC(cfg.Server.GoGC, logger)

	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		versioncollector.NewCollector("saypro_monitor"),
	)
	s.reloads = reloadMetrics{
		success: promauto.With(reg).NewGauge(prometheus.GaugeOpts{
			Name: "saypro_config_last_reload_successful",
			Help: "Whether the last configuration reload attempt was successful.",
		}),
		timestamp: promauto.With(reg).NewGauge(prometheus.GaugeOpts{
			Name: "saypro_config_last_reload_success_timestamp_seconds",
			Help: "Timestamp of the last successful configuration reload.",
		}),
	}
	s.reloads.success.Set(1)
	s.reloads.timestamp.SetToCurrentTime()

	// Listen first: a port in use is the most common start-up error, and
	// /-/healthy should answer while the store replays its log.
	ln, err := net.Listen("tcp", cfg.Server.Listen)
	if err != nil {
		return fmt.Errorf("listening on %s: %w (is another server running? set --listen or SAYPRO_LISTEN)", cfg.Server.Listen, err)
	}
	if o.Listening != nil {
		o.Listening(ln.Addr())
	}
	logger.Info("listening", "address", ln.Addr().String(), "url", "http://"+displayAddr(ln.Addr()))
	h := web.NewHandler()
	srv := web.NewServer(cfg.Server.Listen, h, logger.With("component", "http"))
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	if err := s.build(ctx, h, reg, ln.Addr()); err != nil {
		srv.Close()
		return err
	}
	defer func() {
		// The rules stopped in the run group; the Alertmanager stops
		// before the state store its incidents are written to.
		s.am.Stop()
		if s.logs != nil {
			logger.Info("closing log store")
			s.logs.close()
		}
		s.events.Close()
		if err := s.api.Close(); err != nil {
			logger.Warn("closing the active query log", "err", err)
		}
		if err := s.state.Close(); err != nil {
			logger.Error("closing state store", "err", err)
		}
		logger.Info("closing metrics store")
		if err := s.store.Close(); err != nil {
			logger.Error("closing metrics store", "err", err)
		}
	}()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var g run.Group
	{
		g.Add(func() error {
			<-ctx.Done()
			logger.Info("shutting down")
			return nil
		}, func(error) { cancel() })
	}
	{
		g.Add(func() error {
			if err := <-served; !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("http server: %w", err)
			}
			return nil
		}, func(error) {
			h.SetReady(false)
			shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := srv.Shutdown(shutdownCtx); err != nil {
				logger.Warn("http requests still running at shutdown were cut", "err", err)
			}
		})
	}
	s.scrape.addTo(&g)
	if l := s.logs; l != nil {
		ctx, cancel := context.WithCancel(ctx)
		g.Add(func() error { return l.rules.Run(ctx) }, func(error) { cancel() })
		if l.syslog != nil {
			ctx, cancel := context.WithCancel(ctx)
			g.Add(func() error { return l.syslog.Run(ctx) }, func(error) { cancel() })
		}
		if s.logTail != nil {
			ctx, cancel := context.WithCancel(ctx)
			g.Add(func() error { return s.logTail.Run(ctx) }, func(error) { cancel() })
		}
	}
	g.Add(func() error { s.rules.Run(); return nil }, func(error) { s.rules.Stop() })
	{
		ctx, cancel := context.WithCancel(ctx)
		g.Add(func() error { return s.inventory.Run(ctx) }, func(error) { cancel() })
	}
	if s.agent != nil {
		ctx, cancel := context.WithCancel(ctx)
		g.Add(func() error { return s.agent.Run(ctx) }, func(error) { cancel() })
	}
	{
		// The prober stops first (its runs end within their timeouts),
		// then the register marks the states unknown.
		proberCtx, cancelProber := context.WithCancel(context.Background())
		done := make(chan struct{})
		g.Add(func() error {
			err := s.prober.Run(proberCtx)
			close(done)
			return err
		}, func(error) { cancelProber() })
		ctx, cancel := context.WithCancel(ctx)
		g.Add(func() error {
			err := s.checks.Run(ctx)
			return err
		}, func(error) {
			cancelProber()
			<-done
			cancel()
		})
	}
	{
		hup := make(chan os.Signal, 1)
		signal.Notify(hup, syscall.SIGHUP)
		done := make(chan struct{})
		g.Add(func() error {
			defer signal.Stop(hup)
			for {
				select {
				case <-hup:
					err := s.reload()
					detail := "on SIGHUP"
					if err != nil {
						logger.Error("reload on SIGHUP failed; the previous configuration stays in force", "err", err)
						detail += ": " + err.Error()
					}
					s.auth.RecordSystem(ctx, "config.reload", s.opts.ConfigFile, detail, err == nil)
				case ch := <-s.reloadReq:
					ch <- s.reload()
				case <-done:
					return nil
				}
			}
		}, func(error) { close(done) })
	}
	h.SetReady(true)
	logger.Info("server is ready", "data_dir", cfg.Server.DataDir)
	return g.Run()
}

// build opens the store, creates every component and installs them in the
// root handler h, which it leaves not ready.
func (s *server) build(ctx context.Context, h *web.Handler, reg *prometheus.Registry, addr net.Addr) error {
	cfg := s.cfg
	logger := s.logger
	dataDir := cfg.Server.DataDir
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		return fmt.Errorf("creating data directory: %w (set --data-dir or SAYPRO_DATA_DIR to a writable place)", err)
	}
	tokens, err := ingestTokens(cfg, dataDir, logger)
	if err != nil {
		return err
	}

	start := time.Now()
	store, err := metrics.Open(metrics.Options{
		Dir:                  filepath.Join(dataDir, "metrics"),
		Retention:            time.Duration(cfg.Storage.Retention),
		RetentionSize:        int64(cfg.Storage.RetentionSize),
		OutOfOrderTimeWindow: time.Duration(cfg.Storage.OutOfOrderTimeWindow),
		Logger:               logger.With("component", "tsdb"),
		Registerer:           reg,
	})
	if err != nil {
		return err
	}
	s.store = store
	logger.Info("metrics store open", "dir", filepath.Join(dataDir, "metrics"), "took", time.Since(start).Round(time.Millisecond), "retention", cfg.Storage.Retention)

	closeOnErr := func(err error) error {
		if s.state != nil {
			s.state.Close()
		}
		store.Close()
		return err
	}
	s.state, err = state.Open(ctx, state.Options{Driver: cfg.State.Driver, DSN: cfg.StateDSN(), Logger: logger.With("component", "state")})
	if err != nil {
		return closeOnErr(fmt.Errorf("opening the state store: %w", err))
	}
	s.auth, err = auth.New(auth.Options{
		DB:            s.state,
		Logger:        logger.With("component", "auth"),
		DataDir:       dataDir,
		AdminPassword: s.opts.AdminPassword,
		IdleTimeout:   time.Duration(cfg.Auth.SessionIdleTimeout),
		MaxAge:        time.Duration(cfg.Auth.SessionMaxAge),
		SecureCookies: cfg.Auth.SecureCookies,
		ExternalHTTPS: strings.HasPrefix(cfg.Server.ExternalURL, "https:"),
		Registerer:    reg,
	})
	if err != nil {
		return closeOnErr(err)
	}
	if err := s.auth.Bootstrap(ctx); err != nil {
		return closeOnErr(err)
	}
	s.inventory, err = inventory.New(inventory.Options{
		DB:             s.state,
		DownAfter:      time.Duration(cfg.Inventory.DownAfter),
		EventRetention: time.Duration(cfg.Inventory.EventRetention),
		Checks:         func(hb agentapi.Heartbeat) []checkconfig.Check { return s.checks.ChecksFor(agentLabels(hb)) },
		Logger:         logger.With("component", "inventory"),
		Registerer:     reg,
	})
	if err != nil {
		return closeOnErr(err)
	}
	s.checks, err = checks.New(ctx, checks.Options{
		DB:               s.state,
		Appendable:       store,
		HistoryRetention: time.Duration(cfg.Probe.HistoryRetention),
		Logger:           logger.With("component", "checks"),
		Registerer:       reg,
	})
	if err != nil {
		return closeOnErr(err)
	}
	s.prober, err = probe.NewScheduler(probe.SchedulerOptions{
		Location:    checks.LocationServer,
		Concurrency: cfg.Probe.MaxConcurrent,
		Env:         probe.Env{Logger: logger.With("component", "probe"), Pings: s.checks},
		Report:      s.checks.Record,
		Logger:      logger.With("component", "prober"),
		Registerer:  reg,
	})
	if err != nil {
		return closeOnErr(err)
	}
	if err := s.applyChecks(ctx, cfg); err != nil {
		return closeOnErr(err)
	}
	if cfg.Agent.Enabled {
		s.agent, err = agent.New(agent.Options{
			Collect:    cfg.Agent.Collect,
			Version:    version.Version,
			Sink:       localSink{store: store, inventory: s.inventory, checks: s.checks},
			Registerer: reg,
			Logger:     logger.With("component", "agent"),
		})
		if err != nil {
			return closeOnErr(fmt.Errorf("starting the in-process agent (agent.enabled: false turns it off): %w", err))
		}
		logger.Info("monitoring this host with the in-process agent", "instance", s.agent.Instance())
	}
	s.scrape, err = newScraping(store, reg, logger)
	if err != nil {
		return closeOnErr(err)
	}
	// The server scrapes its own /metrics on the address it listens on.
	s.scrape.selfAddr = displayAddr(addr)
	if err := s.scrape.apply(s.promConfig(cfg)); err != nil {
		return closeOnErr(fmt.Errorf("applying scrape configuration: %w", err))
	}

	s.ingest, err = ingest.NewRemoteWrite(ingest.Options{
		Appendable:    store,
		Logger:        logger.With("component", "remote-write"),
		Registerer:    reg,
		Tokens:        tokens,
		MaxConcurrent: cfg.Ingest.MaxConcurrentRequests,
		Limits:        ingestLimits(cfg),
	})
	if err != nil {
		return closeOnErr(err)
	}

	s.api, err = query.New(query.Options{
		Storage:       store,
		DBDir:         filepath.Join(dataDir, "metrics"),
		Targets:       s.scrape.manager,
		Config:        s.currentPromConfig,
		RuntimeInfo:   s.runtimeInfo,
		BuildInfo:     buildInfo(),
		Flags:         s.flags(),
		ListenAddress: cfg.Server.Listen,
		Timeout:       time.Duration(cfg.Query.Timeout),
		MaxSamples:    cfg.Query.MaxSamples,
		MaxConcurrent: cfg.Query.MaxConcurrent,
		LookbackDelta: time.Duration(cfg.Query.LookbackDelta),
		Rules: func() v1.RulesRetriever {
			if s.rules == nil {
				return nil
			}
			return s.rules.Retriever()
		},
		Logger:     logger,
		Registerer: reg,
		Gatherer:   reg,
	})
	if err != nil {
		return closeOnErr(err)
	}
	ext := externalURL(cfg, addr)
	s.events = events.New(events.Options{Logger: logger.With("component", "events")})
	s.incidents, err = incident.New(ctx, incident.Options{
		DB:          s.state,
		Logger:      logger.With("component", "incidents"),
		Registerer:  reg,
		ExternalURL: ext.String,
		Events:      s.events,
		Actor:       auth.Actor,
	})
	if err != nil {
		return closeOnErr(err)
	}
	s.am, err = alertmanager.New(alertmanager.Options{
		DataDir:     filepath.Join(dataDir, "alertmanager"),
		ExternalURL: ext,
		Observer:    incidentObserver{incidents: s.incidents, logger: logger.With("component", "incidents")},
		Events:      s.events,
		Logger:      logger.With("component", "alertmanager"),
		Registerer:  reg,
		Retention:   time.Duration(cfg.Alertmanager.Retention),
		HTTPTimeout: time.Duration(cfg.Query.Timeout),
	})
	if err != nil {
		return closeOnErr(err)
	}
	if err := s.am.Apply(&cfg.Alertmanager); err != nil {
		s.am.Stop()
		return closeOnErr(err)
	}
	s.rules, err = alerting.New(alerting.Options{
		Engine:      s.api.Engine,
		Queryable:   store,
		Appendable:  store,
		Notify:      s.am.NotifyFunc(ext.String),
		ExternalURL: ext,
		BuiltinFile: filepath.Join(dataDir, "rules", "builtin.yml"),
		Logger:      logger.With("component", "rules"),
		Registerer:  reg,
	})
	if err != nil {
		return closeOnErr(err)
	}
	if err := s.rules.Apply(cfg); err != nil {
		return closeOnErr(err)
	}
	var logsAPI web.LogsAPI
	var agentLogs http.Handler
	if cfg.Logs.Enabled {
		s.logs, err = openLogs(cfg, dataDir, s.am, ext.String, reg, logger)
		if err != nil {
			s.am.Stop()
			return closeOnErr(err)
		}
		logsAPI = s.logs.api
		agentLogs = s.ingest.Authorize(http.HandlerFunc(s.logs.api.AgentLogs))
		if s.agent != nil && cfg.Agent.Logs.Enabled {
			s.logTail, err = tail.New(tail.Options{
				Config:     cfg.Agent.Logs,
				Host:       s.agent.Instance(),
				StateDir:   filepath.Join(dataDir, "logs-agent"),
				Sink:       s.logs.pipeline,
				Logger:     logger.With("component", "log-tail"),
				Registerer: reg,
			})
			if err != nil {
				s.logs.close()
				s.am.Stop()
				return closeOnErr(fmt.Errorf("following this host's logs (agent.logs.enabled: false turns it off): %w", err))
			}
		}
	}
	return h.Install(web.Options{
		API:          s.api,
		RemoteWrite:  s.ingest,
		Heartbeat:    s.ingest.Authorize(s.inventory.HeartbeatHandler()),
		Hosts:        s.inventory.APIHandler(),
		Checks:       s.checks.APIHandler(),
		CheckPings:   s.checks.PingHandler(),
		CheckResults: s.ingest.Authorize(s.checks.ResultsHandler()),
		Runbooks:     docs.Runbooks(),
		Alertmanager: s.am.Handler(),
		Incidents:    s.incidents.Handler(),
		Events:       s.events.Handler(),
		Logs:         logsAPI,
		AgentLogs:    agentLogs,
		Gatherer:     reg,
		Reload:       s.requestReload,
		Logger:       logger.With("component", "web"),
		Auth:         s.auth,
	})
}

// applyChecks hands the checks the server runs to its scheduler, whole or
// not at all (a check whose prober cannot be built, such as one with a CA
// file that does not parse, fails the start or the reload, named), then
// every configured check to the register.
func (s *server) applyChecks(ctx context.Context, cfg *config.Config) error {
	own := checkconfig.OnServer(cfg.Checks)
	if err := s.prober.ApplyAll(own); err != nil {
		return fmt.Errorf("checks: %w", err)
	}
	if err := s.checks.SetChecks(ctx, cfg.Checks); err != nil {
		return err
	}
	s.logger.Info("checks configured", "total", len(cfg.Checks), "on_server", len(own), "on_agents", len(cfg.Checks)-len(own))
	return nil
}

// applyGoGC sets the garbage collector's target unless the GOGC
// environment variable already did.
func applyGoGC(percent int, logger *slog.Logger) {
	if v, ok := os.LookupEnv("GOGC"); ok {
		logger.Debug("garbage collector target taken from the environment", "GOGC", v)
		return
	}
	debug.SetGCPercent(percent)
}

func ingestLimits(cfg *config.Config) ingest.Limits {
	return ingest.Limits{
		MaxBodySize:    int64(cfg.Ingest.MaxBodySize),
		MaxDecodedSize: int64(cfg.Ingest.MaxDecodedSize),
		MaxAheadTime:   time.Duration(cfg.Ingest.MaxAheadTime),
		MaxAge:         time.Duration(cfg.Storage.Retention),
	}
}

// requestReload hands a reload to the reload loop and waits for its result.
func (s *server) requestReload(ctx context.Context) error {
	ch := make(chan error, 1)
	select {
	case s.reloadReq <- ch:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-ch:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// reload re-reads the configuration and applies it to every component in
// order. The new configuration is loaded and validated in full before any
// component sees it.
func (s *server) reload() (err error) {
	start := time.Now()
	defer func() {
		s.mu.Lock()
		s.lastOK = err == nil
		if err == nil {
			s.lastLoad = time.Now()
		}
		s.mu.Unlock()
		if err != nil {
			s.reloads.success.Set(0)
			return
		}
		s.reloads.success.Set(1)
		s.reloads.timestamp.SetToCurrentTime()
		s.logger.Info("configuration reloaded", "file", s.opts.ConfigFile, "took", time.Since(start).Round(time.Microsecond))
	}()
	cfg, err := s.opts.Load()
	if err != nil {
		return err
	}
	old := s.current()
	startOnly := cfg.Server
	startOnly.GoGC = old.Server.GoGC
	if startOnly != old.Server {
		s.logger.Warn("server.listen, server.data_dir and server.self_scrape take effect only at start; restart to apply them")
		goGC := cfg.Server.GoGC
		cfg.Server = old.Server
		cfg.Server.GoGC = goGC
	}
	tokens, err := ingestTokens(cfg, cfg.Server.DataDir, s.logger)
	if err != nil {
		return err
	}
	if cfg.State != old.State {
		s.logger.Warn("state.driver and state.dsn take effect only at start; restart to apply them")
	}
	if !reflect.DeepEqual(cfg.Agent, old.Agent) {
		s.logger.Warn("agent settings take effect only at start; restart to apply them")
	}
	if !reflect.DeepEqual(withoutRules(cfg.Logs), withoutRules(old.Logs)) {
		s.logger.Warn("logs settings other than rules take effect only at start; restart to apply them")
	}
	if cfg.Query != old.Query {
		s.logger.Warn("query limits take effect only at start; restart to apply them")
	}
	reloaders := []struct {
		name string
		fn   func() error
	}{
		{"storage", func() error {
			return s.store.ApplyConfig(time.Duration(cfg.Storage.Retention), int64(cfg.Storage.RetentionSize), time.Duration(cfg.Storage.OutOfOrderTimeWindow))
		}},
		{"ingest", func() error {
			s.ingest.SetTokens(tokens)
			s.ingest.SetLimits(ingestLimits(cfg))
			return nil
		}},
		{"scrape", func() error { return s.scrape.apply(s.promConfig(cfg)) }},
		{"alertmanager", func() error { return s.am.Apply(&cfg.Alertmanager) }},
		{"rules", func() error { return s.rules.Apply(cfg) }},
		{"log rules", func() error {
			if s.logs == nil {
				return nil
			}
			return s.logs.rules.Apply(logRules(cfg.Logs))
		}},
		{"checks", func() error { return s.applyChecks(context.Background(), cfg) }},
		{"inventory", func() error {
			s.inventory.SetDownAfter(time.Duration(cfg.Inventory.DownAfter))
			s.inventory.SetEventRetention(time.Duration(cfg.Inventory.EventRetention))
			return nil
		}},
		{"runtime", func() error { applyGoGC(cfg.Server.GoGC, s.logger); return nil }},
	}
	var errs []error
	for _, r := range reloaders {
		if err := r.fn(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", r.name, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	s.mu.Lock()
	s.cfg = cfg
	s.mu.Unlock()
	return nil
}

func (s *server) current() *config.Config {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.cfg
}

func (s *server) currentPromConfig() promconfig.Config {
	return *s.current().Prometheus
}

// promConfig returns the Prometheus configuration to scrape with: the
// user's, plus the server's own /metrics unless turned off.
func (s *server) promConfig(cfg *config.Config) *promconfig.Config {
	if cfg.Server.SelfScrape {
		addSelfScrape(cfg.Prometheus, s.scrape.selfAddr, s.auth.InternalToken())
	}
	return cfg.Prometheus
}

func (s *server) runtimeInfo() (v1.RuntimeInfo, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	hostname, _ := os.Hostname()
	cwd, _ := os.Getwd()
	return v1.RuntimeInfo{
		StartTime:           s.started,
		CWD:                 cwd,
		Hostname:            hostname,
		ServerTime:          time.Now().UTC(),
		ReloadConfigSuccess: s.lastOK,
		LastConfigTime:      s.lastLoad,
		GoroutineCount:      runtime.NumGoroutine(),
		GOMAXPROCS:          runtime.GOMAXPROCS(0),
		GOGC:                os.Getenv("GOGC"),
		GODEBUG:             os.Getenv("GODEBUG"),
		StorageRetention:    s.cfg.Storage.Retention.String(),
	}, nil
}

func (s *server) flags() map[string]string {
	c := s.cfg
	return map[string]string{
		"config.file":                 s.opts.ConfigFile,
		"web.listen-address":          c.Server.Listen,
		"storage.tsdb.path":           filepath.Join(c.Server.DataDir, "metrics"),
		"storage.tsdb.retention":      c.Storage.Retention.String(),
		"storage.tsdb.retention.size": c.Storage.RetentionSize.String(),
		"query.timeout":               c.Query.Timeout.String(),
		"query.max-samples":           fmt.Sprint(c.Query.MaxSamples),
		"query.max-concurrency":       fmt.Sprint(c.Query.MaxConcurrent),
		"query.lookback-delta":        c.Query.LookbackDelta.String(),
	}
}

func buildInfo() *v1.PrometheusVersion {
	return &v1.PrometheusVersion{
		Version:   version.Version,
		Revision:  version.Revision,
		Branch:    version.Branch,
		BuildUser: version.BuildUser,
		BuildDate: version.BuildDate,
		GoVersion: version.GoVersion,
	}
}

// displayAddr turns a wildcard listen address into one a browser can open.
func displayAddr(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}
