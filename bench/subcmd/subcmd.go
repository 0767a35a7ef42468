// Package subcmd is the command line shared by the benchmark tools
// (bench/agent/scrapeload and bench/ingest/loadgen): running one
// subcommand with the exit codes their run.sh scripts rely on, flag sets
// whose errors are returned instead of printed and exited on, usage
// errors, key=value flags, and the freeport subcommand. It uses the
// standard library only.
package subcmd

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
)

// Func runs a subcommand; args are the arguments after its name.
type Func func(ctx context.Context, args []string, stdout io.Writer, logger *slog.Logger) error

// Command is one subcommand.
type Command struct {
	Name    string
	Summary string // one line, for the tool's usage
	Run     Func
}

// Tool is a command made of subcommands.
type Tool struct {
	Name     string    // the command's name, e.g. "loadgen"
	Commands []Command // in the order of the usage
}

// stderr is where usage goes; tests replace it.
var stderr io.Writer = os.Stderr

// Main runs the subcommand that os.Args names, with a context that SIGINT
// and SIGTERM cancel and an info-level text logger on stderr, and exits
// with Run's code.
func (t Tool) Main() {
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := t.Run(ctx, os.Args[1:], os.Stdout, logger)
	stop()
	os.Exit(code)
}

// Run executes one subcommand and returns the exit code: 0 success,
// 1 failure, 2 bad usage.
func (t Tool) Run(ctx context.Context, args []string, stdout io.Writer, logger *slog.Logger) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, t.usage())
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	i := slices.IndexFunc(t.Commands, func(c Command) bool { return c.Name == args[0] })
	if i < 0 {
		fmt.Fprintf(stderr, "%s: unknown command %q\n\n%s", t.Name, args[0], t.usage())
		return 2
	}
	err := t.Commands[i].Run(ctx, args[1:], stdout, logger)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, new(usageError)):
		fmt.Fprintf(stderr, "%s %s: %v\n", t.Name, args[0], err)
		return 2
	}
	logger.Error("failed", "command", args[0], "err", err)
	return 1
}

// usage lists the commands with their summaries.
func (t Tool) usage() string {
	width := 0
	for _, c := range t.Commands {
		width = max(width, len(c.Name))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: %s <command> [flags]\n\nCommands:\n", t.Name)
	for _, c := range t.Commands {
		fmt.Fprintf(&b, "  %-*s  %s\n", width, c.Name, c.Summary)
	}
	fmt.Fprintf(&b, "\nRun \"%s <command> --help\" for the flags of a command.\n", t.Name)
	return b.String()
}

// usageError is a bad flag or argument.
type usageError struct{ error }

// Usagef returns a usage error (a bad flag or argument; exit code 2)
// formatted as fmt.Errorf does.
func Usagef(format string, a ...any) error {
	return usageError{fmt.Errorf(format, a...)}
}

// NewFlagSet makes a flag set for subcommand name of tool whose errors are
// returned, not printed and exited on; synopsis goes in its usage.
func NewFlagSet(tool, name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: %s %s [flags]\n\n%s\n\nFlags:\n", tool, name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// Parse parses args into fs and refuses arguments after the flags. A bad
// flag or an argument is a usage error; --help returns flag.ErrHelp.
func Parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return Usagef("unexpected arguments %q", fs.Args())
	}
	return nil
}

// KeyValue returns the parser of a repeatable flag of key=value pairs
// (for flag.FlagSet.Func) that adds each to m; the key may not be empty.
func KeyValue(m map[string]string) func(string) error {
	return func(s string) error {
		k, v, ok := strings.Cut(s, "=")
		if !ok || k == "" {
			return errors.New("want key=value")
		}
		m[k] = v
		return nil
	}
}

// FreePort is the freeport subcommand of tool: it prints a TCP port on
// 127.0.0.1 that was free a moment ago.
func FreePort(tool string) Command {
	return Command{
		Name:    "freeport",
		Summary: "print a free TCP port on 127.0.0.1",
		Run: func(_ context.Context, args []string, stdout io.Writer, _ *slog.Logger) error {
			return freePort(tool, args, stdout)
		},
	}
}

func freePort(tool string, args []string, stdout io.Writer) error {
	fs := NewFlagSet(tool, "freeport", "Prints a TCP port on 127.0.0.1 that was free a moment ago.")
	if err := Parse(fs, args); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	if err := ln.Close(); err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, port)
	return err
}
