package render

import (
	"net/url"
	"strings"
	"unicode"
)

// Every string in a report that came from a crawl is hostile: these helpers make it inert in each
// format. HTML and XML use the standard library's contextual escaping (html/template,
// encoding/xml); JSON is encoded with HTML escaping on.

// safeURL returns u if it is an absolute http(s) URL, else "" (so a javascript: or data: URL
// from a crawl never becomes a link).
func safeURL(u string) string {
	u = strings.TrimSpace(u)
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return ""
	}
	return p.String()
}

// oneLine replaces control characters (newlines included) with spaces and trims.
func oneLine(s string) string {
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s))
}

// mdText escapes s for Markdown inline text (table cells included): every Markdown and HTML
// metacharacter is backslash-escaped, so no crawled string can open a tag, a link or an emphasis.
func mdText(s string) string {
	s = oneLine(s)
	var b strings.Builder
	b.Grow(len(s) + 8)
	for _, r := range s {
		switch r {
		case '\\', '`', '*', '_', '{', '}', '[', ']', '(', ')', '#', '+', '!', '|', '<', '>', '~', '&':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

var mdURL = strings.NewReplacer("(", "%28", ")", "%29", " ", "%20", "<", "%3C", ">", "%3E", "\"", "%22", "'", "%27", "`", "%60", "|", "%7C", "\\", "%5C")

// mdLink renders [text](url) when url is a safe http(s) URL, else the escaped text alone.
func mdLink(text, u string) string {
	su := safeURL(u)
	if su == "" {
		return mdText(text)
	}
	if strings.TrimSpace(text) == "" {
		text = su
	}
	return "[" + mdText(text) + "](" + mdURL.Replace(su) + ")"
}

// csvCell neutralises spreadsheet formula injection: a crawled cell starting with = + - @ or a
// control character gets a leading apostrophe (OWASP's recommendation).
func csvCell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r', '\n', '|', '%':
		return "'" + s
	}
	return s
}

// fileID makes a dataset id safe as a file name (registry ids are kebab-case already; ids that
// only the store knows are not trusted).
func fileID(id string) string {
	var b strings.Builder
	for _, r := range id {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '.' && b.Len() > 0:
			b.WriteRune(r)
		case r >= 'A' && r <= 'Z':
			b.WriteRune(r + 32)
		default:
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "_"
	}
	return b.String()
}
