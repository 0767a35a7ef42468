// Package notifytest has the fixtures of the tests of SayPro's own
// Alertmanager notifiers: a template, the context Alertmanager's pipeline
// gives a notifier, and a firing alert.
package notifytest

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/alert"
	"github.com/prometheus/alertmanager/notify"
	"github.com/prometheus/alertmanager/template"
	"github.com/prometheus/common/model"
)

// Template is Alertmanager's default template with an external URL.
func Template(t testing.TB) *template.Template {
	t.Helper()
	tmpl, err := template.FromGlobs(nil)
	if err != nil {
		t.Fatal(err)
	}
	if tmpl.ExternalURL, err = url.Parse("http://monitor.example.com"); err != nil {
		t.Fatal(err)
	}
	return tmpl
}

// Context is the context of the first notification of a HostHighCPU group
// of the receiver "oncall", flushed at now.
func Context(now time.Time) context.Context {
	ctx := notify.WithGroupKey(context.Background(), `{}:{alertname="HostHighCPU"}`)
	ctx = notify.WithReceiverName(ctx, "oncall")
	ctx = notify.WithGroupLabels(ctx, model.LabelSet{"alertname": "HostHighCPU"})
	ctx = notify.WithNotificationReason(ctx, notify.ReasonFirstNotification)
	return notify.WithNow(ctx, now)
}

// Firing is a HostHighCPU alert of instance, firing for 10 minutes.
func Firing(instance, summary string) *alert.Alert {
	return &alert.Alert{Alert: model.Alert{
		Labels:      model.LabelSet{"alertname": "HostHighCPU", "instance": model.LabelValue(instance)},
		Annotations: model.LabelSet{"summary": model.LabelValue(summary)},
		StartsAt:    time.Now().Add(-10 * time.Minute),
	}}
}
