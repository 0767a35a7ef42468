package main

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/saypro/monitor/internal/auth"
	"github.com/saypro/monitor/internal/config"
	"github.com/saypro/monitor/internal/state"
)

// runUser manages users from the command line, on the server's state
// store; today only the recovery of a lost password.
func runUser(args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) == 0 || args[0] != "reset-password" {
		fmt.Fprintln(stderr, "usage: saypro-monitor user reset-password [--config FILE] [--data-dir DIR] NAME")
		return exitUsage
	}
	fs := flag.NewFlagSet("user reset-password", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configFile := fs.String("config", "", "the server's configuration file (env SAYPRO_CONFIG), for its state store")
	dataDir := fs.String("data-dir", "", "the server's data directory (env SAYPRO_DATA_DIR), when the state store is the default SQLite file")
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage: saypro-monitor user reset-password [flags] NAME

Sets a new password for the user NAME and enables the account, ending its sessions.
The password is read from SAYPRO_NEW_PASSWORD, or else from the first line of standard
input. Run it on the server's machine, with the server's configuration.

Flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return exitUsage
	}
	name := fs.Arg(0)
	cfg := config.Default()
	if f := cmp.Or(*configFile, getenv("SAYPRO_CONFIG")); f != "" {
		var err error
		if cfg, err = config.LoadFile(f); err != nil {
			fmt.Fprintf(stderr, "saypro-monitor user: %v\n", err)
			return exitUsage
		}
	}
	if d := cmp.Or(*dataDir, getenv("SAYPRO_DATA_DIR")); d != "" {
		cfg.Server.DataDir = d
	}
	pw := getenv("SAYPRO_NEW_PASSWORD")
	if pw == "" {
		fmt.Fprintf(stderr, "New password for %s (at least %d characters): ", name, auth.MinPasswordLength)
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && line == "" {
			fmt.Fprintln(stderr, "\nsaypro-monitor user: no password given: set SAYPRO_NEW_PASSWORD or type it")
			return exitUsage
		}
		pw = strings.TrimRight(line, "\r\n")
	}
	dsn := cfg.StateDSN()
	if cfg.State.Driver == "sqlite" {
		// Opening would create an empty store where none is.
		if _, err := os.Stat(dsn); err != nil {
			fmt.Fprintf(stderr, "saypro-monitor user: no state store at %s: pass the server's --data-dir or --config\n", dsn)
			return exitError
		}
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx := context.Background()
	db, err := state.Open(ctx, state.Options{Driver: cfg.State.Driver, DSN: dsn, Logger: logger})
	if err != nil {
		fmt.Fprintf(stderr, "saypro-monitor user: opening the state store: %v\n", err)
		return exitError
	}
	defer db.Close()
	svc, err := auth.New(auth.Options{DB: db, Logger: logger})
	if err == nil {
		err = svc.ResetPassword(ctx, name, pw)
	}
	if err != nil {
		fmt.Fprintf(stderr, "saypro-monitor user: %v\n", err)
		return exitError
	}
	fmt.Fprintf(stdout, "password of %s reset; the account is enabled and its sessions ended\n", name)
	return exitOK
}
