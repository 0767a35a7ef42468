package state

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// Drivers accepted in Options.Driver.
const (
	// DriverSQLite is the embedded default: a single file, no server.
	DriverSQLite = "sqlite"
	// DriverPostgres is PostgreSQL through pgx, for several servers
	// sharing one state.
	DriverPostgres = "postgres"
)

// SQLite connection settings, applied to every connection through the DSN.
const (
	// sqliteBusyTimeout is how long a connection waits for another
	// process's lock before SQLITE_BUSY.
	sqliteBusyTimeout = 10 * time.Second
	// postgresConnectTimeout bounds the first connection at Open when the
	// caller's context has no deadline.
	postgresConnectTimeout = 15 * time.Second
	// writeAttempts is how often WriteTx runs a transaction that failed
	// with a PostgreSQL serialization failure or deadlock.
	writeAttempts = 3
)

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrations embed.FS

// Options configure Open.
type Options struct {
	// Driver is "sqlite" (the default when empty) or "postgres".
	Driver string
	// DSN is, for sqlite, the database file's path (its directory is
	// created if missing); for postgres, a pgx connection URL or keyword
	// string such as postgres://user:pass@db.example.com:5432/saypro.
	DSN string
	// Logger is required.
	Logger *slog.Logger
}

// DB is an open, migrated state store. It is safe for concurrent use.
type DB struct {
	db     *sql.DB
	driver string
	logger *slog.Logger
	// writeSem serializes write transactions on SQLite (capacity 1); it
	// is nil on PostgreSQL.
	writeSem chan struct{}
	// where names the database in errors and logs, without secrets.
	where string
}

// Open opens the state store, configures its connections and applies the
// migrations this binary carries. The returned DB must be closed.
func Open(ctx context.Context, o Options) (*DB, error) {
	if o.Logger == nil {
		return nil, errors.New("state: Logger is required")
	}
	driver := o.Driver
	if driver == "" {
		driver = DriverSQLite
	}
	var (
		db  *DB
		err error
	)
	switch driver {
	case DriverSQLite:
		db, err = openSQLite(o.DSN, o.Logger)
	case DriverPostgres:
		db, err = openPostgres(ctx, o.DSN, o.Logger)
	default:
		return nil, fmt.Errorf("state: unknown driver %q: use %q (embedded, the default) or %q", o.Driver, DriverSQLite, DriverPostgres)
	}
	if err != nil {
		return nil, err
	}
	if err := db.migrate(ctx); err != nil {
		db.db.Close()
		return nil, err
	}
	return db, nil
}

func openSQLite(path string, logger *slog.Logger) (*DB, error) {
	switch {
	case path == "":
		return nil, errors.New("state: the SQLite database needs a file path (state.dsn)")
	case path == ":memory:" || strings.HasPrefix(path, "file:") || strings.Contains(path, "?"):
		return nil, fmt.Errorf("state: the SQLite DSN %q must be a plain file path: the server sets the connection options itself", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("state: creating the directory of the SQLite database %s: %w; check state.dsn and the data directory's permissions", path, err)
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", sqliteBusyTimeout.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(1)")
	// Write transactions take the write lock at BEGIN, so that two of them
	// never both read and then fail to upgrade (SQLITE_BUSY without waiting).
	// Read-only transactions still begin DEFERRED.
	q.Set("_txlock", "immediate")
	sqlDB, err := sql.Open("sqlite", path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("state: opening the SQLite database %s: %w", path, err)
	}
	// Readers run in parallel under WAL; writers queue on writeSem.
	conns := max(4, 2*runtime.GOMAXPROCS(0))
	sqlDB.SetMaxOpenConns(conns)
	sqlDB.SetMaxIdleConns(conns)
	sqlDB.SetConnMaxIdleTime(0)
	db := &DB{db: sqlDB, driver: DriverSQLite, logger: logger, writeSem: make(chan struct{}, 1), where: path}
	var mode string
	if err := sqlDB.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("state: cannot open the SQLite database %s: %w; check that its directory is writable by the server's user, or set state.dsn to another file", path, err)
	}
	if !strings.EqualFold(mode, "wal") {
		sqlDB.Close()
		return nil, fmt.Errorf("state: the SQLite database %s is in journal mode %q and cannot switch to WAL; put it on a local file system", path, mode)
	}
	return db, nil
}

func openPostgres(ctx context.Context, dsn string, logger *slog.Logger) (*DB, error) {
	if dsn == "" {
		return nil, errors.New("state: the postgres driver needs a connection URL in state.dsn, such as postgres://saypro@db.example.com:5432/saypro")
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// pgconn's parse errors already hide the password.
		return nil, fmt.Errorf("state: state.dsn is not a valid PostgreSQL connection string: %w", err)
	}
	where := fmt.Sprintf("%s (database %q, user %q)", postgresAddr(cfg.Host, cfg.Port), cfg.Database, cfg.User)
	sqlDB, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("state: opening PostgreSQL at %s: %w", where, err)
	}
	sqlDB.SetMaxOpenConns(20)
	sqlDB.SetMaxIdleConns(5)
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	pingCtx := ctx
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		pingCtx, cancel = context.WithTimeout(ctx, postgresConnectTimeout)
		defer cancel()
	}
	if err := sqlDB.PingContext(pingCtx); err != nil {
		sqlDB.Close()
		return nil, postgresOpenError(where, cfg, err)
	}
	return &DB{db: sqlDB, driver: DriverPostgres, logger: logger, where: where}, nil
}

// postgresAddr names a PostgreSQL server for messages: host:port, or the
// socket directory and port.
func postgresAddr(host string, port uint16) string {
	if strings.HasPrefix(host, "/") {
		return fmt.Sprintf("%s (port %d)", host, port)
	}
	return net.JoinHostPort(host, strconv.Itoa(int(port)))
}

// postgresOpenError explains a failed first connection and what to do.
func postgresOpenError(where string, cfg *pgx.ConnConfig, err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "3D000": // invalid_catalog_name
			return fmt.Errorf("state: PostgreSQL at %s has no database %q: create it (CREATE DATABASE %s OWNER %s) or fix state.dsn: %w",
				where, cfg.Database, pgx.Identifier{cfg.Database}.Sanitize(), pgx.Identifier{cfg.User}.Sanitize(), err)
		case "28P01", "28000": // invalid_password, invalid_authorization_specification
			return fmt.Errorf("state: PostgreSQL at %s refused the login of user %q: check the user and password in state.dsn and pg_hba.conf: %w", where, cfg.User, err)
		}
		return fmt.Errorf("state: PostgreSQL at %s refused the connection: %w", where, err)
	}
	return fmt.Errorf("state: cannot reach PostgreSQL at %s; the server keeps its state there and cannot start without it: start PostgreSQL or fix state.dsn (or use state.driver: sqlite for the embedded store): %w", where, err)
}

// migrate applies the embedded migrations of the DB's dialect.
func (db *DB) migrate(ctx context.Context) error {
	dir := "migrations/" + db.driver
	fsys, err := fs.Sub(migrations, dir)
	if err != nil {
		return fmt.Errorf("state: migrations %s: %w", dir, err)
	}
	dialect := goose.DialectSQLite3
	opts := []goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}
	if db.driver == DriverPostgres {
		dialect = goose.DialectPostgres
		// Several servers may start at once against one database.
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return fmt.Errorf("state: migration lock: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(dialect, db.db, fsys, opts...)
	if err != nil {
		return fmt.Errorf("state: loading migrations: %w", err)
	}
	current, target, err := p.GetVersions(ctx)
	if err != nil {
		return fmt.Errorf("state: reading the schema version of %s: %w", db.where, err)
	}
	if current > target {
		db.logger.Warn("state store schema is newer than this binary knows; a downgrade is not supported, upgrade the server",
			"db", db.where, "schema_version", current, "known_version", target)
		return nil
	}
	if current == target {
		db.logger.Debug("state store schema up to date", "db", db.where, "schema_version", current)
		return nil
	}
	start := time.Now()
	results, err := p.Up(ctx)
	for _, r := range results {
		if r.Error == nil {
			db.logger.Info("state store migration applied", "db", db.where, "version", r.Source.Version, "file", r.Source.Path, "took", r.Duration.Round(time.Millisecond))
		}
	}
	if err != nil {
		return fmt.Errorf("state: migrating %s from schema version %d to %d failed; nothing of the failed step was kept, fix the cause and restart: %w", db.where, current, target, err)
	}
	db.logger.Info("state store schema migrated", "db", db.where, "from", current, "to", target, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// SQL returns the underlying pool for queries. Write transactions should
// go through WriteTx, which serializes them on SQLite.
func (db *DB) SQL() *sql.DB { return db.db }

// Driver returns "sqlite" or "postgres".
func (db *DB) Driver() string { return db.driver }

// Close closes the pool. On SQLite it first lets the query planner update
// its statistics (PRAGMA optimize).
func (db *DB) Close() error {
	if db.driver == DriverSQLite {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if _, err := db.db.ExecContext(ctx, "PRAGMA optimize"); err != nil {
			db.logger.Debug("PRAGMA optimize failed", "err", err)
		}
		cancel()
	}
	return db.db.Close()
}

// WriteTx runs fn in a read-write transaction and commits it if fn returns
// nil; otherwise, or if fn panics, it rolls back. On SQLite write
// transactions run one at a time, in the order they asked, and wait for
// their turn as long as ctx allows. On PostgreSQL a transaction that fails
// with a serialization failure or a deadlock is run again, so fn may be
// called more than once and must not have effects outside tx.
func (db *DB) WriteTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if db.writeSem != nil {
		select {
		case db.writeSem <- struct{}{}:
		case <-ctx.Done():
			return fmt.Errorf("waiting for the state store's writer: %w", context.Cause(ctx))
		}
		defer func() { <-db.writeSem }()
	}
	for attempt := 1; ; attempt++ {
		err := db.runTx(ctx, fn)
		if err == nil || attempt == writeAttempts || !retryable(err) {
			return err
		}
		db.logger.Debug("retrying a write transaction", "attempt", attempt, "err", err)
		select {
		case <-time.After(time.Duration(attempt) * 10 * time.Millisecond):
		case <-ctx.Done():
			return err
		}
	}
}

// Exec runs one write statement in its own write transaction, with the
// queueing and retries of WriteTx.
func (db *DB) Exec(ctx context.Context, query string, args ...any) error {
	return db.WriteTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, query, args...)
		return err
	})
}

func (db *DB) runTx(ctx context.Context, fn func(tx *sql.Tx) error) (err error) {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("beginning a transaction: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback()
			panic(p)
		}
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("committing: %w", err)
	}
	return nil
}

// retryable reports whether a PostgreSQL transaction failed in a way that
// running it again can fix.
func retryable(err error) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return false
	}
	return pgErr.Code == "40001" || pgErr.Code == "40P01" // serialization_failure, deadlock_detected
}
