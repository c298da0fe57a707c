package extract

import (
	"strings"

	"github.com/afterlife-watch/afterlife/artifact"
)

// Section context of a name in a README or card: the headings above it and the block of lines that
// belongs to it. A "Data Zoo" table row or a "### MS1M-ArcFace" heading followed by [Baidu] and
// [GDrive] links hands out copies; a "Model Zoo" row links weights.

// maxSectionWindow bounds the window after a clause, in bytes.
const maxSectionWindow = 700

// sectionWindow returns the end of the block that belongs to the clause ending at hi: the following
// lines up to the next heading, list item or table row (a new entry), at most maxSectionWindow bytes.
func sectionWindow(s string, hi int) int {
	end := hi
	limit := min(len(s), hi+maxSectionWindow)
	// finish the current line
	for end < limit && s[end] != '\n' {
		end++
	}
	for end < limit {
		// end is at a newline; look at the next line
		next := end + 1
		j := next
		for j < len(s) && (s[j] == ' ' || s[j] == '\t' || s[j] == '\r') {
			j++
		}
		if j < len(s) && s[j] != '\n' && isBlockStart(s, next) && !strings.HasPrefix(s[j:], "```") {
			break // a heading, list item or table row: a new entry
		}
		end = next
		for end < limit && s[end] != '\n' {
			end++
		}
	}
	return end
}

// heading is one markdown heading above a position.
type heading struct {
	off   int // start of the heading line
	level int
	text  string // lower-cased
}

// headingsAbove returns the headings that a position at off is under: the nearest one and its
// ancestors (each of a lower level), nearest first, looking back at most 6000 bytes. A table's
// header row is returned as a level-7 heading when off is in a table.
func headingsAbove(s string, off int) []heading {
	var out []heading
	level := 8
	lo := max(0, off-6000)
	i := strings.LastIndexByte(s[:off], '\n')
	// a table row: its header row is the first row of the table
	if ls := i + 1; ls < len(s) && strings.HasPrefix(strings.TrimLeft(s[ls:], " \t"), "|") {
		j := ls
		for j > 0 {
			p := strings.LastIndexByte(s[:j-1], '\n') + 1
			if !strings.HasPrefix(strings.TrimLeft(s[p:j], " \t"), "|") {
				break
			}
			j = p
		}
		e := strings.IndexByte(s[j:], '\n')
		if e < 0 {
			e = len(s) - j
		}
		out = append(out, heading{off: j, level: 7, text: strings.ToLower(s[j : j+e])})
	}
	for i >= lo {
		p := strings.LastIndexByte(s[:max(i, 0)], '\n') + 1
		line := s[p:max(i, p)]
		t := strings.TrimLeft(line, " \t")
		if n := headingLevel(t); n > 0 && n < level {
			out = append(out, heading{off: p, level: n, text: strings.ToLower(t)})
			level = n
			if n == 1 {
				break
			}
		}
		if p == 0 {
			break
		}
		i = p - 1
	}
	return out
}

func headingLevel(t string) int {
	n := 0
	for n < len(t) && t[n] == '#' {
		n++
	}
	if n == 0 || n > 6 || n >= len(t) || t[n] != ' ' {
		return 0
	}
	return n
}

// headingWindow returns the end of the section under the heading line that starts at lo: up to the
// next heading, at most maxSectionWindow bytes.
func headingWindow(s string, lo int) int {
	end := strings.IndexByte(s[lo:], '\n')
	if end < 0 {
		return len(s)
	}
	end += lo
	limit := min(len(s), end+maxSectionWindow)
	for end < limit {
		next := end + 1
		j := next
		for j < len(s) && (s[j] == ' ' || s[j] == '\t') {
			j++
		}
		if j < len(s) && headingLevel(s[j:]) > 0 {
			break
		}
		end = next
		for end < limit && s[end] != '\n' {
			end++
		}
	}
	return end
}

// weightExts are weight-file extensions: a line that downloads one fetches a model, not data.
var weightExts = []string{".pth", ".pt ", ".pt)", ".ckpt", ".safetensors", ".onnx", ".h5", ".npz", ".caffemodel", ".params", ".tflite", ".gguf", ".pt\n", "{npz", "_models/", "/models/"}

// dataExts are data-file extensions: a URL that ends in one downloads a copy.
var dataExts = []string{".bin", ".tar", ".tar.gz", ".tgz", ".zip", ".npy", ".pickle", ".pkl", ".parquet", ".avi", ".mp4", ".tsv", ".rec", ".mat", ".zst", ".7z", ".rar"}

// dataFileURL reports whether a URL names a data file.
func dataFileURL(u string) bool {
	u = strings.ToLower(strings.TrimRight(u, ".,;:"))
	for _, e := range dataExts {
		if strings.HasSuffix(u, e) {
			return true
		}
	}
	return false
}

// withoutWeightLines drops the lines of s that name a weight file.
func withoutWeightLines(s string) string {
	hit := false
	for _, e := range weightExts {
		if strings.Contains(s, e) {
			hit = true
			break
		}
	}
	if !hit {
		return s
	}
	var b strings.Builder
	for _, l := range strings.SplitAfter(s, "\n") {
		w := false
		for _, e := range weightExts {
			if strings.Contains(l+"\n", e) {
				w = true
				break
			}
		}
		if !w {
			b.WriteString(l)
		}
	}
	return b.String()
}

// urlAround returns the URL that [start, end) lies in, or "".
func urlAround(s string, start, end int) string {
	i := start
	for i > 0 && !strings.ContainsRune(" \t\n(<[\"'", rune(s[i-1])) {
		i--
	}
	if !strings.HasPrefix(s[i:], "http://") && !strings.HasPrefix(s[i:], "https://") {
		return ""
	}
	j := end
	for j < len(s) && !strings.ContainsRune(" \t\n)>]\"'", rune(s[j])) {
		j++
	}
	return s[i:j]
}

// officialKey is a URL in lower case without its scheme, "www." or a trailing slash.
func officialKey(u string) string {
	u = strings.ToLower(strings.TrimSpace(u))
	u = strings.TrimPrefix(strings.TrimPrefix(u, "https://"), "http://")
	u = strings.TrimPrefix(u, "www.")
	return strings.TrimRight(u, "/")
}

// isOfficial reports whether the URL u is one of the official pages (a landing page: a link to it
// hands out nothing; a file under it, "…/laion2B-en/resolve/main/part-0.parquet", is not the page).
func isOfficial(u string, official []string) bool {
	k := officialKey(strings.TrimRight(u, ".,;:"))
	if i := strings.IndexAny(k, "?#"); i >= 0 {
		k = strings.TrimRight(k[:i], "/")
	}
	for _, o := range official {
		if k == o {
			return true
		}
	}
	return false
}

// withoutOfficialLinks blanks, in a lower-case window, the URLs that are official pages.
func withoutOfficialLinks(win string, official []string) string {
	if len(official) == 0 || !strings.Contains(win, "http") {
		return win
	}
	var b strings.Builder
	rest := win
	for {
		i := strings.Index(rest, "http")
		if i < 0 {
			b.WriteString(rest)
			return b.String()
		}
		j := i
		for j < len(rest) && !strings.ContainsRune(" \t\n)>]\"'", rune(rest[j])) {
			j++
		}
		b.WriteString(rest[:i])
		if isOfficial(rest[i:j], official) {
			b.WriteString(strings.Repeat(" ", j-i))
		} else {
			b.WriteString(rest[i:j])
		}
		rest = rest[j:]
	}
}

// withoutURLs drops link targets from a heading, so "### LAION-2B (en) - https://…-datasets/" is
// read by its words.
func withoutURLs(s string) string {
	for {
		i := strings.Index(s, "http")
		if i < 0 {
			return s
		}
		j := i
		for j < len(s) && s[j] != ' ' && s[j] != ')' && s[j] != ']' {
			j++
		}
		s = s[:i] + s[j:]
	}
}

// sectionCues sets the section bits of a clause [lo, hi) in src: cShare (its block hands out
// files and it is not a model list) and cZoo (it is in a model list that links weights). The
// nearest heading that says "models" or "data" decides which of the two a link is.
func sectionCues(src string, lo, hi int, official []string) uint32 {
	isHeading := headingLevel(strings.TrimLeft(src[lo:hi], " \t")) > 0
	var end int
	if isHeading {
		end = headingWindow(src, lo)
	} else {
		end = sectionWindow(src, hi)
	}
	win := strings.ToLower(src[lo:end])
	clauseLow := strings.ToLower(src[lo:hi])
	share := rules.share.MatchString(withoutOfficialLinks(withoutWeightLines(win), official))
	if !share && !isHeading {
		// a name under a heading that says where the files come from ("### 2. Download metadata from
		// the-eye.eu (parquet format)" over the download script)
		for _, h := range headingsAbove(src, lo) {
			if h.level == 7 {
				continue
			}
			share = !rules.modelSection.MatchString(withoutURLs(h.text)) && rules.share.MatchString(withoutOfficialLinks(withoutWeightLines(h.text), official))
			break
		}
	}
	modelCtx := rules.modelSection.MatchString(clauseLow) || isHeading && rules.modelSection.MatchString(win)
	if modelCtx && !isHeading && underDataHeading(src, lo) {
		// "## Download and convert metadata" over "python convert.py ./face_ids.pth ./meta": a file
		// of the data recipe, not a model list
		modelCtx = false
	}
	dataCtx := !modelCtx && rules.dataSection.MatchString(withoutURLs(clauseLow))
	zooFrom := -1
	if !modelCtx && !dataCtx {
		for _, h := range headingsAbove(src, lo) {
			t := withoutURLs(h.text)
			if rules.modelSection.MatchString(t) {
				modelCtx, zooFrom = true, h.off
				break
			}
			if h.level == 7 {
				continue // a table's header row names columns ("| Dataset |"): only model columns decide
			}
			if rules.dataSection.MatchString(t) {
				dataCtx = true
				break
			}
		}
	}
	var bits uint32
	if share && !modelCtx {
		bits |= cShare
	}
	if modelCtx {
		link := rules.weightsLink.MatchString(win)
		if !link && zooFrom >= 0 && zooFrom < lo {
			link = rules.weightsLink.MatchString(strings.ToLower(src[zooFrom:lo]))
		}
		if link {
			bits |= cZoo
		}
	}
	return bits
}

// underDataHeading reports whether the nearest markdown heading above off says data (a dataset,
// its download or preparation) and not models.
func underDataHeading(src string, off int) bool {
	for _, h := range headingsAbove(src, off) {
		if h.level == 7 {
			continue
		}
		t := withoutURLs(h.text)
		return !rules.modelSection.MatchString(t) && rules.dataSection.MatchString(t)
	}
	return false
}

// hostWords are link texts that name a file host or a download ("[Baidu]", "[GDrive]", "[link]").
var hostWords = []string{"baidu", "drive", "google", "gdrive", "bdrive", "onedrive", "dropbox", "download", "link",
	"here", "mirror", "mega", "pan", "yun", "kaggle", "huggingface", "hugging face", "hf", "aliyun", "cloud", "disk", "netdisk", "torrent", "magnet"}

// linkShare decides, for a name written as a markdown link's text ("[DukeMTMC-reID](https://…)"),
// whether that link or the host links right after it hand out files. ok is false when the name is
// not a link's text (then the section decides).
func linkShare(src string, end int, official []string) (share, ok bool) {
	// the rest of the link text ("DukeMTMC" in "[DukeMTMC-reID](…)")
	for end < len(src) && (isWordByte(src[end]) || src[end] == '-' || src[end] == '.') && !strings.HasPrefix(src[end:], "](") {
		end++
	}
	if !strings.HasPrefix(src[end:], "](") {
		return false, false
	}
	lineEnd := strings.IndexByte(src[end:], '\n')
	if lineEnd < 0 {
		lineEnd = len(src)
	} else {
		lineEnd += end
	}
	i := end + 2
	j := strings.IndexByte(src[i:lineEnd], ')')
	if j < 0 {
		return false, true
	}
	if rules.share.MatchString(strings.ToLower(src[i:i+j])) && !isOfficial(src[i:i+j], official) {
		return true, true
	}
	// following links whose text is a host word ("[Google Drive](…)", "[[BaiduYun]](…)") belong to
	// the name; the first link with other text is the next entry's
	rest := src[i+j+1 : lineEnd]
	for {
		k := strings.Index(rest, "](")
		if k < 0 {
			return false, true
		}
		o := strings.LastIndexByte(rest[:k], '[')
		if o < 0 {
			return false, true
		}
		text := strings.ToLower(strings.Trim(rest[o+1:k], "[] "))
		host := false
		for _, w := range hostWords {
			if strings.Contains(text, w) {
				host = true
				break
			}
		}
		if !host {
			return false, true
		}
		u := rest[k+2:]
		if c := strings.IndexByte(u, ')'); c >= 0 {
			u = u[:c]
		}
		if rules.share.MatchString(strings.ToLower(u)) && !isOfficial(u, official) {
			return true, true
		}
		rest = rest[k+2:]
	}
}

// transferTarget reports whether the name right after before is the target of a transfer
// ("Market1501 -> DukeMTMC-reID", "Market→Duke", "Market-1501 to DukeMTMC-reID").
func transferTarget(before string) bool {
	b := strings.TrimRight(before, " *`[(")
	return strings.HasSuffix(b, "->") || strings.HasSuffix(b, "→") || strings.HasSuffix(b, " to")
}

// transferSource reports whether the name right before after is the source of a transfer
// ("Duke→Market", "DukeMTMC-reID -> Market1501").
func transferSource(after string) bool {
	a := strings.TrimLeft(after, " *`])")
	return strings.HasPrefix(a, "->") || strings.HasPrefix(a, "→")
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

// proseWindow is how far around a trigger name the prose rules look.
const proseWindow = 400

// proseSignals adds lineage written in prose (configs/relations.yaml lineage_prose) for models,
// repositories, records and papers. The rules run only on windows around the trigger names the
// automaton found, so they cost nothing on artifacts that do not name a trigger.
func (st *matchState) proseSignals() {
	a := st.a
	switch a.Kind {
	case artifact.KindModel, artifact.KindRepository, artifact.KindRecord, artifact.KindPaper:
	default:
		return
	}
	text := a.Title + "\n" + a.Text
	off := len(a.Title) + 1
	// windows around the triggers, in text coordinates, merged
	var wins [][2]int
	for _, t := range st.triggers {
		s, e := t.start, t.end
		if t.field == fText {
			s, e = s+off, e+off
		}
		w := [2]int{max(0, s-proseWindow), min(len(text), e+proseWindow)}
		if n := len(wins); n > 0 && w[0] <= wins[n-1][1] {
			wins[n-1][1] = max(wins[n-1][1], w[1])
			continue
		}
		wins = append(wins, w)
	}
	for _, p := range st.c.prose {
		for _, w := range wins {
			chunk := text[w[0]:w[1]]
			low := strings.ToLower(chunk)
			m := p.rule.Find(low)
			if m == nil {
				continue
			}
			lo, hi := clause(low, m[0], m[1])
			if rules.negBefore.MatchString(low[max(lo, m[0]-16):m[0]]) {
				continue // "Not trained on the Pile."
			}
			if r6ArchOnly(low[lo:hi]) || r5ProseSkip(low, lo, hi, m) || r6ProseSkip(low, lo, hi, m) { // round 6: r6ArchOnly (rules_r6_face.go), r6ProseSkip (rules_r6_gen.go)
				continue // "based off of the GPT-J architecture": a likeness, not lineage
			}
			ev := Evidence{Field: "text", Rule: "lineage-prose", Detail: "lineage in prose → " + p.rule.Dataset}
			if len(low) == len(chunk) {
				ms, me := m[0]+w[0], m[1]+w[0]
				ev.Snippet = snippet(text, ms, me)
				if ms >= off {
					ev.Start, ev.End = ms-off, me-off
				} else {
					ev.Field = "title"
					ev.Start, ev.End = ms, min(me, len(a.Title))
				}
			} else {
				ev.Snippet = snippet(low, m[0], m[1])
			}
			st.add(signal{entry: p.entry, deriv: -1, model: -1, kind: sigProse, field: fText, ev: ev})
			break
		}
	}
}
