package probe

import (
	"cmp"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/saypro/monitor/internal/config/checkconfig"
)

// MySQL and MariaDB error numbers that mean the user lacks a grant.
const (
	mysqlErrDBAccessDenied     = 1044 // ER_DBACCESS_DENIED_ERROR
	mysqlErrTableAccessDenied  = 1142 // ER_TABLEACCESS_DENIED_ERROR
	mysqlErrColumnAccessDenied = 1143 // ER_COLUMNACCESS_DENIED_ERROR
	mysqlErrSpecificAccess     = 1227 // ER_SPECIFIC_ACCESS_DENIED_ERROR (PROCESS, REPLICATION CLIENT)
	mysqlErrParse              = 1064 // ER_PARSE_ERROR: SHOW REPLICA STATUS before MySQL 8.0.22 / MariaDB 10.5
)

type mysqlProber struct {
	connector driver.Connector
	db        *checkconfig.Database
	target    string
	passwords []string
	figures   *sqlFigures
}

// newMySQL parses the DSN once; every run opens a single connection with
// it and closes it before returning.
func newMySQL(c *checkconfig.Check, env Env) (Prober, error) {
	db := c.MySQL
	cfg, err := mysqlParseTarget(c.Target)
	if err != nil {
		return nil, fmt.Errorf("target is not a MySQL DSN (user:pass@tcp(host:3306)/db or mysql://user:pass@host:3306/db): %s",
			sqlScrub(err.Error(), c.Target, string(db.Password)))
	}
	passwords, err := sqlCredentials(db, env, &cfg.User, &cfg.Passwd)
	if err != nil {
		// Shown on the check rather than failing the configuration, as
		// for every kind.
		return failing(err.Error()), nil
	}
	cfg.Logger = mysqlLogger{env.Logger.With("check", c.Name)}
	// The connector is built once so that a setting the driver refuses is
	// a configuration error rather than a failure at every run; it holds no
	// connection.
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("target: %s", sqlScrub(err.Error(), c.Target, passwords...))
	}
	return &mysqlProber{
		connector: connector,
		db:        db,
		target:    c.Target,
		passwords: passwords,
		figures:   newSQLFigures(env.Logger, c),
	}, nil
}

// mysqlParseTarget reads a go-sql-driver DSN or a mysql:// URL.
func mysqlParseTarget(target string) (*mysql.Config, error) {
	if !strings.HasPrefix(target, "mysql://") {
		return mysql.ParseDSN(target)
	}
	u, err := url.Parse(target)
	if err != nil {
		// url.Error quotes the URL; the password may be in it.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, err
	}
	if u.Hostname() == "" {
		return nil, errors.New("mysql:// URL has no host")
	}
	port := u.Port()
	if port == "" {
		port = "3306"
	}
	dsn := "tcp(" + net.JoinHostPort(u.Hostname(), port) + ")/" + url.PathEscape(strings.TrimPrefix(u.Path, "/"))
	if u.RawQuery != "" {
		dsn += "?" + u.RawQuery
	}
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, err
	}
	if u.User != nil {
		cfg.User = u.User.Username()
		cfg.Passwd, _ = u.User.Password()
	}
	return cfg, nil
}

// Probe connects, times the configured query and reads the health
// figures. Latency is connect plus query time.
func (p *mysqlProber) Probe(ctx context.Context) Result {
	var r Result
	pool := sql.OpenDB(p.connector)
	defer pool.Close()
	pool.SetMaxOpenConns(1)
	pool.SetMaxIdleConns(1)

	start := time.Now()
	conn, err := pool.Conn(ctx)
	connect := time.Since(start)
	if err != nil {
		return r.Failf("connect failed: %s", p.reason(ctx, err))
	}
	defer conn.Close()
	r.Add(metricDBConnectDuration, connect.Seconds())

	start = time.Now()
	err = mysqlDrain(ctx, conn, p.db.Query)
	query := time.Since(start)
	if err != nil {
		return r.Failf("query failed: %s", p.reason(ctx, err))
	}
	r.Add(metricDBQueryDuration, query.Seconds())
	r.Latency = connect + query
	r.Success = true

	p.readFigures(ctx, conn, &r)
	if ctx.Err() != nil {
		return r.Failf("%s: %s", sqlFigureTimeoutReason, ctx.Err())
	}
	return r
}

// mysqlDrain runs a query and reads every row it returns.
func mysqlDrain(ctx context.Context, conn *sql.Conn, query string) error {
	rows, err := conn.QueryContext(ctx, query)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return rows.Close()
}

func (p *mysqlProber) readFigures(ctx context.Context, conn *sql.Conn, r *Result) {
	failed := func(figure string, err error) {
		if ctx.Err() == nil {
			p.figures.skip(figure, p.reason(ctx, err), mysqlPrivilegeError(err))
		}
	}

	var version string
	var maxConns int64
	if err := conn.QueryRowContext(ctx, `SELECT VERSION(), @@max_connections`).Scan(&version, &maxConns); err != nil {
		failed("version", err)
	} else {
		r.Add(metricDBInfo, 1, "version", version)
	}

	status, err := mysqlRows(ctx, conn, `SHOW GLOBAL STATUS WHERE Variable_name IN
		('Threads_connected', 'Innodb_row_lock_waits', 'Innodb_row_lock_current_waits', 'Innodb_deadlocks')`)
	vars := map[string]int64{}
	if err != nil {
		failed("status", err)
	}
	for _, row := range status {
		if n, err := strconv.ParseInt(row["Value"].String, 10, 64); err == nil {
			vars[row["Variable_name"].String] = n
		}
	}
	if conns, ok := vars["Threads_connected"]; ok && maxConns > 0 {
		sqlConnections(r, p.db, conns, maxConns)
	}
	if n, ok := vars["Innodb_row_lock_waits"]; ok {
		r.Add(metricDBLockWaitsTotal, float64(n))
	}

	// INNODB_TRX needs PROCESS; without it the status counter of current
	// waits stands in and the longest transaction is unknown.
	var waiting int64
	var longest float64
	err = conn.QueryRowContext(ctx, `SELECT
			COUNT(CASE WHEN trx_state = 'LOCK WAIT' THEN 1 END),
			COALESCE(MAX(TIMESTAMPDIFF(SECOND, trx_started, NOW())), 0)
		FROM information_schema.INNODB_TRX
		WHERE trx_mysql_thread_id <> CONNECTION_ID()`).Scan(&waiting, &longest)
	switch {
	case err == nil:
		r.Add(metricDBLockWaits, float64(waiting))
		r.Add(metricDBLongestTx, max(longest, 0))
	default:
		failed("innodb_trx", err)
		if n, ok := vars["Innodb_row_lock_current_waits"]; ok {
			r.Add(metricDBLockWaits, float64(n))
		}
	}

	// MariaDB and Percona count deadlocks in Innodb_deadlocks; MySQL only
	// in the lock_deadlocks InnoDB metric, when it is enabled.
	if n, ok := vars["Innodb_deadlocks"]; ok {
		r.Add(metricDBDeadlocksTotal, float64(n))
	} else if n, ok, err := mysqlDeadlockMetric(ctx, conn); err != nil {
		failed("deadlocks", err)
	} else if ok {
		r.Add(metricDBDeadlocksTotal, float64(n))
	}

	p.replicaLag(ctx, conn, r, failed)
}

// mysqlDeadlockMetric reads information_schema.INNODB_METRICS
// lock_deadlocks; ok is false when the counter is disabled. MySQL names
// the on/off column STATUS ('enabled'), MariaDB ENABLED (1).
func mysqlDeadlockMetric(ctx context.Context, conn *sql.Conn) (n int64, ok bool, err error) {
	rows, err := mysqlRows(ctx, conn, `SELECT * FROM information_schema.INNODB_METRICS WHERE NAME = 'lock_deadlocks'`)
	if err != nil || len(rows) == 0 {
		return 0, false, err
	}
	row := rows[0]
	if s, has := row["STATUS"]; has && !strings.EqualFold(s.String, "enabled") {
		return 0, false, nil
	}
	if s, has := row["ENABLED"]; has && s.String != "1" {
		return 0, false, nil
	}
	n, err = strconv.ParseInt(row["COUNT"].String, 10, 64)
	return n, err == nil, err
}

// replicaLag reads Seconds_Behind_Source (Seconds_Behind_Master before
// MySQL 8.0.22 and on MariaDB); a server that is not a replica returns no
// rows and reports no lag. A replica whose SQL or I/O thread stopped
// reports NULL, which is degraded.
func (p *mysqlProber) replicaLag(ctx context.Context, conn *sql.Conn, r *Result, failed func(string, error)) {
	rows, err := mysqlRows(ctx, conn, `SHOW REPLICA STATUS`)
	var myErr *mysql.MySQLError
	if errors.As(err, &myErr) && myErr.Number == mysqlErrParse {
		rows, err = mysqlRows(ctx, conn, `SHOW SLAVE STATUS`)
	}
	if err != nil {
		failed("replication_lag", err)
		return
	}
	lag, stopped := -1.0, []string{}
	for _, row := range rows {
		v, ok := row["Seconds_Behind_Source"]
		if !ok {
			v = row["Seconds_Behind_Master"]
		}
		if !v.Valid {
			name := cmp.Or(row["Connection_name"].String, row["Channel_Name"].String, row["Channel_name"].String)
			stopped = append(stopped, name)
			continue
		}
		if s, err := strconv.ParseFloat(v.String, 64); err == nil {
			lag = max(lag, s)
		}
	}
	if lag >= 0 {
		sqlReplicationLag(r, p.db, lag)
	}
	if len(stopped) > 0 {
		what := "replication is not running"
		if names := strings.Join(stopped, ", "); strings.Trim(names, ", ") != "" {
			what += " (channel " + names + ")"
		}
		r.Warnf("%s: Seconds_Behind_Master is NULL", what)
	}
}

// mysqlRows reads a result whose columns vary between servers (SHOW
// REPLICA STATUS, INNODB_METRICS) as maps by column name.
func mysqlRows(ctx context.Context, conn *sql.Conn, query string) ([]map[string]sql.NullString, error) {
	rows, err := conn.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var out []map[string]sql.NullString
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		m := make(map[string]sql.NullString, len(cols))
		for i, c := range cols {
			m[c] = vals[i]
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

func mysqlPrivilegeError(err error) bool {
	var myErr *mysql.MySQLError
	if !errors.As(err, &myErr) {
		return false
	}
	switch myErr.Number {
	case mysqlErrDBAccessDenied, mysqlErrTableAccessDenied, mysqlErrColumnAccessDenied, mysqlErrSpecificAccess:
		return true
	}
	return false
}

// reason is a driver error in words, with no secret in it.
func (p *mysqlProber) reason(ctx context.Context, err error) string {
	var msg string
	var myErr *mysql.MySQLError
	switch {
	case errors.As(err, &myErr):
		msg = myErr.Message
	case ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded):
		msg = "timed out"
	default:
		msg = err.Error()
	}
	return sqlScrub(msg, p.target, p.passwords...)
}

// mysqlLogger sends the driver's own complaints (a connection closed
// under it) to the check's logger at debug instead of the standard log.
type mysqlLogger struct{ logger *slog.Logger }

func (l mysqlLogger) Print(v ...any) {
	l.logger.Debug("mysql driver", "msg", strings.TrimSpace(fmt.Sprint(v...)))
}
