package probe

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/saypro/monitor/internal/config/checkconfig"
)

// The database tests run against real servers: PostgreSQL on
// 127.0.0.1:5432 (user postgres, database test) and MariaDB or MySQL on
// 127.0.0.1:3306 (root, database test). SAYPRO_TEST_POSTGRES_DSN and
// SAYPRO_TEST_MYSQL_DSN point them elsewhere. An unreachable server skips
// the tests, unless CI is set.
const sqlTestPassword = "s3cret-Pw-4711"

func pgTestDSN() string {
	if dsn := os.Getenv("SAYPRO_TEST_POSTGRES_DSN"); dsn != "" {
		return dsn
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

// sqlTestUnreachable skips the test, or fails it when CI is set.
func sqlTestUnreachable(t *testing.T, what, dsn string, err error) {
	t.Helper()
	msg := fmt.Sprintf("%s not reachable at %s (%v); start it or set the DSN variable to run this test", what, RedactTarget(dsn), err)
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// pgTestConn connects to the test server, skipping the test when it is
// down; the connection is closed at the end of the test.
func pgTestConn(t *testing.T) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, pgTestDSN())
	if err != nil {
		sqlTestUnreachable(t, "PostgreSQL", pgTestDSN(), err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

// sqlTestCheck is a validated check of kind on target, with its defaults
// filled in as the configuration loader would.
func sqlTestCheck(t *testing.T, kind, target string, db checkconfig.Database, latency time.Duration) *checkconfig.Check {
	t.Helper()
	c := &checkconfig.Check{
		Name: "db-check", Kind: kind, Target: target,
		Interval: checkconfig.DefaultInterval, Timeout: checkconfig.DefaultTimeout,
		Thresholds: checkconfig.Thresholds{Latency: model.Duration(latency)},
	}
	if kind == checkconfig.KindPostgres {
		c.Postgres = &db
	} else {
		c.MySQL = &db
	}
	require.Empty(t, c.Validate("checks", 0))
	return c
}

// sqlTestRun builds the check's prober and runs it once.
func sqlTestRun(t *testing.T, c *checkconfig.Check, env Env) (Result, Outcome) {
	t.Helper()
	p, err := New(c, env)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), c.EffectiveTimeout())
	defer cancel()
	start := time.Now()
	r := p.Probe(ctx)
	return r, Evaluate(c, "server", start, time.Since(start), r)
}

// sqlMetric returns the value of the result's sample name.
func sqlMetric(r Result, name string) (float64, bool) {
	for _, m := range r.Metrics {
		if m.Name == name {
			return m.Value, true
		}
	}
	return 0, false
}

func sqlTestTable(t *testing.T, prefix string) string {
	return fmt.Sprintf("%s_%d", prefix, time.Now().UnixNano())
}

// sqlTestWaitFor probes until cond holds, for up to 15 seconds.
func sqlTestWaitFor(t *testing.T, what string, probe func() Result, cond func(Result) bool) Result {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		r := probe()
		if cond(r) {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("the check did not see %s within 15s; last metrics: %v", what, r.Metrics)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestPostgresProbe(t *testing.T) {
	pgTestConn(t)
	dsn := pgTestDSN()
	env := Env{Getenv: func(name string) string {
		if name == "SAYPRO_TEST_PG_PASSWORD" {
			return sqlTestPassword
		}
		return ""
	}}
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
				for _, name := range []string{metricDBLockWaits, metricDBDeadlocksTotal, metricDBLongestTx} {
					v, ok := sqlMetric(r, name)
					require.True(t, ok, name)
					require.GreaterOrEqual(t, v, 0.0, name)
				}
				// A primary without standbys has no replication lag.
				_, ok = sqlMetric(r, metricDBReplicationLag)
				require.False(t, ok)
				i := slices.IndexFunc(r.Metrics, func(m Metric) bool { return m.Name == metricDBInfo })
				require.GreaterOrEqual(t, i, 0)
				require.Equal(t, "version", r.Metrics[i].Labels[0].Name)
				require.Regexp(t, `^\d+`, r.Metrics[i].Labels[0].Value)
			},
		},
		{
			name:   "key=value DSN",
			target: "host=127.0.0.1 port=5432 user=postgres dbname=test sslmode=disable",
			state:  StateUp,
		},
		{
			name:   "custom query is timed",
			target: dsn,
			db:     checkconfig.Database{Query: "SELECT pg_sleep(0.05)"},
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
			db:      checkconfig.Database{Query: "SELECT pg_sleep(0.2)"},
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
			reason: `query failed: relation "saypro_no_such_table" does not exist`,
		},
		{
			name:   "unknown user",
			target: dsn,
			db:     checkconfig.Database{Username: "saypro_no_such_user", Password: sqlTestPassword},
			state:  StateDown,
			reason: `connect failed: role "saypro_no_such_user" does not exist`,
		},
		{
			name:   "unknown user, password from the environment",
			target: dsn,
			db:     checkconfig.Database{Username: "saypro_no_such_user", PasswordEnv: "SAYPRO_TEST_PG_PASSWORD"},
			state:  StateDown,
			reason: `role "saypro_no_such_user" does not exist`,
		},
		{
			name:   "unreachable port, password in the DSN",
			target: "postgres://postgres:" + sqlTestPassword + "@127.0.0.1:1/test?sslmode=disable",
			state:  StateDown,
			reason: "connection refused",
		},
		{
			name:   "unreachable port, key=value DSN",
			target: "host=127.0.0.1 port=1 user=postgres password=" + sqlTestPassword + " dbname=test sslmode=disable",
			db:     checkconfig.Database{Password: sqlTestPassword + "x"},
			state:  StateDown,
			reason: "connection refused",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := sqlTestCheck(t, checkconfig.KindPostgres, tt.target, tt.db, cmp.Or(tt.latency, 10*time.Second))
			r, o := sqlTestRun(t, c, env)
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

func TestPostgresPasswordEnv(t *testing.T) {
	pgTestConn(t)
	db := checkconfig.Database{Username: "postgres", PasswordEnv: "SAYPRO_TEST_PG_PASSWORD"}
	c := sqlTestCheck(t, checkconfig.KindPostgres, pgTestDSN(), db, 0)

	// An unset variable is shown on the check, not a configuration error.
	p, err := New(c, Env{Getenv: func(string) string { return "" }})
	require.NoError(t, err)
	r := p.Probe(t.Context())
	require.False(t, r.Success)
	require.Contains(t, r.Reason, "environment variable SAYPRO_TEST_PG_PASSWORD is empty or not set")

	// The test server trusts 127.0.0.1, so any password is accepted; what
	// is checked is that the variable is read and the run succeeds.
	var asked []string
	env := Env{Getenv: func(name string) string {
		asked = append(asked, name)
		return sqlTestPassword
	}}
	_, o := sqlTestRun(t, c, env)
	require.Equal(t, []string{"SAYPRO_TEST_PG_PASSWORD"}, asked)
	require.NotEqual(t, StateDown, o.State, o.Reason)
}

func TestPostgresBadTarget(t *testing.T) {
	c := &checkconfig.Check{
		Name: "pg", Kind: checkconfig.KindPostgres, Target: "postgres://u:" + sqlTestPassword + "@host:notaport/db",
		Interval: checkconfig.DefaultInterval, Timeout: checkconfig.DefaultTimeout,
	}
	require.Empty(t, c.Validate("checks", 0))
	_, err := New(c, Env{})
	require.Error(t, err)
	require.NotContains(t, err.Error(), sqlTestPassword)
}

// TestPostgresLocksAndDeadlocks makes a row lock wait and a deadlock and
// sees the check count them.
func TestPostgresLocksAndDeadlocks(t *testing.T) {
	admin := pgTestConn(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	table := sqlTestTable(t, "saypro_probe_pg")
	_, err := admin.Exec(ctx, fmt.Sprintf(`CREATE TABLE %s (id int PRIMARY KEY, v int); INSERT INTO %[1]s VALUES (1, 0), (2, 0)`, table))
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = admin.Exec(context.Background(), "DROP TABLE IF EXISTS "+table) })

	c := sqlTestCheck(t, checkconfig.KindPostgres, pgTestDSN(), checkconfig.Database{}, 10*time.Second)
	p, err := New(c, Env{})
	require.NoError(t, err)
	probe := func() Result {
		pctx, pcancel := context.WithTimeout(ctx, 10*time.Second)
		defer pcancel()
		r := p.Probe(pctx)
		require.True(t, r.Success, r.Reason)
		return r
	}
	waitFor := func(what string, cond func(Result) bool) Result {
		return sqlTestWaitFor(t, what, probe, cond)
	}
	begin := func() pgx.Tx {
		conn := pgTestConn(t)
		_, err := conn.Exec(ctx, "SET lock_timeout = '30s'")
		require.NoError(t, err)
		tx, err := conn.Begin(ctx)
		require.NoError(t, err)
		t.Cleanup(func() { _ = tx.Rollback(context.Background()) })
		return tx
	}
	update := func(tx pgx.Tx, id int) error {
		_, err := tx.Exec(ctx, fmt.Sprintf("UPDATE %s SET v = v + 1 WHERE id = %d", table, id))
		return err
	}

	t.Run("lock wait", func(t *testing.T) {
		a, b := begin(), begin()
		require.NoError(t, update(a, 1))
		waited := make(chan error, 1)
		go func() { waited <- update(b, 1) }()

		r := waitFor("a lock wait", func(r Result) bool {
			v, _ := sqlMetric(r, metricDBLockWaits)
			return v >= 1
		})
		require.Empty(t, r.Warning, "waiting is reported, not degraded")

		require.NoError(t, a.Rollback(ctx))
		require.NoError(t, <-waited)
		require.NoError(t, b.Rollback(ctx))
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
			tx pgx.Tx
			id int
		}{{a, 2}, {b, 1}} {
			wg.Go(func() {
				errs[i] = update(step.tx, step.id)
				if errs[i] != nil {
					_ = step.tx.Rollback(ctx) // lets the other one finish
				}
			})
		}
		wg.Wait()
		var pgErr *pgconn.PgError
		deadlocked := 0
		for _, err := range errs {
			if err != nil {
				require.True(t, errors.As(err, &pgErr), err)
				require.Equal(t, "40P01", pgErr.Code, err)
				deadlocked++
			}
		}
		require.Equal(t, 1, deadlocked)
		_ = a.Rollback(ctx)
		_ = b.Rollback(ctx)

		// The deadlocking backend reports to the statistics within a second
		// or so.
		waitFor("the deadlock counted", func(r Result) bool {
			after, _ := sqlMetric(r, metricDBDeadlocksTotal)
			return after > before
		})
	})
}

// TestPostgresLongestTransaction keeps a transaction open and sees its age.
func TestPostgresLongestTransaction(t *testing.T) {
	conn := pgTestConn(t)
	ctx := context.Background()
	tx, err := conn.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback(ctx) }()
	_, err = tx.Exec(ctx, "SELECT txid_current()")
	require.NoError(t, err)
	time.Sleep(1100 * time.Millisecond)

	c := sqlTestCheck(t, checkconfig.KindPostgres, pgTestDSN(), checkconfig.Database{}, 10*time.Second)
	r, o := sqlTestRun(t, c, Env{})
	require.Equal(t, StateUp, o.State, o.Reason)
	longest, ok := sqlMetric(r, metricDBLongestTx)
	require.True(t, ok)
	require.GreaterOrEqual(t, longest, 1.0)
}

func TestSQLScrub(t *testing.T) {
	tests := []struct {
		msg, target string
		passwords   []string
		want        string
	}{
		{"cannot parse `postgres://u:pw1@h/db`", "postgres://u:pw1@h/db", nil, "cannot parse `postgres://u:xxxxx@h/db`"},
		{"Access denied for u:topsecret", "u@tcp(h)/db", []string{"topsecret"}, "Access denied for u:xxxxx"},
		{"line one\n\tline two", "", []string{""}, "line one line two"},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, sqlScrub(tt.msg, tt.target, tt.passwords...))
	}
}
