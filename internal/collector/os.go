package collector

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// osReleaseMaxAge is how long os-release is cached: it changes only on a
// distribution upgrade.
const osReleaseMaxAge = 5 * time.Minute

// osInfoLabels are the os-release keys node_os_info carries, with their
// label names.
var osInfoLabels = [...]struct{ key, label string }{
	{"BUILD_ID", "build_id"},
	{"ID", "id"},
	{"ID_LIKE", "id_like"},
	{"IMAGE_ID", "image_id"},
	{"IMAGE_VERSION", "image_version"},
	{"NAME", "name"},
	{"PRETTY_NAME", "pretty_name"},
	{"VARIANT", "variant"},
	{"VARIANT_ID", "variant_id"},
	{"VERSION", "version"},
	{"VERSION_CODENAME", "version_codename"},
	{"VERSION_ID", "version_id"},
}

// parseOSRelease parses os-release(5): KEY=value lines, values optionally
// in single or double quotes, with backslash escapes inside double quotes.
func parseOSRelease(data []byte) map[string]string {
	fields := map[string]string{}
	for len(data) > 0 {
		var line []byte
		line, data = cutLine(data)
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		key, value, ok := bytes.Cut(line, []byte("="))
		if !ok || len(key) == 0 {
			continue
		}
		fields[string(key)] = unquoteOSRelease(value)
	}
	return fields
}

// unquoteOSRelease removes the quotes of an os-release value.
func unquoteOSRelease(v []byte) string {
	if len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'' {
		return string(v[1 : len(v)-1])
	}
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return string(v)
	}
	v = v[1 : len(v)-1]
	if bytes.IndexByte(v, '\\') < 0 {
		return string(v)
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) && strings.IndexByte("\"\\$`", v[i+1]) >= 0 {
			i++
		}
		b.WriteByte(v[i])
	}
	return b.String()
}

// osVersion returns the leading number of VERSION_ID ("22.04" gives 22.04,
// "12" gives 12), or 0 if it has none (rolling releases).
func osVersion(versionID string) float64 {
	end, dot := 0, false
	for end < len(versionID) {
		c := versionID[end]
		if c == '.' && !dot && end > 0 {
			dot = true
		} else if c < '0' || c > '9' {
			break
		}
		end++
	}
	v, err := strconv.ParseFloat(strings.TrimSuffix(versionID[:end], "."), 64)
	if err != nil {
		return 0
	}
	return v
}

// osRelease is one reading of os-release.
type osRelease struct {
	fields map[string]string
}

// osReleaseCache holds os-release for osReleaseMaxAge. The os collector and
// HostInfo share it.
type osReleaseCache struct {
	mu     sync.Mutex
	readAt time.Time
	rel    *osRelease
	err    error
}

// get returns os-release under the root path, reading it again if the
// cached copy is older than osReleaseMaxAge or could not be read.
func (c *osReleaseCache) get(e *env) (*osRelease, error) {
	now := e.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.rel == nil || now.Sub(c.readAt) >= osReleaseMaxAge || now.Before(c.readAt) {
		c.rel, c.err = readOSRelease(e.rootPath("etc", "os-release"), e.rootPath("usr", "lib", "os-release"))
		c.readAt = now
	}
	return c.rel, c.err
}

// readOSRelease reads the first of paths that exists.
func readOSRelease(paths ...string) (*osRelease, error) {
	var err error
	for _, p := range paths {
		var data []byte
		data, err = os.ReadFile(p)
		if err == nil {
			return &osRelease{fields: parseOSRelease(data)}, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	return nil, err
}

// osCollector exports node_os_info and node_os_version from os-release.
type osCollector struct {
	e             *env
	info, version family
	rel           *osRelease // what the labels were built from
	infoLabels    []*dto.LabelPair
	versionLabels []*dto.LabelPair
	versionValue  float64
}

func newOSCollector(e *env) (collector, error) {
	names := make([]string, len(osInfoLabels))
	for i, l := range osInfoLabels {
		names[i] = l.label
	}
	return &osCollector{
		e:       e,
		info:    newFamily("node_os_info", "A metric with a constant '1' value labeled by build_id, id, id_like, image_id, image_version, name, pretty_name, variant, variant_id, version, version_codename, version_id.", prometheus.GaugeValue, names...),
		version: newFamily("node_os_version", "Metric containing the major.minor part of the OS version.", prometheus.GaugeValue, "id", "id_like", "name"),
	}, nil
}

func (c *osCollector) update(ch chan<- prometheus.Metric) error {
	rel, err := c.e.osRelease.get(c.e)
	if err != nil {
		return err
	}
	if rel != c.rel {
		c.rel = rel
		kv := make([]string, 0, 2*len(osInfoLabels))
		for _, l := range osInfoLabels {
			kv = append(kv, l.label, rel.fields[l.key])
		}
		c.infoLabels = labelPairs(kv...)
		c.versionLabels = labelPairs("id", rel.fields["ID"], "id_like", rel.fields["ID_LIKE"], "name", rel.fields["NAME"])
		c.versionValue = osVersion(rel.fields["VERSION_ID"])
	}
	c.info.send(ch, 1, c.infoLabels)
	c.version.send(ch, c.versionValue, c.versionLabels)
	return nil
}
