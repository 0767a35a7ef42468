// Package statetest opens fresh state stores for tests, on SQLite and on
// PostgreSQL, so that every store test runs on both databases.
//
// PostgreSQL is reached through SAYPRO_TEST_POSTGRES_DSN, by default
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable; each test gets
// a database of its own, created from there and dropped when the test
// ends. When PostgreSQL cannot be reached the PostgreSQL variant fails if
// the CI environment variable is set and is skipped otherwise.
package statetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/saypro/monitor/internal/state"
)

// defaultPostgresDSN is the administrative connection used when
// SAYPRO_TEST_POSTGRES_DSN is not set.
const defaultPostgresDSN = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// Drivers lists the drivers every store test runs on.
var Drivers = []string{state.DriverSQLite, state.DriverPostgres}

// Run runs f as a subtest once per driver, each with a fresh database.
func Run(t *testing.T, f func(t *testing.T, db *state.DB)) {
	t.Helper()
	for _, driver := range Drivers {
		t.Run(driver, func(t *testing.T) {
			f(t, Open(t, driver))
		})
	}
}

// Options returns state.Options for a fresh, empty database of the
// driver; the database is removed when the test ends. Open has not been
// called on it.
func Options(t testing.TB, driver string) state.Options {
	t.Helper()
	logger := Logger(t)
	switch driver {
	case state.DriverSQLite:
		return state.Options{Driver: driver, DSN: filepath.Join(t.TempDir(), "state.db"), Logger: logger}
	case state.DriverPostgres:
		return state.Options{Driver: driver, DSN: freshPostgres(t), Logger: logger}
	}
	t.Fatalf("statetest: unknown driver %q", driver)
	return state.Options{}
}

// Open opens a fresh, migrated store of the driver, closed when the test
// ends.
func Open(t testing.TB, driver string) *state.DB {
	t.Helper()
	db, err := state.Open(t.Context(), Options(t, driver))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, db.Close()) })
	return db
}

// Logger returns a logger that discards everything unless the tests run
// with -v; then it writes text to stderr.
func Logger(t testing.TB) *slog.Logger {
	var w io.Writer = io.Discard
	if testing.Verbose() {
		w = os.Stderr
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// freshPostgres creates an empty database and returns its DSN.
func freshPostgres(t testing.TB) string {
	t.Helper()
	admin := os.Getenv("SAYPRO_TEST_POSTGRES_DSN")
	if admin == "" {
		admin = defaultPostgresDSN
	}
	db, err := sql.Open("pgx", admin)
	require.NoError(t, err)
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("PostgreSQL for the state store tests is unreachable at %s: %v (set SAYPRO_TEST_POSTGRES_DSN)", redact(admin), err)
		}
		t.Skipf("PostgreSQL unreachable at %s, skipping the PostgreSQL variant: %v", redact(admin), err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "saypro_test_" + hex.EncodeToString(b[:])
	_, err = db.ExecContext(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	require.NoError(t, err)
	t.Cleanup(func() {
		db, err := sql.Open("pgx", admin)
		require.NoError(t, err)
		defer db.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, err = db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
		require.NoError(t, err)
	})
	u, err := url.Parse(admin)
	require.NoError(t, err, "SAYPRO_TEST_POSTGRES_DSN must be a URL")
	u.Path = "/" + name
	return u.String()
}

func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(unparsable DSN)"
	}
	return u.Redacted()
}
