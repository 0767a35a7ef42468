package alertmanager

import (
	"context"
	"time"

	"github.com/prometheus/alertmanager/types"
	"github.com/prometheus/common/model"
)

// AlertEvent is published on the event stream when an alert starts
// firing or resolves.
type AlertEvent struct {
	Fingerprint string            `json:"fingerprint"`
	Status      string            `json:"status"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations,omitempty"`
	StartsAt    time.Time         `json:"startsAt"`
	EndsAt      time.Time         `json:"endsAt,omitzero"`
}

func (am *Alertmanager) publish(kind string, data any) {
	if am.o.Events != nil {
		am.o.Events.Publish(kind, data)
	}
}

// watchAlerts publishes an event each time an alert in the store changes
// between firing and resolved, including alerts that resolve by timing
// out, which the store does not announce.
func (am *Alertmanager) watchAlerts(ctx context.Context) {
	it := am.alerts.Subscribe("events")
	defer it.Close()
	firing := map[model.Fingerprint]*types.Alert{}
	sweep := time.NewTicker(5 * time.Second)
	defer sweep.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case pa, ok := <-it.Next():
			if !ok {
				return
			}
			a := pa.Data
			fp := a.Fingerprint()
			_, was := firing[fp]
			now := time.Now()
			switch resolved := a.ResolvedAt(now); {
			case !resolved && !was:
				firing[fp] = a
				am.publish("alert", alertEvent(a, "firing"))
			case !resolved:
				firing[fp] = a
			case was:
				delete(firing, fp)
				am.publish("alert", alertEvent(a, "resolved"))
			}
		case now := <-sweep.C:
			for fp, a := range firing {
				if a.ResolvedAt(now) {
					delete(firing, fp)
					am.publish("alert", alertEvent(a, "resolved"))
				}
			}
		}
	}
}

func alertEvent(a *types.Alert, status string) AlertEvent {
	e := AlertEvent{Fingerprint: a.Fingerprint().String(), Status: status, StartsAt: a.StartsAt, Labels: map[string]string{}}
	if status == "resolved" {
		e.EndsAt = a.EndsAt
	}
	for k, v := range a.Labels {
		e.Labels[string(k)] = string(v)
	}
	if len(a.Annotations) > 0 {
		e.Annotations = map[string]string{}
		for k, v := range a.Annotations {
			e.Annotations[string(k)] = string(v)
		}
	}
	return e
}
