package probe

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/saypro/monitor/internal/config/checkconfig"
)

func mysqlTestDSN() string {
	if dsn := os.Getenv("SAYPRO_TEST_MYSQL_DSN"); dsn != "" {
		return dsn
	}
	return "root@tcp(127.0.0.1:3306)/test"
}

// mysqlTestDB opens the test server, skipping the test when it is down;
// it is closed at the end of the test.
func mysqlTestDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("mysql", mysqlTestDSN())
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		sqlTestUnreachable(t, "MySQL/MariaDB", mysqlTestDSN(), err)
	}
	return db
}

// mysqlTestAddr is the host:port of the test server.
func mysqlTestAddr(t *testing.T) string {
	cfg, err := mysql.ParseDSN(mysqlTestDSN())
	require.NoError(t, err)
	return cfg.Addr
}

func TestMySQLProbe(t *testing.T) {
	mysqlTestDB(t)
	dsn := mysqlTestDSN()
	addr := mysqlTestAddr(t)
	tests := []struct {
		name    string
		target  string
		db      checkconfig.Database
		latency time.Duration
		state   State
		reason  string // a part of the outcome's reason
		check   func(t *testing.T, r Result)
	}{
		{
			name:   "default query",
			target: dsn,
			state:  StateUp,
			check: func(t *testing.T, r Result) {
				conns, ok := sqlMetric(r, metricDBConnections)
				require.True(t, ok)
				maxConns, ok := sqlMetric(r, metricDBMaxConnections)
				require.True(t, ok)
				require.GreaterOrEqual(t, conns, 1.0)
				require.Greater(t, maxConns, 1.0)
				require.LessOrEqual(t, conns, maxConns)
				connect, ok := sqlMetric(r, metricDBConnectDuration)
				require.True(t, ok)
				query, ok := sqlMetric(r, metricDBQueryDuration)
				require.True(t, ok)
				require.InDelta(t, connect+query, r.Latency.Seconds(), 1e-6)
				for _, name := range []string{metricDBLockWaits, metricDBLockWaitsTotal, metricDBDeadlocksTotal, metricDBLongestTx} {
					v, ok := sqlMetric(r, name)
					require.True(t, ok, name)
					require.GreaterOrEqual(t, v, 0.0, name)
				}
				// The test server is not a replica.
				_, ok = sqlMetric(r, metricDBReplicationLag)
				require.False(t, ok)
				for _, m := range r.Metrics {
					if m.Name == metricDBInfo {
						require.Equal(t, "version", m.Labels[0].Name)
						require.Regexp(t, `^\d+\.\d+`, m.Labels[0].Value)
						return
					}
				}
				t.Fatal("no " + metricDBInfo)
			},
		},
		{
			name:   "mysql:// URL",
			target: "mysql://root@" + addr + "/test",
			state:  StateUp,
		},
		{
			name:   "custom query is timed",
			target: dsn,
			db:     checkconfig.Database{Query: "SELECT SLEEP(0.05)"},
			state:  StateUp,
			check: func(t *testing.T, r Result) {
				query, ok := sqlMetric(r, metricDBQueryDuration)
				require.True(t, ok)
				require.GreaterOrEqual(t, query, 0.05)
			},
		},
		{
			name:    "slow query is degraded",
			target:  dsn,
			db:      checkconfig.Database{Query: "SELECT SLEEP(0.2)"},
			latency: 100 * time.Millisecond,
			state:   StateDegraded,
			reason:  "above the 100ms threshold",
		},
		{
			name:   "connections above the share of max_connections are degraded",
			target: dsn,
			db:     checkconfig.Database{MaxConnectionsPercent: 0.001},
			state:  StateDegraded,
			reason: "of max_connections",
		},
		{
			name:   "bad query",
			target: dsn,
			db:     checkconfig.Database{Query: "SELECT * FROM saypro_no_such_table"},
			state:  StateDown,
			reason: "query failed: Table 'test.saypro_no_such_table' doesn't exist",
		},
		{
			name:   "wrong password",
			target: dsn,
			db:     checkconfig.Database{Password: sqlTestPassword},
			state:  StateDown,
			reason: "connect failed: Access denied for user",
		},
		{
			name:   "wrong password in a mysql:// URL",
			target: "mysql://root:" + sqlTestPassword + "@" + addr + "/test",
			state:  StateDown,
			reason: "connect failed: Access denied for user",
		},
		{
			name:   "unreachable port, password in the DSN",
			target: "root:" + sqlTestPassword + "@tcp(127.0.0.1:1)/test",
			state:  StateDown,
			reason: "connection refused",
		},
		{
			name:   "unreachable port, mysql:// URL",
			target: "mysql://root:" + sqlTestPassword + "@127.0.0.1:1/test",
			db:     checkconfig.Database{Username: "someone", Password: sqlTestPassword + "x"},
			state:  StateDown,
			reason: "connection refused",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := sqlTestCheck(t, checkconfig.KindMySQL, tt.target, tt.db, cmp.Or(tt.latency, 10*time.Second))
			r, o := sqlTestRun(t, c, Env{})
			t.Logf("%s: %s", o.State, o.Reason)
			require.Equal(t, tt.state, o.State, o.Reason)
			require.Contains(t, o.Reason, tt.reason)
			require.NotContains(t, o.Reason, sqlTestPassword)
			require.NotContains(t, o.Target, sqlTestPassword)
			if tt.check != nil {
				tt.check(t, r)
			}
		})
	}
}

// mysqlTestLog is a debug log to look into.
type mysqlTestLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *mysqlTestLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *mysqlTestLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// TestMySQLPasswordEnvAndPrivileges runs the check as a user with no
// grants, whose password comes from the environment: the check is up,
// the figures that need PROCESS or REPLICATION CLIENT are skipped and
// logged at debug once.
func TestMySQLPasswordEnvAndPrivileges(t *testing.T) {
	admin := mysqlTestDB(t)
	ctx := context.Background()
	user := fmt.Sprintf("saypro_t%d", time.Now().UnixNano()%1e9)
	_, err := admin.ExecContext(ctx, fmt.Sprintf("CREATE USER '%s'@'%%' IDENTIFIED BY '%s'", user, sqlTestPassword))
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = admin.ExecContext(context.Background(), fmt.Sprintf("DROP USER '%s'@'%%'", user)) })

	target := "mysql://" + mysqlTestAddr(t) + "/"
	db := checkconfig.Database{Username: user, PasswordEnv: "SAYPRO_TEST_MYSQL_PASSWORD"}
	c := sqlTestCheck(t, checkconfig.KindMySQL, target, db, 10*time.Second)

	// An unset variable is shown on the check, not a configuration error.
	unset, err := New(c, Env{Getenv: func(string) string { return "" }})
	require.NoError(t, err)
	require.Contains(t, unset.Probe(t.Context()).Reason, "environment variable SAYPRO_TEST_MYSQL_PASSWORD is empty or not set")

	var log mysqlTestLog
	env := Env{
		Logger: slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Getenv: func(name string) string {
			if name == "SAYPRO_TEST_MYSQL_PASSWORD" {
				return sqlTestPassword
			}
			return ""
		},
	}
	p, err := New(c, env)
	require.NoError(t, err)
	for range 2 {
		pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		start := time.Now()
		r := p.Probe(pctx)
		cancel()
		o := Evaluate(c, "server", start, time.Since(start), r)
		require.Equal(t, StateUp, o.State, o.Reason)
		// Without PROCESS the status counter stands in for INNODB_TRX.
		_, ok := sqlMetric(r, metricDBLockWaits)
		require.True(t, ok)
		_, ok = sqlMetric(r, metricDBConnections)
		require.True(t, ok)
	}
	logged := log.String()
	t.Log(logged)
	require.NotContains(t, logged, sqlTestPassword)
	require.Contains(t, logged, "lack of privilege")
	require.Equal(t, 1, strings.Count(logged, "figure=innodb_trx"), "logged once")
	require.NotContains(t, logged, "level=WARN")

	env.Getenv = func(string) string { return sqlTestPassword + "-wrong" }
	_, o := sqlTestRun(t, c, env)
	require.Equal(t, StateDown, o.State)
	require.Contains(t, o.Reason, "Access denied")
	require.NotContains(t, o.Reason, sqlTestPassword)
}

// TestMySQLLocksAndDeadlocks makes a row lock wait and a deadlock and
// sees the check count them.
func TestMySQLLocksAndDeadlocks(t *testing.T) {
	admin := mysqlTestDB(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	table := sqlTestTable(t, "saypro_probe_my")
	_, err := admin.ExecContext(ctx, fmt.Sprintf("CREATE TABLE %s (id INT PRIMARY KEY, v INT) ENGINE=InnoDB", table))
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = admin.ExecContext(context.Background(), "DROP TABLE IF EXISTS "+table) })
	_, err = admin.ExecContext(ctx, fmt.Sprintf("INSERT INTO %s VALUES (1, 0), (2, 0)", table))
	require.NoError(t, err)

	c := sqlTestCheck(t, checkconfig.KindMySQL, mysqlTestDSN(), checkconfig.Database{}, 10*time.Second)
	p, err := New(c, Env{})
	require.NoError(t, err)
	probe := func() Result {
		pctx, pcancel := context.WithTimeout(ctx, 10*time.Second)
		defer pcancel()
		r := p.Probe(pctx)
		require.True(t, r.Success, r.Reason)
		return r
	}
	begin := func() *sql.Tx {
		conn, err := admin.Conn(ctx)
		require.NoError(t, err)
		t.Cleanup(func() { _ = conn.Close() })
		_, err = conn.ExecContext(ctx, "SET SESSION innodb_lock_wait_timeout = 30")
		require.NoError(t, err)
		tx, err := conn.BeginTx(ctx, nil)
		require.NoError(t, err)
		t.Cleanup(func() { _ = tx.Rollback() })
		return tx
	}
	update := func(tx *sql.Tx, id int) error {
		_, err := tx.ExecContext(ctx, fmt.Sprintf("UPDATE %s SET v = v + 1 WHERE id = %d", table, id))
		return err
	}

	t.Run("lock wait", func(t *testing.T) {
		before, ok := sqlMetric(probe(), metricDBLockWaitsTotal)
		require.True(t, ok)
		a, b := begin(), begin()
		require.NoError(t, update(a, 1))
		waited := make(chan error, 1)
		go func() { waited <- update(b, 1) }()

		r := sqlTestWaitFor(t, "a lock wait", probe, func(r Result) bool {
			v, _ := sqlMetric(r, metricDBLockWaits)
			return v >= 1
		})
		require.Empty(t, r.Warning, "waiting is reported, not degraded")
		after, ok := sqlMetric(r, metricDBLockWaitsTotal)
		require.True(t, ok)
		require.Greater(t, after, before)

		require.NoError(t, a.Rollback())
		require.NoError(t, <-waited)
		require.NoError(t, b.Rollback())
	})

	t.Run("deadlock", func(t *testing.T) {
		before, ok := sqlMetric(probe(), metricDBDeadlocksTotal)
		require.True(t, ok)

		a, b := begin(), begin()
		require.NoError(t, update(a, 1))
		require.NoError(t, update(b, 2))
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for i, step := range []struct {
			tx *sql.Tx
			id int
		}{{a, 2}, {b, 1}} {
			wg.Go(func() { errs[i] = update(step.tx, step.id) })
		}
		wg.Wait()
		deadlocked := 0
		for _, err := range errs {
			if err != nil {
				var myErr *mysql.MySQLError
				require.True(t, errors.As(err, &myErr), err)
				require.EqualValues(t, 1213, myErr.Number, err) // ER_LOCK_DEADLOCK
				deadlocked++
			}
		}
		require.Equal(t, 1, deadlocked)
		_ = a.Rollback()
		_ = b.Rollback()

		sqlTestWaitFor(t, "the deadlock counted", probe, func(r Result) bool {
			after, _ := sqlMetric(r, metricDBDeadlocksTotal)
			return after > before
		})

		// MySQL has no Innodb_deadlocks; the INNODB_METRICS counter it
		// falls back to reads on this server too.
		conn, err := admin.Conn(ctx)
		require.NoError(t, err)
		defer conn.Close()
		n, ok, err := mysqlDeadlockMetric(ctx, conn)
		require.NoError(t, err)
		if ok {
			require.GreaterOrEqual(t, n, int64(1))
		}
	})
}

func TestMySQLParseTarget(t *testing.T) {
	tests := []struct {
		target                   string
		user, pass, addr, dbName string
		params                   map[string]string
		err                      string
	}{
		{target: "root:pw@tcp(db:3307)/app", user: "root", pass: "pw", addr: "db:3307", dbName: "app"},
		{target: "mysql://u:p%40ss%2Fw@db.example.com/app?parseTime=true&sql_mode=ANSI", user: "u", pass: "p@ss/w", addr: "db.example.com:3306", dbName: "app", params: map[string]string{"sql_mode": "ANSI"}},
		{target: "mysql://u@[::1]:3310/", user: "u", addr: "[::1]:3310"},
		{target: "mysql://u@10.0.0.1/my%20db", user: "u", addr: "10.0.0.1:3306", dbName: "my db"},
		{target: "mysql:///app", err: "no host"},
		{target: "db:3306", err: "invalid DSN"},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			cfg, err := mysqlParseTarget(tt.target)
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.user, cfg.User)
			require.Equal(t, tt.pass, cfg.Passwd)
			require.Equal(t, "tcp", cfg.Net)
			require.Equal(t, tt.addr, cfg.Addr)
			require.Equal(t, tt.dbName, cfg.DBName)
			for k, v := range tt.params {
				require.Equal(t, v, cfg.Params[k])
			}
		})
	}
}

// TestSQLConnectTimeout points both kinds at a server that accepts and
// never answers: the run ends at the check's timeout, down.
func TestSQLConnectTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	go func() {
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				_ = c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	for _, tt := range []struct{ kind, target string }{
		{checkconfig.KindPostgres, "postgres://u:" + sqlTestPassword + "@" + ln.Addr().String() + "/db?sslmode=disable"},
		{checkconfig.KindMySQL, "u:" + sqlTestPassword + "@tcp(" + ln.Addr().String() + ")/db"},
	} {
		t.Run(tt.kind, func(t *testing.T) {
			c := sqlTestCheck(t, tt.kind, tt.target, checkconfig.Database{}, 0)
			c.Timeout = model.Duration(300 * time.Millisecond)
			_, o := sqlTestRun(t, c, Env{})
			require.Equal(t, StateDown, o.State)
			require.Equal(t, "connect failed: timed out", o.Reason)
			require.Less(t, o.Duration, 5*time.Second)
		})
	}
}
