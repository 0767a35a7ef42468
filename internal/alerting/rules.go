// Package alerting evaluates alerting and recording rules, written in
// Prometheus's rule-file format and listed under rule_files, against the
// embedded store with Prometheus's own rules package. Recording rules
// write their series back to the store; alerting rules keep their state
// (pending, firing) with the ALERTS and ALERTS_FOR_STATE series and are
// served by /api/v1/rules and /api/v1/alerts.
//
// Sending firing alerts to receivers is the Notify function's; without one,
// alerts are evaluated and shown but not sent.
package alerting

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	promconfig "github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/rules"
	"github.com/prometheus/prometheus/storage"

	"github.com/saypro/monitor/internal/config"
)

// Options configure New. Engine, Queryable, Appendable and Logger are
// required.
type Options struct {
	Engine     *promql.Engine
	Queryable  storage.Queryable
	Appendable storage.Appendable
	// Notify receives alerts to send; nil evaluates without sending.
	Notify rules.NotifyFunc
	// ExternalURL is the server's URL, for $externalURL in templates and
	// the alerts' generator URL.
	ExternalURL *url.URL
	Logger      *slog.Logger
	Registerer  prometheus.Registerer
}

// Rules runs the rule groups of the configuration.
type Rules struct {
	manager     *rules.Manager
	externalURL string
	logger      *slog.Logger
}

// New returns a rule manager with no rules; Apply loads them and Run
// evaluates them.
func New(o Options) (*Rules, error) {
	if o.Engine == nil || o.Queryable == nil || o.Appendable == nil || o.Logger == nil {
		return nil, errors.New("alerting: Engine, Queryable, Appendable and Logger are required")
	}
	notify := o.Notify
	if notify == nil {
		notify = func(context.Context, string, ...*rules.Alert) {}
	}
	ext := o.ExternalURL
	if ext == nil {
		ext = &url.URL{Scheme: "http", Host: "localhost:9900"}
	}
	m := rules.NewManager(&rules.ManagerOptions{
		ExternalURL: ext,
		QueryFunc:   rules.EngineQueryFunc(o.Engine, o.Queryable),
		NotifyFunc:  notify,
		Context:     context.Background(),
		Appendable:  o.Appendable,
		Queryable:   o.Queryable,
		Logger:      o.Logger,
		Registerer:  o.Registerer,
		// Prometheus's defaults: an alert keeps its `for` progress across
		// a restart of up to an hour, and is re-sent every minute.
		OutageTolerance: time.Hour,
		ForGracePeriod:  10 * time.Minute,
		ResendDelay:     time.Minute,
	})
	return &Rules{manager: m, externalURL: ext.String(), logger: o.Logger}, nil
}

// Apply loads the rule files of cfg (rule_files, evaluated every
// global.evaluation_interval). Rule groups whose files did not change keep
// their state; if a file fails to load, the previous rules stay.
func (r *Rules) Apply(cfg *promconfig.Config) error {
	files, err := config.RuleFilePaths(cfg.RuleFiles)
	if err != nil {
		return err
	}
	if err := r.manager.Update(time.Duration(cfg.GlobalConfig.EvaluationInterval), files, cfg.GlobalConfig.ExternalLabels, r.externalURL, nil); err != nil {
		return fmt.Errorf("loading rules: %w", err)
	}
	groups := r.manager.RuleGroups()
	n := 0
	for _, g := range groups {
		n += len(g.Rules())
	}
	r.logger.Info("rules loaded", "files", len(files), "groups", len(groups), "rules", n)
	return nil
}

// Run evaluates the rules until Stop.
func (r *Rules) Run() { r.manager.Run() }

// Stop ends evaluation and waits for the groups to stop.
func (r *Rules) Stop() { r.manager.Stop() }

// Retriever is what /api/v1/rules and /api/v1/alerts read.
func (r *Rules) Retriever() *rules.Manager { return r.manager }
