package logs

import (
	"slices"
	"testing"
)

func TestCaseVariants(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"error", []string{"ERROR", "Error", "error"}},
		{"ERROR", []string{"ERROR", "Error", "error"}},
		{"über", []string{"ÜBER", "Über", "über"}},
		{"42", []string{"42"}},
		{"nginx.conf", []string{"NGINX.CONF", "Nginx.conf", "nginx.conf"}},
	}
	for _, tc := range tests {
		if got := CaseVariants(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("CaseVariants(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestMatcherFindsCapitalisedNonASCII(t *testing.T) {
	m, err := NewMatcher(Filter{Text: "über"})
	if err != nil {
		t.Fatal(err)
	}
	if !m.Match(&Entry{Message: "Über limit reached"}) {
		t.Fatal("the capitalised form of a non-ASCII word is not matched")
	}
}
