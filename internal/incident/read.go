package incident

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// querier is what reads need of *sql.DB and *sql.Tx.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

const incidentColumns = `id, group_key, receiver, title, service, host, severity, status, opened_ms, acknowledged_ms,
acknowledged_by, resolved_ms, resolved_by, root_cause, group_labels, updated_ms`

// scanner is *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

func (m *Manager) scanIncident(s scanner) (Incident, error) {
	var (
		inc             Incident
		opened, updated int64
		acked, resolved sql.NullInt64
		labels          string
	)
	if err := s.Scan(&inc.ID, &inc.GroupKey, &inc.Receiver, &inc.Title, &inc.Service, &inc.Host, &inc.Severity, &inc.Status,
		&opened, &acked, &inc.AcknowledgedBy, &resolved, &inc.ResolvedBy, &inc.RootCause, &labels, &updated); err != nil {
		return Incident{}, err
	}
	inc.OpenedAt, inc.UpdatedAt = fromMs(opened), fromMs(updated)
	if acked.Valid {
		t := fromMs(acked.Int64)
		inc.AcknowledgedAt = &t
		inc.MTTASeconds = new(float64(acked.Int64-opened) / 1000)
	}
	if resolved.Valid {
		t := fromMs(resolved.Int64)
		inc.ResolvedAt = &t
		inc.MTTRSeconds = new(float64(resolved.Int64-opened) / 1000)
	}
	inc.GroupLabels = map[string]string{}
	_ = json.Unmarshal([]byte(labels), &inc.GroupLabels)
	inc.URL = m.ref(inc.ID).URL
	return inc, nil
}

// load reads one incident without its alerts and timeline.
func (m *Manager) load(ctx context.Context, q querier, id int64) (Incident, error) {
	inc, err := m.scanIncident(q.QueryRowContext(ctx, "SELECT "+incidentColumns+" FROM incidents WHERE id = $1", id))
	if errors.Is(err, sql.ErrNoRows) {
		return Incident{}, notFound(id)
	}
	return inc, err
}

// Get returns an incident with its alerts and timeline, oldest entry
// first.
func (m *Manager) Get(ctx context.Context, id int64) (Incident, error) {
	db := m.db.SQL()
	inc, err := m.load(ctx, db, id)
	if err != nil {
		return Incident{}, err
	}
	inc.Alerts, err = m.alerts(ctx, db, id)
	if err != nil {
		return Incident{}, fmt.Errorf("reading the alerts of incident %d: %w", id, err)
	}
	inc.Timeline, err = m.timeline(ctx, db, id)
	if err != nil {
		return Incident{}, fmt.Errorf("reading the timeline of incident %d: %w", id, err)
	}
	return inc, nil
}

func (m *Manager) alerts(ctx context.Context, q querier, id int64) ([]AlertState, error) {
	rows, err := q.QueryContext(ctx, `SELECT fingerprint, state, labels, annotations, starts_ms, ends_ms FROM incident_alerts
WHERE incident_id = $1 ORDER BY starts_ms, fingerprint`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []AlertState{}
	for rows.Next() {
		var (
			a                   AlertState
			labels, annotations string
			starts              int64
			ends                sql.NullInt64
		)
		if err := rows.Scan(&a.Fingerprint, &a.State, &labels, &annotations, &starts, &ends); err != nil {
			return nil, err
		}
		a.Labels, a.Annotations = map[string]string{}, map[string]string{}
		_ = json.Unmarshal([]byte(labels), &a.Labels)
		_ = json.Unmarshal([]byte(annotations), &a.Annotations)
		a.StartsAt = fromMs(starts)
		if ends.Valid {
			a.EndsAt = new(fromMs(ends.Int64))
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

func (m *Manager) timeline(ctx context.Context, q querier, id int64) ([]Entry, error) {
	rows, err := q.QueryContext(ctx, "SELECT id, time_ms, kind, actor, message, detail FROM incident_events WHERE incident_id = $1 ORDER BY time_ms, id", id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Entry{}
	for rows.Next() {
		var (
			e      Entry
			t      int64
			detail string
		)
		if err := rows.Scan(&e.ID, &t, &e.Kind, &e.Actor, &e.Message, &detail); err != nil {
			return nil, err
		}
		e.Time = fromMs(t)
		if detail != "" && detail != "{}" {
			e.Detail = json.RawMessage(detail)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// where builds the WHERE clause of f, with $ placeholders from 1.
func (f Filter) where() (string, []any, error) {
	var (
		conds []string
		args  []any
	)
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if f.Status != "" {
		var ph []string
		for s := range strings.SplitSeq(f.Status, ",") {
			s = strings.TrimSpace(s)
			if !statusKnown[s] {
				return "", nil, fmt.Errorf("%w: unknown status %q: use open, acknowledged or resolved, or several separated by commas", ErrInvalid, s)
			}
			ph = append(ph, arg(s))
		}
		conds = append(conds, "status IN ("+strings.Join(ph, ", ")+")")
	}
	if f.Severity != "" {
		if !validSeverity(f.Severity) {
			return "", nil, fmt.Errorf("%w: unknown severity %q: use critical, warning or info", ErrInvalid, f.Severity)
		}
		conds = append(conds, "severity = "+arg(f.Severity))
	}
	for _, c := range []struct{ col, v string }{{"service", f.Service}, {"host", f.Host}, {"group_key", f.GroupKey}} {
		if c.v != "" {
			conds = append(conds, c.col+" = "+arg(c.v))
		}
	}
	if !f.From.IsZero() {
		conds = append(conds, "opened_ms >= "+arg(ms(f.From)))
	}
	if !f.To.IsZero() {
		conds = append(conds, "opened_ms < "+arg(ms(f.To)))
	}
	if len(conds) == 0 {
		return "", args, nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args, nil
}

// List returns the incidents f selects, newest first, without alerts and
// timeline, and how many f selects in all.
func (m *Manager) List(ctx context.Context, f Filter) ([]Incident, int, error) {
	where, args, err := f.where()
	if err != nil {
		return nil, 0, err
	}
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	limit = min(limit, MaxLimit)
	offset := max(f.Offset, 0)
	db := m.db.SQL()
	var total int
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM incidents"+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("counting incidents: %w", err)
	}
	n := len(args)
	q := fmt.Sprintf("SELECT %s FROM incidents%s ORDER BY opened_ms DESC, id DESC LIMIT $%d OFFSET $%d", incidentColumns, where, n+1, n+2)
	rows, err := db.QueryContext(ctx, q, append(args, limit, offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("listing incidents: %w", err)
	}
	defer rows.Close()
	out := []Incident{}
	for rows.Next() {
		inc, err := m.scanIncident(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("listing incidents: %w", err)
		}
		out = append(out, inc)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("listing incidents: %w", err)
	}
	return out, total, nil
}

// StatsBy are the groupings Stats accepts.
var StatsBy = []string{"service", "host", "month", "severity"}

// Stats counts the incidents opened in [from, to) (a zero bound is open)
// per service, host, severity or month of opening ("2026-11", UTC), with
// their mean time to acknowledge and to resolve, sorted by key.
func (m *Manager) Stats(ctx context.Context, by string, from, to time.Time) ([]Stat, error) {
	if !slices.Contains(StatsBy, by) {
		return nil, fmt.Errorf("%w: cannot group statistics by %q: use service, host, month or severity", ErrInvalid, by)
	}
	f := Filter{From: from, To: to}
	where, args, err := f.where()
	if err != nil {
		return nil, err
	}
	rows, err := m.db.SQL().QueryContext(ctx, "SELECT service, host, severity, opened_ms, acknowledged_ms, resolved_ms FROM incidents"+where, args...)
	if err != nil {
		return nil, fmt.Errorf("reading incidents for statistics: %w", err)
	}
	defer rows.Close()
	type sums struct {
		Stat
		ackSum, resSum float64
	}
	by2 := map[string]*sums{}
	for rows.Next() {
		var (
			service, host, sev string
			opened             int64
			acked, resolved    sql.NullInt64
		)
		if err := rows.Scan(&service, &host, &sev, &opened, &acked, &resolved); err != nil {
			return nil, err
		}
		var key string
		switch by {
		case "service":
			key = service
		case "host":
			key = host
		case "severity":
			key = sev
		case "month":
			key = fromMs(opened).Format("2006-01")
		}
		s := by2[key]
		if s == nil {
			s = &sums{Stat: Stat{Key: key}}
			by2[key] = s
		}
		s.Incidents++
		if acked.Valid {
			s.Acknowledged++
			s.ackSum += float64(acked.Int64-opened) / 1000
		}
		if resolved.Valid {
			s.Resolved++
			s.resSum += float64(resolved.Int64-opened) / 1000
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]Stat, 0, len(by2))
	for _, k := range slices.Sorted(maps.Keys(by2)) {
		s := by2[k]
		if s.Acknowledged > 0 {
			s.MTTASeconds = s.ackSum / float64(s.Acknowledged)
		}
		if s.Resolved > 0 {
			s.MTTRSeconds = s.resSum / float64(s.Resolved)
		}
		out = append(out, s.Stat)
	}
	if by == "severity" {
		slices.SortStableFunc(out, func(a, b Stat) int { return cmp.Compare(severityRank[b.Key], severityRank[a.Key]) })
	}
	return out, nil
}
