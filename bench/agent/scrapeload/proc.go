package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/saypro/monitor/bench/promtext"
)

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// seriesCounter is a writer that counts the series of a text-format
// exposition: lines that are neither empty nor comments (# HELP, # TYPE).
// Every histogram bucket, _sum and _count is a series, as a scraper
// stores them.
type seriesCounter struct {
	series  int
	midLine bool // false at the start of a line
}

func (s *seriesCounter) Write(p []byte) (int, error) {
	for _, b := range p {
		if !s.midLine {
			if b == '\n' {
				continue
			}
			if b != '#' {
				s.series++
			}
			s.midLine = true
		}
		if b == '\n' {
			s.midLine = false
		}
	}
	return len(p), nil
}

// sample is one line of the text format.
type sample struct {
	name   string
	labels map[string]string
	value  float64
}

// parseSamples parses the text exposition format just enough to return
// the samples of the named metrics with their labels.
func parseSamples(r io.Reader, names ...string) ([]sample, error) {
	var out []sample
	err := promtext.Scan(r, names, func(name, labels string, value float64) error {
		s := sample{name: name, labels: map[string]string{}, value: value}
		if err := parseLabels(labels, s.labels); err != nil {
			return err
		}
		out = append(out, s)
		return nil
	})
	return out, err
}

// parseLabels parses `a="x",b="y\"z"` into m.
func parseLabels(s string, m map[string]string) error {
	for s = strings.TrimSpace(s); s != ""; s = strings.TrimSpace(s) {
		name, rest, ok := strings.Cut(s, "=")
		if !ok || !strings.HasPrefix(rest, `"`) {
			return fmt.Errorf("bad label pair in %q", s)
		}
		var (
			val strings.Builder
			i   int
		)
		for i = 1; i < len(rest); i++ {
			c := rest[i]
			if c == '\\' && i+1 < len(rest) {
				i++
				switch rest[i] {
				case 'n':
					val.WriteByte('\n')
				default:
					val.WriteByte(rest[i])
				}
				continue
			}
			if c == '"' {
				break
			}
			val.WriteByte(c)
		}
		if i >= len(rest) {
			return fmt.Errorf("unterminated label value in %q", s)
		}
		m[strings.TrimSpace(name)] = val.String()
		s = strings.TrimPrefix(strings.TrimSpace(rest[i+1:]), ",")
	}
	return nil
}
