package alertmanager

import (
	"context"
	"time"

	"github.com/prometheus/alertmanager/types"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/rules"
	"github.com/prometheus/prometheus/util/strutil"
)

// NotifyFunc returns the function the rule manager hands its firing and
// resolved alerts to, as Prometheus sends them to an Alertmanager: pending
// alerts stay out; a firing alert is valid until ValidUntil, a resolved
// one ends when it resolved. externalURL is the server's URL, for the
// alerts' generator links.
func (am *Alertmanager) NotifyFunc(externalURL func() string) rules.NotifyFunc {
	return func(ctx context.Context, expr string, alerts ...*rules.Alert) {
		now := time.Now()
		out := make([]*types.Alert, 0, len(alerts))
		for _, a := range alerts {
			if a.State == rules.StatePending {
				continue
			}
			t := &types.Alert{
				Alert: model.Alert{
					Labels:       make(model.LabelSet, a.Labels.Len()),
					Annotations:  make(model.LabelSet, a.Annotations.Len()),
					StartsAt:     a.FiredAt,
					EndsAt:       a.ValidUntil,
					GeneratorURL: externalURL() + strutil.TableLinkForExpression(expr),
				},
				UpdatedAt: now,
			}
			if !a.ResolvedAt.IsZero() {
				t.EndsAt = a.ResolvedAt
			}
			a.Labels.Range(func(l labels.Label) { t.Labels[model.LabelName(l.Name)] = model.LabelValue(l.Value) })
			a.Annotations.Range(func(l labels.Label) { t.Annotations[model.LabelName(l.Name)] = model.LabelValue(l.Value) })
			out = append(out, t)
		}
		if len(out) == 0 {
			return
		}
		if err := am.alerts.Put(ctx, out...); err != nil {
			am.logger.Error("handing alerts to the Alertmanager", "alerts", len(out), "err", err)
		}
	}
}
