package yamlconf

import (
	"fmt"
	"strconv"

	"github.com/alecthomas/units"
)

// Bytes is a size in bytes written with a unit in YAML: 512MB, 50GB, 1TiB
// (powers of 1024 either way, as in Prometheus's retention size).
type Bytes int64

// ParseBytes parses a size such as 512MB or 50GB; a bare number is bytes.
func ParseBytes(s string) (Bytes, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return Bytes(n), nil
	}
	b, err := units.ParseBase2Bytes(s)
	if err != nil {
		return 0, fmt.Errorf("invalid size %q: use a number with a unit such as 512MB or 50GB", s)
	}
	return Bytes(b), nil
}

// String formats the size with the largest exact unit.
func (b Bytes) String() string {
	if b == 0 {
		return "0"
	}
	return units.Base2Bytes(b).String()
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (b *Bytes) UnmarshalYAML(unmarshal func(any) error) error {
	var s string
	if err := unmarshal(&s); err != nil {
		return err
	}
	v, err := ParseBytes(s)
	if err != nil {
		return err
	}
	*b = v
	return nil
}

// MarshalYAML implements yaml.Marshaler.
func (b Bytes) MarshalYAML() (any, error) { return b.String(), nil }
