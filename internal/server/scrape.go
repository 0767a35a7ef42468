package server

import (
	"context"
	"errors"
	"fmt"
	commonconfig "github.com/prometheus/common/config"
	"log/slog"

	"github.com/oklog/run"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
	promconfig "github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/discovery"
	"github.com/prometheus/prometheus/scrape"
	"github.com/prometheus/prometheus/storage"
)

// selfJob is the job name of the server's scrape of its own /metrics.
const selfJob = "saypro-monitor"

// scraping runs Prometheus's discovery and scrape managers, which write
// into the store with the up and scrape_* series of every target.
type scraping struct {
	discovery *discovery.Manager
	manager   *scrape.Manager
	cancel    context.CancelFunc // stops discovery
	// selfAddr is where the server's own /metrics is scraped.
	selfAddr string
}

func newScraping(app storage.Appendable, reg prometheus.Registerer, logger *slog.Logger) (*scraping, error) {
	sdMetrics, err := discovery.CreateAndRegisterSDMetrics(reg)
	if err != nil {
		return nil, fmt.Errorf("registering service discovery metrics: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	dm := discovery.NewManager(ctx, logger.With("component", "discovery"), reg, sdMetrics, discovery.Name("scrape"))
	if dm == nil {
		cancel()
		return nil, errors.New("creating discovery manager failed")
	}
	sm, err := scrape.NewManager(&scrape.Options{}, logger.With("component", "scrape"), nil, app, nil, reg)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("creating scrape manager: %w", err)
	}
	return &scraping{discovery: dm, manager: sm, cancel: cancel}, nil
}

// apply hands the scrape configurations to the scrape manager first (so
// that new targets find their pool) and then to discovery.
func (s *scraping) apply(cfg *promconfig.Config) error {
	if err := s.manager.ApplyConfig(cfg); err != nil {
		return err
	}
	scfgs, err := cfg.GetScrapeConfigs()
	if err != nil {
		return err
	}
	c := make(map[string]discovery.Configs, len(scfgs))
	for _, sc := range scfgs {
		c[sc.JobName] = sc.ServiceDiscoveryConfigs
	}
	return s.discovery.ApplyConfig(c)
}

// addTo adds discovery and scraping to the run group. Stopping the scrape
// manager waits for running scrapes to finish their appends.
func (s *scraping) addTo(g *run.Group) {
	g.Add(func() error {
		return s.discovery.Run()
	}, func(error) { s.cancel() })
	g.Add(func() error {
		return s.manager.Run(s.discovery.SyncCh())
	}, func(error) { s.manager.Stop() })
}

// addSelfScrape adds the server's own job unless the user has one of the
// same name.
func addSelfScrape(cfg *promconfig.Config, target, token string) {
	if target == "" {
		return
	}
	for _, sc := range cfg.ScrapeConfigs {
		if sc.JobName == selfJob {
			return
		}
	}
	sc := promconfig.DefaultScrapeConfig
	sc.JobName = selfJob
	// The server's metrics label hosts and checks by their own instance
	// (saypro_host_up{instance="db1"}, which HostDown fires on); the
	// target's address must not replace it.
	sc.HonorLabels = true
	// /metrics needs an identity; the server presents its own token.
	sc.HTTPClientConfig.Authorization = &commonconfig.Authorization{Type: "Bearer", Credentials: commonconfig.Secret(token)}
	sc.ServiceDiscoveryConfigs = discovery.Configs{
		discovery.StaticConfig{{Targets: []model.LabelSet{{model.AddressLabel: model.LabelValue(target)}}, Source: selfJob}},
	}
	// Validate fills interval, timeout and protocols from the globals;
	// with valid globals it cannot fail.
	if err := sc.Validate(cfg.GlobalConfig); err != nil {
		return
	}
	cfg.ScrapeConfigs = append(cfg.ScrapeConfigs, &sc)
}
