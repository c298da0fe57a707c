package extract

import (
	"bytes"

	"github.com/afterlife-watch/afterlife/artifact"
)

// ScanLine is the fast path of `afterlife match`: it runs the matcher's automaton over one raw
// artifact JSON line, decoding string escapes on the fly, and checks the line's structure and its
// required fields on the way. may=false with ok=true means the decoded artifact can have no
// finding at all, so the line need not be decoded. ok=false means the line must be decoded to
// be judged (and a bad line then gets its precise error). With a Lineage store any declared base
// model may be tainted, so every line "may" match.
//
// The structure check is deliberately light (balanced strings, braces and brackets, only JSON
// literals outside strings): a line that passes it but is still invalid JSON, and names nothing
// in the registry, is skipped without an error.
func (m *Matcher) ScanLine(line []byte) (may, ok bool) {
	if m.lineage != nil {
		return true, true
	}
	delta := m.c.ac.delta
	row := delta[symSep] & rowMask
	depth := 0
	glued := false // a name may be glued to a short word ("andDukeMTMC"): decided by the kind below
	i, n := 0, len(line)
	for i < n {
		// Outside strings: structure, numbers and literals.
		k := bareSym[line[i]]
		i++
		if k < alphabet {
			e := delta[row+uint32(k)]
			row = e & rowMask
			if e&outFlag != 0 {
				return true, true
			}
			continue
		}
		switch k {
		case clsOpen:
			depth++
			continue
		case clsClose:
			depth--
			if depth < 0 {
				return false, false
			}
			continue
		case clsBad:
			return false, false
		}
		// Inside a string; the quotes act as separators.
		e := delta[row+symSep]
		row = e & rowMask
		if e&outFlag != 0 {
			return true, true
		}
	str:
		for {
			if i >= n {
				return false, false // unterminated string
			}
			k = strSym[line[i]]
			i++
			if c := line[i-1]; c-'A' < 26 && !glued && i >= 2 && line[i-2]-'a' < 26 {
				glued = gluedAt(line, i-1) > 0 // a camel-case step: rare in prose, so rarely checked
			}
			sym := uint32(k)
			if k >= alphabet {
				switch k {
				case clsQuote:
					break str
				case clsCtl:
					return false, false // raw control characters are not allowed in strings
				}
				// An escape: \uXXXX decodes to its symbol, the others are separators.
				if i >= n {
					return false, false
				}
				sym = symSep
				if line[i] == 'u' {
					if i+4 >= n {
						return false, false
					}
					code, good := hex4(line[i+1 : i+5])
					if !good {
						return false, false
					}
					i += 5
					if code < 0x80 {
						sym = uint32(symOf[code])
					} // non-ASCII characters separate words, as their raw bytes do (normalize.go)
				} else {
					i++
				}
			}
			e := delta[row+sym]
			row = e & rowMask
			if e&outFlag != 0 {
				return true, true
			}
		}
		e = delta[row+symSep]
		row = e & rowMask
		if e&outFlag != 0 {
			return true, true
		}
	}
	if delta[row+symSep]&outFlag != 0 {
		return true, true
	}
	if depth != 0 {
		return false, false
	}
	probe := artifact.Artifact{ID: jsonField(line, "id"), Source: jsonField(line, "source"), Kind: jsonField(line, "kind")}
	if probe.Validate() != nil {
		return false, false
	}
	if probe.Kind == artifact.KindPaper {
		// a name glued to a short word ("andDukeMTMC-VideoReID") is found only by the full match
		if glued {
			return true, true
		}
	}
	return false, true
}

// Byte classes of the raw-line scanner beyond the symbols (0 .. alphabet-1).
const (
	clsQuote uint8 = 64 + iota
	clsEscape
	clsCtl
	clsOpen
	clsClose
	clsBad
)

// strSym maps a byte inside a JSON string to its symbol or class; bareSym outside strings.
var strSym, bareSym [256]uint8

func init() {
	for c := 0; c < 256; c++ {
		strSym[c] = symOf[c]
		bareSym[c] = clsBad
	}
	for c := 0; c < 0x20; c++ {
		strSym[c] = clsCtl
	}
	strSym['"'] = clsQuote
	strSym['\\'] = clsEscape
	for _, c := range []byte("-+.0123456789eEtruefalsn:, \t\r\n") {
		bareSym[c] = symOf[c]
	}
	bareSym['"'] = clsQuote
	bareSym['{'], bareSym['['] = clsOpen, clsOpen
	bareSym['}'], bareSym[']'] = clsClose, clsClose
}

// jsonField returns the string value of the first `"key": "value"` in line ("" if none).
func jsonField(line []byte, key string) string {
	k := []byte(`"` + key + `"`)
	i := bytes.Index(line, k)
	if i < 0 {
		return ""
	}
	rest := bytes.TrimLeft(line[i+len(k):], " \t")
	if len(rest) == 0 || rest[0] != ':' {
		return ""
	}
	rest = bytes.TrimLeft(rest[1:], " \t")
	if len(rest) == 0 || rest[0] != '"' {
		return ""
	}
	end := bytes.IndexByte(rest[1:], '"')
	if end < 0 || bytes.IndexByte(rest[1:1+end], '\\') >= 0 {
		return ""
	}
	return string(rest[1 : 1+end])
}

func hex4(b []byte) (int, bool) {
	v := 0
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 | int(c-'0')
		case c >= 'a' && c <= 'f':
			v = v<<4 | int(c-'a'+10)
		case c >= 'A' && c <= 'F':
			v = v<<4 | int(c-'A'+10)
		default:
			return 0, false
		}
	}
	return v, true
}
