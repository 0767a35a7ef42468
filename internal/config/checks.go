package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/saypro/monitor/internal/config/checkconfig"
	"github.com/saypro/monitor/internal/config/yamlconf"
)

// checkFile is the content of a file named by check_files.
type checkFile struct {
	Checks []checkconfig.Check `yaml:"checks"`
}

// loadCheckFiles reads the files matching check_files (relative to the
// configuration file's directory), validates each on its own so that
// errors name the file and line, and appends their checks to c.Checks.
// A name used twice, in two files or in a file and the main
// configuration, is an error naming both places.
func (c *Config) loadCheckFiles() error {
	where := map[string]string{}
	main := c.File
	if main == "" {
		main = "the configuration"
	}
	for _, ch := range c.Checks {
		where[ch.Name] = main
	}
	var errs []error
	for _, pattern := range c.CheckFiles {
		if c.File != "" && !filepath.IsAbs(pattern) {
			pattern = filepath.Join(filepath.Dir(c.File), pattern)
		}
		files, err := filepath.Glob(pattern)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: check_files: invalid pattern %q: %w", main, pattern, err))
			continue
		}
		slices.Sort(files)
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				errs = append(errs, fmt.Errorf("reading check file: %w", err))
				continue
			}
			var cf checkFile
			if err := yamlconf.Decode(data, f, &cf, func() error { return checkconfig.ValidateAll("checks", cf.Checks) }); err != nil {
				errs = append(errs, err)
				continue
			}
			for _, ch := range cf.Checks {
				if prev, dup := where[ch.Name]; dup {
					errs = append(errs, fmt.Errorf("%s: check %q is also defined in %s; check names must be unique", f, ch.Name, prev))
					continue
				}
				where[ch.Name] = f
				c.Checks = append(c.Checks, ch)
			}
		}
	}
	return errors.Join(errs...)
}
