package parse

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/require"
)

type frame struct {
	data      string
	truncated bool
}

// readFrames reads every frame of r and the final error.
func readFrames(t testing.TB, r io.Reader, maxLen int) ([]frame, error) {
	t.Helper()
	fr := NewFrameReader(r, maxLen)
	var out []frame
	for range 10000 {
		b, err := fr.Next()
		if err != nil {
			require.Nil(t, b)
			return out, err
		}
		out = append(out, frame{string(b), fr.Truncated()})
	}
	t.Fatal("too many frames")
	return nil, nil
}

func TestFrameReader(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		max  int
		want []frame
	}{
		{
			name: "newline",
			in:   "<13>a\n<13>b\r\n\n\n<13>c",
			want: []frame{{"<13>a", false}, {"<13>b", false}, {"<13>c", false}},
		},
		{
			name: "nul",
			in:   "<13>a\x00<13>b\x00",
			want: []frame{{"<13>a", false}, {"<13>b", false}},
		},
		{
			name: "nul before newline",
			in:   "<13>a\x00<13>b\n",
			want: []frame{{"<13>a", false}, {"<13>b", false}},
		},
		{
			name: "octet counting",
			in:   "5 <13>a11 <13>b\nline 6 <13>cd",
			want: []frame{{"<13>a", false}, {"<13>b\nline ", false}, {"<13>cd", false}},
		},
		{
			name: "mixed",
			in:   "5 <13>a\n<14>plain\n6 <13>bc\n",
			want: []frame{{"<13>a", false}, {"<14>plain", false}, {"<13>bc", false}},
		},
		{
			name: "digits without space are a line",
			in:   "12345\n12:00 x\n",
			want: []frame{{"12345", false}, {"12:00 x", false}},
		},
		{
			name: "long count header is a line",
			in:   "12345678901 x\n",
			want: []frame{{"12345678901 x", false}},
		},
		{
			name: "octet counted frame over the limit",
			in:   "12 <13>abcdefgh5 <13>z",
			max:  6,
			want: []frame{{"<13>ab", true}, {"<13>z", false}},
		},
		{
			name: "line over the limit",
			in:   "<13>abcdefgh\n<13>z\n",
			max:  6,
			want: []frame{{"<13>ab", true}, {"<13>z", false}},
		},
		{
			name: "line exactly the limit",
			in:   "<13>ab\n<13>cd",
			max:  6,
			want: []frame{{"<13>ab", false}, {"<13>cd", false}},
		},
		{
			name: "long line over many buffers",
			in:   "<13>" + strings.Repeat("x", 1000) + "\n<13>y\n",
			max:  8,
			want: []frame{{"<13>xxxx", true}, {"<13>y", false}},
		},
		{
			name: "stream ends inside a counted frame",
			in:   "10 <13>ab",
			want: []frame{{"<13>ab", true}},
		},
		{
			name: "stream ends in a count",
			in:   "<13>a\n12",
			want: []frame{{"<13>a", false}, {"12", false}},
		},
		{
			name: "only delimiters",
			in:   "\n\n\x00\r\n",
		},
		{
			name: "frames larger than the first buffer",
			in:   "6000 " + strings.Repeat("c", 6000) + strings.Repeat("d", 5000) + "\n",
			want: []frame{{strings.Repeat("c", 6000), false}, {strings.Repeat("d", 5000), false}},
		},
		{name: "empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, wrap := range []struct {
				name string
				fn   func(io.Reader) io.Reader
			}{
				{"plain", func(r io.Reader) io.Reader { return r }},
				{"one byte", iotest.OneByteReader},
				{"half", iotest.HalfReader},
				{"data err", iotest.DataErrReader},
			} {
				got, err := readFrames(t, wrap.fn(strings.NewReader(tc.in)), tc.max)
				require.ErrorIs(t, err, io.EOF, wrap.name)
				require.Equal(t, tc.want, got, wrap.name)
			}
		})
	}
}

func TestFrameReaderErrors(t *testing.T) {
	boom := errors.New("boom")
	got, err := readFrames(t, io.MultiReader(strings.NewReader("<13>a\n<13>b"), iotest.ErrReader(boom)), 0)
	require.ErrorIs(t, err, boom)
	require.Equal(t, []frame{{"<13>a", false}, {"<13>b", false}}, got)

	fr := NewFrameReader(zeroReader{}, 16)
	_, err = fr.Next()
	require.ErrorIs(t, err, io.ErrNoProgress)
	_, err = fr.Next()
	require.ErrorIs(t, err, io.ErrNoProgress)
}

// zeroReader returns no data and no error.
type zeroReader struct{}

func (zeroReader) Read([]byte) (int, error) { return 0, nil }

// TestFrameReaderBounded checks that a frame reader never grows its buffer,
// whatever the frame sizes.
func TestFrameReaderBounded(t *testing.T) {
	fr := NewFrameReader(strings.NewReader("10 <13>abcdef"), 1<<20)
	require.Equal(t, initialFrameBuffer, cap(fr.buf))
	_, err := fr.Next()
	require.NoError(t, err)
	require.Equal(t, initialFrameBuffer, cap(fr.buf))

	big := strings.Repeat("x", 10000)
	fr = NewFrameReader(strings.NewReader(big+"\n"+strings.Repeat("y", 20000)), 12000)
	b, err := fr.Next()
	require.NoError(t, err)
	require.Equal(t, big, string(b))
	require.False(t, fr.Truncated())
	b, err = fr.Next()
	require.NoError(t, err)
	require.Len(t, b, 12000)
	require.True(t, fr.Truncated())
	require.LessOrEqual(t, cap(fr.buf), 12000+frameSlack)

	in := "99999999 <13>" + strings.Repeat("a", 5000) + "\n" + strings.Repeat("b", 5000) + "\n"
	fr = NewFrameReader(strings.NewReader(in), 100)
	for {
		b, err := fr.Next()
		if err != nil {
			break
		}
		require.LessOrEqual(t, len(b), 100)
		require.LessOrEqual(t, cap(fr.buf), 100+frameSlack)
	}
}
