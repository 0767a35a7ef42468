// Package query serves the Prometheus HTTP API (/api/v1/query,
// query_range, series, labels, label values, metadata, targets, status,
// format_query, parse_query, remote read) over the embedded store.
//
// It is Prometheus's own web/api/v1 package with its PromQL engine, so the
// JSON shapes, error types and status codes are Prometheus's exactly:
// Grafana's Prometheus data source, promtool and any Prometheus API client
// work against it unchanged. Query limits map to Prometheus's answers: a
// query that would load more than max_samples gets 422 (errorType
// execution), one that runs past the timeout gets 503 (errorType timeout),
// and bad PromQL gets 400 (errorType bad_data).
package query

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/route"
	promconfig "github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/rules"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/util/features"
	"github.com/prometheus/prometheus/util/notifications"
	v1 "github.com/prometheus/prometheus/web/api/v1"
)

// Storage is what the API reads: samples, chunks (remote read), exemplars
// and the TSDB's administrative views.
type Storage interface {
	storage.SampleAndChunkQueryable
	storage.ExemplarQueryable
	v1.TSDBAdminStats
}

// Targets is what the API reads of the scrape manager for /targets,
// /scrape_pools and /metadata.
type Targets interface {
	v1.TargetRetriever
	v1.ScrapePoolsRetriever
}

// Options configure New. Storage, Targets, Config, Logger, Registerer and
// Gatherer are required.
type Options struct {
	Storage Storage
	// DBDir is the TSDB directory, for the active query log and snapshots.
	DBDir   string
	Targets Targets
	// Config returns the Prometheus view of the current configuration,
	// for /status/config and remote read.
	Config func() promconfig.Config
	// Ready wraps handlers so that they answer 503 until the server is up.
	Ready func(http.HandlerFunc) http.HandlerFunc
	// RuntimeInfo fills /status/runtimeinfo.
	RuntimeInfo func() (v1.RuntimeInfo, error)
	BuildInfo   *v1.PrometheusVersion
	// Flags are shown on /status/flags.
	Flags         map[string]string
	ListenAddress string

	Timeout       time.Duration
	MaxSamples    int
	MaxConcurrent int
	LookbackDelta time.Duration

	// Rules returns the rule manager behind /api/v1/rules and
	// /api/v1/alerts; nil serves empty lists.
	Rules func() v1.RulesRetriever

	Logger     *slog.Logger
	Registerer prometheus.Registerer
	Gatherer   prometheus.Gatherer
}

// API is the Prometheus-compatible HTTP API and the engine behind it.
type API struct {
	Engine  *promql.Engine
	handler http.Handler
	tracker *promql.ActiveQueryTracker
}

// New builds the engine and the API. The returned API's ServeHTTP expects
// paths below /api/v1.
func New(o Options) (*API, error) {
	if o.Storage == nil || o.Targets == nil || o.Config == nil || o.Logger == nil || o.Registerer == nil || o.Gatherer == nil {
		return nil, errors.New("query: Storage, Targets, Config, Logger, Registerer and Gatherer are required")
	}
	if o.Ready == nil {
		o.Ready = func(f http.HandlerFunc) http.HandlerFunc { return f }
	}
	feats := features.NewRegistry()
	tracker := promql.NewActiveQueryTracker(o.DBDir, o.MaxConcurrent, o.Logger.With("component", "activeQueryTracker"))
	engine := promql.NewEngine(promql.EngineOpts{
		Logger:             o.Logger.With("component", "query engine"),
		Reg:                o.Registerer,
		MaxSamples:         o.MaxSamples,
		Timeout:            o.Timeout,
		ActiveQueryTracker: tracker,
		LookbackDelta:      o.LookbackDelta,
		NoStepSubqueryIntervalFn: func(int64) int64 {
			return time.Duration(o.Config().GlobalConfig.EvaluationInterval).Milliseconds()
		},
		EnableAtModifier:     true,
		EnableNegativeOffset: true,
		EnablePerStepStats:   true,
		FeatureRegistry:      feats,
	})
	targets := func(context.Context) v1.TargetRetriever { return o.Targets }
	pools := func(context.Context) v1.ScrapePoolsRetriever { return o.Targets }
	alertmanagers := func(context.Context) v1.AlertmanagerRetriever { return noAlertmanagers{} }
	ruleGroups := func(context.Context) v1.RulesRetriever {
		if o.Rules != nil {
			if r := o.Rules(); r != nil {
				return r
			}
		}
		return noRules{}
	}

	api := v1.NewAPI(engine, o.Storage, nil, nil, o.Storage,
		pools, targets, alertmanagers, o.Config, o.Flags,
		v1.GlobalURLOptions{ListenAddress: o.ListenAddress, Host: o.ListenAddress, Scheme: "http"},
		o.Ready, o.Storage, o.DBDir, false, o.Logger.With("component", "api"), ruleGroups,
		50_000_000, 10, 1048576, // remote read: sample limit, concurrency, bytes per frame (Prometheus's defaults)
		false, nil, o.RuntimeInfo, o.BuildInfo,
		func() []notifications.Notification { return nil },
		func() (<-chan notifications.Notification, func(), bool) { return nil, func() {}, false },
		o.Gatherer, o.Registerer, nil,
		false, nil, // remote write is served by package ingest
		false, false, false, false,
		o.LookbackDelta, false, false, nil, feats,
		v1.OpenAPIOptions{Version: o.versionString()},
	)
	router := route.New()
	api.Register(router.WithPrefix("/api/v1"))
	return &API{Engine: engine, handler: router, tracker: tracker}, nil
}

func (o Options) versionString() string {
	if o.BuildInfo == nil {
		return ""
	}
	return o.BuildInfo.Version
}

// ServeHTTP implements http.Handler for paths below /api/v1.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.handler.ServeHTTP(w, r)
}

// Close releases the active query log.
func (a *API) Close() error {
	return a.tracker.Close()
}

type noAlertmanagers struct{}

func (noAlertmanagers) Alertmanagers() []*url.URL        { return nil }
func (noAlertmanagers) DroppedAlertmanagers() []*url.URL { return nil }

type noRules struct{}

func (noRules) RuleGroups() []*rules.Group           { return nil }
func (noRules) AlertingRules() []*rules.AlertingRule { return nil }
