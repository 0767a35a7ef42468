// Package incident turns the notifications of the embedded Alertmanager
// into incidents: a span of time during which the alerts of one alert
// group were firing, with a timeline (alerts firing and resolving,
// notifications sent or failed, acknowledgements, notes, changes), who
// acknowledged and resolved it, and the times from which MTTA and MTTR are
// computed.
//
// The Alertmanager side calls Observe at every flush of an alert group,
// after silences, inhibitions and maintenance windows removed muted
// alerts, and Notified after every notification attempt. Observe opens an
// incident when a group has a firing alert and no unresolved incident,
// joins the unresolved one otherwise, and resolves it by itself ("auto")
// once every alert of it resolved. It is idempotent: the same group
// flushed again adds nothing. People acknowledge, annotate, change,
// resolve and reopen incidents through the HTTP API or, for
// acknowledgement, through a signed link sent in notifications
// (Ref.AckURL).
//
// Incidents are kept in the state store (tables incidents,
// incident_alerts, incident_events and incident_settings). Every change is
// published as an event of kind "incident" when Options.Events is set.
package incident

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/saypro/monitor/internal/state"
)

// Statuses of an incident.
const (
	StatusOpen         = "open"
	StatusAcknowledged = "acknowledged"
	StatusResolved     = "resolved"
)

// Severities, highest first.
const (
	SeverityCritical = "critical"
	SeverityWarning  = "warning"
	SeverityInfo     = "info"
)

// Actions name what changed, both as the kind of a timeline entry and as
// the "action" of a published event.
const (
	ActionOpened        = "opened"
	ActionAlertFiring   = "alert_firing"
	ActionAlertResolved = "alert_resolved"
	ActionNotified      = "notified"
	ActionAcknowledged  = "acknowledged"
	ActionNote          = "note"
	ActionUpdated       = "updated"
	ActionResolved      = "resolved"
	ActionReopened      = "reopened"
)

// Actors recorded by the package itself.
const (
	// ActorAuto resolves incidents whose alerts all resolved.
	ActorAuto = "auto"
	// ActorAlertmanager records alerts and notifications.
	ActorAlertmanager = "alertmanager"
	// ActorLink acknowledges through an ack link without a name.
	ActorLink = "link"
)

// EventKind is the kind of the events the Manager publishes.
const EventKind = "incident"

// Limits of what people may write.
const (
	maxActor    = 100
	maxTitle    = 300
	maxText     = 10000
	ackSecretID = "ack_link_secret"
)

// Errors returned by the Manager; test with errors.Is.
var (
	// ErrNotFound means there is no incident with the id.
	ErrNotFound = errors.New("incident not found")
	// ErrInvalidTransition means the incident's status does not allow the
	// action, such as acknowledging a resolved incident.
	ErrInvalidTransition = errors.New("invalid transition")
	// ErrInvalid means bad input, such as an unknown severity or an empty
	// note.
	ErrInvalid = errors.New("invalid input")
)

// Publisher receives the Manager's events; *events.Broker is one.
type Publisher interface {
	Publish(kind string, data any)
}

// Options configure New.
type Options struct {
	// DB is the state store; required.
	DB *state.DB
	// Logger is required.
	Logger *slog.Logger
	// Registerer receives the metrics; required.
	Registerer prometheus.Registerer
	// ExternalURL returns the base URL of links, such as
	// http://monitor.example.com:9900; nil or "" gives links without
	// scheme and host.
	ExternalURL func() string
	// Events receives a change event for every change; may be nil.
	Events Publisher
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Actor names the logged-in caller of an API request; when it returns
	// a name, that name is recorded on acks, notes and changes instead of
	// the body's "by". Nil keeps "by".
	Actor func(*http.Request) string
}

// Manager keeps the incidents. It is safe for concurrent use.
type Manager struct {
	db          *state.DB
	logger      *slog.Logger
	externalURL func() string
	events      Publisher
	now         func() time.Time
	actor       func(*http.Request) string
	// secret signs ack links; it is created once and kept in the store.
	secret []byte

	opened   prometheus.Counter
	resolved *prometheus.CounterVec
}

// Group is one flush of an Alertmanager alert group, after muted alerts
// were removed.
type Group struct {
	// Key is the aggregation group's key; an incident belongs to one.
	Key string
	// Receiver is the receiver the group notifies.
	Receiver string
	// Labels are the group's labels (those of its group_by).
	Labels map[string]string
	// Alerts are the group's alerts, firing and resolved.
	Alerts []Alert
}

// Alert is one alert of a Group.
type Alert struct {
	Fingerprint string
	Labels      map[string]string
	Annotations map[string]string
	StartsAt    time.Time
	EndsAt      time.Time
	Resolved    bool
}

// Ref points notifications at an incident. The zero Ref means there is
// no incident to refer to.
type Ref struct {
	ID int64
	// URL is the incident's page.
	URL string
	// AckURL acknowledges it from a browser without logging in; it is
	// signed for this incident only.
	AckURL string
}

// Notification is the outcome of one notification attempt of one receiver
// integration for a group.
type Notification struct {
	GroupKey    string
	Receiver    string
	Integration string // such as "slack[0]"
	Firing      int
	Resolved    int
	// Err is nil when the notification was sent.
	Err error
	// Retry tells, with Err, whether it will be attempted again.
	Retry bool
}

// Incident is an incident as the API shows it. Alerts and Timeline are
// set by Get only.
type Incident struct {
	ID             int64             `json:"id"`
	Title          string            `json:"title"`
	Status         string            `json:"status"`
	Severity       string            `json:"severity"`
	Service        string            `json:"service"`
	Host           string            `json:"host"`
	GroupKey       string            `json:"group_key"`
	Receiver       string            `json:"receiver"`
	GroupLabels    map[string]string `json:"group_labels"`
	RootCause      string            `json:"root_cause"`
	OpenedAt       time.Time         `json:"opened_at"`
	AcknowledgedAt *time.Time        `json:"acknowledged_at"`
	AcknowledgedBy string            `json:"acknowledged_by"`
	ResolvedAt     *time.Time        `json:"resolved_at"`
	ResolvedBy     string            `json:"resolved_by"`
	UpdatedAt      time.Time         `json:"updated_at"`
	// MTTASeconds is the time from opening to the first acknowledgement;
	// nil until acknowledged.
	MTTASeconds *float64 `json:"mtta_seconds"`
	// MTTRSeconds is the time from opening to resolution; nil while
	// unresolved.
	MTTRSeconds *float64     `json:"mttr_seconds"`
	URL         string       `json:"url"`
	Alerts      []AlertState `json:"alerts,omitzero"`
	Timeline    []Entry      `json:"timeline,omitzero"`
}

// AlertState is an alert of an incident as last seen.
type AlertState struct {
	Fingerprint string            `json:"fingerprint"`
	State       string            `json:"state"` // firing or resolved
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	StartsAt    time.Time         `json:"starts_at"`
	EndsAt      *time.Time        `json:"ends_at"`
}

// Entry is one line of an incident's timeline.
type Entry struct {
	ID      int64     `json:"id"`
	Time    time.Time `json:"time"`
	Kind    string    `json:"kind"` // one of the Action constants
	Actor   string    `json:"actor"`
	Message string    `json:"message"`
	Detail  any       `json:"detail,omitempty"`
}

// Patch changes an incident's fields; nil fields are left alone.
type Patch struct {
	Severity  *string
	RootCause *string
	Title     *string
}

// Filter selects incidents for List. Empty fields select all.
type Filter struct {
	// Status is a status or a comma-separated list of them.
	Status   string
	Severity string
	Service  string
	Host     string
	GroupKey string
	// From and To bound the opening time: From <= opened < To.
	From, To time.Time
	// Limit is 100 when 0, and at most 1000.
	Limit  int
	Offset int
}

// Stat sums the incidents of one key of Stats.
type Stat struct {
	Key          string `json:"key"`
	Incidents    int    `json:"incidents"`
	Acknowledged int    `json:"acknowledged"`
	Resolved     int    `json:"resolved"`
	// MTTASeconds is the mean over the acknowledged incidents, 0 if none.
	MTTASeconds float64 `json:"mtta_seconds"`
	// MTTRSeconds is the mean over the resolved incidents, 0 if none.
	MTTRSeconds float64 `json:"mttr_seconds"`
}

// Defaults and bounds of List.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// New returns a Manager, creating the ack link secret on first use.
func New(ctx context.Context, o Options) (*Manager, error) {
	switch {
	case o.DB == nil:
		return nil, errors.New("incident: DB is required")
	case o.Logger == nil:
		return nil, errors.New("incident: Logger is required")
	case o.Registerer == nil:
		return nil, errors.New("incident: Registerer is required")
	}
	m := &Manager{
		db:          o.DB,
		logger:      o.Logger,
		externalURL: o.ExternalURL,
		events:      o.Events,
		now:         o.Now,
		actor:       o.Actor,
		opened: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "saypro_incidents_opened_total",
			Help: "Incidents opened.",
		}),
		resolved: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "saypro_incidents_resolved_total",
			Help: "Incidents resolved, by=auto when all their alerts resolved, by=manual when a person resolved them.",
		}, []string{"by"}),
	}
	if m.now == nil {
		m.now = time.Now
	}
	m.resolved.WithLabelValues("auto")
	m.resolved.WithLabelValues("manual")
	secret, err := loadSecret(ctx, o.DB)
	if err != nil {
		return nil, fmt.Errorf("incident: the ack link secret: %w", err)
	}
	m.secret = secret
	for _, c := range []prometheus.Collector{m.opened, m.resolved, openCollector{m}} {
		if err := o.Registerer.Register(c); err != nil {
			return nil, fmt.Errorf("incident: registering metrics: %w", err)
		}
	}
	return m, nil
}

// loadSecret returns the ack link secret, creating it if missing. Two
// servers starting at once on one database agree on the first one stored.
func loadSecret(ctx context.Context, db *state.DB) ([]byte, error) {
	var hexed string
	err := db.WriteTx(ctx, func(tx *sql.Tx) error {
		var b [32]byte
		if _, err := rand.Read(b[:]); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO incident_settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
			ackSecretID, hex.EncodeToString(b[:])); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, "SELECT value FROM incident_settings WHERE name = $1", ackSecretID).Scan(&hexed)
	})
	if err != nil {
		return nil, err
	}
	secret, err := hex.DecodeString(hexed)
	if err != nil || len(secret) < 16 {
		return nil, fmt.Errorf("the stored secret %s in table incident_settings is not valid hex of 16 bytes or more; delete the row to have a new one made (existing ack links stop working)", ackSecretID)
	}
	return secret, nil
}

// openCollector reports saypro_incidents_open from the store at each
// scrape, so that it stays right when several servers share it.
type openCollector struct{ m *Manager }

var openDesc = prometheus.NewDesc("saypro_incidents_open", "Unresolved (open or acknowledged) incidents, by severity.", []string{"severity"}, nil)

func (c openCollector) Describe(ch chan<- *prometheus.Desc) { ch <- openDesc }

func (c openCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	counts := map[string]int{SeverityCritical: 0, SeverityWarning: 0, SeverityInfo: 0}
	rows, err := c.m.db.SQL().QueryContext(ctx, "SELECT severity, COUNT(*) FROM incidents WHERE status <> 'resolved' GROUP BY severity")
	if err == nil {
		for rows.Next() {
			var (
				sev string
				n   int
			)
			if err = rows.Scan(&sev, &n); err != nil {
				break
			}
			counts[sev] = n
		}
		rows.Close()
		if err == nil {
			err = rows.Err()
		}
	}
	if err != nil {
		ch <- prometheus.NewInvalidMetric(openDesc, fmt.Errorf("counting open incidents: %w", err))
		return
	}
	for sev, n := range counts {
		ch <- prometheus.MustNewConstMetric(openDesc, prometheus.GaugeValue, float64(n), sev)
	}
}

// baseURL is ExternalURL without a trailing slash.
func (m *Manager) baseURL() string {
	if m.externalURL == nil {
		return ""
	}
	return strings.TrimRight(m.externalURL(), "/")
}

// ref returns the links of incident id.
func (m *Manager) ref(id int64) Ref {
	if id == 0 {
		return Ref{}
	}
	u := m.baseURL() + "/incidents/" + strconv.FormatInt(id, 10)
	return Ref{ID: id, URL: u, AckURL: u + "/ack?token=" + m.token(id)}
}

// publish sends an event for each action on incident id, read after the
// change committed.
func (m *Manager) publish(ctx context.Context, id int64, actions ...change) {
	if m.events == nil || len(actions) == 0 {
		return
	}
	inc, err := m.load(ctx, m.db.SQL(), id)
	if err != nil {
		m.logger.Warn("reading an incident to publish its change", "incident", id, "err", err)
		return
	}
	for _, a := range actions {
		m.events.Publish(EventKind, struct {
			Action   string   `json:"action"`
			Message  string   `json:"message,omitempty"`
			Incident Incident `json:"incident"`
		}{a.action, a.message, inc})
	}
}

// change is one timeline entry written by a transaction, to be published.
type change struct{ action, message string }

// actor cleans a person's name.
func actor(by string) string {
	by = strings.Join(strings.Fields(by), " ")
	if by == "" {
		return "unknown"
	}
	if len(by) > maxActor {
		by = truncate(by, maxActor)
	}
	return by
}

// truncate cuts s to at most n bytes on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

var severityRank = map[string]int{SeverityCritical: 3, SeverityWarning: 2, SeverityInfo: 1}

func validSeverity(s string) bool { return severityRank[s] > 0 }

var statusKnown = map[string]bool{StatusOpen: true, StatusAcknowledged: true, StatusResolved: true}

func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMs(v int64) time.Time { return time.UnixMilli(v).UTC() }
