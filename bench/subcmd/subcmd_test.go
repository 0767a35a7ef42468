package subcmd

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	tool := Tool{Name: "tool", Commands: []Command{
		{Name: "ok", Summary: "succeed", Run: func(_ context.Context, args []string, stdout io.Writer, _ *slog.Logger) error {
			_, err := io.WriteString(stdout, strings.Join(args, ","))
			return err
		}},
		{Name: "fail", Summary: "fail", Run: func(context.Context, []string, io.Writer, *slog.Logger) error {
			return errors.New("it broke")
		}},
		{Name: "flags", Summary: "take one flag", Run: func(_ context.Context, args []string, _ io.Writer, _ *slog.Logger) error {
			fs := NewFlagSet("tool", "flags", "Takes --n.")
			fs.SetOutput(io.Discard)
			n := fs.Int("n", 1, "a positive number")
			if err := Parse(fs, args); err != nil {
				return err
			}
			if *n < 1 {
				return Usagef("--n %d is not positive", *n)
			}
			return nil
		}},
		FreePort("tool"),
	}}
	usage := "Usage: tool <command> [flags]\n\nCommands:\n" +
		"  ok        succeed\n" +
		"  fail      fail\n" +
		"  flags     take one flag\n" +
		"  freeport  print a free TCP port on 127.0.0.1\n" +
		"\nRun \"tool <command> --help\" for the flags of a command.\n"
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string // exactly, unless logged
		logged string // a part of the log, "" for none
		port   bool   // stdout is a port number
	}{
		{"no command", nil, 2, "", usage, "", false},
		{"-h", []string{"-h"}, 0, "", usage, "", false},
		{"--help", []string{"--help"}, 0, "", usage, "", false},
		{"help", []string{"help"}, 0, "", usage, "", false},
		{"unknown", []string{"nope"}, 2, "", "tool: unknown command \"nope\"\n\n" + usage, "", false},
		{"success, args passed on", []string{"ok", "a", "b"}, 0, "a,b", "", "", false},
		{"failure is logged", []string{"fail"}, 1, "", "", `msg=failed command=fail err="it broke"`, false},
		{"flags fine", []string{"flags", "--n", "2"}, 0, "", "", "", false},
		{"flag --help", []string{"flags", "--help"}, 0, "", "", "", false},
		{"bad flag", []string{"flags", "--m"}, 2, "", "tool flags: flag provided but not defined: -m\n", "", false},
		{"extra argument", []string{"flags", "x"}, 2, "", "tool flags: unexpected arguments [\"x\"]\n", "", false},
		{"usage error of the command", []string{"flags", "--n", "0"}, 2, "", "tool flags: --n 0 is not positive\n", "", false},
		{"freeport", []string{"freeport"}, 0, "", "", "", true},
		{"freeport with an argument", []string{"freeport", "x"}, 2, "", "tool freeport: unexpected arguments [\"x\"]\n", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, errOut, log bytes.Buffer
			defer func(w io.Writer) { stderr = w }(stderr)
			stderr = &errOut
			code := tool.Run(context.Background(), tc.args, &stdout, slog.New(slog.NewTextHandler(&log, nil)))
			if code != tc.code {
				t.Errorf("exit code %d, want %d", code, tc.code)
			}
			if tc.port {
				port, err := strconv.Atoi(strings.TrimSuffix(stdout.String(), "\n"))
				if err != nil || port <= 0 || port > 65535 {
					t.Errorf("stdout %q, want a port", stdout.String())
				}
			} else if stdout.String() != tc.stdout {
				t.Errorf("stdout %q, want %q", stdout.String(), tc.stdout)
			}
			if errOut.String() != tc.stderr {
				t.Errorf("stderr %q, want %q", errOut.String(), tc.stderr)
			}
			if tc.logged == "" && log.Len() > 0 || !strings.Contains(log.String(), tc.logged) {
				t.Errorf("log %q, want %q", log.String(), tc.logged)
			}
		})
	}
}

func TestNewFlagSetUsage(t *testing.T) {
	fs := NewFlagSet("tool", "cmd", "Does things.")
	var out bytes.Buffer
	fs.SetOutput(&out)
	fs.Int("n", 3, "how many")
	err := Parse(fs, []string{"-h"})
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("Parse(-h) = %v, want flag.ErrHelp", err)
	}
	want := "Usage: tool cmd [flags]\n\nDoes things.\n\nFlags:\n  -n int\n    \thow many (default 3)\n"
	if out.String() != want {
		t.Fatalf("usage %q, want %q", out.String(), want)
	}
}

func TestKeyValue(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want map[string]string
		err  bool
	}{
		{[]string{"go=1.26", "host=a=b", "empty="}, map[string]string{"go": "1.26", "host": "a=b", "empty": ""}, false},
		{[]string{"novalue"}, nil, true},
		{[]string{"=x"}, nil, true},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			fs := NewFlagSet("tool", "cmd", "")
			fs.SetOutput(io.Discard)
			m := map[string]string{}
			fs.Func("label", "key=value", KeyValue(m))
			var args []string
			for _, a := range tc.args {
				args = append(args, "--label", a)
			}
			err := Parse(fs, args)
			if tc.err {
				if !errors.As(err, new(usageError)) || !strings.Contains(err.Error(), "want key=value") {
					t.Fatalf("err %v, want a usage error", err)
				}
				return
			}
			if err != nil || fmt.Sprint(m) != fmt.Sprint(tc.want) {
				t.Fatalf("got %v, %v; want %v", m, err, tc.want)
			}
		})
	}
}
