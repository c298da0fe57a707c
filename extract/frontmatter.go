package extract

import "strings"

// Bounds of the front-matter parser: crawled text is hostile input.
const (
	maxFrontMatter  = 64 << 10 // bytes searched for the closing fence
	maxFrontLines   = 2000
	maxFrontValues  = 512 // values kept in total
	maxFrontValueSz = 512 // bytes per value
)

// FrontValue is one scalar of a model or dataset card's YAML front matter: a top-level key's value
// or one item of its list, with its byte offsets in the text.
type FrontValue struct {
	Key        string
	Value      string
	Start, End int
}

// FrontMatter is the parsed YAML front matter of a card.
type FrontMatter struct {
	Values []FrontValue
	// Start and End delimit the front matter (fences included); End is where the body starts.
	Start, End int
}

// Get returns the values of a top-level key.
func (f *FrontMatter) Get(key string) []string {
	var out []string
	for _, v := range f.Values {
		if v.Key == key {
			out = append(out, v.Value)
		}
	}
	return out
}

// ParseFrontMatter parses the YAML front matter at the start of text ("---" fence, lines, "---").
// It understands the subset cards use: `key: value`, `key: [a, b]` and `key:` followed by `- item`
// lines; nested mappings are skipped. It is bounded in time and memory and never fails: a text
// without a well-formed front matter gives ok=false.
func ParseFrontMatter(text string) (fm FrontMatter, ok bool) {
	off := 0
	if strings.HasPrefix(text, "\ufeff") {
		off = 3
	}
	for off < len(text) && (text[off] == '\n' || text[off] == '\r' || text[off] == ' ' || text[off] == '\t') {
		off++
	}
	if !strings.HasPrefix(text[off:], "---") {
		return fm, false
	}
	fm.Start = off
	line, next := lineAt(text, off)
	if strings.TrimSpace(line) != "---" {
		return fm, false
	}
	pos := next
	curKey := ""
	lines := 0
	for pos < len(text) && pos-off <= maxFrontMatter && lines < maxFrontLines {
		lines++
		line, next = lineAt(text, pos)
		trimmed := strings.TrimRight(line, "\r \t")
		if trimmed == "---" || trimmed == "..." {
			fm.End = next
			return fm, true
		}
		indent := len(line) - len(strings.TrimLeft(line, " \t"))
		body := strings.TrimSpace(line)
		switch {
		case body == "" || body[0] == '#':
		case strings.HasPrefix(body, "- ") || body == "-":
			if curKey != "" {
				item := strings.TrimSpace(strings.TrimPrefix(body, "-"))
				// "- key: value" items are mappings (model-index, ...): skip them.
				if item != "" && !isMappingItem(item) {
					s := pos + strings.Index(line, item)
					fm.add(curKey, item, s)
				}
			}
		case indent == 0:
			k, v, found := strings.Cut(body, ":")
			if !found {
				curKey = ""
				break
			}
			curKey = strings.ToLower(strings.TrimSpace(k))
			v = strings.TrimSpace(v)
			if v == "" || v == "|" || v == ">" {
				break
			}
			vs := pos + strings.Index(line, v)
			if strings.HasPrefix(v, "[") {
				inner := strings.TrimSuffix(strings.TrimPrefix(v, "["), "]")
				base := vs + 1
				for _, part := range strings.Split(inner, ",") {
					p := strings.TrimSpace(part)
					if p != "" {
						fm.add(curKey, p, base+strings.Index(part, p))
					}
					base += len(part) + 1
				}
			} else {
				fm.add(curKey, v, vs)
			}
		}
		if next <= pos {
			break
		}
		pos = next
	}
	return FrontMatter{}, false
}

func (f *FrontMatter) add(key, v string, start int) {
	if len(f.Values) >= maxFrontValues {
		return
	}
	end := start + len(v)
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		v = v[1 : len(v)-1]
		start++
		end--
	}
	if len(v) > maxFrontValueSz {
		v = v[:maxFrontValueSz]
		end = start + maxFrontValueSz
	}
	f.Values = append(f.Values, FrontValue{Key: key, Value: v, Start: start, End: end})
}

// isMappingItem reports whether a list item is a YAML mapping ("name: x"), not a scalar such as
// "base_model:finetune:org/model".
func isMappingItem(item string) bool {
	if item[0] == '"' || item[0] == '\'' {
		return false
	}
	return strings.Contains(item, ": ") || strings.HasSuffix(item, ":")
}

// lineAt returns the line starting at off (without its newline) and the offset after it.
func lineAt(s string, off int) (string, int) {
	if i := strings.IndexByte(s[off:], '\n'); i >= 0 {
		return s[off : off+i], off + i + 1
	}
	return s[off:], len(s)
}
