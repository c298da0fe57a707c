package extract

// automaton is an Aho-Corasick automaton over the normalized symbol alphabet, compiled to a dense
// DFA. Every pattern is stored with a separator symbol on both sides, so it only matches whole
// tokens; the scanner feeds a separator before and after the text.
//
// A row has stride (alphabet+1) entries: the extra column, symSpecial, is for the raw-line
// scanner (prefilter.go): a byte it must handle itself (a quote, a backslash, a control
// character) maps there, and the entry is specFlag, so one compare per byte catches both an
// output and such a byte.
type automaton struct {
	delta  []uint32 // state*stride + symbol → entry (see outFlag)
	outOff []uint32 // state → range in outs
	outs   []int32  // pattern ids
	plen   []int32  // pattern id → length in symbols (with both separators)
	maxLen int
	// selfLoop marks states entered on a separator (used once by finish).
	selfLoop []bool
	// raw is the table of the raw-line scanner (prefilter.go): two rows per state, of rawStride
	// entries each — row 2q for state q, row 2q+1 for state q just after a backslash inside a
	// string. In the plain row a backslash goes to the escape row (the automaton does not move);
	// in the escape row every byte but 'u' is the escape's one separator step (\n, \", \\, also
	// invalid escapes, as the decoder reads them) and 'u' is special (\uXXXX is decoded by hand).
	// So escapes, frequent in README text, do not leave the scanner's loop. Entries are row offsets
	// into raw with outFlag and specFlag as in delta.
	raw []uint32
	// keep, if set, marks the states with an output the raw-line scanner reports (ScanLine with
	// ScanScoredOnly); the others it reads through. Nil: every output.
	keep []bool
}

type trieNode struct {
	next [alphabet]int32
	fail int32
	out  []int32
	in   uint8 // the symbol that leads to this node
}

// buildAutomaton compiles normalized patterns (as produced by normalize/variants).
func buildAutomaton(patterns []string) *automaton {
	size := 1 // at most one node per pattern symbol: no reallocation of the (large) nodes
	for _, p := range patterns {
		size += len(p) + 2
	}
	nodes := make([]trieNode, 1, size)
	a := &automaton{plen: make([]int32, len(patterns))}
	for id, p := range patterns {
		syms := make([]uint8, 0, len(p)+2)
		syms = append(syms, symSep)
		for i := 0; i < len(p); i++ {
			syms = append(syms, symOf[p[i]])
		}
		syms = append(syms, symSep)
		a.plen[id] = int32(len(syms))
		if len(syms) > a.maxLen {
			a.maxLen = len(syms)
		}
		cur := int32(0)
		for _, s := range syms {
			nx := nodes[cur].next[s]
			if nx == 0 {
				nodes = append(nodes, trieNode{in: s})
				nx = int32(len(nodes) - 1)
				nodes[cur].next[s] = nx
			}
			cur = nx
		}
		nodes[cur].out = append(nodes[cur].out, int32(id))
	}
	// BFS: failure links, merged outputs and the dense transition table.
	a.delta = make([]uint32, len(nodes)*stride)
	queue := make([]int32, 0, len(nodes))
	for s := 0; s < alphabet; s++ {
		if nx := nodes[0].next[s]; nx != 0 {
			nodes[nx].fail = 0
			queue = append(queue, nx)
			a.delta[s] = uint32(nx)
		}
	}
	for qi := 0; qi < len(queue); qi++ {
		u := queue[qi]
		f := nodes[u].fail
		if len(nodes[f].out) > 0 {
			nodes[u].out = append(nodes[u].out, nodes[f].out...)
		}
		for s := 0; s < alphabet; s++ {
			nx := nodes[u].next[s]
			if nx != 0 {
				nodes[nx].fail = int32(a.delta[int(f)*stride+s])
				queue = append(queue, nx)
				a.delta[int(u)*stride+s] = uint32(nx)
			} else {
				a.delta[int(u)*stride+s] = a.delta[int(f)*stride+s]
			}
		}
	}
	a.outOff = make([]uint32, len(nodes)+1)
	for i := range nodes {
		a.outOff[i] = uint32(len(a.outs))
		a.outs = append(a.outs, nodes[i].out...)
	}
	a.outOff[len(nodes)] = uint32(len(a.outs))
	// Separator runs collapse: a state entered on a separator stays put on the next one (without
	// reporting its outputs again), so the scanners need no "previous was a separator" branch.
	a.selfLoop = make([]bool, len(nodes))
	for q := 1; q < len(nodes); q++ {
		if nodes[q].in == symSep {
			a.delta[q*stride+symSep] = uint32(q)
			a.selfLoop[q] = true
		}
	}
	a.finish()
	return a
}

// rawHit is one pattern occurrence: byte offsets [start, end) into the scanned string.
type rawHit struct {
	pat        int32
	start, end int
}

// Transition entries hold the next state's row offset (state*stride) and, in the top bit,
// whether that state has outputs, so the hot loop needs one load and no multiply per byte. The
// symSpecial column holds specFlag. An entry below flagMin is a plain row offset.
const (
	outFlag    = 1 << 31
	specFlag   = 1 << 30
	flagMin    = specFlag
	rowMask    = specFlag - 1
	symSpecial = alphabet // the extra column (raw-line scanner only)
	stride     = alphabet + 1
	// the raw-line scanner's table (raw) has one more column, for the backslash
	symBackslash = alphabet + 1
	rawStride    = alphabet + 2
)

// finish converts delta to row offsets with the output flag (called once by buildAutomaton).
func (a *automaton) finish() {
	for i, nx := range a.delta {
		if i%stride == symSpecial {
			a.delta[i] = specFlag
			continue
		}
		e := nx * stride
		self := i%stride == symSep && i/stride == int(nx) && a.selfLoop[nx]
		if a.outOff[nx] != a.outOff[nx+1] && !self {
			e |= outFlag
		}
		a.delta[i] = e
	}
	a.selfLoop = nil
	a.buildRaw()
}

// buildRaw derives raw from delta (see the field).
func (a *automaton) buildRaw() {
	n := len(a.delta) / stride
	a.raw = make([]uint32, 2*n*rawStride)
	conv := func(e uint32) uint32 { return uint32(2*int((e&rowMask)/stride)*rawStride) | e&outFlag }
	for q := 0; q < n; q++ {
		plain := a.raw[2*q*rawStride : (2*q+1)*rawStride]
		esc := a.raw[(2*q+1)*rawStride : (2*q+2)*rawStride]
		for s := 0; s < alphabet; s++ {
			plain[s] = conv(a.delta[q*stride+s])
		}
		plain[symSpecial] = specFlag
		plain[symBackslash] = uint32((2*q + 1) * rawStride)
		sep := conv(a.delta[q*stride+symSep])
		for s := range esc {
			esc[s] = sep
		}
		esc[symOf['u']] = specFlag // \uXXXX, and \U (an invalid escape read as a separator)
	}
}

// scan appends every whole-token pattern occurrence in s to hits.
func (a *automaton) scan(s string, hits []rawHit) []rawHit {
	delta := a.delta
	row := delta[symSep] & rowMask // after the virtual leading separator
	for i := 0; i < len(s); i++ {
		e := delta[row+uint32(symOf[s[i]])]
		row = e & rowMask
		if e&outFlag != 0 {
			hits = a.emit(hits, row/stride, s, i)
		}
	}
	if e := delta[row+symSep]; e&outFlag != 0 { // the virtual trailing separator
		hits = a.emit(hits, (e&rowMask)/stride, s, len(s))
	}
	return hits
}

// emit reports the patterns ending in state at byte i (the separator that closes them). Start
// offsets are found by walking back over the original bytes, collapsing separators as the scanner
// does; matches are rare, so this costs nothing in the hot loop.
func (a *automaton) emit(hits []rawHit, state uint32, s string, i int) []rawHit {
	for _, id := range a.outs[a.outOff[state]:a.outOff[state+1]] {
		inner := int(a.plen[id]) - 2 // symbols between the two separators
		end := i
		j := i - 1
		count := 0
		start := -1
		for j >= 0 {
			if symOf[s[j]] == symSep {
				for j >= 0 && symOf[s[j]] == symSep {
					j--
				}
				count++
				continue
			}
			count++
			if count == inner {
				start = j
				break
			}
			j--
		}
		if start >= 0 {
			hits = append(hits, rawHit{pat: id, start: start, end: end})
		}
	}
	return hits
}
