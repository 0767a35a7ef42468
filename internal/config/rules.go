package config

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
)

// RuleFilePaths expands rule_files globs (already made absolute against
// the configuration's directory) into the files they match, sorted.
func RuleFilePaths(patterns []string) ([]string, error) {
	var files []string
	for _, pat := range patterns {
		fs, err := filepath.Glob(pat)
		if err != nil {
			return nil, fmt.Errorf("rule_files: invalid pattern %q: %w", pat, err)
		}
		files = append(files, fs...)
	}
	return files, nil
}

// checkRuleFiles parses every rule file as Prometheus does, so that a bad
// rule is a configuration error naming its file (and line, where the
// parser knows it) at start, reload and `config check`. It returns the
// names of the alerts the files define.
func checkRuleFiles(patterns []string) (map[string]bool, error) {
	files, err := RuleFilePaths(patterns)
	if err != nil {
		return nil, err
	}
	alerts := map[string]bool{}
	var errs []error
	for _, f := range files {
		groups, ferrs := rulefmt.ParseFile(f, false, model.UTF8Validation)
		if len(ferrs) > 0 {
			for _, e := range ferrs {
				if !strings.HasPrefix(e.Error(), f) {
					e = fmt.Errorf("%s: %w", f, e)
				}
				errs = append(errs, e)
			}
			continue
		}
		for _, g := range groups.Groups {
			for _, r := range g.Rules {
				if r.Alert != "" {
					alerts[r.Alert] = true
				}
			}
		}
	}
	return alerts, errors.Join(errs...)
}
