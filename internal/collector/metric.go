package collector

import (
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// family is one metric name with its descriptor and type, built once in New.
type family struct {
	desc *prometheus.Desc
	typ  prometheus.ValueType
	// name and help are the descriptor's, kept for Node.Gather, which
	// builds metric families without going through a registry.
	name, help string
}

// newFamily builds a family; labelNames are the variable labels.
func newFamily(name, help string, typ prometheus.ValueType, labelNames ...string) family {
	return family{desc: prometheus.NewDesc(name, help, labelNames, nil), typ: typ, name: name, help: help}
}

// send emits one sample. labels must come from labelPairs with the family's
// label names (nil when it has none); they are shared, never modified.
func (f family) send(ch chan<- prometheus.Metric, value float64, labels []*dto.LabelPair) {
	ch <- &sample{desc: f.desc, labels: labels, value: value, typ: f.typ, name: f.name, help: f.help}
}

// sample is a prometheus.Metric with label pairs built once per series and
// reused by every collection, which costs one allocation per sample where
// prometheus.MustNewConstMetric costs several per label. The registry treats
// label pairs as immutable, so sharing them is safe.
type sample struct {
	desc       *prometheus.Desc
	labels     []*dto.LabelPair
	value      float64
	typ        prometheus.ValueType
	name, help string
}

// Desc implements prometheus.Metric.
func (s *sample) Desc() *prometheus.Desc { return s.desc }

// Write implements prometheus.Metric.
func (s *sample) Write(m *dto.Metric) error {
	m.Label = s.labels
	switch s.typ {
	case prometheus.CounterValue:
		m.Counter = &dto.Counter{Value: &s.value}
	case prometheus.GaugeValue:
		m.Gauge = &dto.Gauge{Value: &s.value}
	default:
		m.Untyped = &dto.Untyped{Value: &s.value}
	}
	return nil
}

// labelPairs builds the label pairs of one series from alternating names and
// values, sorted by name as the registry expects. Values that are not valid
// UTF-8 (odd device or mount point names) get U+FFFD for their bad bytes
// rather than failing the whole scrape.
func labelPairs(namesAndValues ...string) []*dto.LabelPair {
	lp := make([]*dto.LabelPair, 0, len(namesAndValues)/2)
	for i := 0; i+1 < len(namesAndValues); i += 2 {
		name, value := namesAndValues[i], strings.ToValidUTF8(namesAndValues[i+1], "\uFFFD")
		lp = append(lp, &dto.LabelPair{Name: &name, Value: &value})
	}
	slices.SortFunc(lp, func(a, b *dto.LabelPair) int { return strings.Compare(a.GetName(), b.GetName()) })
	return lp
}

// maxDynamic bounds dynamicFamilies: the kernel's field names are a small
// fixed set, so more than this means odd input, and the cache starts over.
const maxDynamic = 4096

// dynamicFamilies maps the field names of a file whose set of fields varies
// between kernels (meminfo, vmstat, netstat) to families, built when a name
// is first seen. Lookups by []byte do not allocate.
type dynamicFamilies struct {
	m   map[string]*dynamicFamily
	gen uint64
}

// dynamicFamily is one cached field: its family, or skip if the field is not
// exported; gen detects a field seen twice in one collection.
type dynamicFamily struct {
	family
	skip bool
	gen  uint64
}

// next starts a collection.
func (d *dynamicFamilies) next() { d.gen++ }

// lookup returns the cached entry for key, calling build on a miss. build
// returns false for fields not to export.
func (d *dynamicFamilies) lookup(key []byte, build func(key string) (family, bool)) *dynamicFamily {
	if e, ok := d.m[string(key)]; ok {
		return e
	}
	if d.m == nil || len(d.m) >= maxDynamic {
		d.m = make(map[string]*dynamicFamily)
	}
	k := string(key)
	f, export := build(k)
	e := &dynamicFamily{family: f, skip: !export}
	d.m[k] = e
	return e
}

// take reports whether e is to be sent in collection gen, and marks it as
// sent: a field listed twice would give duplicate series and fail the
// scrape.
func (e *dynamicFamily) take(gen uint64) bool {
	if e == nil || e.skip || e.gen == gen {
		return false
	}
	e.gen = gen
	return true
}

// get returns the family for key, or nil for a field not to export or one
// already sent in this collection.
func (d *dynamicFamilies) get(key []byte, build func(key string) (family, bool)) *family {
	e := d.lookup(key, build)
	if !e.take(d.gen) {
		return nil
	}
	return &e.family
}

// validMetricName reports whether name is a metric name in the classic
// character set, which every Prometheus version and dashboard accepts.
// Names built from file content are checked, so odd input cannot produce a
// descriptor that fails the whole scrape.
func validMetricName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c == '_' || c == ':' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9' {
			continue
		}
		return false
	}
	return true
}

// pending is a parsed value waiting to be sent once its whole file has been
// parsed.
type pending struct {
	f *family
	v float64
}
