// Package promtext reads just enough of the Prometheus text exposition
// format for the benchmark tools (bench/agent/scrapeload and
// bench/ingest/loadgen): the samples of the metrics they ask for. It uses
// the standard library only.
package promtext

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Scan reads a text exposition from r and calls fn for every sample of the
// named metrics, in order, with the metric name, its label set as written
// between the braces (unparsed; "" if the line has none) and its value. A
// timestamp after the value is ignored, as are comments and empty lines.
// A malformed line of a named metric, or an error from fn, ends the scan
// with an error that quotes the line; a read error ends it with that error.
// Either way fn has seen the samples before it.
func Scan(r io.Reader, names []string, fn func(name, labels string, value float64) error) error {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		name := line
		if i := strings.IndexAny(line, "{ "); i >= 0 {
			name = line[:i]
		}
		if !want[name] {
			continue
		}
		// The value follows the label set (which may contain spaces and
		// braces in quoted values), optionally followed by a timestamp.
		var labels string
		rest := line[len(name):]
		if strings.HasPrefix(rest, "{") {
			j := strings.LastIndexByte(rest, '}')
			if j < 0 {
				return fmt.Errorf("malformed metric line %q", line)
			}
			labels, rest = rest[1:j], rest[j+1:]
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			return fmt.Errorf("malformed metric line %q", line)
		}
		v, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			return fmt.Errorf("metric line %q: %w", line, err)
		}
		if err := fn(name, labels, v); err != nil {
			return fmt.Errorf("metric line %q: %w", line, err)
		}
	}
	return sc.Err()
}
