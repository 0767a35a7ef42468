package alerting

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/stretchr/testify/require"

	"github.com/saypro/monitor/internal/config"
)

func alertNames(t *testing.T, pack []byte) []string {
	t.Helper()
	groups, errs := rulefmt.Parse(pack, false, model.UTF8Validation)
	require.Empty(t, errs)
	var names []string
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			require.NotEmpty(t, r.Alert)
			require.Contains(t, r.Annotations["runbook_url"], "/runbooks/"+r.Alert)
			require.NotEmpty(t, r.Annotations["summary"])
			names = append(names, r.Alert)
		}
	}
	return names
}

func TestBuiltinPack(t *testing.T) {
	pack, err := RenderBuiltin(config.DefaultBuiltinRules, nil)
	require.NoError(t, err)
	require.ElementsMatch(t, config.BuiltinAlerts, alertNames(t, pack))
	require.Contains(t, string(pack), `[5m]))) > 85`)
	require.Contains(t, string(pack), `probe_ssl_earliest_cert_expiry - time() < 1.2096e+06`)

	c := config.DefaultBuiltinRules
	c.Disabled = []string{"HostSwapping"}
	c.Thresholds.CPUPercent = 90
	pack, err = RenderBuiltin(c, map[string]bool{"CheckDown": true})
	require.NoError(t, err)
	names := alertNames(t, pack)
	require.NotContains(t, names, "HostSwapping")
	require.NotContains(t, names, "CheckDown", "replaced by a rule of the user's")
	require.Len(t, names, len(config.BuiltinAlerts)-2)
	require.Contains(t, string(pack), `[5m]))) > 90`)

	// Every rule off still renders a valid file.
	c.Disabled = config.BuiltinAlerts
	pack, err = RenderBuiltin(c, nil)
	require.NoError(t, err)
	require.Empty(t, alertNames(t, pack))
}

// TestBuiltinPackWithPromtool checks the rendered pack with promtool and
// runs promtool's rule unit tests (testdata/builtin_test.yml) against it:
// series that cross the thresholds fire the alerts, with their labels and
// summaries.
func TestBuiltinPackWithPromtool(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("promtool not found; install Debian's prometheus package")
		}
		t.Skip("promtool not found; install Debian's prometheus package (apt-get install prometheus)")
	}
	dir := t.TempDir()
	pack, err := RenderBuiltin(config.DefaultBuiltinRules, nil)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "builtin.yml"), pack, 0o600))
	out, err := exec.Command(promtool, "check", "rules", filepath.Join(dir, "builtin.yml")).CombinedOutput()
	require.NoError(t, err, string(out))
	require.Contains(t, string(out), "SUCCESS: 18 rules found")

	tests, err := os.ReadFile("testdata/builtin_test.yml")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "builtin_test.yml"), tests, 0o600))
	cmd := exec.Command(promtool, "test", "rules", "builtin_test.yml")
	cmd.Dir = dir
	out, err = cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	require.True(t, strings.Contains(string(out), "SUCCESS"), string(out))
}
