package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// User is an account, without its password hash.
type User struct {
	ID          int64      `json:"-"`
	Name        string     `json:"name"`
	Role        Role       `json:"role"`
	Disabled    bool       `json:"disabled"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	LastLoginAt *time.Time `json:"last_login_at"`
}

// Token is an API token, without its secret.
type Token struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	Role       Role       `json:"role"`
	User       string     `json:"user"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
}

// AuditEntry is one line of the audit log.
type AuditEntry struct {
	ID         int64     `json:"id"`
	Time       time.Time `json:"time"`
	Actor      string    `json:"actor"`
	ActorKind  string    `json:"actor_kind"`
	Action     string    `json:"action"`
	Target     string    `json:"target"`
	Detail     string    `json:"detail"`
	RemoteAddr string    `json:"remote_addr"`
	Success    bool      `json:"success"`
}

// AuditFilter selects audit entries; zero fields select everything.
type AuditFilter struct {
	Actor, Action string
	From, To      time.Time
	Limit, Offset int
}

// Errors callers tell apart.
var (
	ErrNotFound = errors.New("not found")
	ErrExists   = errors.New("already exists")
)

func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := time.UnixMilli(v.Int64).UTC()
	return &t
}

func nullMS(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMilli()
}

const userColumns = `id, name, role, created_ms, updated_ms, last_login_ms, disabled_ms`

type scanner interface{ Scan(...any) error }

// scanUser reads userColumns, then the extra columns that follow them.
func scanUser(s scanner, extra ...any) (User, error) {
	var u User
	var created, updated int64
	var last, disabled sql.NullInt64
	if err := s.Scan(append([]any{&u.ID, &u.Name, &u.Role, &created, &updated, &last, &disabled}, extra...)...); err != nil {
		return u, err
	}
	u.CreatedAt = time.UnixMilli(created).UTC()
	u.UpdatedAt = time.UnixMilli(updated).UTC()
	u.LastLoginAt = fromMS(last)
	u.Disabled = disabled.Valid
	return u, nil
}

func (s *Service) countUsers(ctx context.Context) (int, error) {
	var n int
	err := s.db.SQL().QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n)
	return n, err
}

// collect scans every row of a query with scan; never nil, so that JSON
// has [] for none.
func collect[T any](rows *sql.Rows, err error, scan func(scanner) (T, error)) ([]T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// Users lists every account by name.
func (s *Service) Users(ctx context.Context) ([]User, error) {
	rows, err := s.db.SQL().QueryContext(ctx, `SELECT `+userColumns+` FROM users ORDER BY name`)
	users, err := collect(rows, err, func(r scanner) (User, error) { return scanUser(r) })
	if err != nil {
		return nil, fmt.Errorf("listing users: %w", err)
	}
	return users, nil
}

// userByName returns the user and its password hash.
func (s *Service) userByName(ctx context.Context, name string) (User, string, error) {
	var hash string
	u, err := scanUser(s.db.SQL().QueryRowContext(ctx, `SELECT `+userColumns+`, password_hash FROM users WHERE name = $1`, name), &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return u, "", fmt.Errorf("user %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return u, "", fmt.Errorf("reading user %q: %w", name, err)
	}
	return u, hash, nil
}

func (s *Service) insertUser(ctx context.Context, name string, role Role, hash string) (User, error) {
	now := s.now()
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE name = $1`, name).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("user %q: %w", name, ErrExists)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO users (name, role, password_hash, created_ms, updated_ms) VALUES ($1, $2, $3, $4, $4)`,
			name, string(role), hash, ms(now))
		return err
	})
	if err != nil {
		return User{}, err
	}
	u, _, err := s.userByName(ctx, name)
	return u, err
}

// userPatch changes some of a user's fields; nil fields stay.
type userPatch struct {
	role     *Role
	hash     *string
	disabled *bool
}

func (s *Service) updateUser(ctx context.Context, name string, p userPatch) error {
	now := ms(s.now())
	return s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		var id int64
		err := tx.QueryRowContext(ctx, `SELECT id FROM users WHERE name = $1`, name).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("user %q: %w", name, ErrNotFound)
		}
		if err != nil {
			return err
		}
		if p.role != nil {
			if _, err := tx.ExecContext(ctx, `UPDATE users SET role = $1, updated_ms = $2 WHERE id = $3`, string(*p.role), now, id); err != nil {
				return err
			}
		}
		if p.hash != nil {
			if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = $1, updated_ms = $2 WHERE id = $3`, *p.hash, now, id); err != nil {
				return err
			}
		}
		if p.disabled != nil {
			var v any
			if *p.disabled {
				v = now
			}
			if _, err := tx.ExecContext(ctx, `UPDATE users SET disabled_ms = $1, updated_ms = $2 WHERE id = $3`, v, now, id); err != nil {
				return err
			}
		}
		// A new password, a new role or a disabled account ends the
		// user's sessions: they log in again with what holds now.
		_, err = tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1`, id)
		return err
	})
}

func (s *Service) deleteUser(ctx context.Context, name string) error {
	return s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		var id int64
		err := tx.QueryRowContext(ctx, `SELECT id FROM users WHERE name = $1`, name).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("user %q: %w", name, ErrNotFound)
		}
		if err != nil {
			return err
		}
		for _, q := range []string{`DELETE FROM sessions WHERE user_id = $1`, `DELETE FROM api_tokens WHERE user_id = $1`, `DELETE FROM users WHERE id = $1`} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *Service) recordLogin(ctx context.Context, userID int64) error {
	return s.db.Exec(ctx, `UPDATE users SET last_login_ms = $1 WHERE id = $2`, ms(s.now()), userID)
}

// session is a stored browser session joined with its user.
type session struct {
	user     User
	csrf     string
	expires  time.Time
	lastSeen time.Time
}

func (s *Service) insertSession(ctx context.Context, idHash string, userID int64, csrf string, remote, agent string) error {
	now := s.now()
	return s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		// Expired sessions go on each login, so the table stays small.
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE expires_ms < $1`, ms(now)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO sessions (id_hash, user_id, csrf_token, created_ms, last_seen_ms, expires_ms, remote_addr, user_agent)
			VALUES ($1, $2, $3, $4, $4, $5, $6, $7)`, idHash, userID, csrf, ms(now), ms(now.Add(s.maxAge)), remote, truncate(agent, 256))
		return err
	})
}

func (s *Service) lookupSession(ctx context.Context, idHash string) (session, error) {
	var se session
	var lastSeen, expires int64
	row := s.db.SQL().QueryRowContext(ctx, `SELECT u.id, u.name, u.role, u.created_ms, u.updated_ms, u.last_login_ms, u.disabled_ms,
		s.csrf_token, s.last_seen_ms, s.expires_ms
		FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = $1`, idHash)
	u, err := scanUser(row, &se.csrf, &lastSeen, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return se, ErrNotFound
	}
	if err != nil {
		return se, err
	}
	se.user = u
	se.lastSeen = time.UnixMilli(lastSeen)
	se.expires = time.UnixMilli(expires)
	return se, nil
}

func (s *Service) touchSession(ctx context.Context, idHash string, now time.Time) error {
	return s.db.Exec(ctx, `UPDATE sessions SET last_seen_ms = $1 WHERE id_hash = $2`, ms(now), idHash)
}

func (s *Service) deleteSession(ctx context.Context, idHash string) error {
	return s.db.Exec(ctx, `DELETE FROM sessions WHERE id_hash = $1`, idHash)
}

const tokenColumns = `t.id, t.name, t.role, u.name, t.created_ms, t.expires_ms, t.last_used_ms, t.revoked_ms`

func scanToken(s scanner) (Token, error) {
	var t Token
	var created int64
	var expires, used, revoked sql.NullInt64
	if err := s.Scan(&t.ID, &t.Name, &t.Role, &t.User, &created, &expires, &used, &revoked); err != nil {
		return t, err
	}
	t.CreatedAt = time.UnixMilli(created).UTC()
	t.ExpiresAt = fromMS(expires)
	t.LastUsedAt = fromMS(used)
	t.RevokedAt = fromMS(revoked)
	return t, nil
}

// tokens lists the tokens of user, or every token when user is "".
func (s *Service) tokens(ctx context.Context, user string) ([]Token, error) {
	q := `SELECT ` + tokenColumns + ` FROM api_tokens t JOIN users u ON u.id = t.user_id`
	var args []any
	if user != "" {
		q += ` WHERE u.name = $1`
		args = append(args, user)
	}
	rows, err := s.db.SQL().QueryContext(ctx, q+` ORDER BY t.id DESC`, args...)
	toks, err := collect(rows, err, scanToken)
	if err != nil {
		return nil, fmt.Errorf("listing tokens: %w", err)
	}
	return toks, nil
}

func (s *Service) token(ctx context.Context, id int64) (Token, error) {
	t, err := scanToken(s.db.SQL().QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return t, fmt.Errorf("token %d: %w", id, ErrNotFound)
	}
	return t, err
}

func (s *Service) insertToken(ctx context.Context, userID int64, name string, role Role, hash string, expires *time.Time) (int64, error) {
	var id int64
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO api_tokens (user_id, name, role, hash, created_ms, expires_ms) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
			userID, name, string(role), hash, ms(s.now()), nullMS(expires)).Scan(&id)
	})
	return id, err
}

func (s *Service) revokeToken(ctx context.Context, id int64) error {
	return s.db.Exec(ctx, `UPDATE api_tokens SET revoked_ms = $1 WHERE id = $2 AND revoked_ms IS NULL`, ms(s.now()), id)
}

// tokenCredential is a stored token joined with its user.
type tokenCredential struct {
	id      int64
	name    string
	role    Role
	user    User
	expires *time.Time
	revoked bool
}

func (s *Service) lookupToken(ctx context.Context, hash string) (tokenCredential, error) {
	var c tokenCredential
	var expires, revoked sql.NullInt64
	row := s.db.SQL().QueryRowContext(ctx, `SELECT u.id, u.name, u.role, u.created_ms, u.updated_ms, u.last_login_ms, u.disabled_ms,
		t.id, t.name, t.role, t.expires_ms, t.revoked_ms
		FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.hash = $1`, hash)
	u, err := scanUser(row, &c.id, &c.name, &c.role, &expires, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return c, ErrNotFound
	}
	if err != nil {
		return c, err
	}
	c.user = u
	c.expires = fromMS(expires)
	c.revoked = revoked.Valid
	return c, nil
}

func (s *Service) touchToken(ctx context.Context, id int64, now time.Time) error {
	return s.db.Exec(ctx, `UPDATE api_tokens SET last_used_ms = $1 WHERE id = $2`, ms(now), id)
}

func (s *Service) insertAudit(ctx context.Context, e AuditEntry) error {
	success := 0
	if e.Success {
		success = 1
	}
	return s.db.Exec(ctx, `INSERT INTO audit_log (time_ms, actor, actor_kind, action, target, detail, remote_addr, success)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		ms(e.Time), truncate(e.Actor, 256), e.ActorKind, e.Action, truncate(e.Target, 512), truncate(e.Detail, 4096), e.RemoteAddr, success)
}

// Audit returns the entries f selects, newest first, and how many there
// are in all.
func (s *Service) Audit(ctx context.Context, f AuditFilter) ([]AuditEntry, int, error) {
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.Actor != "" {
		add("actor = $%d", f.Actor)
	}
	if f.Action != "" {
		if strings.HasSuffix(f.Action, ".") {
			add("action LIKE $%d", f.Action+"%")
		} else {
			add("action = $%d", f.Action)
		}
	}
	if !f.From.IsZero() {
		add("time_ms >= $%d", ms(f.From))
	}
	if !f.To.IsZero() {
		add("time_ms < $%d", ms(f.To))
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	var total int
	if err := s.db.SQL().QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log`+cond, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("counting audit entries: %w", err)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	args = append(args, limit, f.Offset)
	rows, err := s.db.SQL().QueryContext(ctx, fmt.Sprintf(`SELECT id, time_ms, actor, actor_kind, action, target, detail, remote_addr, success
		FROM audit_log%s ORDER BY time_ms DESC, id DESC LIMIT $%d OFFSET $%d`, cond, len(args)-1, len(args)), args...)
	out, err := collect(rows, err, func(r scanner) (AuditEntry, error) {
		var e AuditEntry
		var t int64
		var ok int
		err := r.Scan(&e.ID, &t, &e.Actor, &e.ActorKind, &e.Action, &e.Target, &e.Detail, &e.RemoteAddr, &ok)
		e.Time = time.UnixMilli(t).UTC()
		e.Success = ok == 1
		return e, err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("reading the audit log: %w", err)
	}
	return out, total, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// Cut on a rune boundary.
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
