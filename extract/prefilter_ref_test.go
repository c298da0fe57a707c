package extract

import (
	"bytes"

	"github.com/afterlife-watch/afterlife/artifact"
)

// scanLineRef is ScanLine as it was before the two-chain scanner (commit 79ad813), kept as the
// reference the new scanner is checked against (TestScanLineAgainstReference).
func (m *Matcher) scanLineRef(line []byte) (may, ok bool) {
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
			k = refStrSym[line[i]]
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

var refStrSym [256]uint8

func init() {
	for c := 0; c < 256; c++ {
		refStrSym[c] = symOf[c]
	}
	for c := 0; c < 0x20; c++ {
		refStrSym[c] = clsCtl
	}
	refStrSym['"'] = clsQuote
	refStrSym['\\'] = clsEscape
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
