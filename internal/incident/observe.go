package incident

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Observe records one flush of an alert group and returns the incident
// the notification should point to. It runs in one transaction and, when
// nothing changed since the last flush, reads only.
//
//   - A firing alert and no unresolved incident of the group opens one,
//     unless every firing alert is one that an incident a person resolved
//     already holds (same fingerprint and start): a person's resolution is
//     not undone by the same alerts still firing.
//   - Otherwise the unresolved incident is joined: alerts newly firing
//     and newly resolved are recorded on its timeline.
//   - Once every alert of an unresolved incident resolved, it is resolved
//     by "auto".
func (m *Manager) Observe(ctx context.Context, g Group) (Ref, error) {
	if g.Key == "" {
		return Ref{}, fmt.Errorf("%w: an alert group without a key", ErrInvalid)
	}
	now := m.now()
	var res observed
	err := m.db.WriteTx(ctx, func(tx *sql.Tx) error {
		res = observed{} // WriteTx may run the transaction again
		return m.observe(ctx, tx, g, now, &res)
	})
	if err != nil {
		return Ref{}, fmt.Errorf("recording alert group %s: %w", g.Key, err)
	}
	if res.opened {
		m.opened.Inc()
	}
	if res.autoResolved {
		m.resolved.WithLabelValues("auto").Inc()
	}
	m.publish(ctx, res.id, res.changes...)
	return m.ref(res.id), nil
}

// observed is what a flush changed.
type observed struct {
	id           int64
	opened       bool
	autoResolved bool
	changes      []change
}

// incidentHead is what Observe reads of an incident.
type incidentHead struct {
	id         int64
	status     string
	resolvedBy string
	severity   string
}

// alertRow is an alert of an incident as stored.
type alertRow struct {
	state       string
	startsMs    int64
	labels      string
	annotations string
}

func (m *Manager) observe(ctx context.Context, tx *sql.Tx, g Group, now time.Time, res *observed) error {
	var (
		cur   incidentHead
		found = true
	)
	err := tx.QueryRowContext(ctx, "SELECT id, status, resolved_by, severity FROM incidents WHERE group_key = $1 ORDER BY id DESC LIMIT 1", g.Key).
		Scan(&cur.id, &cur.status, &cur.resolvedBy, &cur.severity)
	if errors.Is(err, sql.ErrNoRows) {
		found = false
	} else if err != nil {
		return err
	}
	alerts := dedupe(g.Alerts)
	var firing []Alert
	for _, a := range alerts {
		if !a.Resolved {
			firing = append(firing, a)
		}
	}

	if found && cur.status != StatusResolved {
		res.id = cur.id
		return m.sync(ctx, tx, cur, alerts, now, res)
	}
	if len(firing) == 0 {
		if !found {
			return nil // nothing fires and nothing to refer to
		}
		// Late resolutions of alerts of the last incident are recorded.
		res.id = cur.id
		return m.sync(ctx, tx, cur, alerts, now, res)
	}
	if found && cur.resolvedBy != ActorAuto {
		rows, err := loadAlertRows(ctx, tx, cur.id)
		if err != nil {
			return err
		}
		known := true
		for _, a := range firing {
			if r, ok := rows[a.Fingerprint]; !ok || r.startsMs != ms(a.StartsAt) {
				known = false
				break
			}
		}
		if known {
			res.id = cur.id
			return m.sync(ctx, tx, cur, alerts, now, res)
		}
	}

	// Open a new incident.
	labels := g.Labels
	if labels == nil {
		labels = map[string]string{}
	}
	common := commonLabels(firing)
	pick := func(names ...string) string {
		for _, set := range []map[string]string{labels, common} {
			for _, n := range names {
				if v := set[n]; v != "" {
					return v
				}
			}
		}
		return ""
	}
	head := incidentHead{status: StatusOpen, severity: highestSeverity(firing)}
	title := makeTitle(labels, firing)
	err = tx.QueryRowContext(ctx, `
INSERT INTO incidents (group_key, receiver, title, service, host, severity, status, opened_ms, group_labels, updated_ms)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $8) RETURNING id`,
		g.Key, g.Receiver, title, pick("service", "job"), pick("instance", "host"), head.severity, StatusOpen, ms(now), jsonText(labels)).
		Scan(&head.id)
	if err != nil {
		return err
	}
	res.id, res.opened = head.id, true
	msg := fmt.Sprintf("opened: %s (%s)", title, head.severity)
	if err := addEntry(ctx, tx, head.id, now, ActionOpened, ActorAlertmanager, msg, map[string]any{"group_key": g.Key, "receiver": g.Receiver}); err != nil {
		return err
	}
	res.changes = append(res.changes, change{ActionOpened, msg})
	return m.sync(ctx, tx, head, alerts, now, res)
}

// sync brings the alerts of incident inc up to the flush and resolves the
// incident when none fires any more. A resolved incident takes no new
// alerts; only the state of those it has is kept up to date.
func (m *Manager) sync(ctx context.Context, tx *sql.Tx, inc incidentHead, alerts []Alert, now time.Time, res *observed) error {
	rows, err := loadAlertRows(ctx, tx, inc.id)
	if err != nil {
		return err
	}
	unresolved := inc.status != StatusResolved
	escalate := ""
	touched := false
	for _, a := range alerts {
		r, have := rows[a.Fingerprint]
		labels, annotations := jsonText(a.Labels), jsonText(a.Annotations)
		switch {
		case !a.Resolved && (!have || r.state != "firing" || r.startsMs != ms(a.StartsAt)):
			if !unresolved {
				continue
			}
			if have {
				_, err = tx.ExecContext(ctx, `UPDATE incident_alerts SET state = 'firing', starts_ms = $3, ends_ms = NULL, labels = $4, annotations = $5
WHERE incident_id = $1 AND fingerprint = $2`, inc.id, a.Fingerprint, ms(a.StartsAt), labels, annotations)
			} else {
				_, err = tx.ExecContext(ctx, `INSERT INTO incident_alerts (incident_id, fingerprint, labels, annotations, starts_ms, state)
VALUES ($1, $2, $3, $4, $5, 'firing')`, inc.id, a.Fingerprint, labels, annotations, ms(a.StartsAt))
			}
			if err != nil {
				return err
			}
			msg := describe(a) + " firing"
			if have {
				msg += " again"
			}
			if err := addEntry(ctx, tx, inc.id, now, ActionAlertFiring, ActorAlertmanager, msg, alertDetail(a)); err != nil {
				return err
			}
			res.changes = append(res.changes, change{ActionAlertFiring, msg})
			rows[a.Fingerprint] = alertRow{state: "firing", startsMs: ms(a.StartsAt), labels: labels, annotations: annotations}
			if sev := severityOf(a); severityRank[sev] > severityRank[inc.severity] && severityRank[sev] > severityRank[escalate] {
				escalate = sev
			}
			touched = true
		case !a.Resolved:
			// Still firing: keep labels and annotations (a description
			// with the current value) up to date, without an entry.
			if r.labels != labels || r.annotations != annotations {
				if _, err := tx.ExecContext(ctx, "UPDATE incident_alerts SET labels = $3, annotations = $4 WHERE incident_id = $1 AND fingerprint = $2",
					inc.id, a.Fingerprint, labels, annotations); err != nil {
					return err
				}
			}
		case have && r.state == "firing":
			end := a.EndsAt
			if end.IsZero() || end.After(now) {
				end = now
			}
			if _, err := tx.ExecContext(ctx, "UPDATE incident_alerts SET state = 'resolved', ends_ms = $3, labels = $4, annotations = $5 WHERE incident_id = $1 AND fingerprint = $2",
				inc.id, a.Fingerprint, ms(end), labels, annotations); err != nil {
				return err
			}
			msg := describe(a) + " resolved"
			if err := addEntry(ctx, tx, inc.id, now, ActionAlertResolved, ActorAlertmanager, msg, alertDetail(a)); err != nil {
				return err
			}
			res.changes = append(res.changes, change{ActionAlertResolved, msg})
			r.state = "resolved"
			rows[a.Fingerprint] = r
			touched = true
		}
	}
	if !touched {
		return nil
	}
	if escalate != "" {
		if _, err := tx.ExecContext(ctx, "UPDATE incidents SET severity = $2 WHERE id = $1", inc.id, escalate); err != nil {
			return err
		}
		msg := fmt.Sprintf("severity %s → %s: a %s alert joined", inc.severity, escalate, escalate)
		if err := addEntry(ctx, tx, inc.id, now, ActionUpdated, ActorAlertmanager, msg, map[string]any{"severity": map[string]string{"from": inc.severity, "to": escalate}}); err != nil {
			return err
		}
		res.changes = append(res.changes, change{ActionUpdated, msg})
	}
	if _, err := tx.ExecContext(ctx, "UPDATE incidents SET updated_ms = $2 WHERE id = $1", inc.id, ms(now)); err != nil {
		return err
	}
	if !unresolved {
		return nil
	}
	for _, r := range rows {
		if r.state == "firing" {
			return nil
		}
	}
	if _, err := tx.ExecContext(ctx, "UPDATE incidents SET status = 'resolved', resolved_ms = $2, resolved_by = $3, updated_ms = $2 WHERE id = $1",
		inc.id, ms(now), ActorAuto); err != nil {
		return err
	}
	const msg = "resolved: every alert resolved"
	if err := addEntry(ctx, tx, inc.id, now, ActionResolved, ActorAuto, msg, nil); err != nil {
		return err
	}
	res.changes = append(res.changes, change{ActionResolved, msg})
	res.autoResolved = true
	return nil
}

// Notified records a notification attempt on the latest incident of the
// group. Without an incident it does nothing.
func (m *Manager) Notified(ctx context.Context, n Notification) error {
	now := m.now()
	where := n.Integration
	if n.Receiver != "" {
		where += " (receiver " + n.Receiver + ")"
	}
	var (
		msg    string
		detail = map[string]any{"receiver": n.Receiver, "integration": n.Integration, "firing": n.Firing, "resolved": n.Resolved}
	)
	if n.Err == nil {
		msg = "sent to " + where + ": " + counts(n.Firing, n.Resolved)
	} else {
		next := "gave up"
		if n.Retry {
			next = "will retry"
		}
		msg = fmt.Sprintf("sending to %s failed: %v, %s", where, n.Err, next)
		detail["error"], detail["retry"] = n.Err.Error(), n.Retry
	}
	var id int64
	err := m.db.WriteTx(ctx, func(tx *sql.Tx) error {
		id = 0
		err := tx.QueryRowContext(ctx, "SELECT id FROM incidents WHERE group_key = $1 ORDER BY id DESC LIMIT 1", n.GroupKey).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := addEntry(ctx, tx, id, now, ActionNotified, ActorAlertmanager, msg, detail); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, "UPDATE incidents SET updated_ms = $2 WHERE id = $1", id, ms(now))
		return err
	})
	if err != nil {
		return fmt.Errorf("recording a notification of alert group %s: %w", n.GroupKey, err)
	}
	if id != 0 {
		m.publish(ctx, id, change{ActionNotified, msg})
	}
	return nil
}

func counts(firing, resolved int) string {
	var parts []string
	if firing > 0 || resolved == 0 {
		parts = append(parts, fmt.Sprintf("%d firing", firing))
	}
	if resolved > 0 {
		parts = append(parts, fmt.Sprintf("%d resolved", resolved))
	}
	return strings.Join(parts, ", ")
}

func loadAlertRows(ctx context.Context, tx *sql.Tx, id int64) (map[string]alertRow, error) {
	rows, err := tx.QueryContext(ctx, "SELECT fingerprint, state, starts_ms, labels, annotations FROM incident_alerts WHERE incident_id = $1", id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]alertRow{}
	for rows.Next() {
		var (
			fp string
			r  alertRow
		)
		if err := rows.Scan(&fp, &r.state, &r.startsMs, &r.labels, &r.annotations); err != nil {
			return nil, err
		}
		out[fp] = r
	}
	return out, rows.Err()
}

// addEntry writes a timeline entry.
func addEntry(ctx context.Context, tx *sql.Tx, id int64, now time.Time, kind, actor, msg string, detail any) error {
	d := "{}"
	if detail != nil {
		b, err := json.Marshal(detail)
		if err != nil {
			return err
		}
		d = string(b)
	}
	_, err := tx.ExecContext(ctx, "INSERT INTO incident_events (incident_id, time_ms, kind, actor, message, detail) VALUES ($1, $2, $3, $4, $5, $6)",
		id, ms(now), kind, actor, msg, d)
	return err
}

// dedupe keeps the last alert of each fingerprint, in order of first
// appearance, so that a flush is applied in a stable order.
func dedupe(alerts []Alert) []Alert {
	idx := make(map[string]int, len(alerts))
	out := make([]Alert, 0, len(alerts))
	for _, a := range alerts {
		if a.Fingerprint == "" {
			a.Fingerprint = fingerprint(a.Labels)
		}
		if i, ok := idx[a.Fingerprint]; ok {
			out[i] = a
			continue
		}
		idx[a.Fingerprint] = len(out)
		out = append(out, a)
	}
	return out
}

// fingerprint stands in for a missing one: the sorted labels.
func fingerprint(labels map[string]string) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		b.WriteString(k + "=" + labels[k] + ";")
	}
	return b.String()
}

// jsonText encodes a label set for a TEXT column; keys come out sorted,
// so equal sets give equal text.
func jsonText(m map[string]string) string {
	if m == nil {
		return "{}"
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// commonLabels returns the labels with the same value on every alert.
func commonLabels(alerts []Alert) map[string]string {
	if len(alerts) == 0 {
		return map[string]string{}
	}
	out := maps.Clone(alerts[0].Labels)
	for _, a := range alerts[1:] {
		for k, v := range out {
			if a.Labels[k] != v {
				delete(out, k)
			}
		}
	}
	if out == nil {
		out = map[string]string{}
	}
	return out
}

// severityOf is the alert's severity label if it is a known one.
func severityOf(a Alert) string {
	s := strings.ToLower(strings.TrimSpace(a.Labels["severity"]))
	if validSeverity(s) {
		return s
	}
	return ""
}

// highestSeverity is the highest severity among the alerts, warning when
// none has a known one.
func highestSeverity(alerts []Alert) string {
	best := ""
	for _, a := range alerts {
		if s := severityOf(a); severityRank[s] > severityRank[best] {
			best = s
		}
	}
	if best == "" {
		return SeverityWarning
	}
	return best
}

// makeTitle names an incident by its alerts' names and its group's other
// labels, such as "HighCPU, DiskFull (instance=web-1, job=node)".
func makeTitle(groupLabels map[string]string, firing []Alert) string {
	seen := map[string]bool{}
	var names []string
	if n := groupLabels["alertname"]; n != "" {
		seen[n] = true
		names = append(names, n)
	}
	var more []string
	for _, a := range firing {
		if n := a.Labels["alertname"]; n != "" && !seen[n] {
			seen[n] = true
			more = append(more, n)
		}
	}
	slices.Sort(more)
	names = append(names, more...)
	title := "Alerts"
	switch {
	case len(names) > 3:
		title = strings.Join(names[:3], ", ") + fmt.Sprintf(" and %d more", len(names)-3)
	case len(names) > 0:
		title = strings.Join(names, ", ")
	}
	var sel []string
	for _, k := range slices.Sorted(maps.Keys(groupLabels)) {
		if k != "alertname" && groupLabels[k] != "" {
			sel = append(sel, k+"="+groupLabels[k])
		}
	}
	if len(sel) > 0 {
		title += " (" + strings.Join(sel, ", ") + ")"
	}
	return truncate(title, maxTitle)
}

// describe names an alert in a timeline entry: "HighCPU on web-1:
// CPU above 85 %".
func describe(a Alert) string {
	s := a.Labels["alertname"]
	if s == "" {
		s = "alert " + a.Fingerprint
	}
	if in := a.Labels["instance"]; in != "" {
		s += " on " + in
	}
	if sum := a.Annotations["summary"]; sum != "" {
		s += " (" + truncate(sum, 200) + ")"
	}
	return s
}

func alertDetail(a Alert) map[string]any {
	d := map[string]any{"fingerprint": a.Fingerprint, "labels": a.Labels, "starts_at": a.StartsAt.UTC()}
	if a.Resolved && !a.EndsAt.IsZero() {
		d["ends_at"] = a.EndsAt.UTC()
	}
	return d
}
