// Package yamlconf holds what every SayPro configuration file shares:
// strict decoding, errors as "file:line: message", sizes and secrets. It is
// a leaf with no Prometheus server dependencies, so that the agent's
// configuration can use it without making the agent binary large.
package yamlconf

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
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
	for _, p := range e.path {
		if strings.HasPrefix(p, itemPrefix) {
			// A list item cannot be named by its path; the message names it.
			return e.msg
		}
	}
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

// Selectors of a list item in a Field path: ItemByKey("name", "web")
// selects the item whose name key is web, ItemAt(2) the third item.
const itemPrefix = "\x00item:"

// ItemByKey returns a path element selecting the list item whose key has
// the value v.
func ItemByKey(key, v string) string { return itemPrefix + key + "=" + v }

// ItemAt returns a path element selecting the list item at index i.
func ItemAt(i int) string { return itemPrefix + "#" + strconv.Itoa(i) }

// yamlLineInfo is one meaningful line of a YAML document.
type yamlLineInfo struct {
	no, indent int
	text       string
}

// lineOf returns the 1-based line of the key at path in a YAML document, or
// 0 when the key is not in the document (its value is then a default). It
// understands block mappings and block sequences selected with ItemByKey
// or ItemAt, which is what configuration files use.
func lineOf(data []byte, path []string) int {
	var lines []yamlLineInfo
	for i, raw := range strings.Split(string(data), "\n") {
		trimmed := strings.TrimLeft(raw, " ")
		if trimmed == "" || strings.HasPrefix(trimmed, "#") || trimmed == "---" {
			continue
		}
		lines = append(lines, yamlLineInfo{no: i + 1, indent: len(raw) - len(trimmed), text: strings.TrimRight(trimmed, " \r")})
	}
	return findLine(lines, path)
}

// findLine finds path in block, whose first line has the block's indent.
func findLine(block []yamlLineInfo, path []string) int {
	if len(block) == 0 || len(path) == 0 {
		return 0
	}
	ind := block[0].indent
	sel, ok := strings.CutPrefix(path[0], itemPrefix)
	if !ok {
		for j, l := range block {
			if l.indent != ind || !strings.HasPrefix(l.text, path[0]+":") {
				continue
			}
			if len(path) == 1 {
				return l.no
			}
			k := j + 1
			for k < len(block) && (block[k].indent > ind || (block[k].indent == ind && isItem(block[k].text))) {
				k++
			}
			return findLine(block[j+1:k], path[1:])
		}
		return 0
	}
	// A block sequence: split it into items.
	var items [][]yamlLineInfo
	for _, l := range block {
		if l.indent == ind && isItem(l.text) {
			rest := strings.TrimLeft(strings.TrimPrefix(l.text, "-"), " ")
			items = append(items, []yamlLineInfo{{no: l.no, indent: ind + len(l.text) - len(rest), text: rest}})
			continue
		}
		if len(items) > 0 && l.indent > ind {
			items[len(items)-1] = append(items[len(items)-1], l)
		}
	}
	var item []yamlLineInfo
	if n, isIndex := strings.CutPrefix(sel, "#"); isIndex {
		i, err := strconv.Atoi(n)
		if err != nil || i < 0 || i >= len(items) {
			return 0
		}
		item = items[i]
	} else {
		key, want, _ := strings.Cut(sel, "=")
		for _, it := range items {
			for _, l := range it {
				if l.indent != it[0].indent {
					continue
				}
				if k, v, ok := strings.Cut(l.text, ":"); ok && k == key && strings.Trim(strings.TrimSpace(v), `"'`) == want {
					item = it
					break
				}
			}
			if item != nil {
				break
			}
		}
	}
	if item == nil {
		return 0
	}
	if len(path) == 1 {
		return item[0].no
	}
	if line := findLine(item, path[1:]); line > 0 {
		return line
	}
	// The key is not written (a default was wrong): point at the item.
	return item[0].no
}

func isItem(text string) bool { return text == "-" || strings.HasPrefix(text, "- ") }

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
