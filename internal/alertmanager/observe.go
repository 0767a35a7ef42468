package alertmanager

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/alertmanager/notify"
	"github.com/prometheus/alertmanager/types"
	"github.com/prometheus/common/model"
)

// Annotations added to every alert handed to the receivers of a group
// that has an incident, for their templates.
const (
	AnnotationIncidentURL    = "incident_url"
	AnnotationIncidentAckURL = "incident_ack_url"
)

// observed wraps each integration of a receiver so that the Observer
// learns the outcome of every attempt.
func (am *Alertmanager) observed(receiver string, in []notify.Integration) []notify.Integration {
	if am.o.Observer == nil {
		return in
	}
	out := make([]notify.Integration, len(in))
	for i := range in {
		integ := in[i]
		out[i] = notify.NewIntegration(observedNotifier{am: am, receiver: receiver, inner: &integ}, &integ, integ.Name(), integ.Index(), receiver)
	}
	return out
}

type observedNotifier struct {
	am       *Alertmanager
	receiver string
	inner    *notify.Integration
}

func (n observedNotifier) Notify(ctx context.Context, alerts ...*types.Alert) (bool, error) {
	start := time.Now()
	retry, err := n.inner.Notify(ctx, alerts...)
	key, _ := notify.GroupKey(ctx)
	res := Notification{
		GroupKey:    key,
		Receiver:    n.receiver,
		Integration: n.inner.String(),
		Err:         err,
		Retry:       retry,
		Duration:    time.Since(start),
	}
	now := time.Now()
	for _, a := range alerts {
		if a.ResolvedAt(now) {
			res.Resolved++
		} else {
			res.Firing++
		}
	}
	// The observer records outside the notification's deadline: a
	// timeline entry for an attempt that timed out is still wanted.
	n.am.o.Observer.Notified(context.WithoutCancel(ctx), res)
	return retry, err
}

// observedStage runs before the receivers' pipelines: it tells the
// Observer about the group's alerts that are neither silenced nor
// inhibited, and adds the links it returns to the alerts' annotations.
func (am *Alertmanager) observedStage(next notify.Stage, inhibitor interface {
	Mutes(context.Context, model.LabelSet) bool
}) notify.Stage {
	if am.o.Observer == nil {
		return next
	}
	return notify.StageFunc(func(ctx context.Context, l *slog.Logger, alerts ...*types.Alert) (context.Context, []*types.Alert, error) {
		key, _ := notify.GroupKey(ctx)
		rcv, _ := notify.ReceiverName(ctx)
		gl, _ := notify.GroupLabels(ctx)
		now, ok := notify.Now(ctx)
		if !ok {
			now = time.Now()
		}
		f := Flush{GroupKey: key, Receiver: rcv, Labels: make(map[string]string, len(gl)), Now: now}
		for k, v := range gl {
			f.Labels[string(k)] = string(v)
		}
		for _, a := range alerts {
			if !a.ResolvedAt(now) && (am.silencer.Mutes(ctx, a.Labels) || inhibitor.Mutes(ctx, a.Labels)) {
				continue
			}
			f.Alerts = append(f.Alerts, a)
		}
		links := am.o.Observer.Flushed(ctx, f)
		if links.URL != "" {
			withLinks := make([]*types.Alert, len(alerts))
			for i, a := range alerts {
				c := *a
				c.Annotations = a.Annotations.Clone()
				if c.Annotations == nil {
					c.Annotations = model.LabelSet{}
				}
				c.Annotations[AnnotationIncidentURL] = model.LabelValue(links.URL)
				if links.AckURL != "" {
					c.Annotations[AnnotationIncidentAckURL] = model.LabelValue(links.AckURL)
				}
				withLinks[i] = &c
			}
			alerts = withLinks
		}
		return next.Exec(ctx, l, alerts...)
	})
}
