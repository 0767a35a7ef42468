package docs

import (
	"io/fs"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/saypro/monitor/internal/config"
)

// Every built-in alert has a runbook with the sections an operator looks for.
func TestEveryBuiltinAlertHasARunbook(t *testing.T) {
	for _, name := range config.BuiltinAlerts {
		b, err := fs.ReadFile(Runbooks(), name+".md")
		require.NoError(t, err, name)
		for _, section := range []string{"What it means", "Check first", "Fix", "Tuning"} {
			require.True(t, strings.Contains(string(b), section), "%s.md lacks %q", name, section)
		}
	}
}
