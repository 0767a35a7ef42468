package collector

import (
	"regexp"

	dto "github.com/prometheus/client_model/go"
)

// device is the cached state of one block device or network interface
// listed in a /proc table: its label pairs, built once, and whether it is
// excluded, decided once.
type device struct {
	labels   []*dto.LabelPair
	excluded bool
	gen      uint64 // the last collection that listed it
}

// deviceSet caches the devices of a /proc table with one line per device
// (diskstats, net/dev) and forgets the ones that went away.
type deviceSet struct {
	devices map[string]*device
	exclude *regexp.Regexp // nil excludes none
	seen    int            // devices listed in the current collection
}

func newDeviceSet(exclude *regexp.Regexp) deviceSet {
	return deviceSet{devices: map[string]*device{}, exclude: exclude}
}

// begin starts a collection.
func (s *deviceSet) begin() { s.seen = 0 }

// visit returns the device named name if its line should be reported in
// collection gen, or nil when it is excluded or was already listed in this
// collection (a table that lists a device twice).
func (s *deviceSet) visit(name []byte, gen uint64) *device {
	dev, ok := s.devices[string(name)]
	if !ok {
		n := string(name)
		dev = &device{excluded: s.exclude != nil && s.exclude.MatchString(n)}
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
func (s *deviceSet) end(gen uint64) {
	if len(s.devices) <= 2*s.seen+64 {
		return
	}
	for name, dev := range s.devices {
		if dev.gen != gen {
			delete(s.devices, name)
		}
	}
}
