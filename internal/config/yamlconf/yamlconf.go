// Package yamlconf holds what every SayPro configuration file shares:
// strict decoding, errors as "file:line: message", sizes and secrets. It is
// a leaf with no Prometheus server dependencies, so that the agent's
// configuration can use it without making the agent binary large.
package yamlconf

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v2"
)

// Secret is a string that is never printed.
type Secret string

// String implements fmt.Stringer without revealing the secret.
func (s Secret) String() string { return "<secret>" }

// MarshalYAML hides the secret when a configuration is printed.
func (s Secret) MarshalYAML() (any, error) {
	if s == "" {
		return "", nil
	}
	return "<secret>", nil
}

// fieldError is a validation error tied to a YAML path such as
// storage.retention, so that its line can be found.
type fieldError struct {
	path []string
	msg  string
}

func (e *fieldError) Error() string {
	return strings.Join(e.path, ".") + ": " + e.msg
}

// Field returns a validation error for the key at path (for example
// "storage", "retention"); Annotate finds its line.
func Field(msg string, path ...string) error {
	return &fieldError{path: path, msg: msg}
}

var (
	yamlLine     = regexp.MustCompile(`^\s*line (\d+): (.*)$`)
	unknownField = regexp.MustCompile(`^field (\S+) not found in type .*$`)
	quoted       = regexp.MustCompile(`"([^"]+)"`)
)

// guessLine finds the line of a validation error that the YAML parser
// could not place (errors from custom decoders carry no position): the
// line whose value is a quoted string of the message. For
// "multiple ..." errors it is the last such line, the repeated one.
func guessLine(data []byte, msg string) int {
	lines := strings.Split(string(data), "\n")
	for _, m := range quoted.FindAllStringSubmatch(msg, -1) {
		found := 0
		for i, raw := range lines {
			v := strings.TrimSpace(raw)
			if j := strings.Index(v, ": "); j >= 0 {
				v = v[j+2:]
			} else {
				v = strings.TrimPrefix(v, "- ")
			}
			if strings.Trim(strings.TrimSpace(v), `"'`) != m[1] {
				continue
			}
			found = i + 1
			if !strings.Contains(msg, "multiple") {
				return found
			}
		}
		if found > 0 {
			return found
		}
	}
	return 0
}

// Annotate rewrites decoding and validation errors as "file:line: message"
// lines, one per problem.
func Annotate(filename string, data []byte, err error) error {
	name := filename
	if name == "" {
		name = "<config>"
	}
	var lines []string
	var add func(error)
	add = func(err error) {
		if joined, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range joined.Unwrap() {
				add(e)
			}
			return
		}
		var te *yaml.TypeError
		var fe *fieldError
		switch {
		case errors.As(err, &te):
			for _, e := range te.Errors {
				if m := yamlLine.FindStringSubmatch(e); m != nil {
					lines = append(lines, fmt.Sprintf("%s:%s: %s", name, m[1], unknownField.ReplaceAllString(m[2], "unknown key $1 (check its spelling and indentation; see docs/configuration.md)")))
				} else {
					lines = append(lines, name+": "+e)
				}
			}
		case errors.As(err, &fe):
			if line := lineOf(data, fe.path); line > 0 {
				lines = append(lines, fmt.Sprintf("%s:%d: %s", name, line, fe.Error()))
			} else {
				lines = append(lines, name+": "+fe.Error())
			}
		default:
			msg := err.Error()
			if m := yamlLine.FindStringSubmatch(strings.TrimPrefix(msg, "yaml: ")); m != nil {
				lines = append(lines, fmt.Sprintf("%s:%s: %s", name, m[1], m[2]))
			} else if line := guessLine(data, msg); line > 0 {
				lines = append(lines, fmt.Sprintf("%s:%d: %s", name, line, msg))
			} else {
				lines = append(lines, name+": "+msg)
			}
		}
	}
	add(err)
	return &Error{Lines: lines, err: err}
}

// Error is a configuration error; Lines has one "file:line: message" entry
// per problem found.
type Error struct {
	Lines []string
	err   error
}

func (e *Error) Error() string { return strings.Join(e.Lines, "\n") }

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.err }

// lineOf returns the 1-based line of the key at path in a YAML document, or
// 0 when the key is not in the document (its value is then a default). It
// understands block mappings, which is what configuration files use.
func lineOf(data []byte, path []string) int {
	type level struct{ indent, child int }
	var stack []level // matched keys of path, outermost first
	for i, raw := range strings.Split(string(data), "\n") {
		trimmed := strings.TrimLeft(raw, " ")
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		indent := len(raw) - len(trimmed)
		for len(stack) > 0 && indent <= stack[len(stack)-1].indent {
			stack = stack[:len(stack)-1]
		}
		want := 0
		if len(stack) > 0 {
			top := &stack[len(stack)-1]
			if top.child < 0 {
				top.child = indent
			}
			want = top.child
		}
		if indent != want || !strings.HasPrefix(trimmed, path[len(stack)]+":") {
			continue
		}
		if len(stack)+1 == len(path) {
			return i + 1
		}
		stack = append(stack, level{indent: indent, child: -1})
	}
	return 0
}

// Decode decodes data strictly into v, which sets its own defaults in
// UnmarshalYAML, and then runs validate; every problem comes back as one
// *Error with file:line entries.
func Decode(data []byte, filename string, v any, validate func() error) error {
	// An empty document never calls UnmarshalYAML; start from defaults.
	if err := yaml.UnmarshalStrict([]byte("{}"), v); err != nil {
		return err
	}
	if err := yaml.UnmarshalStrict(data, v); err != nil {
		return Annotate(filename, data, err)
	}
	if validate != nil {
		if err := validate(); err != nil {
			return Annotate(filename, data, err)
		}
	}
	return nil
}
