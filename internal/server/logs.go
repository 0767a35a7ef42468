package server

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/alertmanager/types"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"

	"github.com/saypro/monitor/internal/alertmanager"
	"github.com/saypro/monitor/internal/config"
	"github.com/saypro/monitor/internal/logs"
	"github.com/saypro/monitor/internal/logs/vlstore"
)

// logging is the server's log side: the store, the pipeline that fills
// it, the syslog receiver, the log rules and the API.
type logging struct {
	store    *vlstore.Store
	pipeline *logs.Pipeline
	syslog   *logs.SyslogReceiver
	rules    *logs.Rules
	api      *logs.API
	cfg      config.LogsConfig
}

// openLogs opens the log store under dataDir/logs and builds what uses it.
func openLogs(cfg *config.Config, dataDir string, am *alertmanager.Alertmanager, externalURL func() string, reg prometheus.Registerer, logger *slog.Logger) (*logging, error) {
	lc := cfg.Logs
	dir := filepath.Join(dataDir, "logs")
	srcRet := map[string]time.Duration{}
	for src, d := range lc.SourceRetention {
		srcRet[src] = time.Duration(d)
	}
	start := time.Now()
	store, err := vlstore.Open(vlstore.Options{
		Dir:              dir,
		Retention:        time.Duration(lc.Retention),
		SourceRetention:  srcRet,
		MaxDiskBytes:     int64(lc.MaxDiskSize),
		MinFreeDiskBytes: int64(lc.MinFreeDisk),
		MemoryLimitBytes: int64(lc.MemoryLimit),
		Logger:           logger.With("component", "logstore"),
	})
	if err != nil {
		return nil, err
	}
	l := &logging{store: store, cfg: lc}
	fail := func(err error) (*logging, error) {
		store.Close()
		return nil, err
	}
	logger.Info("log store open", "dir", dir, "took", time.Since(start).Round(time.Millisecond), "retention", lc.Retention)
	key, err := redactionKey(dir)
	if err != nil {
		return fail(err)
	}
	red, err := logs.NewRedactor(redactOptions(lc.Redact, key))
	if err != nil {
		return fail(err)
	}
	l.pipeline, err = logs.NewPipeline(logs.Options{
		Store:         store,
		MaxLineBytes:  int(lc.MaxLineSize),
		MaxAge:        time.Duration(lc.MaxAge),
		MaxAhead:      time.Duration(lc.MaxAhead),
		RatePerSecond: lc.RateLimit.LinesPerSecond,
		Burst:         lc.RateLimit.Burst,
		Redactor:      red,
		AccessMetrics: lc.AccessMetrics,
		Logger:        logger.With("component", "logs"),
		Registerer:    reg,
	})
	if err != nil {
		return fail(err)
	}
	reg.MustRegister(storeCollector{store})
	if s := lc.Syslog; s.UDP != "" || s.TCP != "" || s.TLS.Listen != "" {
		var tlsCfg *tls.Config
		if s.TLS.Listen != "" {
			if tlsCfg, err = syslogTLS(s.TLS); err != nil {
				return fail(err)
			}
		}
		l.syslog, err = logs.NewSyslogReceiver(logs.SyslogOptions{
			UDP: s.UDP, TCP: s.TCP, TLSListen: s.TLS.Listen, TLSConfig: tlsCfg,
			MaxConnections: s.MaxConnections,
			IdleTimeout:    time.Duration(s.IdleTimeout),
			MaxMessage:     int(lc.MaxLineSize),
			Logger:         logger.With("component", "syslog"),
		}, l.pipeline)
		if err != nil {
			return fail(err)
		}
		udp, tcp, tlsAddr := l.syslog.Addrs()
		logger.Info("receiving syslog", "udp", addrString(udp), "tcp", addrString(tcp), "tls", addrString(tlsAddr))
	}
	l.rules = logs.NewRules(logs.RulesOptions{
		Store: store,
		Send: func(ctx context.Context, alerts []logs.Alert) {
			if err := am.Put(ctx, modelAlerts(alerts)...); err != nil {
				logger.Error("handing log rule alerts to the Alertmanager", "alerts", len(alerts), "err", err)
			}
		},
		Interval:    time.Duration(lc.RuleInterval),
		ExternalURL: externalURL,
		Logger:      logger.With("component", "log-rules"),
		Registerer:  reg,
	})
	if err := l.rules.Apply(logRules(lc)); err != nil {
		if l.syslog != nil {
			l.syslog.Close()
		}
		return fail(err)
	}
	l.api = logs.NewAPI(logs.APIOptions{Store: store, Pipeline: l.pipeline, Rules: l.rules, Status: l.status})
	return l, nil
}

func addrString(a interface{ String() string }) string {
	if a == nil {
		return "off"
	}
	return a.String()
}

func (l *logging) status() logs.Status {
	st := l.store.Stats()
	s := logs.Status{ReadOnly: st.ReadOnly, DiskBytes: st.DiskBytes, Rows: st.Rows, Days: st.Days, RetentionSeconds: time.Duration(l.cfg.Retention).Seconds()}
	if st.ReadOnly {
		s.Reason = fmt.Sprintf("free disk space in the data directory is below logs.min_free_disk (%s); new log lines are refused until space is freed", l.cfg.MinFreeDisk)
	}
	if l.syslog != nil {
		udp, tcp, tlsAddr := l.syslog.Addrs()
		s.Syslog = map[string]string{"udp": addrString(udp), "tcp": addrString(tcp), "tls": addrString(tlsAddr)}
	}
	return s
}

// storeCollector exposes the store's size and state, reading its figures
// once per scrape (they walk the store's directory).
type storeCollector struct{ st *vlstore.Store }

var (
	storeBytesDesc    = prometheus.NewDesc("saypro_logs_store_bytes", "Disk space the log store takes.", nil, nil)
	storeEntriesDesc  = prometheus.NewDesc("saypro_logs_store_entries", "Entries in the log store.", nil, nil)
	storeReadOnlyDesc = prometheus.NewDesc("saypro_logs_store_read_only", "1 when the log store refuses new entries because the disk is nearly full.", nil, nil)
)

func (c storeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- storeBytesDesc
	ch <- storeEntriesDesc
	ch <- storeReadOnlyDesc
}

func (c storeCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.st.Stats()
	readOnly := 0.0
	if st.ReadOnly {
		readOnly = 1
	}
	ch <- prometheus.MustNewConstMetric(storeBytesDesc, prometheus.GaugeValue, float64(st.DiskBytes))
	ch <- prometheus.MustNewConstMetric(storeEntriesDesc, prometheus.GaugeValue, float64(st.Rows))
	ch <- prometheus.MustNewConstMetric(storeReadOnlyDesc, prometheus.GaugeValue, readOnly)
}

// redactionKey is the key of IP pseudonyms, made once and kept, so an
// address keeps its pseudonym across restarts.
func redactionKey(dir string) ([]byte, error) {
	path := filepath.Join(dir, "redaction.key")
	if b, err := os.ReadFile(path); err == nil && len(b) >= 32 {
		return b, nil
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("reading the redaction key: %w", err)
	}
	key := make([]byte, 32)
	rand.Read(key)
	if err := os.WriteFile(path, key, 0o600); err != nil {
		return nil, fmt.Errorf("writing the redaction key: %w", err)
	}
	return key, nil
}

func redactOptions(r config.LogsRedact, key []byte) logs.RedactOptions {
	o := logs.RedactOptions{Emails: r.Emails, IPAddresses: r.IPAddresses, URLSecrets: r.URLSecrets, Key: key}
	for _, p := range r.Patterns {
		o.Patterns = append(o.Patterns, logs.RedactPattern{Regex: p.Regex, Replace: p.Replace})
	}
	return o
}

func syslogTLS(c config.SyslogTLS) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("logs.syslog.tls: loading the certificate: %w", err)
	}
	t := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if c.ClientCAFile != "" {
		pem, err := os.ReadFile(c.ClientCAFile)
		if err != nil {
			return nil, fmt.Errorf("logs.syslog.tls.client_ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("logs.syslog.tls.client_ca_file %s holds no PEM certificate", c.ClientCAFile)
		}
		t.ClientCAs, t.ClientAuth = pool, tls.RequireAndVerifyClientCert
	}
	return t, nil
}

// logRules are the built-in rules (unless turned off) and the configured
// ones; a configured rule replaces a built-in one of the same name.
func logRules(lc config.LogsConfig) []logs.Rule {
	var out []logs.Rule
	mine := map[string]bool{}
	for _, r := range lc.Rules {
		mine[r.Name] = true
	}
	if lc.BuiltinRules {
		for _, r := range logs.BuiltinRules() {
			if !mine[r.Name] {
				out = append(out, r)
			}
		}
	}
	for _, r := range lc.Rules {
		f := logs.Filter{Hosts: r.Match.Hosts, Sources: r.Match.Sources, Services: r.Match.Services, Severities: r.Match.Severities, Text: r.Match.Text, Regex: r.Match.Regex}
		for k, v := range r.Match.Fields {
			f.Fields = append(f.Fields, logs.FieldMatch{Name: k, Value: v})
		}
		out = append(out, logs.Rule{Name: r.Name, Filter: f, GroupBy: r.GroupBy, Window: time.Duration(r.Window), Threshold: r.Threshold,
			BaselineFactor: r.BaselineFactor, BaselineWindow: time.Duration(r.BaselineWindow), Labels: r.Labels, Annotations: r.Annotations})
	}
	return out
}

func modelAlerts(in []logs.Alert) []*types.Alert {
	now := time.Now()
	out := make([]*types.Alert, 0, len(in))
	for _, a := range in {
		m := model.Alert{Labels: model.LabelSet{}, Annotations: model.LabelSet{}, StartsAt: a.StartsAt, EndsAt: a.EndsAt, GeneratorURL: a.GeneratorURL}
		for k, v := range a.Labels {
			m.Labels[model.LabelName(k)] = model.LabelValue(v)
		}
		for k, v := range a.Annotations {
			m.Annotations[model.LabelName(k)] = model.LabelValue(v)
		}
		out = append(out, &types.Alert{Alert: m, UpdatedAt: now})
	}
	return out
}

// close stops the receiver's listeners and closes the store.
func (l *logging) close() {
	if l.syslog != nil {
		l.syslog.Close()
	}
	l.store.Close()
}

// withoutRules is c without what a reload applies (the rules).
func withoutRules(c config.LogsConfig) config.LogsConfig {
	c.Rules, c.BuiltinRules = nil, false
	return c
}
