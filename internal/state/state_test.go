package state_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/saypro/monitor/internal/state"
	"github.com/saypro/monitor/internal/state/statetest"
)

func TestOpenMigratesFromEmptyAndIsIdempotent(t *testing.T) {
	for _, driver := range statetest.Drivers {
		t.Run(driver, func(t *testing.T) {
			o := statetest.Options(t, driver)
			db, err := state.Open(t.Context(), o)
			require.NoError(t, err)
			require.Equal(t, driver, db.Driver())

			for _, table := range []string{"hosts", "host_labels", "host_events", "check_states", "heartbeat_pings", "check_registry", "incidents", "incident_alerts", "incident_events", "incident_settings", "users", "sessions", "api_tokens", "audit_log"} {
				var n int
				require.NoError(t, db.SQL().QueryRowContext(t.Context(), "SELECT COUNT(*) FROM "+table).Scan(&n), table)
				require.Zero(t, n, table)
			}
			var version int64
			require.NoError(t, db.SQL().QueryRowContext(t.Context(), "SELECT MAX(version_id) FROM goose_db_version").Scan(&version))
			require.EqualValues(t, 4, version)

			_, err = db.SQL().ExecContext(t.Context(),
				"INSERT INTO hosts (instance, first_seen_ms, last_seen_ms, status, status_since_ms) VALUES ($1, $2, $2, $3, $2)",
				"web-1", int64(1700000000000), "up")
			require.NoError(t, err)
			require.NoError(t, db.Close())

			// A second Open of the same database applies nothing and keeps the data.
			db, err = state.Open(t.Context(), o)
			require.NoError(t, err)
			defer db.Close()
			var instance string
			require.NoError(t, db.SQL().QueryRowContext(t.Context(), "SELECT instance FROM hosts WHERE last_seen_ms = $1", int64(1700000000000)).Scan(&instance))
			require.Equal(t, "web-1", instance)
			var migrations int
			require.NoError(t, db.SQL().QueryRowContext(t.Context(), "SELECT COUNT(*) FROM goose_db_version WHERE version_id > 0").Scan(&migrations))
			require.Equal(t, 4, migrations)
		})
	}
}

func TestSQLiteConnectionSettings(t *testing.T) {
	db := statetest.Open(t, state.DriverSQLite)
	// Every pooled connection must carry the settings, not only the first.
	conns := make([]*sql.Conn, 3)
	for i := range conns {
		c, err := db.SQL().Conn(t.Context())
		require.NoError(t, err)
		defer c.Close()
		conns[i] = c
	}
	for _, c := range conns {
		for _, tc := range []struct {
			pragma string
			want   string
		}{
			{"journal_mode", "wal"},
			{"foreign_keys", "1"},
			{"synchronous", "1"}, // NORMAL
			{"busy_timeout", "10000"},
		} {
			var got string
			require.NoError(t, c.QueryRowContext(t.Context(), "PRAGMA "+tc.pragma).Scan(&got))
			require.Equal(t, tc.want, strings.ToLower(got), tc.pragma)
		}
	}
}

func TestForeignKeysEnforced(t *testing.T) {
	statetest.Run(t, func(t *testing.T, db *state.DB) {
		_, err := db.SQL().ExecContext(t.Context(),
			"INSERT INTO host_events (instance, time_ms, kind, message) VALUES ($1, $2, $3, $4)",
			"nobody", int64(1), "registered", "x")
		require.Error(t, err)
	})
}

func TestOpenErrors(t *testing.T) {
	notADir := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(notADir, []byte("x"), 0o600))
	for _, tc := range []struct {
		name string
		o    state.Options
		want []string
	}{
		{"unknown driver", state.Options{Driver: "mysql", DSN: "x"}, []string{`unknown driver "mysql"`, `"sqlite"`, `"postgres"`}},
		{"sqlite without path", state.Options{Driver: "sqlite"}, []string{"needs a file path", "state.dsn"}},
		{"sqlite in memory", state.Options{DSN: ":memory:"}, []string{"plain file path"}},
		{"sqlite with options", state.Options{DSN: "/tmp/x.db?_pragma=foo"}, []string{"plain file path"}},
		{"sqlite directory is a file", state.Options{DSN: filepath.Join(notADir, "state.db")}, []string{"creating the directory", "permissions"}},
		{"postgres without DSN", state.Options{Driver: "postgres"}, []string{"needs a connection URL", "state.dsn"}},
		{"postgres bad DSN", state.Options{Driver: "postgres", DSN: "postgres://u:secret@[::1"}, []string{"not a valid PostgreSQL connection string"}},
		{
			"postgres unreachable",
			state.Options{Driver: "postgres", DSN: "postgres://saypro:secret@127.0.0.1:1/saypro?sslmode=disable&connect_timeout=2"},
			[]string{"cannot reach PostgreSQL at 127.0.0.1:1", `database "saypro"`, "start PostgreSQL or fix state.dsn"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.o.Logger = statetest.Logger(t)
			db, err := state.Open(t.Context(), tc.o)
			require.Error(t, err)
			require.Nil(t, db)
			for _, w := range tc.want {
				require.Contains(t, err.Error(), w)
			}
			require.NotContains(t, err.Error(), "secret")
		})
	}
	t.Run("logger required", func(t *testing.T) {
		_, err := state.Open(t.Context(), state.Options{DSN: filepath.Join(t.TempDir(), "x.db")})
		require.ErrorContains(t, err, "Logger is required")
	})
}

func TestPostgresMissingDatabase(t *testing.T) {
	o := statetest.Options(t, state.DriverPostgres) // skips or fails without PostgreSQL
	o.DSN = strings.Replace(o.DSN, "/saypro_test_", "/saypro_missing_", 1)
	_, err := state.Open(t.Context(), o)
	require.Error(t, err)
	require.Contains(t, err.Error(), "has no database")
	require.Contains(t, err.Error(), "CREATE DATABASE")
}

func TestWriteTx(t *testing.T) {
	statetest.Run(t, func(t *testing.T, db *state.DB) {
		ctx := t.Context()
		insert := func(tx *sql.Tx, instance string) error {
			_, err := tx.ExecContext(ctx,
				"INSERT INTO hosts (instance, first_seen_ms, last_seen_ms, status, status_since_ms) VALUES ($1, 0, 0, 'up', 0)", instance)
			return err
		}
		count := func() int {
			var n int
			require.NoError(t, db.SQL().QueryRowContext(ctx, "SELECT COUNT(*) FROM hosts").Scan(&n))
			return n
		}

		require.NoError(t, db.WriteTx(ctx, func(tx *sql.Tx) error { return insert(tx, "a") }))
		require.Equal(t, 1, count())

		boom := errors.New("boom")
		err := db.WriteTx(ctx, func(tx *sql.Tx) error {
			require.NoError(t, insert(tx, "b"))
			return boom
		})
		require.ErrorIs(t, err, boom)
		require.Equal(t, 1, count(), "rolled back on error")

		require.Panics(t, func() {
			_ = db.WriteTx(ctx, func(tx *sql.Tx) error {
				require.NoError(t, insert(tx, "c"))
				panic("oops")
			})
		})
		require.Equal(t, 1, count(), "rolled back on panic")

		// The writer is free again after a panic.
		require.NoError(t, db.WriteTx(ctx, func(tx *sql.Tx) error { return insert(tx, "d") }))
		require.Equal(t, 2, count())

		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		require.Error(t, db.WriteTx(cancelled, func(tx *sql.Tx) error { return insert(tx, "e") }))
	})
}

func TestExec(t *testing.T) {
	statetest.Run(t, func(t *testing.T, db *state.DB) {
		ctx := t.Context()
		require.NoError(t, db.Exec(ctx, "INSERT INTO hosts (instance, first_seen_ms, last_seen_ms, status, status_since_ms) VALUES ($1, 0, 0, 'up', 0)", "a"))
		var n int
		require.NoError(t, db.SQL().QueryRowContext(ctx, "SELECT COUNT(*) FROM hosts WHERE instance = $1", "a").Scan(&n))
		require.Equal(t, 1, n)
		require.Error(t, db.Exec(ctx, "INSERT INTO no_such_table VALUES ($1)", 1))
	})
}

func TestWriteTxConcurrent(t *testing.T) {
	statetest.Run(t, func(t *testing.T, db *state.DB) {
		ctx := t.Context()
		_, err := db.SQL().ExecContext(ctx,
			"INSERT INTO hosts (instance, cpus, first_seen_ms, last_seen_ms, status, status_since_ms) VALUES ('counter', 0, 0, 0, 'up', 0)")
		require.NoError(t, err)
		const writers, each = 20, 10
		var wg sync.WaitGroup
		errs := make(chan error, 2*writers*each)
		for range writers {
			wg.Go(func() {
				for range each {
					// A read followed by a write in one transaction: the
					// pattern that fails with SQLITE_BUSY without a single
					// writer and IMMEDIATE transactions.
					errs <- db.WriteTx(ctx, func(tx *sql.Tx) error {
						var n int
						if err := tx.QueryRowContext(ctx, "SELECT cpus FROM hosts WHERE instance = $1", "counter").Scan(&n); err != nil {
							return err
						}
						_, err := tx.ExecContext(ctx, "UPDATE hosts SET cpus = cpus + 1, last_seen_ms = $2 WHERE instance = $1", "counter", int64(n))
						return err
					})
				}
			})
			// Readers run alongside.
			wg.Go(func() {
				for range each {
					var n int
					errs <- db.SQL().QueryRowContext(ctx, "SELECT cpus FROM hosts WHERE instance = $1", "counter").Scan(&n)
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		var n int
		require.NoError(t, db.SQL().QueryRowContext(ctx, "SELECT cpus FROM hosts WHERE instance = 'counter'").Scan(&n))
		require.Equal(t, writers*each, n)
	})
}
