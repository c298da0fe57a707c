package webapi

import (
	"strings"

	"gopkg.in/yaml.v3"
)

// FrontMatter splits a card (Markdown with optional YAML front matter between two "---" lines,
// LF or CRLF line endings, optional BOM) into its parsed front matter and the body. A card without
// front matter, or with front matter that is not a YAML mapping, returns a nil map and the whole
// text.
func FrontMatter(text string) (map[string]any, string) {
	s := strings.TrimPrefix(text, "\ufeff")
	first, rest, ok := cutLine(s)
	if !ok || strings.TrimRight(first, " \t\r") != "---" {
		return nil, text
	}
	var yamlPart strings.Builder
	for {
		line, r, more := cutLine(rest)
		if strings.TrimRight(line, " \t\r") == "---" || strings.TrimRight(line, " \t\r") == "..." {
			var m map[string]any
			if err := yaml.Unmarshal([]byte(yamlPart.String()), &m); err != nil || m == nil {
				return nil, text
			}
			return m, r
		}
		if !more {
			return nil, text
		}
		yamlPart.WriteString(strings.TrimSuffix(line, "\r"))
		yamlPart.WriteByte('\n')
		rest = r
	}
}

func cutLine(s string) (line, rest string, more bool) {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i], s[i+1:], true
	}
	return s, "", false
}

// Strings reads a YAML/JSON value that may be one string or a list of strings.
func Strings(v any) []string {
	switch x := v.(type) {
	case string:
		if s := strings.TrimSpace(x); s != "" {
			return []string{s}
		}
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok && strings.TrimSpace(s) != "" {
				out = append(out, strings.TrimSpace(s))
			}
		}
		return out
	case []string:
		return x
	}
	return nil
}
