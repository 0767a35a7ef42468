package ingest

import (
	"errors"
	"fmt"
	"math"
	"unsafe"

	"google.golang.org/protobuf/encoding/protowire"
)

// Field numbers of prometheus.WriteRequest (remote-write 1.0) and its
// nested messages, from prompb/remote.proto and prompb/types.proto.
const (
	fieldWriteRequestTimeseries = 1

	fieldTimeSeriesLabels     = 1
	fieldTimeSeriesSamples    = 2
	fieldTimeSeriesExemplars  = 3
	fieldTimeSeriesHistograms = 4

	fieldLabelName  = 1
	fieldLabelValue = 2

	fieldSampleValue     = 1
	fieldSampleTimestamp = 2
)

// errMalformed wraps every decoding error: the body is not a valid
// prometheus.WriteRequest.
var errMalformed = errors.New("malformed remote-write request")

// label is a decoded label. Its strings point into the request buffer and
// are valid only until the callback returns.
type label struct {
	name, value string
}

type sample struct {
	t int64
	v float64
}

// series is one decoded TimeSeries. Slices are reused between series, so a
// callback must copy what it keeps.
type series struct {
	// key is the wire encoding of the labels, each length-prefixed: the
	// same series sent the same way has the same key.
	key []byte
	// labels and sorted are filled by parseLabels.
	labels     []label
	samples    []sample
	exemplars  [][]byte // raw prometheus.Exemplar messages
	histograms [][]byte // raw prometheus.Histogram messages
	sorted     bool     // labels arrived in strictly increasing name order
}

func (s *series) reset() {
	s.key = s.key[:0]
	s.labels = s.labels[:0]
	s.samples = s.samples[:0]
	s.exemplars = s.exemplars[:0]
	s.histograms = s.histograms[:0]
	s.sorted = true
}

// decodeWriteRequest walks a serialized prometheus.WriteRequest and calls fn
// once per time series, without building the whole request in memory and
// without copying label strings. Unknown fields (metadata, future
// additions) are skipped as the protobuf rules require. fn's error stops
// the walk and is returned unchanged.
func decodeWriteRequest(buf []byte, s *series, fn func(*series) error) error {
	for len(buf) > 0 {
		num, typ, n := protowire.ConsumeTag(buf)
		if n < 0 {
			return malformed("request", protowire.ParseError(n))
		}
		buf = buf[n:]
		if num == fieldWriteRequestTimeseries && typ == protowire.BytesType {
			msg, n := protowire.ConsumeBytes(buf)
			if n < 0 {
				return malformed("time series", protowire.ParseError(n))
			}
			buf = buf[n:]
			s.reset()
			if err := decodeTimeSeries(msg, s); err != nil {
				return err
			}
			if err := fn(s); err != nil {
				return err
			}
			continue
		}
		n = protowire.ConsumeFieldValue(num, typ, buf)
		if n < 0 {
			return malformed("request field", protowire.ParseError(n))
		}
		buf = buf[n:]
	}
	return nil
}

func decodeTimeSeries(buf []byte, s *series) error {
	for len(buf) > 0 {
		num, typ, n := protowire.ConsumeTag(buf)
		if n < 0 {
			return malformed("time series", protowire.ParseError(n))
		}
		buf = buf[n:]
		if typ != protowire.BytesType || num < fieldTimeSeriesLabels || num > fieldTimeSeriesHistograms {
			n = protowire.ConsumeFieldValue(num, typ, buf)
			if n < 0 {
				return malformed("time series field", protowire.ParseError(n))
			}
			buf = buf[n:]
			continue
		}
		msg, n := protowire.ConsumeBytes(buf)
		if n < 0 {
			return malformed("time series field", protowire.ParseError(n))
		}
		buf = buf[n:]
		switch num {
		case fieldTimeSeriesLabels:
			// Labels are decoded only when the series is not cached
			// (parseLabels); a malformed one is caught there.
			s.key = protowire.AppendBytes(s.key, msg)
		case fieldTimeSeriesSamples:
			smp, err := decodeSample(msg)
			if err != nil {
				return err
			}
			s.samples = append(s.samples, smp)
		case fieldTimeSeriesExemplars:
			s.exemplars = append(s.exemplars, msg)
		case fieldTimeSeriesHistograms:
			s.histograms = append(s.histograms, msg)
		}
	}
	return nil
}

// parseLabels decodes the labels in s.key into s.labels and notes
// whether they arrived sorted by name.
func (s *series) parseLabels() error {
	s.labels = s.labels[:0]
	s.sorted = true
	buf := s.key
	for len(buf) > 0 {
		msg, n := protowire.ConsumeBytes(buf)
		if n < 0 {
			return malformed("label", protowire.ParseError(n))
		}
		buf = buf[n:]
		l, err := decodeLabel(msg)
		if err != nil {
			return err
		}
		if k := len(s.labels); k > 0 && s.labels[k-1].name >= l.name {
			s.sorted = false
		}
		s.labels = append(s.labels, l)
	}
	return nil
}

func decodeLabel(buf []byte) (label, error) {
	var l label
	for len(buf) > 0 {
		num, typ, n := protowire.ConsumeTag(buf)
		if n < 0 {
			return l, malformed("label", protowire.ParseError(n))
		}
		buf = buf[n:]
		if typ == protowire.BytesType && (num == fieldLabelName || num == fieldLabelValue) {
			v, n := protowire.ConsumeBytes(buf)
			if n < 0 {
				return l, malformed("label", protowire.ParseError(n))
			}
			buf = buf[n:]
			if num == fieldLabelName {
				l.name = unsafeString(v)
			} else {
				l.value = unsafeString(v)
			}
			continue
		}
		n = protowire.ConsumeFieldValue(num, typ, buf)
		if n < 0 {
			return l, malformed("label field", protowire.ParseError(n))
		}
		buf = buf[n:]
	}
	return l, nil
}

func decodeSample(buf []byte) (sample, error) {
	var s sample
	for len(buf) > 0 {
		num, typ, n := protowire.ConsumeTag(buf)
		if n < 0 {
			return s, malformed("sample", protowire.ParseError(n))
		}
		buf = buf[n:]
		switch {
		case num == fieldSampleValue && typ == protowire.Fixed64Type:
			v, n := protowire.ConsumeFixed64(buf)
			if n < 0 {
				return s, malformed("sample value", protowire.ParseError(n))
			}
			buf = buf[n:]
			s.v = math.Float64frombits(v)
		case num == fieldSampleTimestamp && typ == protowire.VarintType:
			v, n := protowire.ConsumeVarint(buf)
			if n < 0 {
				return s, malformed("sample timestamp", protowire.ParseError(n))
			}
			buf = buf[n:]
			s.t = int64(v)
		default:
			n = protowire.ConsumeFieldValue(num, typ, buf)
			if n < 0 {
				return s, malformed("sample field", protowire.ParseError(n))
			}
			buf = buf[n:]
		}
	}
	return s, nil
}

func malformed(what string, err error) error {
	return fmt.Errorf("%w: %s: %v", errMalformed, what, err)
}

// unsafeString returns a string sharing b's memory. b must not change while
// the string is in use; the handler keeps request buffers alive until every
// series of the request is appended, and the labels package copies what it
// keeps.
func unsafeString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
