// Package alertmanager embeds Prometheus Alertmanager as a library: the
// in-memory alert store, routing and grouping (dispatch), inhibition,
// silences, the notification log and the receivers of Alertmanager's own
// notify packages, plus the receivers SayPro adds (Twilio, any HTTP SMS
// gateway, forwarding to another Alertmanager). Its API v2 is served on
// the server's address, so amtool and Grafana work against it.
//
// Silences and the notification log are written to the data directory as
// soon as they change, so a restart forgets no silence and sends no
// notification twice. Around Alertmanager, the package opens incidents
// for alert groups (through an Observer), turns recurring maintenance
// windows into silences and reminds before a silence ends.
package alertmanager

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/alertmanager/api"
	"github.com/prometheus/alertmanager/config/receiver"
	"github.com/prometheus/alertmanager/dispatch"
	"github.com/prometheus/alertmanager/eventrecorder"
	"github.com/prometheus/alertmanager/featurecontrol"
	"github.com/prometheus/alertmanager/inhibit"
	"github.com/prometheus/alertmanager/marker"
	"github.com/prometheus/alertmanager/nflog"
	"github.com/prometheus/alertmanager/notify"
	"github.com/prometheus/alertmanager/provider/mem"
	"github.com/prometheus/alertmanager/silence"
	"github.com/prometheus/alertmanager/template"
	"github.com/prometheus/alertmanager/timeinterval"
	"github.com/prometheus/alertmanager/types"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/prometheus/common/model"
	"github.com/prometheus/common/route"

	"github.com/saypro/monitor/internal/config"
)

// Intervals of the package's housekeeping.
const (
	// gcInterval is how often expired silences, notification-log entries
	// and resolved alerts are garbage collected.
	gcInterval = 15 * time.Minute
	// persistInterval bounds how long a changed silence waits to be
	// written to disk.
	persistInterval = time.Second
	// scheduleInterval is how often maintenance windows and silence
	// reminders are looked at.
	scheduleInterval = 30 * time.Second
	// scheduleHorizon is how far ahead maintenance windows get their
	// silences, so that they show as pending in the API.
	scheduleHorizon = 24 * time.Hour
)

// Observer follows alert groups and notifications, to keep incidents.
// Flushed is called at each flush of an alert group with the alerts that
// are not muted; what it returns is added to the alerts' annotations
// (incident_url, incident_ack_url) for the receivers' templates.
// Notified is called after every attempt of every integration.
type Observer interface {
	Flushed(ctx context.Context, f Flush) Links
	Notified(ctx context.Context, n Notification)
}

// Flush is an alert group at a flush.
type Flush struct {
	GroupKey string
	Receiver string
	Labels   map[string]string
	Alerts   []*types.Alert
	Now      time.Time
}

// Links point a notification's reader at its incident.
type Links struct {
	URL    string
	AckURL string
}

// Notification is the outcome of one attempt of one integration.
type Notification struct {
	GroupKey    string
	Receiver    string
	Integration string
	Firing      int
	Resolved    int
	Err         error
	Retry       bool
	Duration    time.Duration
}

// Publisher receives alert events for the live stream.
type Publisher interface {
	Publish(kind string, data any)
}

// Options configure New. DataDir and Logger are required.
type Options struct {
	// DataDir holds the silences and notification-log snapshots.
	DataDir string
	// ExternalURL is the server's URL, for templates and links.
	ExternalURL *url.URL
	// Observer, if set, follows groups and notifications.
	Observer Observer
	// Events, if set, receives alert events.
	Events     Publisher
	Logger     *slog.Logger
	Registerer prometheus.Registerer
	// Retention of the notification log and of expired silences.
	Retention time.Duration
	// HTTPTimeout bounds API requests; 0 for none.
	HTTPTimeout time.Duration
}

// Alertmanager is the embedded Alertmanager.
type Alertmanager struct {
	o        Options
	logger   *slog.Logger
	alerts   *mem.Alerts
	silences *silence.Silences
	silencer *silence.Silencer
	nflog    *nflog.Log
	marker   marker.GroupMarker
	api      *api.API
	handler  http.Handler
	pipeline *notify.PipelineBuilder
	dmetrics *dispatch.DispatcherMetrics
	recorder eventrecorder.Recorder
	metrics  metrics

	applyMu    sync.Mutex
	dispatcher atomic.Pointer[dispatch.Dispatcher]
	inhibitor  atomic.Pointer[inhibit.Inhibitor]
	schedule   atomic.Pointer[schedule]
	started    time.Time

	nflogDirty chan struct{}
	kick       chan struct{}
	cancel     context.CancelFunc
	wg         sync.WaitGroup
	stopOnce   sync.Once
}

// schedule is what the maintenance loop works from; Apply replaces it.
type schedule struct {
	windows  []config.MaintenanceWindow
	reminder config.SilenceReminderConfig
}

type metrics struct {
	snapshotErrors *prometheus.CounterVec
	windowSilences prometheus.Counter
	reminders      prometheus.Counter
}

// New loads the silences and the notification log from the data
// directory and returns an Alertmanager that routes nothing until Apply.
func New(o Options) (*Alertmanager, error) {
	if o.DataDir == "" || o.Logger == nil {
		return nil, errors.New("alertmanager: DataDir and Logger are required")
	}
	if o.Registerer == nil {
		o.Registerer = prometheus.NewRegistry()
	}
	if o.Retention <= 0 {
		o.Retention = time.Duration(config.DefaultAlertmanager.Retention)
	}
	if o.ExternalURL == nil {
		o.ExternalURL = &url.URL{Scheme: "http", Host: "localhost:9900"}
	}
	if err := os.MkdirAll(o.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("alertmanager: %w", err)
	}
	logger := o.Logger
	reg := o.Registerer
	ff := featurecontrol.NoopFlags{}
	am := &Alertmanager{
		o:          o,
		logger:     logger,
		marker:     marker.NewGroupMarker(),
		nflogDirty: make(chan struct{}, 1),
		kick:       make(chan struct{}, 1),
		started:    time.Now(),
	}
	am.metrics = metrics{
		snapshotErrors: promauto.With(reg).NewCounterVec(prometheus.CounterOpts{
			Name: "saypro_alertmanager_snapshot_errors_total",
			Help: "Failed writes of the silences or notification-log snapshot to the data directory.",
		}, []string{"state"}),
		windowSilences: promauto.With(reg).NewCounter(prometheus.CounterOpts{
			Name: "saypro_maintenance_window_silences_created_total",
			Help: "Silences created for occurrences of maintenance windows.",
		}),
		reminders: promauto.With(reg).NewCounter(prometheus.CounterOpts{
			Name: "saypro_silence_reminders_total",
			Help: "Reminders raised for silences about to end.",
		}),
	}

	var err error
	am.nflog, err = nflog.New(nflog.Options{
		SnapshotFile: am.nflogFile(),
		Retention:    o.Retention,
		Logger:       logger.With("component", "nflog"),
		Metrics:      reg,
	})
	if err != nil {
		return nil, fmt.Errorf("alertmanager: notification log %s: %w (move the file away to start with an empty one)", am.nflogFile(), err)
	}
	am.silences, err = silence.New(silence.Options{
		SnapshotFile: am.silencesFile(),
		Retention:    o.Retention,
		Logger:       logger.With("component", "silences"),
		Metrics:      reg,
		Limits: silence.Limits{
			MaxSilences:         func() int { return 0 },
			MaxSilenceSizeBytes: func() int { return 0 },
		},
		EventRecorder: am.recorder,
	})
	if err != nil {
		return nil, fmt.Errorf("alertmanager: silences %s: %w (move the file away to start with none)", am.silencesFile(), err)
	}
	am.silencer = silence.NewSilencer(am.silences, logger, am.recorder)
	am.alerts, err = mem.NewAlerts(context.Background(), 30*time.Minute, 0, am.silencer, logger.With("component", "alerts"), am.recorder, reg, ff)
	if err != nil {
		return nil, fmt.Errorf("alertmanager: %w", err)
	}
	am.api, err = api.New(api.Options{
		Alerts:         am.alerts,
		Silences:       am.silences,
		GroupMutedFunc: am.marker.Muted,
		Timeout:        o.HTTPTimeout,
		Logger:         logger.With("component", "api"),
		Registry:       reg,
		RequestDuration: promauto.With(reg).NewHistogramVec(prometheus.HistogramOpts{
			Name:    "alertmanager_http_request_duration_seconds",
			Help:    "Histogram of latencies for HTTP requests to the Alertmanager API.",
			Buckets: []float64{.05, 0.1, .25, .5, .75, 1, 2, 5, 20, 60},
		}, []string{"handler", "method", "code"}),
		GroupFunc: func(ctx context.Context, rf func(*dispatch.Route) bool, af func(*types.Alert, time.Time) bool) (dispatch.AlertGroups, map[model.Fingerprint][]string, error) {
			d := am.dispatcher.Load()
			if d == nil {
				return nil, nil, nil
			}
			return d.Groups(ctx, rf, af)
		},
	})
	if err != nil {
		am.alerts.Close()
		return nil, fmt.Errorf("alertmanager: API: %w", err)
	}
	am.handler = am.api.Register(route.New(), "/")
	am.pipeline = notify.NewPipelineBuilder(reg, ff, am.recorder)
	am.dmetrics = dispatch.NewDispatcherMetrics(false, reg, ff)
	ctx, cancel := context.WithCancel(context.Background())
	am.cancel = cancel
	if o.Events != nil {
		am.wg.Go(func() { am.watchAlerts(ctx) })
	}
	am.wg.Go(func() { am.persistLoop(ctx) })
	am.wg.Go(func() { am.scheduleLoop(ctx) })
	return am, nil
}

func (am *Alertmanager) nflogFile() string    { return filepath.Join(am.o.DataDir, "nflog") }
func (am *Alertmanager) silencesFile() string { return filepath.Join(am.o.DataDir, "silences") }

// Handler serves Alertmanager's API v2 below /api/v2/.
func (am *Alertmanager) Handler() http.Handler { return am.handler }

// Apply builds the routes, receivers, inhibition rules and notification
// pipeline of cfg and swaps them in; on error the running ones stay.
// Alert groups are rebuilt, as a reload of Alertmanager does; the
// notification log keeps them from notifying again.
func (am *Alertmanager) Apply(c *config.AlertmanagerConfig) error {
	am.applyMu.Lock()
	defer am.applyMu.Unlock()
	conf := c.Parsed
	if conf == nil {
		return errors.New("alertmanager: the configuration was not loaded")
	}
	tmpl, err := template.FromGlobs(conf.Templates)
	if err != nil {
		return fmt.Errorf("alertmanager templates: %w", err)
	}
	tmpl.ExternalURL = am.o.ExternalURL

	routes := dispatch.NewRoute(conf.Route, nil)
	active := map[string]bool{}
	routes.Walk(func(r *dispatch.Route) { active[r.RouteOpts.Receiver] = true })
	receivers := make(map[string][]notify.Integration, len(active))
	for _, rcv := range conf.Receivers {
		if !active[rcv.Name] {
			am.logger.Info("receiver not used by any route", "receiver", rcv.Name)
			continue
		}
		integrations, err := receiver.BuildReceiverIntegrations(rcv, tmpl, am.logger)
		if err != nil {
			return fmt.Errorf("receiver %q: %w", rcv.Name, err)
		}
		extra, err := buildExtensions(rcv.Name, c.Extensions[rcv.Name], tmpl, am.logger)
		if err != nil {
			return fmt.Errorf("receiver %q: %w", rcv.Name, err)
		}
		receivers[rcv.Name] = am.observed(rcv.Name, append(integrations, extra...))
	}
	intervals := make(map[string][]timeinterval.TimeInterval, len(conf.MuteTimeIntervals)+len(conf.TimeIntervals))
	for _, ti := range conf.MuteTimeIntervals {
		intervals[ti.Name] = ti.TimeIntervals
	}
	for _, ti := range conf.TimeIntervals {
		intervals[ti.Name] = ti.TimeIntervals
	}

	if old := am.inhibitor.Load(); old != nil {
		old.Stop()
	}
	if old := am.dispatcher.Load(); old != nil {
		old.Stop()
	}
	inhibitor := inhibit.NewInhibitor(am.alerts, conf.InhibitRules, am.logger, am.recorder)
	stages := am.pipeline.New(receivers, func() time.Duration { return 0 }, inhibitor, am.silencer,
		timeinterval.NewIntervener(intervals), am.marker, persistingLog{am.nflog, am.nflogDirty}, nil)
	am.api.Update(conf, func(ctx context.Context, lset model.LabelSet) {
		if i := am.inhibitor.Load(); i != nil {
			i.Mutes(ctx, lset)
		}
		am.silencer.Mutes(ctx, lset)
	})
	d := dispatch.NewDispatcher(am.alerts, routes, am.observedStage(stages, inhibitor), am.marker,
		func(d time.Duration) time.Duration { return max(d, notify.MinTimeout) },
		30*time.Second, nil, am.logger.With("component", "dispatcher"), am.recorder, am.dmetrics, tmpl)
	go inhibitor.Run()
	inhibitor.WaitForLoading()
	am.inhibitor.Store(inhibitor)
	go d.Run(am.started)
	d.WaitForLoading()
	am.dispatcher.Store(d)

	am.schedule.Store(&schedule{windows: c.MaintenanceWindows, reminder: c.SilenceReminder})
	select {
	case am.kick <- struct{}{}:
	default:
	}
	n := 0
	for _, is := range receivers {
		n += len(is)
	}
	am.logger.Info("alertmanager configured", "source", c.Source, "receivers", len(receivers), "integrations", n,
		"inhibit_rules", len(conf.InhibitRules), "maintenance_windows", len(c.MaintenanceWindows))
	return nil
}

// Stop stops routing and notifying and writes the silences and the
// notification log to disk.
func (am *Alertmanager) Stop() {
	am.stopOnce.Do(func() {
		if d := am.dispatcher.Load(); d != nil {
			d.Stop()
		}
		if i := am.inhibitor.Load(); i != nil {
			i.Stop()
		}
		am.cancel()
		am.wg.Wait()
		am.alerts.Close()
		am.persist()
	})
}

// Put hands alerts to the dispatcher, as a POST to /api/v2/alerts does.
func (am *Alertmanager) Put(ctx context.Context, alerts ...*types.Alert) error {
	return am.alerts.Put(ctx, alerts...)
}
