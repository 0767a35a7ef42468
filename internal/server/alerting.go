package server

import (
	"context"
	"log/slog"
	"net"
	"net/url"
	"strings"

	"github.com/prometheus/common/model"

	"github.com/saypro/monitor/internal/alertmanager"
	"github.com/saypro/monitor/internal/config"
	"github.com/saypro/monitor/internal/incident"
)

// incidentObserver turns the embedded Alertmanager's group flushes and
// notification attempts into incidents and timeline entries.
type incidentObserver struct {
	incidents *incident.Manager
	logger    *slog.Logger
}

func (o incidentObserver) Flushed(ctx context.Context, f alertmanager.Flush) alertmanager.Links {
	g := incident.Group{Key: f.GroupKey, Receiver: f.Receiver, Labels: f.Labels, Alerts: make([]incident.Alert, 0, len(f.Alerts))}
	for _, a := range f.Alerts {
		g.Alerts = append(g.Alerts, incident.Alert{
			Fingerprint: a.Fingerprint().String(),
			Labels:      labelMap(a.Labels),
			Annotations: labelMap(a.Annotations),
			StartsAt:    a.StartsAt,
			EndsAt:      a.EndsAt,
			Resolved:    a.ResolvedAt(f.Now),
		})
	}
	ref, err := o.incidents.Observe(ctx, g)
	if err != nil {
		// The notification goes out without its incident links rather
		// than not at all.
		o.logger.Error("recording the alert group in its incident", "group", f.GroupKey, "err", err)
		return alertmanager.Links{}
	}
	return alertmanager.Links{URL: ref.URL, AckURL: ref.AckURL}
}

func (o incidentObserver) Notified(ctx context.Context, n alertmanager.Notification) {
	err := o.incidents.Notified(ctx, incident.Notification{
		GroupKey:    n.GroupKey,
		Receiver:    n.Receiver,
		Integration: n.Integration,
		Firing:      n.Firing,
		Resolved:    n.Resolved,
		Err:         n.Err,
		Retry:       n.Retry,
	})
	if err != nil {
		o.logger.Error("recording a notification in its incident", "group", n.GroupKey, "integration", n.Integration, "err", err)
	}
}

func labelMap(ls model.LabelSet) map[string]string {
	m := make(map[string]string, len(ls))
	for k, v := range ls {
		m[string(k)] = string(v)
	}
	return m
}

// externalURL is server.external_url, or the listen address as a URL.
func externalURL(cfg *config.Config, addr net.Addr) *url.URL {
	if cfg.Server.ExternalURL != "" {
		if u, err := url.Parse(strings.TrimSuffix(cfg.Server.ExternalURL, "/")); err == nil {
			return u
		}
	}
	return &url.URL{Scheme: "http", Host: displayAddr(addr)}
}
