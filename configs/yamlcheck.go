package configs

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// parseYAML reads a config file's YAML into a node tree and checks it against the Go type it
// decodes into (what), before anything is decoded: a file that is empty, that is not YAML, that
// has a key the type does not know (with the nearest known key) or a value of the wrong kind is
// an error naming the file, the line, the key and what is allowed — never a Go type name.
func parseYAML(b []byte, name, what string, into reflect.Type) (*yaml.Node, error) {
	if strings.TrimSpace(stripComments(string(b))) == "" {
		return nil, &FieldError{File: name, Line: 1, Field: "(file)", Msg: "the file is empty: " + what}
	}
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return nil, yamlSyntaxError(name, err)
	}
	if len(root.Content) == 0 {
		return nil, &FieldError{File: name, Line: 1, Field: "(file)", Msg: "the file is empty: " + what}
	}
	var errs ValidationErrors
	checkNode(name, "", root.Content[0], into, &errs, 0)
	if len(errs) > 0 {
		return nil, errs
	}
	return &root, nil
}

var commentLine = regexp.MustCompile(`(?m)^\s*#.*$`)

func stripComments(s string) string { return commentLine.ReplaceAllString(s, "") }

var yamlLine = regexp.MustCompile(`^yaml: (?:line (\d+): )?(.*)$`)

// yamlSyntaxError turns yaml.v3's "yaml: line 3: mapping values are not allowed in this context"
// into "FILE:3: field (yaml): not valid YAML: mapping values are not allowed in this context".
func yamlSyntaxError(name string, err error) error {
	msg := strings.ReplaceAll(err.Error(), "\n", "; ")
	line := 1
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		if m[1] != "" {
			line, _ = strconv.Atoi(m[1])
		}
		msg = m[2]
	}
	return &FieldError{File: name, Line: line, Field: "(yaml)", Msg: "not valid YAML: " + msg}
}

// maxCheckDepth bounds the walk (aliases can nest deeply; yaml.v3 itself refuses alias bombs).
const maxCheckDepth = 32

// checkNode checks n against type t: a mapping for a struct (every key one of its yaml fields) or
// a map, a list for a slice, and a scalar that decodes into its type otherwise.
func checkNode(file, path string, n *yaml.Node, t reflect.Type, errs *ValidationErrors, depth int) {
	if n == nil || depth > maxCheckDepth {
		return
	}
	if n.Kind == yaml.AliasNode {
		checkNode(file, path, n.Alias, t, errs, depth+1)
		return
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	field := path
	if field == "" {
		field = "(top level)"
	}
	bad := func(line int, format string, args ...any) {
		*errs = append(*errs, &FieldError{File: file, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return // an empty value: the zero value
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			bad(n.Line, "want key: value lines (allowed keys: %s), not %s", strings.Join(yamlKeys(t), ", "), nodeKind(n))
			return
		}
		fields := yamlFields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			sub := join(path, k.Value)
			f, ok := fields[k.Value]
			if !ok {
				*errs = append(*errs, &FieldError{File: file, Line: k.Line, Field: sub, Msg: unknownKey(k.Value, yamlKeys(t))})
				continue
			}
			checkNode(file, sub, v, f.Type, errs, depth+1)
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			bad(n.Line, "want key: value lines, not %s", nodeKind(n))
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			checkNode(file, join(path, n.Content[i].Value), n.Content[i+1], t.Elem(), errs, depth+1)
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			bad(n.Line, "want a list (- item lines, or [a, b]), not %s", nodeKind(n))
			return
		}
		for i, c := range n.Content {
			checkNode(file, fmt.Sprintf("%s[%d]", path, i), c, t.Elem(), errs, depth+1)
		}
	case reflect.Interface:
	default:
		if n.Kind != yaml.ScalarNode {
			bad(n.Line, "want %s, not %s", scalarWant(t), nodeKind(n))
			return
		}
		if err := n.Decode(reflect.New(t).Interface()); err != nil {
			bad(n.Line, "%q is not %s", n.Value, scalarWant(t))
		}
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func nodeKind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "key: value lines"
	case yaml.SequenceNode:
		return "a list"
	}
	return fmt.Sprintf("%q", n.Value)
}

func scalarWant(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "a whole number"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number, 0 or more"
	case reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "text"
}

// yamlFields maps a struct's yaml keys to its fields (exported, not "-").
func yamlFields(t reflect.Type) map[string]reflect.StructField {
	out := map[string]reflect.StructField{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f
	}
	return out
}

func yamlKeys(t reflect.Type) []string {
	m := yamlFields(t)
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// unknownKey says that key is not allowed, suggests the nearest allowed one, and lists them all.
func unknownKey(key string, allowed []string) string {
	msg := fmt.Sprintf("unknown key %q", key)
	if near := Nearest(key, allowed); near != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", near)
	}
	return msg + "; allowed here: " + strings.Join(allowed, ", ")
}

// Nearest returns the candidate closest to s by edit distance, if it is close enough to be a
// typo (at most a third of the longer word, and at least 1 edit allowed), else "".
func Nearest(s string, candidates []string) string {
	best, bestD := "", -1
	for _, c := range candidates {
		d := editDistance(strings.ToLower(s), strings.ToLower(c))
		if bestD < 0 || d < bestD || (d == bestD && c < best) {
			best, bestD = c, d
		}
	}
	limit := max(len(s), len(best)) / 3
	if limit < 1 {
		limit = 1
	}
	if best == "" || bestD > limit {
		return ""
	}
	return best
}

// editDistance is the Levenshtein distance (bytes; config keys are ASCII).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// decodeError turns a decoding error that got past the checks into one line naming the file.
func decodeError(name string, err error) error {
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		return yamlSyntaxError(name, errors.New("yaml: "+te.Errors[0]))
	}
	return yamlSyntaxError(name, err)
}
