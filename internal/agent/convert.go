package agent

import (
	"math"
	"sort"
	"strconv"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/prometheus/prompb"
)

// seriesBuilder turns gathered metric families into remote-write series,
// adding the agent's target labels to each one.
type seriesBuilder struct {
	// target are the labels added to every series (job, instance and the
	// user's), sorted by name. They replace a metric's own label of the
	// same name, as a scrape without honor_labels does.
	target []prompb.Label
}

func newSeriesBuilder(target map[string]string) *seriesBuilder {
	b := &seriesBuilder{}
	for k, v := range target {
		b.target = append(b.target, prompb.Label{Name: k, Value: v})
	}
	sort.Slice(b.target, func(i, j int) bool { return b.target[i].Name < b.target[j].Name })
	return b
}

// build appends one series per sample of mfs, stamped with ts
// (milliseconds), to dst. Summaries and classic histograms are split into
// their quantile or bucket series plus _sum and _count, as a scrape does.
func (b *seriesBuilder) build(dst []prompb.TimeSeries, mfs []*dto.MetricFamily, ts int64) []prompb.TimeSeries {
	for _, mf := range mfs {
		name := mf.GetName()
		for _, m := range mf.Metric {
			switch mf.GetType() {
			case dto.MetricType_COUNTER:
				dst = b.add(dst, name, m.Label, "", "", m.GetCounter().GetValue(), ts)
			case dto.MetricType_GAUGE:
				dst = b.add(dst, name, m.Label, "", "", m.GetGauge().GetValue(), ts)
			case dto.MetricType_UNTYPED:
				dst = b.add(dst, name, m.Label, "", "", m.GetUntyped().GetValue(), ts)
			case dto.MetricType_SUMMARY:
				s := m.GetSummary()
				for _, q := range s.Quantile {
					dst = b.add(dst, name, m.Label, "quantile", formatFloat(q.GetQuantile()), q.GetValue(), ts)
				}
				dst = b.add(dst, name+"_sum", m.Label, "", "", s.GetSampleSum(), ts)
				dst = b.add(dst, name+"_count", m.Label, "", "", float64(s.GetSampleCount()), ts)
			case dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
				h := m.GetHistogram()
				infSeen := false
				for _, bk := range h.Bucket {
					if math.IsInf(bk.GetUpperBound(), +1) {
						infSeen = true
					}
					dst = b.add(dst, name+"_bucket", m.Label, "le", formatFloat(bk.GetUpperBound()), float64(bk.GetCumulativeCount()), ts)
				}
				if !infSeen {
					dst = b.add(dst, name+"_bucket", m.Label, "le", "+Inf", float64(h.GetSampleCount()), ts)
				}
				dst = b.add(dst, name+"_sum", m.Label, "", "", h.GetSampleSum(), ts)
				dst = b.add(dst, name+"_count", m.Label, "", "", float64(h.GetSampleCount()), ts)
			}
		}
	}
	return dst
}

func (b *seriesBuilder) add(dst []prompb.TimeSeries, name string, own []*dto.LabelPair, extraName, extraValue string, v float64, ts int64) []prompb.TimeSeries {
	ls := make([]prompb.Label, 0, len(own)+len(b.target)+2)
	ls = append(ls, prompb.Label{Name: "__name__", Value: name})
	for _, lp := range own {
		if b.isTarget(lp.GetName()) {
			continue
		}
		ls = append(ls, prompb.Label{Name: lp.GetName(), Value: lp.GetValue()})
	}
	if extraName != "" {
		ls = append(ls, prompb.Label{Name: extraName, Value: extraValue})
	}
	ls = append(ls, b.target...)
	sort.Slice(ls, func(i, j int) bool { return ls[i].Name < ls[j].Name })
	return append(dst, prompb.TimeSeries{Labels: ls, Samples: []prompb.Sample{{Value: v, Timestamp: ts}}})
}

func (b *seriesBuilder) isTarget(name string) bool {
	for _, l := range b.target {
		if l.Name == name {
			return true
		}
	}
	return false
}

func formatFloat(f float64) string {
	if math.IsInf(f, +1) {
		return "+Inf"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}
