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
	// BuiltinFile is where the built-in rule pack is written (under the
	// data directory), so that the rule manager loads it like any file.
	BuiltinFile string
	Logger      *slog.Logger
	Registerer  prometheus.Registerer
}

// Rules runs the rule groups of the configuration.
type Rules struct {
	manager     *rules.Manager
	builtinFile string
	externalURL string
	logger      *slog.Logger
}

// New returns a rule manager with no rules; Apply loads them and Run
// evaluates them.
func New(o Options) (*Rules, error) {
	if o.Engine == nil || o.Queryable == nil || o.Appendable == nil || o.Logger == nil || o.BuiltinFile == "" {
		return nil, errors.New("alerting: Engine, Queryable, Appendable, BuiltinFile and Logger are required")
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
	return &Rules{manager: m, builtinFile: o.BuiltinFile, externalURL: ext.String(), logger: o.Logger}, nil
}

// Apply loads the built-in rule pack (unless turned off) and the rule
// files of cfg, evaluated every global.evaluation_interval. Rule groups
// whose files did not change keep their state; if a file fails to load,
// the previous rules stay. A rule of the user's with the alert name of a
// built-in one replaces it.
func (r *Rules) Apply(cfg *config.Config) error {
	prom := cfg.Prometheus
	files, err := config.RuleFilePaths(prom.RuleFiles)
	if err != nil {
		return err
	}
	if cfg.BuiltinRules.Enabled {
		pack, err := RenderBuiltin(cfg.BuiltinRules, cfg.RuleAlerts)
		if err != nil {
			return err
		}
		if err := writeBuiltin(r.builtinFile, pack); err != nil {
			return fmt.Errorf("writing the built-in rules: %w", err)
		}
		files = append([]string{r.builtinFile}, files...)
	}
	if err := r.manager.Update(time.Duration(prom.GlobalConfig.EvaluationInterval), files, prom.GlobalConfig.ExternalLabels, r.externalURL, nil); err != nil {
		return fmt.Errorf("loading rules: %w", err)
	}
	groups := r.manager.RuleGroups()
	n := 0
	for _, g := range groups {
		n += len(g.Rules())
	}
	r.logger.Info("rules loaded", "files", len(files), "groups", len(groups), "rules", n, "builtin", cfg.BuiltinRules.Enabled)
	return nil
}

// Run evaluates the rules until Stop.
func (r *Rules) Run() { r.manager.Run() }

// Stop ends evaluation and waits for the groups to stop.
func (r *Rules) Stop() { r.manager.Stop() }

// Retriever is what /api/v1/rules and /api/v1/alerts read.
func (r *Rules) Retriever() *rules.Manager { return r.manager }
