package collector

import (
	"fmt"
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Gather implements prometheus.Gatherer without a registry: it runs
// Collect and groups the samples into families sorted by name, with the
// series of a family in the order the collectors emit them. A registry
// would also check every sample against its descriptor and hash its
// labels to find duplicates; that was a fifth of the agent's CPU per
// scrape, and TestGatherMatchesRegistry holds the collectors to the same
// rules instead.
func (n *Node) Gather() ([]*dto.MetricFamily, error) {
	ch := make(chan prometheus.Metric, 512)
	go func() {
		n.Collect(ch)
		close(ch)
	}()
	byName := make(map[string]*dto.MetricFamily, 128)
	var out []*dto.MetricFamily
	var errs []string
	for m := range ch {
		s, ok := m.(*sample)
		if !ok {
			errs = append(errs, fmt.Sprintf("unexpected metric type %T", m))
			continue
		}
		mf := byName[s.name]
		if mf == nil {
			mf = &dto.MetricFamily{Name: &s.name, Help: &s.help, Type: s.typ.ToDTO()}
			byName[s.name] = mf
			out = append(out, mf)
		}
		dm := &dto.Metric{}
		_ = s.Write(dm)
		mf.Metric = append(mf.Metric, dm)
	}
	slices.SortFunc(out, func(a, b *dto.MetricFamily) int { return strings.Compare(a.GetName(), b.GetName()) })
	if len(errs) > 0 {
		return out, fmt.Errorf("collector: %s", strings.Join(errs, "; "))
	}
	return out, nil
}
