package incident

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Ack acknowledges an open incident. The first acknowledgement's time and
// person are kept: acknowledging a reopened incident again changes its
// status only.
func (m *Manager) Ack(ctx context.Context, id int64, by string) error {
	by = actor(by)
	msg := "acknowledged by " + by
	return m.act(ctx, id, func(tx *sql.Tx, now time.Time) ([]change, error) {
		res, err := tx.ExecContext(ctx, `
UPDATE incidents SET status = 'acknowledged',
  acknowledged_by = CASE WHEN acknowledged_ms IS NULL THEN $3 ELSE acknowledged_by END,
  acknowledged_ms = COALESCE(acknowledged_ms, $2), updated_ms = $2
WHERE id = $1 AND status = 'open'`, id, ms(now), by)
		if err := m.checkAffected(ctx, tx, res, err, id, "only open incidents can be acknowledged"); err != nil {
			return nil, err
		}
		return []change{{ActionAcknowledged, msg}}, addEntry(ctx, tx, id, now, ActionAcknowledged, by, msg, nil)
	})
}

// AddNote adds a note to the timeline of an incident of any status.
func (m *Manager) AddNote(ctx context.Context, id int64, by, text string) error {
	text = strings.TrimSpace(text)
	switch {
	case text == "":
		return fmt.Errorf("%w: the note is empty", ErrInvalid)
	case len(text) > maxText:
		return fmt.Errorf("%w: the note is %d bytes long, at most %d are kept", ErrInvalid, len(text), maxText)
	}
	by = actor(by)
	return m.act(ctx, id, func(tx *sql.Tx, now time.Time) ([]change, error) {
		res, err := tx.ExecContext(ctx, "UPDATE incidents SET updated_ms = $2 WHERE id = $1", id, ms(now))
		if err := m.checkAffected(ctx, tx, res, err, id, ""); err != nil {
			return nil, err
		}
		return []change{{ActionNote, text}}, addEntry(ctx, tx, id, now, ActionNote, by, text, nil)
	})
}

// Update changes an incident's severity, root cause or title. Nothing
// changed adds no entry.
func (m *Manager) Update(ctx context.Context, id int64, p Patch, by string) error {
	if p.Severity == nil && p.RootCause == nil && p.Title == nil {
		return fmt.Errorf("%w: nothing to change: give severity, root_cause or title", ErrInvalid)
	}
	var sev, title, cause string
	if p.Severity != nil {
		sev = strings.ToLower(strings.TrimSpace(*p.Severity))
		if !validSeverity(sev) {
			return fmt.Errorf("%w: unknown severity %q: use critical, warning or info", ErrInvalid, *p.Severity)
		}
	}
	if p.Title != nil {
		title = strings.Join(strings.Fields(*p.Title), " ")
		if title == "" {
			return fmt.Errorf("%w: the title cannot be empty", ErrInvalid)
		}
		if len(title) > maxTitle {
			return fmt.Errorf("%w: the title is %d bytes long, at most %d", ErrInvalid, len(title), maxTitle)
		}
	}
	if p.RootCause != nil {
		cause = strings.TrimSpace(*p.RootCause)
		if len(cause) > maxText {
			return fmt.Errorf("%w: the root cause is %d bytes long, at most %d", ErrInvalid, len(cause), maxText)
		}
	}
	by = actor(by)
	return m.act(ctx, id, func(tx *sql.Tx, now time.Time) ([]change, error) {
		var curSev, curTitle, curCause string
		err := tx.QueryRowContext(ctx, "SELECT severity, title, root_cause FROM incidents WHERE id = $1", id).Scan(&curSev, &curTitle, &curCause)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, notFound(id)
		} else if err != nil {
			return nil, err
		}
		var (
			msgs   []string
			detail = map[string]any{}
		)
		if p.Severity != nil && sev != curSev {
			msgs = append(msgs, fmt.Sprintf("severity %s → %s", curSev, sev))
			detail["severity"] = map[string]string{"from": curSev, "to": sev}
			curSev = sev
		}
		if p.Title != nil && title != curTitle {
			msgs = append(msgs, fmt.Sprintf("title %q", title))
			detail["title"] = map[string]string{"from": curTitle, "to": title}
			curTitle = title
		}
		if p.RootCause != nil && cause != curCause {
			if cause == "" {
				msgs = append(msgs, "root cause cleared")
			} else {
				msgs = append(msgs, "root cause: "+truncate(cause, 200))
			}
			detail["root_cause"] = map[string]string{"from": curCause, "to": cause}
			curCause = cause
		}
		if len(msgs) == 0 {
			return nil, nil
		}
		if _, err := tx.ExecContext(ctx, "UPDATE incidents SET severity = $2, title = $3, root_cause = $4, updated_ms = $5 WHERE id = $1",
			id, curSev, curTitle, curCause, ms(now)); err != nil {
			return nil, err
		}
		msg := strings.Join(msgs, "; ")
		return []change{{ActionUpdated, msg}}, addEntry(ctx, tx, id, now, ActionUpdated, by, msg, detail)
	})
}

// Resolve resolves an open or acknowledged incident by hand. Its alerts
// that still fire do not open a new incident; a new firing does.
func (m *Manager) Resolve(ctx context.Context, id int64, by string) error {
	by = actor(by)
	msg := "resolved by " + by
	err := m.act(ctx, id, func(tx *sql.Tx, now time.Time) ([]change, error) {
		res, err := tx.ExecContext(ctx, "UPDATE incidents SET status = 'resolved', resolved_ms = $2, resolved_by = $3, updated_ms = $2 WHERE id = $1 AND status <> 'resolved'",
			id, ms(now), by)
		if err := m.checkAffected(ctx, tx, res, err, id, "it is already resolved"); err != nil {
			return nil, err
		}
		return []change{{ActionResolved, msg}}, addEntry(ctx, tx, id, now, ActionResolved, by, msg, nil)
	})
	if err == nil {
		m.resolved.WithLabelValues("manual").Inc()
	}
	return err
}

// Reopen sets a resolved incident back to open. Its acknowledgement is
// kept; its resolution is cleared. An incident cannot be reopened while a
// newer one of the same alert group is unresolved.
func (m *Manager) Reopen(ctx context.Context, id int64, by string) error {
	by = actor(by)
	msg := "reopened by " + by
	return m.act(ctx, id, func(tx *sql.Tx, now time.Time) ([]change, error) {
		var newer int64
		err := tx.QueryRowContext(ctx, `
SELECT n.id FROM incidents i JOIN incidents n ON n.group_key = i.group_key AND n.id > i.id AND n.status <> 'resolved'
WHERE i.id = $1 ORDER BY n.id LIMIT 1`, id).Scan(&newer)
		switch {
		case err == nil:
			return nil, fmt.Errorf("%w: incident %d of the same alerts is open; add to that one instead", ErrInvalidTransition, newer)
		case !errors.Is(err, sql.ErrNoRows):
			return nil, err
		}
		res, err := tx.ExecContext(ctx, "UPDATE incidents SET status = 'open', resolved_ms = NULL, resolved_by = '', updated_ms = $2 WHERE id = $1 AND status = 'resolved'",
			id, ms(now))
		if err := m.checkAffected(ctx, tx, res, err, id, "only resolved incidents can be reopened"); err != nil {
			return nil, err
		}
		return []change{{ActionReopened, msg}}, addEntry(ctx, tx, id, now, ActionReopened, by, msg, nil)
	})
}

// act runs a person's action in a transaction and publishes its changes.
func (m *Manager) act(ctx context.Context, id int64, fn func(tx *sql.Tx, now time.Time) ([]change, error)) error {
	now := m.now()
	var changes []change
	err := m.db.WriteTx(ctx, func(tx *sql.Tx) error {
		var err error
		changes, err = fn(tx, now)
		return err
	})
	if err != nil {
		return err
	}
	m.publish(ctx, id, changes...)
	return nil
}

// checkAffected turns a conditional update that changed nothing into
// ErrNotFound or ErrInvalidTransition with why.
func (m *Manager) checkAffected(ctx context.Context, tx *sql.Tx, res sql.Result, err error, id int64, why string) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil || n > 0 {
		return err
	}
	var status string
	err = tx.QueryRowContext(ctx, "SELECT status FROM incidents WHERE id = $1", id).Scan(&status)
	if errors.Is(err, sql.ErrNoRows) {
		return notFound(id)
	}
	if err != nil {
		return err
	}
	return fmt.Errorf("%w: incident %d is %s; %s", ErrInvalidTransition, id, status, why)
}

func notFound(id int64) error {
	return fmt.Errorf("%w: no incident has id %d", ErrNotFound, id)
}
