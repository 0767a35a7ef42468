package probe

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/saypro/monitor/internal/config/checkconfig"
)

type fileAgeProber struct {
	pattern string
	maxAge  time.Duration
	minSize int64
	now     func() time.Time
}

func newFileAge(c *checkconfig.Check, _ Env) (Prober, error) {
	if c.FileAge == nil || c.FileAge.MaxAge <= 0 {
		return nil, errors.New("needs a file_age block with max_age")
	}
	if _, err := filepath.Match(c.Target, ""); err != nil {
		return nil, fmt.Errorf("invalid glob %q: %w", c.Target, err)
	}
	return &fileAgeProber{
		pattern: c.Target,
		maxAge:  time.Duration(c.FileAge.MaxAge),
		minSize: int64(c.FileAge.MinSize),
		now:     time.Now,
	}, nil
}

// Probe finds the newest regular file matching the pattern (by
// modification time, symbolic links followed) and checks its age and size.
func (f *fileAgeProber) Probe(ctx context.Context) Result {
	var r Result
	matches, err := filepath.Glob(f.pattern)
	if err != nil {
		return r.Failf("invalid glob %q: %v", f.pattern, err)
	}
	var (
		newest     os.FileInfo
		newestPath string
		n          int
		statErr    error
	)
	for _, m := range matches {
		if err := ctx.Err(); err != nil {
			return r.Failf("looking at %d files: %v", len(matches), context.Cause(ctx))
		}
		fi, err := os.Stat(m)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) && statErr == nil {
				statErr = err
			}
			continue
		}
		if !fi.Mode().IsRegular() {
			continue
		}
		n++
		if newest == nil || fi.ModTime().After(newest.ModTime()) {
			newest, newestPath = fi, m
		}
	}
	r.Add("saypro_file_matches", float64(n))
	if newest == nil {
		if statErr != nil {
			return r.Failf("no file matches %s that can be read: %v", f.pattern, statErr)
		}
		return r.Failf("no file matches %s", f.pattern)
	}
	age := max(f.now().Sub(newest.ModTime()), 0)
	r.Add("saypro_file_age_seconds", age.Seconds())
	r.Add("saypro_file_size_bytes", float64(newest.Size()))
	if age > f.maxAge {
		return r.Failf("newest file %s is %s old, max %s", newestPath, fileAgeText(age), fileAgeText(f.maxAge))
	}
	if f.minSize > 0 && newest.Size() < f.minSize {
		return r.Failf("newest file %s is %s, expected at least %s", newestPath, fileSizeText(newest.Size()), fileSizeText(f.minSize))
	}
	r.Success = true
	return r
}

// fileAgeText writes an age as 50h, 1h30m or 45s: to the minute from an
// hour, to the second below, without trailing zero units.
func fileAgeText(d time.Duration) string {
	if d >= time.Hour {
		d = d.Round(time.Minute)
	} else {
		d = d.Round(time.Second)
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// fileSizeText writes a size as 512 B, 1MiB or 1.5GiB.
func fileSizeText(n int64) string {
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	v := float64(n)
	unit := ""
	for _, u := range []string{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"} {
		if v < 1024 {
			break
		}
		v /= 1024
		unit = u
	}
	s := fmt.Sprintf("%.1f", v)
	return strings.TrimSuffix(s, ".0") + unit
}
