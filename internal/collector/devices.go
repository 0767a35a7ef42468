package collector

import (
	"regexp"

	dto "github.com/prometheus/client_model/go"
)

// device is the cached state of one block device or network interface: its
// label pairs, built once, whether it is excluded, decided once, and what
// its collector keeps about it (x).
type device[T any] struct {
	labels   []*dto.LabelPair
	excluded bool
	gen      uint64 // the last collection that listed it
	x        T
}

// deviceSet caches the devices a collector lists on every collection (the
// lines of diskstats and net/dev, the directories of /sys/class/net) and
// forgets the ones that went away.
type deviceSet[T any] struct {
	devices map[string]*device[T]
	exclude *regexp.Regexp // nil excludes none
	seen    int            // devices listed in the current collection
}

func newDeviceSet[T any](exclude *regexp.Regexp) deviceSet[T] {
	return deviceSet[T]{devices: map[string]*device[T]{}, exclude: exclude}
}

// begin starts a collection.
func (s *deviceSet[T]) begin() { s.seen = 0 }

// visit returns the device named name if it should be reported in
// collection gen, or nil when it is excluded or was already listed in this
// collection (a table that lists a device twice).
func (s *deviceSet[T]) visit(name []byte, gen uint64) *device[T] {
	dev, ok := s.devices[string(name)]
	if !ok {
		n := string(name)
		dev = &device[T]{excluded: s.exclude != nil && s.exclude.MatchString(n)}
		if !dev.excluded {
			dev.labels = labelPairs("device", n)
		}
		s.devices[n] = dev
	}
	if dev.gen == gen {
		return nil
	}
	dev.gen = gen
	s.seen++
	if dev.excluded {
		return nil
	}
	return dev
}

// end finishes collection gen: once the cache holds well more devices than
// were listed, the ones not listed are forgotten.
func (s *deviceSet[T]) end(gen uint64) {
	if len(s.devices) <= 2*s.seen+64 {
		return
	}
	for name, dev := range s.devices {
		if dev.gen != gen {
			delete(s.devices, name)
		}
	}
}
