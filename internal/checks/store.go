package checks

import (
	"context"
	"database/sql"
	"time"

	"github.com/saypro/monitor/internal/probe"
	"github.com/saypro/monitor/internal/state"
)

// store is the SQL side of the package: the state history, heartbeat
// pings and the registry of checks' first appearance.
type store struct{ db *state.DB }

func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMs(v int64) time.Time { return time.UnixMilli(v).UTC() }

func (s store) insertChanges(ctx context.Context, cs []Change) error {
	return s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		for _, c := range cs {
			if _, err := tx.ExecContext(ctx,
				"INSERT INTO check_states (check_name, location, state, reason, since_ms) VALUES ($1, $2, $3, $4, $5)",
				c.Check, c.Location, c.State, c.Reason, ms(c.Time)); err != nil {
				return err
			}
		}
		return nil
	})
}

// latest returns the last change of every check and location.
func (s store) latest(ctx context.Context) ([]Change, error) {
	return s.query(ctx, `
SELECT c.check_name, c.location, c.state, c.reason, c.since_ms FROM check_states c
WHERE c.id = (SELECT MAX(id) FROM check_states l WHERE l.check_name = c.check_name AND l.location = c.location)`)
}

// stateAt returns, for every check and location with history before t,
// the last change before t.
func (s store) stateAt(ctx context.Context, t time.Time, check string) ([]Change, error) {
	q := `
SELECT c.check_name, c.location, c.state, c.reason, c.since_ms FROM check_states c
WHERE c.since_ms < $1
  AND c.id = (SELECT MAX(id) FROM check_states l WHERE l.check_name = c.check_name AND l.location = c.location AND l.since_ms < $1)`
	args := []any{ms(t)}
	if check != "" {
		q += " AND c.check_name = $2"
		args = append(args, check)
	}
	return s.query(ctx, q, args...)
}

// changesBetween returns the changes in [from, to), oldest first, of one
// check or of all when check is empty.
func (s store) changesBetween(ctx context.Context, from, to time.Time, check string) ([]Change, error) {
	q := "SELECT check_name, location, state, reason, since_ms FROM check_states WHERE since_ms >= $1 AND since_ms < $2"
	args := []any{ms(from), ms(to)}
	if check != "" {
		q += " AND check_name = $3"
		args = append(args, check)
	}
	return s.query(ctx, q+" ORDER BY since_ms, id", args...)
}

// recentChanges returns the newest changes of one check, newest first.
func (s store) recentChanges(ctx context.Context, check string, limit int) ([]Change, error) {
	return s.query(ctx, "SELECT check_name, location, state, reason, since_ms FROM check_states WHERE check_name = $1 ORDER BY since_ms DESC, id DESC LIMIT $2", check, limit)
}

func (s store) query(ctx context.Context, q string, args ...any) ([]Change, error) {
	rows, err := s.db.SQL().QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Change
	for rows.Next() {
		var c Change
		var t int64
		if err := rows.Scan(&c.Check, &c.Location, &c.State, &c.Reason, &t); err != nil {
			return nil, err
		}
		c.Time = fromMs(t)
		out = append(out, c)
	}
	return out, rows.Err()
}

// prune deletes changes older than cutoff but the last one of each check
// and location before it, which is the state at the cutoff.
func (s store) prune(ctx context.Context, cutoff time.Time) (int64, error) {
	res, err := s.db.SQL().ExecContext(ctx, `
DELETE FROM check_states WHERE since_ms < $1 AND id NOT IN (
  SELECT MAX(id) FROM check_states WHERE since_ms < $1 GROUP BY check_name, location)`, ms(cutoff))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (s store) savePing(ctx context.Context, check string, p probe.Ping, remoteAddr string) error {
	failed := 0
	if p.Failed {
		failed = 1
	}
	return s.db.Exec(ctx, `
INSERT INTO heartbeat_pings (check_name, time_ms, failed, runtime_ms, message, remote_addr) VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (check_name) DO UPDATE SET time_ms = excluded.time_ms, failed = excluded.failed,
  runtime_ms = excluded.runtime_ms, message = excluded.message, remote_addr = excluded.remote_addr`,
		check, ms(p.Time), failed, p.Runtime.Milliseconds(), p.Message, remoteAddr)
}

func (s store) pings(ctx context.Context) (map[string]probe.Ping, error) {
	rows, err := s.db.SQL().QueryContext(ctx, "SELECT check_name, time_ms, failed, runtime_ms, message FROM heartbeat_pings")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]probe.Ping{}
	for rows.Next() {
		var (
			name            string
			t, failed, rtMs int64
			p               probe.Ping
		)
		if err := rows.Scan(&name, &t, &failed, &rtMs, &p.Message); err != nil {
			return nil, err
		}
		p.Time, p.Failed, p.Runtime = fromMs(t), failed != 0, time.Duration(rtMs)*time.Millisecond
		out[name] = p
	}
	return out, rows.Err()
}

// register records the first appearance of checks not yet known and
// returns when every one of names was first seen: one read of the
// registry, and an insert for each new check only.
func (s store) register(ctx context.Context, names []string, now time.Time) (map[string]time.Time, error) {
	out := map[string]time.Time{}
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		clear(out) // WriteTx may run the transaction again
		rows, err := tx.QueryContext(ctx, "SELECT check_name, first_seen_ms FROM check_registry")
		if err != nil {
			return err
		}
		known := map[string]time.Time{}
		for rows.Next() {
			var (
				n string
				t int64
			)
			if err := rows.Scan(&n, &t); err != nil {
				rows.Close()
				return err
			}
			known[n] = fromMs(t)
		}
		if err := rows.Err(); err != nil {
			rows.Close()
			return err
		}
		if err := rows.Close(); err != nil {
			return err
		}
		for _, n := range names {
			if t, ok := known[n]; ok {
				out[n] = t
				continue
			}
			if _, err := tx.ExecContext(ctx, "INSERT INTO check_registry (check_name, first_seen_ms) VALUES ($1, $2) ON CONFLICT (check_name) DO NOTHING", n, ms(now)); err != nil {
				return err
			}
			out[n] = fromMs(ms(now))
		}
		return nil
	})
	return out, err
}
