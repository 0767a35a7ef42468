package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	amconfig "github.com/prometheus/alertmanager/config"
	"github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v2"

	"github.com/saypro/monitor/internal/config/notifyconfig"
	"github.com/saypro/monitor/internal/config/yamlconf"
)

// DefaultAlertmanager is the alertmanager: section when the file has none.
var DefaultAlertmanager = AlertmanagerConfig{
	Retention:       model.Duration(120 * time.Hour),
	SilenceReminder: SilenceReminderConfig{Before: model.Duration(time.Hour)},
}

// DefaultAlertmanagerYAML is the Alertmanager configuration used when the
// alertmanager: section names none: every alert goes to one receiver with
// no integrations, grouped per alert name and instance, so that alerts
// open incidents and show in the API but nothing is sent anywhere until a
// receiver is configured.
const DefaultAlertmanagerYAML = `route:
  receiver: default
  group_by: [alertname, instance]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 4h
receivers:
  - name: default
`

// AlertmanagerConfig is the alertmanager: section: the embedded
// Alertmanager's own configuration, in Alertmanager's YAML format (inline
// under config: or in the file config_file: names), plus what SayPro adds
// to it.
type AlertmanagerConfig struct {
	// Config is Alertmanager's configuration written inline.
	Config yaml.MapSlice `yaml:"config,omitempty"`
	// ConfigFile is the path of an Alertmanager configuration file,
	// relative to this file's directory.
	ConfigFile string `yaml:"config_file,omitempty"`
	// Retention is how long the notification log and expired silences
	// are kept.
	Retention model.Duration `yaml:"retention"`
	// MaintenanceWindows mute matching alerts on a recurring schedule.
	MaintenanceWindows []MaintenanceWindow `yaml:"maintenance_windows,omitempty"`
	// SilenceReminder raises an alert before a silence expires.
	SilenceReminder SilenceReminderConfig `yaml:"silence_reminder"`

	// Parsed is the Alertmanager configuration, without SayPro's receiver
	// keys.
	Parsed *amconfig.Config `yaml:"-"`
	// Original is the text Alertmanager parsed, for /api/v2/status.
	Original string `yaml:"-"`
	// Extensions holds SayPro's receiver types (twilio_configs,
	// sms_configs, alertmanager_configs) by receiver name.
	Extensions map[string]notifyconfig.Extensions `yaml:"-"`
	// Source names where the Alertmanager configuration came from, for
	// errors and logs.
	Source string `yaml:"-"`
}

// SilenceReminderConfig configures the reminder raised before a silence
// ends.
type SilenceReminderConfig struct {
	// Before is how long before a silence ends its reminder fires; 0
	// turns reminders off.
	Before model.Duration `yaml:"before"`
	// MinDuration skips silences shorter than this, which need no
	// reminder (a 30-minute silence for a deploy).
	MinDuration model.Duration `yaml:"min_duration"`
}

// MaintenanceWindow mutes the alerts its matchers select during each
// occurrence of its schedule: every day, some weekdays, or some days of
// each month, from Start for Duration.
type MaintenanceWindow struct {
	Name string `yaml:"name"`
	// Matchers select the alerts, in Alertmanager's matcher syntax
	// (instance=~"db-.*"). All must match.
	Matchers []string `yaml:"matchers"`
	// Every is day, week or month.
	Every string `yaml:"every"`
	// Weekdays, for every: week (monday … sunday).
	Weekdays []string `yaml:"weekdays,omitempty"`
	// DaysOfMonth, for every: month: 1 … 31, or -1 for the last day, -2
	// for the one before.
	DaysOfMonth []int `yaml:"days_of_month,omitempty"`
	// Start is the local time of day a window opens, HH:MM.
	Start string `yaml:"start"`
	// Duration is how long it stays open.
	Duration model.Duration `yaml:"duration"`
	// TimeZone is an IANA zone name; the server's local zone if empty.
	TimeZone string `yaml:"time_zone,omitempty"`
	// Comment is shown on the silences the window creates.
	Comment string `yaml:"comment,omitempty"`

	// Parsed values.
	StartOffset time.Duration   `yaml:"-"`
	Location    *time.Location  `yaml:"-"`
	Days        []time.Weekday  `yaml:"-"`
	Selectors   labels.Matchers `yaml:"-"`
}

// UnmarshalYAML applies the defaults.
func (c *AlertmanagerConfig) UnmarshalYAML(unmarshal func(any) error) error {
	*c = DefaultAlertmanager
	type plain AlertmanagerConfig
	return unmarshal((*plain)(c))
}

// validate checks the section's own keys; load parses Alertmanager's.
func (c *AlertmanagerConfig) validate() []error {
	var errs []error
	if c.Config != nil && c.ConfigFile != "" {
		errs = append(errs, yamlconf.Field("config and config_file are mutually exclusive: write the Alertmanager configuration inline or name its file", "alertmanager", "config_file"))
	}
	if c.Retention < model.Duration(time.Hour) {
		errs = append(errs, yamlconf.Field("must be at least 1h", "alertmanager", "retention"))
	}
	if c.SilenceReminder.Before < 0 {
		errs = append(errs, yamlconf.Field("must not be negative (0 turns reminders off)", "alertmanager", "silence_reminder", "before"))
	}
	seen := map[string]bool{}
	for i := range c.MaintenanceWindows {
		w := &c.MaintenanceWindows[i]
		if w.Name != "" && seen[w.Name] {
			errs = append(errs, yamlconf.Field(fmt.Sprintf("maintenance window %q is defined twice", w.Name), "alertmanager", "maintenance_windows", yamlconf.ItemAt(i), "name"))
		}
		seen[w.Name] = true
		errs = append(errs, w.validate(i)...)
	}
	return errs
}

var weekdays = map[string]time.Weekday{
	"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday, "wednesday": time.Wednesday,
	"thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday,
}

func (w *MaintenanceWindow) validate(i int) []error {
	var errs []error
	field := func(msg string, path ...string) {
		what := "maintenance window"
		if w.Name != "" {
			what += fmt.Sprintf(" %q", w.Name)
		}
		errs = append(errs, yamlconf.Field(what+": "+msg, append([]string{"alertmanager", "maintenance_windows", yamlconf.ItemAt(i)}, path...)...))
	}
	if w.Name == "" {
		field("needs a name", "name")
	}
	if len(w.Matchers) == 0 {
		field(`needs matchers that select its alerts, such as instance=~"db-.*"`, "matchers")
	}
	w.Selectors = nil
	for _, m := range w.Matchers {
		ms, err := labels.ParseMatchers(m)
		if err != nil {
			field(fmt.Sprintf("matcher %q: %v", m, err), "matchers")
			continue
		}
		w.Selectors = append(w.Selectors, ms...)
	}
	switch w.Every {
	case "day":
		if len(w.Weekdays) > 0 || len(w.DaysOfMonth) > 0 {
			field("every: day takes neither weekdays nor days_of_month", "every")
		}
	case "week":
		if len(w.Weekdays) == 0 {
			field("every: week needs weekdays, such as [saturday, sunday]", "weekdays")
		}
		if len(w.DaysOfMonth) > 0 {
			field("every: week takes weekdays, not days_of_month", "days_of_month")
		}
	case "month":
		if len(w.DaysOfMonth) == 0 {
			field("every: month needs days_of_month, such as [1] or [-1] for the last day", "days_of_month")
		}
		if len(w.Weekdays) > 0 {
			field("every: month takes days_of_month, not weekdays", "weekdays")
		}
	default:
		field(fmt.Sprintf("every %q: use day, week or month", w.Every), "every")
	}
	w.Days = nil
	for _, d := range w.Weekdays {
		wd, ok := weekdays[strings.ToLower(d)]
		if !ok {
			field(fmt.Sprintf("unknown weekday %q", d), "weekdays")
			continue
		}
		w.Days = append(w.Days, wd)
	}
	for _, d := range w.DaysOfMonth {
		if d == 0 || d < -31 || d > 31 {
			field(fmt.Sprintf("day of month %d: use 1 to 31, or -1 to -31 counting from the end", d), "days_of_month")
		}
	}
	off, err := parseClock(w.Start)
	if err != nil {
		field(err.Error(), "start")
	}
	w.StartOffset = off
	if w.Duration <= 0 {
		field("needs a positive duration, such as 2h", "duration")
	} else if w.Every == "day" && time.Duration(w.Duration) > 24*time.Hour || time.Duration(w.Duration) > 31*24*time.Hour {
		field("duration is longer than the period between its occurrences", "duration")
	}
	w.Location = time.Local
	if w.TimeZone != "" {
		loc, err := time.LoadLocation(w.TimeZone)
		if err != nil {
			field(fmt.Sprintf("unknown time zone %q (use an IANA name such as Africa/Johannesburg)", w.TimeZone), "time_zone")
		} else {
			w.Location = loc
		}
	}
	return errs
}

// parseClock parses HH:MM into the offset from midnight.
func parseClock(s string) (time.Duration, error) {
	h, m, ok := strings.Cut(s, ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || hh < 0 || hh > 23 || mm < 0 || mm > 59 {
		return 0, fmt.Errorf("start %q: use a time of day such as 02:30", s)
	}
	return time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute, nil
}

// load reads and parses the Alertmanager configuration the section names
// (the built-in default when it names none). file is the server's
// configuration file, against whose directory config_file is resolved.
// Errors point at the config or config_file key.
func (c *AlertmanagerConfig) load(file string) error {
	err := c.read(file)
	if err == nil {
		return nil
	}
	switch {
	case c.ConfigFile != "":
		return yamlconf.Field(err.Error(), "alertmanager", "config_file")
	case c.Config != nil:
		return yamlconf.Field(err.Error(), "alertmanager", "config")
	}
	return err
}

func (c *AlertmanagerConfig) read(file string) error {
	var (
		text []byte
		dir  = "."
		err  error
	)
	if file != "" {
		dir = filepath.Dir(file)
	}
	switch {
	case c.ConfigFile != "":
		path := c.ConfigFile
		if !filepath.IsAbs(path) {
			path = filepath.Join(dir, path)
		}
		c.Source = path
		if text, err = os.ReadFile(path); err != nil {
			return err
		}
		dir = filepath.Dir(path)
	case c.Config != nil:
		c.Source = "alertmanager.config"
		if file != "" {
			c.Source = file + ": alertmanager.config"
		}
		if text, err = yaml.Marshal(c.Config); err != nil {
			return err
		}
	default:
		c.Source = "the built-in Alertmanager configuration"
		text = []byte(DefaultAlertmanagerYAML)
	}
	parsed, ext, original, err := ParseAlertmanager(text)
	if err != nil {
		if c.ConfigFile != "" {
			return fmt.Errorf("%s: %w", c.Source, err)
		}
		return err
	}
	for i, t := range parsed.Templates {
		if !filepath.IsAbs(t) {
			parsed.Templates[i] = filepath.Join(dir, t)
		}
	}
	c.Parsed, c.Extensions, c.Original = parsed, ext, original
	return nil
}

// extensionKeys are the receiver keys SayPro adds to Alertmanager's.
var extensionKeys = []string{notifyconfig.KeyTwilio, notifyconfig.KeySMS, notifyconfig.KeyForward}

// ParseAlertmanager parses an Alertmanager configuration that may carry
// SayPro's receiver types (twilio_configs, sms_configs,
// alertmanager_configs) in its receivers. They are taken out and returned
// by receiver name; Alertmanager parses the rest, which is also returned
// as text.
func ParseAlertmanager(text []byte) (*amconfig.Config, map[string]notifyconfig.Extensions, string, error) {
	var doc yaml.MapSlice
	if err := yaml.Unmarshal(text, &doc); err != nil {
		return nil, nil, "", err
	}
	ext := map[string]notifyconfig.Extensions{}
	stripped := false
	for i, item := range doc {
		if item.Key != "receivers" {
			continue
		}
		list, ok := item.Value.([]any)
		if !ok {
			break
		}
		for j, r := range list {
			rec, ok := r.(yaml.MapSlice)
			if !ok {
				continue
			}
			var name string
			var keep, mine yaml.MapSlice
			for _, kv := range rec {
				k, _ := kv.Key.(string)
				if k == "name" {
					name, _ = kv.Value.(string)
				}
				if slices.Contains(extensionKeys, k) {
					mine = append(mine, kv)
				} else {
					keep = append(keep, kv)
				}
			}
			if len(mine) == 0 {
				continue
			}
			stripped = true
			b, err := yaml.Marshal(mine)
			if err != nil {
				return nil, nil, "", err
			}
			var e notifyconfig.Extensions
			if err := yaml.UnmarshalStrict(b, &e); err != nil {
				return nil, nil, "", fmt.Errorf("receiver %q: %w", name, err)
			}
			ext[name] = e
			list[j] = keep
		}
		doc[i].Value = list
	}
	original := string(text)
	if stripped {
		b, err := yaml.Marshal(doc)
		if err != nil {
			return nil, nil, "", err
		}
		original = string(b)
	}
	parsed, err := amconfig.Load(original)
	if err != nil {
		if stripped {
			err = fmt.Errorf("%w (line numbers count from the configuration without twilio_configs, sms_configs and alertmanager_configs)", err)
		}
		return nil, nil, "", err
	}
	if parsed.Route == nil {
		return nil, nil, "", errors.New("no route: Alertmanager needs a top-level route with a receiver")
	}
	return parsed, ext, original, nil
}
