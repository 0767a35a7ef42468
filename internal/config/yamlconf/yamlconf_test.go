package yamlconf

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestLineOf(t *testing.T) {
	doc := []byte("server:\n  retention: 1\n# storage:\nstorage:\n\n  other:\n    retention: 2\n  retention: 3\n")
	for _, tc := range []struct {
		path []string
		want int
	}{
		{[]string{"server"}, 1},
		{[]string{"storage"}, 4},
		{[]string{"storage", "retention"}, 8},
		{[]string{"storage", "other", "retention"}, 7},
		{[]string{"query", "timeout"}, 0},
	} {
		require.Equal(t, tc.want, lineOf(doc, tc.path), "%v", tc.path)
	}
}

func TestParseBytes(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Bytes
		err  bool
	}{
		{"0", 0, false},
		{"1024", 1024, false},
		{"512MB", 512 << 20, false},
		{"1GiB", 1 << 30, false},
		{"lots", 0, true},
		{"", 0, true},
	} {
		got, err := ParseBytes(tc.in)
		if tc.err {
			require.Error(t, err, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, got, tc.in)
	}
}

func TestLineOfListItems(t *testing.T) {
	doc := []byte(`checks:
  - name: web
    kind: http
    interval: 500ms
  - name: "db"
    kind: postgres
    thresholds:
      latency: -1s
other:
- name: flat
  kind: tcp
- kind: tcp
`)
	for _, tc := range []struct {
		path []string
		want int
	}{
		{[]string{"checks", ItemByKey("name", "web")}, 2},
		{[]string{"checks", ItemByKey("name", "web"), "interval"}, 4},
		{[]string{"checks", ItemByKey("name", "db"), "thresholds", "latency"}, 8},
		{[]string{"checks", ItemByKey("name", "db"), "timeout"}, 5},
		{[]string{"checks", ItemAt(1), "kind"}, 6},
		{[]string{"checks", ItemByKey("name", "missing")}, 0},
		{[]string{"other", ItemByKey("name", "flat"), "kind"}, 11},
		{[]string{"other", ItemAt(1)}, 12},
		{[]string{"other", ItemAt(5)}, 0},
	} {
		require.Equal(t, tc.want, lineOf(doc, tc.path), "%q", tc.path)
	}
}
