package extract

import "strings"

// The matcher works on a normalized symbol stream: ASCII letters fold to lower case, digits stay,
// every other ASCII byte (space, punctuation, separators) becomes one separator symbol and runs of
// separators collapse to one. Bytes of multi-byte UTF-8 characters are separators too (a name
// glued to “quotes”, an arrow or CJK text is still a whole token), so "MS-Celeb-1M", "ms_celeb_1m"
// and "MS Celeb 1M" all read "ms celeb 1m", and word boundaries are simply separator symbols.
const (
	symSep   = 0
	symOther = 37 // no byte maps to it since non-ASCII bytes separate words; letters and digits are 1..symOther-1
	alphabet = 38
)

var symOf [256]uint8

func init() {
	for b := 0; b < 256; b++ {
		switch {
		case b >= 'a' && b <= 'z':
			symOf[b] = uint8(b-'a') + 1
		case b >= 'A' && b <= 'Z':
			symOf[b] = uint8(b-'A') + 1
		case b >= '0' && b <= '9':
			symOf[b] = uint8(b-'0') + 27
		case b >= 0x80:
			// Bytes of non-ASCII characters separate words: real texts glue names to curly quotes,
			// arrows, dashes, no-break spaces and CJK ("“DukeMTMC-reID”", "Market→Duke",
			// "数据集MS1MV2下载"). No alias has a non-ASCII character.
			symOf[b] = symSep
		default:
			symOf[b] = symSep
		}
	}
}

// normalize returns the normalized form of s as text: lower-case alphanumerics separated by single
// spaces, without leading or trailing space.
func normalize(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	sep := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch sym := symOf[c]; {
		case sym == symSep:
			if !sep {
				b.WriteByte(' ')
				sep = true
			}
		case sym == symOther:
			b.WriteByte(c)
			sep = false
		default:
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			b.WriteByte(c)
			sep = false
		}
	}
	return strings.TrimSuffix(b.String(), " ")
}

// variants returns the spellings an alias is matched under: its normalized tokens joined by a
// separator or run together in every combination ("ms celeb 1m", "msceleb 1m", "msceleb1m", ...).
// Aliases of more than five tokens get only the separated and the run-together form.
func variants(alias string) []string {
	n := normalize(alias)
	if n == "" {
		return nil
	}
	toks := strings.Split(n, " ")
	if len(toks) == 1 {
		return []string{n}
	}
	if len(toks) > 5 {
		return []string{n, strings.Join(toks, "")}
	}
	var out []string
	gaps := len(toks) - 1
	for mask := 0; mask < 1<<gaps; mask++ {
		var b strings.Builder
		b.WriteString(toks[0])
		for i := 1; i < len(toks); i++ {
			if mask&(1<<(i-1)) == 0 {
				b.WriteByte(' ')
			}
			b.WriteString(toks[i])
		}
		v := b.String()
		// A run-together form shorter than 4 characters is too likely to be a word of its own.
		if len(v) < 4 && strings.IndexByte(v, ' ') < 0 && mask != 0 {
			continue
		}
		out = append(out, v)
	}
	return out
}

// alnum returns only the ASCII letters and digits of s (for case-sensitive checks).
func alnum(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') {
			b.WriteByte(c)
		}
	}
	return b.String()
}
