package extract

import (
	"bytes"
	"unsafe"

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
	ac := m.scan
	delta := ac.raw
	row := delta[symSep] & rowMask
	depth := 0
	i, n := 0, len(line)
	for i < n {
		// Outside strings: structure, numbers and literals.
		k := bareSym[line[i]]
		i++
		if k < alphabet {
			e := delta[row+uint32(k)]
			row = e & rowMask
			if ac.hit(e) {
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
		if ac.hit(e) {
			return true, true
		}
		var st scanStatus
		if i, row, st = ac.scanString(line, i, row); st != scanClean {
			return st == scanHit, st == scanHit
		}
		e = delta[row+symSep]
		row = e & rowMask
		if ac.hit(e) {
			return true, true
		}
	}
	if ac.hit(delta[row+symSep]) {
		return true, true
	}
	if depth != 0 {
		return false, false
	}
	// The required fields, read in place (no copy: the probe does not outlive the call).
	probe := artifact.Artifact{ID: jsonFieldRaw(line, keyID), Source: jsonFieldRaw(line, keySource), Kind: jsonFieldRaw(line, keyKind)}
	if probe.Validate() != nil {
		return false, false
	}
	if probe.Kind == artifact.KindPaper && rawGlue(line) {
		// a name glued to a short word ("andDukeMTMC-VideoReID") is found only by the full match
		return true, true
	}
	return false, true
}

// stringEnd returns the index of the quote that closes the JSON string starting at i (just after
// its opening quote), or -1. A quote preceded by an odd run of backslashes is escaped.
func stringEnd(line []byte, i int) int {
	for j := i; ; {
		q := bytes.IndexByte(line[j:], '"')
		if q < 0 {
			return -1
		}
		q += j
		b := q
		for b > i && line[b-1] == '\\' {
			b--
		}
		if (q-b)%2 == 0 {
			return q
		}
		j = q + 1
	}
}

type scanStatus uint8

const (
	scanClean scanStatus = iota // no output, valid so far
	scanHit                     // a pattern ends here: the line may have a finding
	scanBad                     // unterminated, a raw control character or a broken escape: decode to judge
)

// next is one automaton step in automaton.raw: the entry for byte c in the row row. The table has
// an entry for every row and every rawSym value (row < len(raw) by construction, rawSym <
// rawStride), so the load needs no bounds check.
func next(delta unsafe.Pointer, row uint32, c byte) uint32 {
	return *(*uint32)(unsafe.Add(delta, uintptr(row+uint32(rawSym[c]))*4))
}

// byteAt is line[i] for 0 <= i < len(line), without the bounds check (callers loop below a bound
// that is at most len(line)).
func byteAt(line unsafe.Pointer, i int) byte { return *(*byte)(unsafe.Add(line, i)) }

// scanString runs the automaton over the JSON string that starts at line[i] (just after its
// opening quote) from row, decoding escapes, and returns the position after its closing quote and
// the row there.
//
// The automaton's step is one dependent table load per byte, so one run is bound by the load
// latency. A short string is scanned in one run that stops at the closing quote; a long one is
// cut into up to four parts scanned at once (independent chains in one loop). Every part but the
// first starts after a space, in the state "just after a separator"; each part then runs on past
// its end until its state has no pattern in progress (the root, or just after a separator), where
// it agrees with the next part: an Aho-Corasick state is the longest suffix of the input that is a
// pattern prefix, and the next part read a suffix of the same input. So every occurrence is seen
// by one of the parts, and the state at the end is that of the first part that did not agree
// with its successor before the end.
func (a *automaton) scanString(line []byte, i int, row uint32) (int, uint32, scanStatus) {
	// The first bytes in one run: most strings (keys, ids, titles) end there.
	i, row, st := a.scanRun(line, i, min(len(line), i+firstRun), row)
	if st != scanClean {
		if st == scanQuote {
			return i + 1, row, scanClean
		}
		return i, row, st
	}
	end := stringEnd(line, i)
	if end < 0 {
		return i, row, scanBad // unterminated string
	}
	row, st = a.scanParts(line, i, end, row)
	return end + 1, row, st
}

const (
	firstRun = 128 // bytes of a string scanned before its end is looked up
	partMin  = 256 // the shortest part of a string scanned in parts
	maxParts = 4   // chains in the interleaved loop
)

// scanQuote is scanRun's status at an unescaped quote (the end of the string).
const scanQuote scanStatus = 3

// scanParts scans line[i:end], the rest of a string without its closing quote, in parts.
func (a *automaton) scanParts(line []byte, i, end int, row uint32) (uint32, scanStatus) {
	// Part starts: just after a space at or after each cut.
	var start [maxParts + 1]int
	start[0] = i
	np := min(maxParts, (end-i)/partMin)
	k := 1
	for j := 1; j < np; j++ {
		cut := max(i+(end-i)*j/np, start[k-1]+partMin/2)
		if cut >= end-partMin/4 {
			break
		}
		sp := bytes.IndexByte(line[cut:end-partMin/4], ' ')
		if sp < 0 {
			break
		}
		start[k] = cut + sp + 1
		k++
	}
	start[k] = end
	if k == 1 {
		row, _, st := a.scanSpan(line, i, end, row)
		return row, st
	}
	sepRow := a.raw[symSep] & rowMask // the state just after a separator
	var pos [maxParts]int
	var rows [maxParts]uint32
	for j := 0; j < k; j++ {
		pos[j], rows[j] = start[j], sepRow
	}
	rows[0] = row
	var st scanStatus
	if k == 4 {
		st = a.scan4(line, &pos, &rows, &start)
	} else {
		st = a.scan2(line, &pos, &rows, &start, k)
	}
	if st != scanClean {
		return 0, st
	}
	// Each part on past its end until it agrees with the next one.
	delta := unsafe.Pointer(unsafe.SliceData(a.raw))
	lp := unsafe.Pointer(unsafe.SliceData(line))
	for j := 0; j < k-1; j++ {
		p, r := pos[j], rows[j]
		for p < end && r != 0 && r != sepRow {
			e := next(delta, r, byteAt(lp, p))
			if e < flagMin {
				r = e
				p++
				continue
			}
			if p, r, st = a.special(line, p, r, e); st != scanClean {
				return 0, st
			}
		}
		if p >= end {
			return r, scanClean // it ran to the end: its state is the state there
		}
	}
	return rows[k-1], scanClean
}

// scan2 runs parts two at a time (k is 2 or 3) to their ends.
func (a *automaton) scan2(line []byte, pos *[maxParts]int, rows *[maxParts]uint32, start *[maxParts + 1]int, k int) scanStatus {
	for j := 0; j+1 < k; j += 2 {
		if st := a.pair(line, &pos[j], &rows[j], start[j+1], &pos[j+1], &rows[j+1], start[j+2]); st != scanClean {
			return st
		}
	}
	if k%2 == 1 {
		var st scanStatus
		rows[k-1], pos[k-1], st = a.scanSpan(line, pos[k-1], start[k], rows[k-1])
		return st
	}
	return scanClean
}

// pair runs two parts at once, each to its end.
func (a *automaton) pair(line []byte, pa *int, pra *uint32, enda int, pb *int, prb *uint32, endb int) scanStatus {
	delta := unsafe.Pointer(unsafe.SliceData(a.raw))
	lp := unsafe.Pointer(unsafe.SliceData(line))
	ia, ib, ra, rb := *pa, *pb, *pra, *prb
	var st scanStatus
	for ia < enda && ib < endb {
		ea := next(delta, ra, byteAt(lp, ia))
		eb := next(delta, rb, byteAt(lp, ib))
		if ea|eb < flagMin {
			ra, rb = ea, eb
			ia++
			ib++
			continue
		}
		if ea < flagMin {
			ra = ea
			ia++
		} else if ia, ra, st = a.special(line, ia, ra, ea); st != scanClean {
			return st
		}
		if eb < flagMin {
			rb = eb
			ib++
		} else if ib, rb, st = a.special(line, ib, rb, eb); st != scanClean {
			return st
		}
	}
	if ia < enda {
		if ra, ia, st = a.scanSpan(line, ia, enda, ra); st != scanClean {
			return st
		}
	}
	if ib < endb {
		if rb, ib, st = a.scanSpan(line, ib, endb, rb); st != scanClean {
			return st
		}
	}
	*pa, *pb, *pra, *prb = ia, ib, ra, rb
	return scanClean
}

// scan4 runs four parts at once, each to its end.
func (a *automaton) scan4(line []byte, pos *[maxParts]int, rows *[maxParts]uint32, start *[maxParts + 1]int) scanStatus {
	delta := unsafe.Pointer(unsafe.SliceData(a.raw))
	lp := unsafe.Pointer(unsafe.SliceData(line))
	i0, i1, i2, i3 := pos[0], pos[1], pos[2], pos[3]
	r0, r1, r2, r3 := rows[0], rows[1], rows[2], rows[3]
	for {
		n := min(start[1]-i0, start[2]-i1, start[3]-i2, start[4]-i3)
		if n <= 0 {
			break
		}
		// n steps of all four, unless one meets an output or a special byte
		k := 0
		for ; k < n; k++ {
			e0 := next(delta, r0, byteAt(lp, i0+k))
			e1 := next(delta, r1, byteAt(lp, i1+k))
			e2 := next(delta, r2, byteAt(lp, i2+k))
			e3 := next(delta, r3, byteAt(lp, i3+k))
			if e0|e1|e2|e3 >= flagMin {
				break
			}
			r0, r1, r2, r3 = e0, e1, e2, e3
		}
		i0, i1, i2, i3 = i0+k, i1+k, i2+k, i3+k
		if k == n {
			continue
		}
		// one step of each, through the slow path where needed
		var st scanStatus
		if i0, r0, st = a.step(line, i0, r0); st != scanClean {
			return st
		}
		if i1, r1, st = a.step(line, i1, r1); st != scanClean {
			return st
		}
		if i2, r2, st = a.step(line, i2, r2); st != scanClean {
			return st
		}
		if i3, r3, st = a.step(line, i3, r3); st != scanClean {
			return st
		}
	}
	pos[0], pos[1], pos[2], pos[3] = i0, i1, i2, i3
	rows[0], rows[1], rows[2], rows[3] = r0, r1, r2, r3
	// the parts that are not at their ends yet (an escape moved the others on)
	for j := 0; j < 4; j++ {
		if pos[j] < start[j+1] {
			var st scanStatus
			if rows[j], pos[j], st = a.scanSpan(line, pos[j], start[j+1], rows[j]); st != scanClean {
				return st
			}
		}
	}
	return scanClean
}

// step reads one byte (or one escape) at line[i] in a string.
func (a *automaton) step(line []byte, i int, row uint32) (int, uint32, scanStatus) {
	e := a.raw[row+uint32(rawSym[line[i]])]
	if e < flagMin {
		return i + 1, e, scanClean
	}
	return a.special(line, i, row, e)
}

// scanSpan runs the automaton over line[i:end], inside a string that goes on past end.
func (a *automaton) scanSpan(line []byte, i, end int, row uint32) (uint32, int, scanStatus) {
	i, row, st := a.scanRun(line, i, end, row)
	if st == scanQuote {
		st = scanBad // not reached: end is at or before the closing quote
	}
	return row, i, st
}

// scanRun runs the automaton inside a string from line[i] to the first unescaped quote or to lim
// (<= len(line)), whichever comes first; an escape that starts before lim is read whole. It returns
// the position reached (the quote's, with scanQuote) and the row there.
func (a *automaton) scanRun(line []byte, i, lim int, row uint32) (int, uint32, scanStatus) {
	delta := unsafe.Pointer(unsafe.SliceData(a.raw))
	lp := unsafe.Pointer(unsafe.SliceData(line))
	for i < lim {
		e := next(delta, row, byteAt(lp, i))
		if e < flagMin {
			row = e
			i++
			continue
		}
		if line[i] == '"' && e&outFlag == 0 {
			return i, row, scanQuote
		}
		var st scanStatus
		if i, row, st = a.special(line, i, row, e); st != scanClean {
			return i, row, st
		}
	}
	if (row/rawStride)%2 == 1 && i < len(line) {
		return a.step(line, i, row) // stopped after a backslash: the escape is read whole
	}
	return i, row, scanClean
}

// special handles the entry e read for line[i] in the row row: an output; a quote or a control
// character (the symSpecial column of a plain row: a control character is not allowed in a string,
// and the caller has handled the closing quote); or the 'u' of an escape (see automaton.raw). It
// returns the position and row after it.
func (a *automaton) special(line []byte, i int, row, e uint32) (int, uint32, scanStatus) {
	if e&outFlag != 0 {
		if a.hit(e) {
			return i, row, scanHit
		}
		return i + 1, e & rowMask, scanClean // only patterns the scan ignores end here
	}
	if (row/rawStride)%2 == 0 {
		return i, row, scanBad // raw control characters are not allowed in strings
	}
	// After a backslash, at a 'u' (or 'U', which shares its column): \uXXXX decodes to its
	// symbol, any other escape is a separator.
	plain := row - rawStride // the same state, outside an escape
	sym := uint32(symSep)
	if line[i] == 'u' {
		n := len(line)
		if i+4 >= n {
			return i, row, scanBad
		}
		code, good := hex4(line[i+1 : i+5])
		if !good {
			return i, row, scanBad
		}
		i += 4
		if code < 0x80 {
			sym = uint32(symOf[code])
		} // non-ASCII characters separate words, as their raw bytes do (normalize.go)
	}
	i++
	e = a.raw[plain+sym]
	if a.hit(e) {
		return i, row, scanHit
	}
	return i, e & rowMask, scanClean
}

// hit reports whether entry e enters a state where a pattern the scan looks for ends: every
// pattern, or with keep (ScanScoredOnly) only those that can lead to a scored finding.
func (a *automaton) hit(e uint32) bool {
	return e&outFlag != 0 && (a.keep == nil || a.keep[(e&rowMask)/(2*rawStride)])
}

// rawGlue reports whether a raw line may hold a name glued to a short word (gluedAt): an upper-case
// letter after a glue word, also where the word follows an escape ("\nonDukeMTMC" decodes to a
// line break and "onDukeMTMC"). A superset of what the full match's glue scan finds.
func rawGlue(line []byte) bool {
	for i := 1; i < len(line); i++ {
		if c := line[i]; c-'A' < 26 && line[i-1]-'a' < 26 {
			if gluedAt(line, i) > 0 {
				return true
			}
			j := i - 1
			for j > 0 && line[j-1]-'a' < 26 {
				j--
			}
			if j > 0 && line[j-1] == '\\' && i-j >= 2 && gluedAt(line[j+1:], i-j-1) > 0 {
				return true
			}
		}
	}
	return false
}

// Byte classes of the raw-line scanner beyond the symbols (0 .. alphabet-1).
const (
	clsQuote  uint8 = 64 + iota
	clsEscape       // (the reference scanner in prefilter_ref_test.go)
	clsCtl
	clsOpen
	clsClose
	clsBad
)

// rawSym maps a byte inside a JSON string to its symbol, symBackslash, or symSpecial for a byte
// the scanner handles itself (the closing quote, a control character);
// bareSym maps a byte outside strings.
var rawSym, bareSym [256]uint8

func init() {
	for c := 0; c < 256; c++ {
		rawSym[c] = symOf[c]
		bareSym[c] = clsBad
	}
	for c := 0; c < 0x20; c++ {
		rawSym[c] = symSpecial
	}
	rawSym['"'] = symSpecial // the closing quote (an escaped one is read by the escape)
	rawSym['\\'] = symBackslash
	for _, c := range []byte("-+.0123456789eEtruefalsn:, \t\r\n") {
		bareSym[c] = symOf[c]
	}
	bareSym['"'] = clsQuote
	bareSym['{'], bareSym['['] = clsOpen, clsOpen
	bareSym['}'], bareSym[']'] = clsClose, clsClose
}

var (
	keyID     = []byte(`"id"`)
	keySource = []byte(`"source"`)
	keyKind   = []byte(`"kind"`)
)

// jsonFieldRaw is jsonField with the key already quoted, and the value as a string that shares
// line's bytes (no copy): it must not outlive line or be kept.
func jsonFieldRaw(line, key []byte) string {
	i := bytes.Index(line, key)
	if i < 0 {
		return ""
	}
	rest := bytes.TrimLeft(line[i+len(key):], " \t")
	if len(rest) == 0 || rest[0] != ':' {
		return ""
	}
	rest = bytes.TrimLeft(rest[1:], " \t")
	if len(rest) == 0 || rest[0] != '"' {
		return ""
	}
	end := bytes.IndexByte(rest[1:], '"')
	if end < 0 || end == 0 || bytes.IndexByte(rest[1:1+end], '\\') >= 0 {
		return ""
	}
	return unsafe.String(&rest[1], end)
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
