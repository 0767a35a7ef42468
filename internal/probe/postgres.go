package probe

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/saypro/monitor/internal/config/checkconfig"
)

// Metrics of the postgres and mysql kinds. Both kinds use the same names;
// the kind label tells them apart.
const (
	metricDBConnectDuration = "saypro_db_connect_duration_seconds"
	metricDBQueryDuration   = "saypro_db_query_duration_seconds"
	metricDBConnections     = "saypro_db_connections"
	metricDBMaxConnections  = "saypro_db_max_connections"
	metricDBLockWaits       = "saypro_db_lock_waits"
	metricDBLockWaitsTotal  = "saypro_db_lock_waits_total"
	metricDBDeadlocksTotal  = "saypro_db_deadlocks_total"
	metricDBReplicationLag  = "saypro_db_replication_lag_seconds"
	metricDBLongestTx       = "saypro_db_longest_transaction_seconds"
	metricDBInfo            = "saypro_db_info"
	sqlApplicationName      = "saypro-monitor"
	sqlFigureTimeoutReason  = "timed out reading health figures"
	sqlRedactedSecret       = "xxxxx"
	pgInsufficientPrivilege = "42501"
)

type postgresProber struct {
	cfg       *pgx.ConnConfig
	db        *checkconfig.Database
	target    string
	passwords []string
	figures   *sqlFigures
}

// newPostgres parses the DSN once; every run opens a fresh connection
// with it and closes it before returning.
func newPostgres(c *checkconfig.Check, env Env) (Prober, error) {
	db := c.Postgres
	cfg, err := pgx.ParseConfig(c.Target)
	if err != nil {
		return nil, fmt.Errorf("target is not a PostgreSQL DSN (a postgres:// URL or key=value pairs): %s",
			sqlScrub(err.Error(), c.Target, string(db.Password)))
	}
	passwords, err := sqlCredentials(db, env, &cfg.User, &cfg.Password)
	if err != nil {
		// Shown on the check rather than failing the configuration, as
		// for every kind.
		return failing(err.Error()), nil
	}
	// One connection runs a handful of statements: preparing each would
	// double the round trips, and the simple protocol lets the configured
	// query hold several statements.
	cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	if _, ok := cfg.RuntimeParams["application_name"]; !ok {
		cfg.RuntimeParams["application_name"] = sqlApplicationName
	}
	return &postgresProber{
		cfg:       cfg,
		db:        db,
		target:    c.Target,
		passwords: passwords,
		figures:   newSQLFigures(env.Logger, c),
	}, nil
}

// Probe connects, times the configured query and reads the health
// figures. Latency is connect plus query time.
func (p *postgresProber) Probe(ctx context.Context) Result {
	var r Result
	start := time.Now()
	conn, err := pgx.ConnectConfig(ctx, p.cfg)
	connect := time.Since(start)
	if err != nil {
		return r.Failf("connect failed: %s", p.reason(ctx, err))
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		_ = conn.Close(closeCtx)
	}()
	r.Add(metricDBConnectDuration, connect.Seconds())

	start = time.Now()
	_, err = conn.Exec(ctx, p.db.Query)
	query := time.Since(start)
	if err != nil {
		return r.Failf("query failed: %s", p.reason(ctx, err))
	}
	r.Add(metricDBQueryDuration, query.Seconds())
	r.Latency = connect + query
	r.Success = true
	r.Add(metricDBInfo, 1, "version", conn.PgConn().ParameterStatus("server_version"))

	p.readFigures(ctx, conn, &r)
	if ctx.Err() != nil {
		return r.Failf("%s: %s", sqlFigureTimeoutReason, ctx.Err())
	}
	return r
}

func (p *postgresProber) readFigures(ctx context.Context, conn *pgx.Conn, r *Result) {
	// row runs a query of one row; a failure skips the figure.
	row := func(figure, sql string, dest ...any) bool {
		if ctx.Err() != nil {
			return false
		}
		err := conn.QueryRow(ctx, sql).Scan(dest...)
		if err != nil && ctx.Err() == nil {
			var pgErr *pgconn.PgError
			privilege := errors.As(err, &pgErr) && pgErr.Code == pgInsufficientPrivilege
			p.figures.skip(figure, p.reason(ctx, err), privilege)
		}
		return err == nil
	}

	var waiting int64
	if row("lock_waits", `SELECT count(*) FROM pg_locks WHERE NOT granted`, &waiting) {
		r.Add(metricDBLockWaits, float64(waiting))
	}
	var deadlocks int64
	if row("deadlocks", `SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()`, &deadlocks) {
		r.Add(metricDBDeadlocksTotal, float64(deadlocks))
	}
	var conns, maxConns int64
	if row("connections", `SELECT
			(SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'),
			current_setting('max_connections')::int`, &conns, &maxConns) {
		sqlConnections(r, p.db, conns, maxConns)
	}
	var longest float64
	if row("longest_transaction", `SELECT COALESCE(max(EXTRACT(EPOCH FROM now() - xact_start)), 0)::float8
			FROM pg_stat_activity
			WHERE pid <> pg_backend_pid() AND state <> 'idle' AND xact_start IS NOT NULL`, &longest) {
		r.Add(metricDBLongestTx, max(longest, 0))
	}

	var replica bool
	if !row("replication_lag", `SELECT pg_is_in_recovery()`, &replica) {
		return
	}
	if replica {
		// A replica that has replayed all it received is not behind, however
		// long ago the primary last wrote.
		var lag *float64
		if row("replication_lag", `SELECT CASE
				WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
				ELSE GREATEST(0, EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()))
				END::float8`, &lag) && lag != nil {
			sqlReplicationLag(r, p.db, *lag)
		}
		return
	}
	var standbys, visible int64
	var lag float64
	if !row("replication_lag", `SELECT count(*), count(sent_lsn),
			COALESCE(EXTRACT(EPOCH FROM max(GREATEST(write_lag, flush_lag, replay_lag))), 0)::float8
			FROM pg_stat_replication`, &standbys, &visible, &lag) {
		return
	}
	switch {
	case standbys == 0:
		// Neither a replica nor a primary with standbys: no lag to report.
	case visible == 0:
		// Without pg_monitor (pg_read_all_stats) the columns read as NULL.
		p.figures.skip("replication_lag", "pg_stat_replication columns are hidden from this user", true)
	default:
		sqlReplicationLag(r, p.db, lag)
	}
}

// reason is a driver error in words, with no secret in it.
func (p *postgresProber) reason(ctx context.Context, err error) string {
	var msg string
	var pgErr *pgconn.PgError
	var connErr *pgconn.ConnectError
	switch {
	case errors.As(err, &pgErr):
		msg = pgErr.Message
		if pgErr.Detail != "" {
			msg += ": " + pgErr.Detail
		}
	case ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded):
		msg = "timed out"
	case errors.As(err, &connErr) && connErr.Unwrap() != nil:
		msg = connErr.Unwrap().Error()
	default:
		msg = err.Error()
	}
	return sqlScrub(msg, p.target, p.passwords...)
}

// sqlConnections reports connections in use and warns above the share of
// max_connections allowed.
func sqlConnections(r *Result, db *checkconfig.Database, conns, maxConns int64) {
	r.Add(metricDBConnections, float64(conns))
	r.Add(metricDBMaxConnections, float64(maxConns))
	if maxConns <= 0 {
		return
	}
	if pct := float64(conns) * 100 / float64(maxConns); pct > db.MaxConnectionsPercent {
		r.Warnf("%d connections, %.0f%% of max_connections %d (above %g%%)", conns, pct, maxConns, db.MaxConnectionsPercent)
	}
}

// sqlReplicationLag reports a replication lag and warns above
// max_replication_lag when it is set.
func sqlReplicationLag(r *Result, db *checkconfig.Database, seconds float64) {
	seconds = max(seconds, 0)
	r.Add(metricDBReplicationLag, seconds)
	if limit := time.Duration(db.MaxReplicationLag); limit > 0 {
		if lag := time.Duration(seconds * float64(time.Second)); lag > limit {
			r.Warnf("replication lag %s, above max_replication_lag %s", roundDuration(lag), db.MaxReplicationLag)
		}
	}
}

// sqlCredentials applies the check's username and password (or
// password_env) over those of the DSN, and returns every password in play,
// to be scrubbed from messages.
func sqlCredentials(db *checkconfig.Database, env Env, user, password *string) ([]string, error) {
	pw, err := env.secret(string(db.Password), db.PasswordEnv)
	if err != nil {
		return nil, err
	}
	passwords := []string{*password, pw}
	if db.Username != "" {
		*user = db.Username
	}
	if pw != "" {
		*password = pw
	}
	return passwords, nil
}

// sqlScrub takes the secrets out of a driver's message: the DSN's
// password wherever the DSN is quoted, and every password anywhere.
func sqlScrub(msg, target string, passwords ...string) string {
	if red := RedactTarget(target); target != "" && red != target {
		msg = strings.ReplaceAll(msg, target, red)
	}
	for _, pw := range passwords {
		if pw != "" {
			msg = strings.ReplaceAll(msg, pw, sqlRedactedSecret)
		}
	}
	return strings.Join(strings.Fields(msg), " ")
}

// sqlFigures remembers which health figures a prober could not read, so
// that each is logged once rather than at every run.
type sqlFigures struct {
	logger *slog.Logger
	mu     sync.Mutex
	logged map[string]bool
}

func newSQLFigures(logger *slog.Logger, c *checkconfig.Check) *sqlFigures {
	return &sqlFigures{
		logger: logger.With("check", c.Name, "kind", c.Kind),
		logged: map[string]bool{},
	}
}

// skip notes a figure left out of a run. Missing privileges are expected
// (the figure needs a grant the user lacks) and logged at debug; other
// errors at warn. Either way once per figure.
func (f *sqlFigures) skip(figure, reason string, privilege bool) {
	f.mu.Lock()
	seen := f.logged[figure]
	f.logged[figure] = true
	f.mu.Unlock()
	if seen {
		return
	}
	if privilege {
		f.logger.Debug("health figure skipped for lack of privilege; not logged again", "figure", figure, "reason", reason)
		return
	}
	f.logger.Warn("health figure could not be read; not logged again", "figure", figure, "reason", reason)
}
