package manuscript

import (
	"fmt"
	"regexp"
	"strings"
)

// MaxBibEntries bounds the entries read from one .bib file.
const MaxBibEntries = 100000

// ParseBibTeX reads the entries of a .bib file. It is lenient: a damaged entry is skipped and
// reported in the returned error list, the rest is kept. @string, @preamble and @comment are
// skipped. name is used in locations and errors.
func ParseBibTeX(data []byte, name string) ([]Reference, []error) {
	s := string(data)
	var refs []Reference
	var errs []error
	line := 1
	pos := 0
	for pos < len(s) && len(refs) < MaxBibEntries {
		at := strings.IndexByte(s[pos:], '@')
		if at < 0 {
			break
		}
		line += strings.Count(s[pos:pos+at], "\n")
		pos += at
		start := pos
		startLine := line
		i := pos + 1
		for i < len(s) && (isAlnum(s[i]) || s[i] == '_') {
			i++
		}
		typ := strings.ToLower(s[pos+1 : i])
		for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
			i++
		}
		if typ == "" || i >= len(s) || (s[i] != '{' && s[i] != '(') {
			pos++
			continue
		}
		closer := byte('}')
		if s[i] == '(' {
			closer = ')'
		}
		end, ok := matchClose(s, i, s[i], closer)
		if !ok {
			errs = append(errs, fmt.Errorf("%s:%d: @%s entry is not closed", name, startLine, typ))
			line += strings.Count(s[pos:i+1], "\n")
			pos = i + 1
			continue
		}
		body := s[i+1 : end]
		line += strings.Count(s[start:end+1], "\n")
		pos = end + 1
		switch typ {
		case "string", "preamble", "comment":
			continue
		}
		key, fields := parseBibBody(body)
		if key == "" {
			errs = append(errs, fmt.Errorf("%s:%d: @%s entry without a key", name, startLine, typ))
			continue
		}
		r := Reference{Key: key, Title: flattenBib(fields["title"]), Loc: Location{File: name, Line: startLine}}
		r.DOI = normDOI(fields["doi"])
		r.ArXiv = findArXiv(fields["eprint"] + " " + fields["journal"] + " " + fields["url"] + " " + fields["note"] + " " + fields["archiveprefix"] + " " + fields["howpublished"] + " " + fields["volume"])
		if r.DOI == "" {
			r.DOI = findDOI(fields["url"] + " " + fields["note"])
		}
		var parts []string
		for _, f := range []string{"author", "title", "booktitle", "journal", "year"} {
			if v := flattenBib(fields[f]); v != "" {
				parts = append(parts, v)
			}
		}
		r.Text = strings.Join(parts, ". ")
		refs = append(refs, r)
	}
	return refs, errs
}

// matchClose finds the index of the closer matching s[open]: for '{' the brace that balances it,
// for '(' the ')' met outside any braces.
func matchClose(s string, open int, opener, closer byte) (int, bool) {
	braces := 0
	for i := open + 1; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			i++
		case c == '{':
			braces++
		case c == '}':
			if braces == 0 && opener == '{' {
				return i, true
			}
			braces--
			if braces < 0 {
				return 0, false
			}
		case c == closer && opener == '(' && braces == 0:
			return i, true
		}
	}
	return 0, false
}

// parseBibBody splits "key, field = {v}, field = "v", field = 12" into the key and lower-case fields.
func parseBibBody(body string) (string, map[string]string) {
	fields := map[string]string{}
	comma := strings.IndexByte(body, ',')
	if comma < 0 {
		return strings.TrimSpace(body), fields
	}
	key := strings.TrimSpace(body[:comma])
	if strings.ContainsAny(key, " \t\n=") {
		return "", fields
	}
	i := comma + 1
	for i < len(body) {
		for i < len(body) && (body[i] == ' ' || body[i] == ',' || body[i] == '\n' || body[i] == '\r' || body[i] == '\t') {
			i++
		}
		eq := strings.IndexByte(body[i:], '=')
		if eq < 0 {
			break
		}
		fname := strings.ToLower(strings.TrimSpace(body[i : i+eq]))
		i += eq + 1
		for i < len(body) && (body[i] == ' ' || body[i] == '\n' || body[i] == '\r' || body[i] == '\t') {
			i++
		}
		var val strings.Builder
		// A value is a concatenation (#) of braced, quoted or bare parts.
		for i < len(body) {
			switch body[i] {
			case '{':
				end, ok := matchClose(body, i, '{', '}')
				if !ok {
					end = len(body) - 1
				}
				val.WriteString(body[i+1 : min(end, len(body))])
				i = end + 1
			case '"':
				j := i + 1
				depth := 0
				for j < len(body) && (body[j] != '"' || depth > 0) {
					if body[j] == '{' {
						depth++
					} else if body[j] == '}' {
						depth--
					} else if body[j] == '\\' {
						j++
					}
					j++
				}
				val.WriteString(body[i+1 : min(j, len(body))])
				i = j + 1
			default:
				j := i
				for j < len(body) && body[j] != ',' && body[j] != '#' && body[j] != '\n' {
					j++
				}
				val.WriteString(strings.TrimSpace(body[i:j]))
				i = j
			}
			for i < len(body) && (body[i] == ' ' || body[i] == '\n' || body[i] == '\t' || body[i] == '\r') {
				i++
			}
			if i < len(body) && body[i] == '#' {
				i++
				for i < len(body) && (body[i] == ' ' || body[i] == '\n' || body[i] == '\t') {
					i++
				}
				continue
			}
			break
		}
		if fname != "" {
			fields[fname] = val.String()
		}
	}
	return key, fields
}

// flattenBib removes LaTeX markup from a field value.
func flattenBib(v string) string {
	if v == "" {
		return ""
	}
	return strings.TrimSpace(cleanTeX(strings.ReplaceAll(strings.ReplaceAll(v, "\n", " "), "\r", " ")))
}

var (
	arxivRE   = regexp.MustCompile(`(?i)(?:arxiv(?:\.org/(?:abs|pdf)/|:\s*|\s+preprint\s+arxiv:\s*|\s+)|^\s*)([0-9]{4}\.[0-9]{4,5})(?:v[0-9]+)?`)
	arxivIDRE = regexp.MustCompile(`^[0-9]{4}\.[0-9]{4,5}$`)
	doiRE     = regexp.MustCompile(`(?i)\b(10\.[0-9]{4,9}/[^\s"'<>{}]+)`)
)

// findArXiv returns the first new-style arXiv id in s ("arXiv:1607.08221", "arxiv.org/abs/1607.08221v2",
// or a bare eprint field).
func findArXiv(s string) string {
	if m := arxivRE.FindStringSubmatch(s); m != nil {
		return m[1]
	}
	return ""
}

// findDOI returns the first DOI in s, lower-cased, trailing punctuation removed.
func findDOI(s string) string {
	if m := doiRE.FindStringSubmatch(s); m != nil {
		return normDOI(m[1])
	}
	return ""
}

func normDOI(d string) string {
	d = strings.TrimSpace(strings.ToLower(d))
	for _, p := range []string{"https://doi.org/", "http://doi.org/", "https://dx.doi.org/", "http://dx.doi.org/", "doi:"} {
		d = strings.TrimPrefix(d, p)
	}
	return strings.TrimRight(d, ".,;)]")
}

// NormArXiv strips a version suffix and an "arXiv:" prefix from an arXiv id.
func NormArXiv(id string) string {
	id = strings.TrimSpace(strings.ToLower(id))
	id = strings.TrimPrefix(id, "arxiv:")
	if i := strings.LastIndexByte(id, 'v'); i > 0 && arxivIDRE.MatchString(id[:i]) {
		id = id[:i]
	}
	return id
}

var bibitemRE = regexp.MustCompile(`\\bibitem\s*(?:\[((?:[^\[\]]|\[[^\]]*\])*)\])?\s*\{([^{}]*)\}`)

// parseBBL reads \bibitem entries (a .bbl file or a thebibliography environment). The title is
// taken as the \newblock after the authors, which is how the standard styles lay entries out.
func parseBBL(s string, at Location) []Reference {
	ms := bibitemRE.FindAllStringSubmatchIndex(s, -1)
	var out []Reference
	for i, m := range ms {
		end := len(s)
		if i+1 < len(ms) {
			end = ms[i+1][0]
		}
		body := s[m[1]:end]
		if j := strings.Index(body, `\end{thebibliography}`); j >= 0 {
			body = body[:j]
		}
		key := s[m[4]:m[5]]
		loc := at
		loc.Line = at.Line + strings.Count(s[:m[0]], "\n")
		blocks := strings.Split(body, `\newblock`)
		title := ""
		if len(blocks) > 1 {
			title = strings.TrimRight(flattenBib(blocks[1]), ". ")
		}
		text := flattenBib(body)
		out = append(out, Reference{Key: key, Title: title, Text: text, ArXiv: findArXiv(body), DOI: findDOI(body), Loc: loc})
	}
	return out
}
