package alertmanager

import (
	"fmt"
	"log/slog"

	"github.com/prometheus/alertmanager/notify"
	"github.com/prometheus/alertmanager/template"

	"github.com/saypro/monitor/internal/alertmanager/forward"
	"github.com/saypro/monitor/internal/alertmanager/smsgateway"
	"github.com/saypro/monitor/internal/alertmanager/twilio"
	"github.com/saypro/monitor/internal/config/notifyconfig"
)

// notifier is what the receivers SayPro adds implement.
type notifier interface {
	notify.Notifier
	notify.ResolvedSender
}

// buildExtensions returns the integrations of SayPro's receiver types in
// one receiver, named and numbered like Alertmanager's own ("twilio[0]").
func buildExtensions(receiver string, e notifyconfig.Extensions, tmpl *template.Template, logger *slog.Logger) ([]notify.Integration, error) {
	var out []notify.Integration
	add := func(name string, i int, n notifier, err error) error {
		if err != nil {
			return fmt.Errorf("%s[%d]: %w", name, i, err)
		}
		out = append(out, notify.NewIntegration(n, n, name, i, receiver))
		return nil
	}
	for i, c := range e.Twilio {
		n, err := twilio.New(c, tmpl, logger.With("integration", "twilio", "receiver", receiver))
		if err := add("twilio", i, n, err); err != nil {
			return nil, err
		}
	}
	for i, c := range e.SMS {
		n, err := smsgateway.New(c, tmpl, logger.With("integration", "sms", "receiver", receiver))
		if err := add("sms", i, n, err); err != nil {
			return nil, err
		}
	}
	for i, c := range e.Forward {
		n, err := forward.New(c, tmpl, logger.With("integration", "alertmanager", "receiver", receiver))
		if err := add("alertmanager", i, n, err); err != nil {
			return nil, err
		}
	}
	return out, nil
}
