package collector

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDeviceSet(t *testing.T) {
	s := newDeviceSet[struct{}](regexp.MustCompile(`^loop`))
	s.begin()
	sda := s.visit([]byte("sda"), 1)
	require.NotNil(t, sda)
	require.Equal(t, "device", sda.labels[0].GetName())
	require.Equal(t, "sda", sda.labels[0].GetValue())
	require.Nil(t, s.visit([]byte("sda"), 1), "listed twice in one collection")
	require.Nil(t, s.visit([]byte("loop0"), 1), "excluded")
	s.end(1)

	s.begin()
	require.Same(t, sda, s.visit([]byte("sda"), 2), "labels are built once")
	s.end(2)

	// Devices that went away are forgotten once they outnumber the listed ones.
	for g := uint64(3); g < 100; g++ {
		s.begin()
		s.visit(fmt.Appendf(nil, "dm-%d", g), g)
		s.end(g)
	}
	require.LessOrEqual(t, len(s.devices), 2*1+64+1)
}
