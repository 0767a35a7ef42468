package docs

import (
	"io/fs"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/saypro/monitor/internal/config"
	"github.com/saypro/monitor/internal/logs"
)

// runbookSections are the sections an operator looks for in every runbook.
var runbookSections = []string{"What it means", "Check first", "Fix", "Tuning"}

func requireRunbook(t *testing.T, name string) {
	t.Helper()
	b, err := fs.ReadFile(Runbooks(), name+".md")
	require.NoError(t, err, name)
	for _, section := range runbookSections {
		require.True(t, strings.Contains(string(b), section), "%s.md lacks %q", name, section)
	}
}

// Every built-in alert has a runbook with the sections an operator looks for.
func TestEveryBuiltinAlertHasARunbook(t *testing.T) {
	for _, name := range config.BuiltinAlerts {
		requireRunbook(t, name)
	}
}

// Every built-in log rule links its runbook (runbook_url), so each has one too.
func TestEveryBuiltinLogRuleHasARunbook(t *testing.T) {
	rules := logs.BuiltinRules()
	require.NotEmpty(t, rules)
	for _, r := range rules {
		requireRunbook(t, r.Name)
	}
}
