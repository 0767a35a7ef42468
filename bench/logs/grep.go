package main

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// grepResult is the timing of one grep over the raw text.
type grepResult struct {
	Name   string
	Locale string
	Args   []string
	Want   int
	Count  int
	Wall   time.Duration // median
	CPU    time.Duration // median, user + system
}

// runGreps times grep -c for the term, the needle and the regex over the
// raw file, in the UTF-8 locale and in the C locale. The file was just
// read by the replays, so it is in the page cache, as the store's files
// are for the warm searches.
func runGreps(rawPath string, g *genResult, runs int, logger *slog.Logger) ([]grepResult, error) {
	if _, err := exec.LookPath("grep"); err != nil {
		return nil, errors.New("grep not found in PATH")
	}
	cases := []struct {
		name string
		args []string
		want int
	}{
		{"term " + Term, []string{"-c", "-F", Term}, g.TermCount},
		{"needle " + Needle, []string{"-c", "-F", Needle}, g.NeedleCount},
		{"term -i " + Term, []string{"-c", "-i", "-F", Term}, g.TermCount},
		{"regex " + Regex, []string{"-c", "-E", Regex}, g.RegexCount},
	}
	var out []grepResult
	for _, locale := range []string{"C.UTF-8", "C"} {
		for _, c := range cases {
			r := grepResult{Name: c.name, Locale: locale, Args: c.args, Want: c.want}
			var walls, cpus []time.Duration
			for range runs {
				cmd := exec.Command("grep", append(append([]string{}, c.args...), rawPath)...)
				cmd.Env = append(os.Environ(), "LC_ALL="+locale)
				var stdout, stderr bytes.Buffer
				cmd.Stdout, cmd.Stderr = &stdout, &stderr
				t0 := time.Now()
				err := cmd.Run()
				wall := time.Since(t0)
				var exit *exec.ExitError
				if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 1) {
					return nil, fmt.Errorf("grep %s: %w: %s", strings.Join(c.args, " "), err, stderr.String())
				}
				n, err := strconv.Atoi(strings.TrimSpace(stdout.String()))
				if err != nil {
					return nil, fmt.Errorf("grep %s printed %q", strings.Join(c.args, " "), stdout.String())
				}
				r.Count = n
				walls = append(walls, wall)
				cpus = append(cpus, cmd.ProcessState.UserTime()+cmd.ProcessState.SystemTime())
			}
			r.Wall, r.CPU = median(walls), median(cpus)
			logger.Info("grep", "case", c.name, "locale", locale, "count", r.Count, "want", r.Want, "wall", r.Wall)
			out = append(out, r)
		}
	}
	return out, nil
}
