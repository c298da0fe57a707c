package manuscript

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"strings"
)

// srcLine is one line of LaTeX after \input/\include expansion, with where it came from.
type srcLine struct {
	text string
	file string
	line int
}

// expansion is the result of resolving a root .tex file's inputs.
type expansion struct {
	lines    []srcLine
	files    []string // files read, in order
	warnings []string // missing inputs, cycles, depth
}

var inputRE = regexp.MustCompile(`\\(input|include|subfile|import|subimport|includefrom|subincludefrom)\s*(?:\{([^{}]*)\}|\s+([^\s\\{}%]+))(?:\s*\{([^{}]*)\})?`)

// expandTeX resolves \input, \include, \subfile and \import from root, bounded in depth and lines,
// never leaving the bundle. Comments are stripped. A missing or cyclic input is a warning.
func expandTeX(ctx context.Context, b bundle, root string) (*expansion, error) {
	ex := &expansion{}
	seen := map[string]bool{}
	var expand func(name string, depth int, stack []string) error
	expand = func(name string, depth int, stack []string) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		for _, s := range stack {
			if s == name {
				ex.warnings = append(ex.warnings, fmt.Sprintf("%s includes itself (via %s): skipped", name, strings.Join(stack, " → ")))
				return nil
			}
		}
		if depth > MaxInputDepth {
			ex.warnings = append(ex.warnings, fmt.Sprintf("%s: inputs nested deeper than %d: skipped", name, MaxInputDepth))
			return nil
		}
		data, err := b.read(name)
		if err != nil {
			return err
		}
		if !seen[name] {
			seen[name] = true
			ex.files = append(ex.files, name)
		}
		stack = append(stack, name)
		dir := path.Dir(name)
		for i, raw := range strings.Split(string(data), "\n") {
			if len(ex.lines) >= MaxSourceLines {
				return &Error{Name: root, Kind: ErrTooLarge, Err: fmt.Errorf("more than %d source lines after \\input expansion", MaxSourceLines)}
			}
			ln := stripComment(strings.TrimRight(raw, "\r"))
			rest := ln
			for {
				m := inputRE.FindStringSubmatchIndex(rest)
				if m == nil {
					break
				}
				if pre := rest[:m[0]]; strings.TrimSpace(pre) != "" {
					ex.lines = append(ex.lines, srcLine{pre, name, i + 1})
				}
				cmd := rest[m[2]:m[3]]
				arg := sub(rest, m, 2)
				if arg == "" {
					arg = sub(rest, m, 3)
				}
				second := sub(rest, m, 4)
				target := arg
				base := path.Dir(root)
				switch cmd {
				case "import", "includefrom":
					target = path.Join(arg, second)
				case "subimport", "subincludefrom":
					base = dir
					target = path.Join(arg, second)
				case "subfile":
					base = dir
				}
				rest = rest[m[1]:]
				if cmd == "input" || cmd == "include" || cmd == "subfile" {
					if second != "" {
						// "\input{a}{b}" is not a two-argument form: give the brace group back.
						rest = "{" + second + "}" + rest
					}
				}
				resolved, ok := resolveInput(b, base, strings.TrimSpace(target))
				if !ok {
					ex.warnings = append(ex.warnings, fmt.Sprintf("%s:%d: \\%s{%s} not found in the bundle", name, i+1, cmd, target))
					continue
				}
				if err := expand(resolved, depth+1, stack); err != nil {
					if errors.Is(err, fs.ErrNotExist) {
						ex.warnings = append(ex.warnings, fmt.Sprintf("%s:%d: \\%s{%s}: %v", name, i+1, cmd, target, err))
						continue
					}
					return err
				}
			}
			ex.lines = append(ex.lines, srcLine{rest, name, i + 1})
			if depth == 0 && strings.Contains(rest, `\end{document}`) {
				return nil
			}
		}
		return nil
	}
	if err := expand(root, 0, nil); err != nil {
		return nil, err
	}
	return ex, nil
}

func sub(s string, m []int, g int) string {
	if m[2*g] < 0 {
		return ""
	}
	return s[m[2*g]:m[2*g+1]]
}

// resolveInput finds an \input target in the bundle, relative to base, trying ".tex" when the name
// has no extension. Targets that would leave the bundle are not found.
func resolveInput(b bundle, base, target string) (string, bool) {
	if target == "" || strings.HasPrefix(target, "/") {
		return "", false
	}
	var cands []string
	full := path.Join(base, target)
	if path.Ext(target) == "" {
		cands = append(cands, full+".tex", full)
	} else {
		cands = append(cands, full, full+".tex")
	}
	for _, c := range cands {
		c, ok := cleanBundlePath(c)
		if !ok {
			return "", false
		}
		if _, err := b.read(c); err == nil {
			return c, true
		}
	}
	return "", false
}

// stripComment drops an unescaped % and what follows.
func stripComment(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' {
			i++
			continue
		}
		if s[i] == '%' {
			return s[:i]
		}
	}
	return s
}

var (
	headingRE   = regexp.MustCompile(`\\(part|chapter|section|subsection|subsubsection|paragraph)(\*?)\s*(?:\[[^\]]*\])?\s*\{`)
	titleRE     = regexp.MustCompile(`\\title\s*(?:\[[^\]]*\])?\s*\{`)
	bibRE       = regexp.MustCompile(`\\(?:bibliography|addbibresource)\s*(?:\[[^\]]*\])?\s*\{([^}]*)\}`)
	citeRE      = regexp.MustCompile(`\\(?:[Cc]ite[a-z]*|[a-z]*cite[a-z]*)\*?\s*(?:\[[^\]]*\]\s*){0,2}\{([^{}]*)\}`)
	dropArgRE   = regexp.MustCompile(`\\(?:label|ref|eqref|cref|Cref|autoref|pageref|vspace|hspace|includegraphics|bibliographystyle|usepackage|documentclass|setlength|addtolength|newcommand|renewcommand|def|thispagestyle|pagestyle|input|include|bibliography|addbibresource|maketitle|newpage|clearpage|centering|small|footnotesize|scriptsize|tiny|large|Large|LARGE|huge|Huge|normalsize|toprule|midrule|bottomrule|hline|cline|noindent|item)\*?(?:\[[^\]]*\])?(?:\{[^{}]*\})*`)
	hrefRE      = regexp.MustCompile(`\\href\s*\{[^{}]*\}\s*\{([^{}]*)\}`)
	envRE       = regexp.MustCompile(`\\(begin|end)\s*\{([^{}]*)\}(?:\[[^\]]*\])?(?:\{[^{}]*\})*`)
	commandRE   = regexp.MustCompile(`\\[a-zA-Z@]+\*?`)
	texReplacer = strings.NewReplacer(`\\`, " ", `\%`, "%", `\&`, "&", `\_`, "_", `\#`, "#", `\$`, "$", `\{`, "{", `\}`, "}",
		"~", " ", "``", `"`, "''", `"`, "---", "-", "--", "-", `\,`, " ", `\ `, " ", `\-`, "", `\ldots`, "...", `\dots`, "...")
)

// braceArg returns the brace-balanced argument starting at s[open] == '{' and the index after it;
// an argument not closed on the line runs to the line's end.
func braceArg(s string, open int) (string, int) {
	depth := 0
	for i := open; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return s[open+1 : i], i + 1
			}
		}
	}
	return s[min(open+1, len(s)):], len(s)
}

// cleanTeX turns one line of LaTeX into plain text; citations become "[key1, key2]".
func cleanTeX(s string) string {
	if !strings.ContainsAny(s, `\{}$~&`+"`'-") {
		return s
	}
	s = citeRE.ReplaceAllStringFunc(s, func(m string) string {
		sm := citeRE.FindStringSubmatch(m)
		keys := strings.Split(sm[1], ",")
		for i := range keys {
			keys[i] = strings.TrimSpace(keys[i])
		}
		return "[" + strings.Join(keys, ", ") + "]"
	})
	s = hrefRE.ReplaceAllString(s, "$1")
	s = envRE.ReplaceAllString(s, " ")
	s = texReplacer.Replace(s)
	s = dropArgRE.ReplaceAllString(s, "")
	s = commandRE.ReplaceAllString(s, "")
	s = strings.NewReplacer("{", "", "}", "", "$", "", "&", " ", "^", "", "\\", "").Replace(s)
	return collapseSpaces(s)
}

func collapseSpaces(s string) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		if r == ' ' || r == '\t' {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}

// readLaTeX reads a bundle from its root file into a Document.
func readLaTeX(ctx context.Context, name string, b bundle, root string) (*Document, error) {
	ex, err := expandTeX(ctx, b, root)
	if err != nil {
		var me *Error
		if errors.As(err, &me) {
			return nil, err
		}
		return nil, &Error{Name: name, Kind: ErrBroken, Err: fmt.Errorf("LaTeX %s: %w", root, err)}
	}
	doc := &Document{Name: name, Format: FormatLaTeX, Files: ex.files, Warnings: ex.warnings}
	bd := newBuilder(doc, true)
	inDoc := false
	inBib := false
	var bibText strings.Builder
	var bibStart Location
	hasBeginDoc := false
	for _, l := range ex.lines {
		if strings.Contains(l.text, `\begin{document}`) {
			hasBeginDoc = true
			break
		}
	}
	inDoc = !hasBeginDoc
	var bibFiles []string
	var titleLoc Location
	appendix := false
	for _, l := range ex.lines {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		loc := Location{File: l.file, Line: l.line}
		t := l.text
		if m := titleRE.FindStringIndex(t); m != nil && doc.Title == "" {
			arg, _ := braceArg(t, m[1]-1)
			doc.Title = cleanTeX(arg)
			if len(doc.Title) > maxTitleBytes {
				doc.Warnings = append(doc.Warnings, fmt.Sprintf("\\title of %d bytes: kept its first %d", len(doc.Title), maxTitleBytes))
				doc.Title = clip(doc.Title, maxTitleBytes)
			}
			titleLoc = loc
		}
		for _, m := range bibRE.FindAllStringSubmatch(t, -1) {
			for _, f := range strings.Split(m[1], ",") {
				if f = strings.TrimSpace(f); f != "" {
					bibFiles = append(bibFiles, f)
				}
			}
		}
		if !inDoc {
			if strings.Contains(t, `\begin{document}`) {
				inDoc = true
				t = t[strings.Index(t, `\begin{document}`)+len(`\begin{document}`):]
			} else {
				continue
			}
		}
		if strings.Contains(t, `\begin{thebibliography}`) {
			inBib = true
			bibStart = loc
			bd.heading("References", loc)
		}
		if inBib {
			bibText.WriteString(t)
			bibText.WriteByte('\n')
			if strings.Contains(t, `\end{thebibliography}`) {
				inBib = false
				doc.References = append(doc.References, parseBBL(bibText.String(), bibStart)...)
				bibText.Reset()
			}
			continue
		}
		if strings.Contains(t, `\end{document}`) {
			t = t[:strings.Index(t, `\end{document}`)]
			if s := cleanTeX(t); strings.TrimSpace(s) != "" {
				bd.line(s, loc)
			}
			break
		}
		if strings.Contains(t, `\appendix`) {
			appendix = true
		}
		if strings.Contains(t, `\begin{abstract}`) {
			bd.heading("Abstract", loc)
		}
		if m := headingRE.FindStringSubmatchIndex(t); m != nil {
			kind := t[m[2]:m[3]]
			arg, end := braceArg(t, m[1]-1)
			title := cleanTeX(arg)
			if pre := cleanTeX(t[:m[0]]); strings.TrimSpace(pre) != "" {
				bd.line(pre, loc)
			}
			level := map[string]int{"part": 1, "chapter": 1, "section": 1, "subsection": 2, "subsubsection": 3, "paragraph": 4}[kind]
			bd.headingLevel(title, level, appendix, loc)
			if post := cleanTeX(t[end:]); strings.TrimSpace(post) != "" {
				bd.line(post, loc)
			}
			continue
		}
		s := cleanTeX(t)
		if strings.TrimSpace(s) == "" {
			if strings.TrimSpace(t) == "" {
				bd.blank()
			}
			continue
		}
		bd.line(s, loc)
	}
	if inBib && bibText.Len() > 0 {
		doc.References = append(doc.References, parseBBL(bibText.String(), bibStart)...)
	}
	bd.flush()
	if doc.Title != "" {
		// The title is part of the front matter: "An audit of Tiny Images" states the work's purpose.
		doc.Blocks = append([]Block{{Text: doc.Title, Section: "Title", Kind: SectionFront, Starts: []int{0}, Lines: []Location{titleLoc}}}, doc.Blocks...)
	}
	// Bibliography: the .bib files named by \bibliography, and the .bbl arXiv bundles carry.
	for _, f := range bibFiles {
		p, ok := resolveBib(b, path.Dir(root), f)
		if !ok {
			doc.Warnings = append(doc.Warnings, fmt.Sprintf("bibliography %s not found in the bundle", f))
			continue
		}
		data, err := b.read(p)
		if err != nil {
			doc.Warnings = append(doc.Warnings, fmt.Sprintf("bibliography %s: %v", p, err))
			continue
		}
		doc.Files = append(doc.Files, p)
		refs, _ := ParseBibTeX(data, p)
		doc.References = append(doc.References, refs...)
	}
	bbl := strings.TrimSuffix(root, path.Ext(root)) + ".bbl"
	if data, err := b.read(bbl); err == nil {
		doc.Files = append(doc.Files, bbl)
		doc.References = append(doc.References, parseBBL(string(data), Location{File: bbl, Line: 1})...)
	}
	doc.References = dedupeRefs(doc.References)
	return doc, nil
}

func resolveBib(b bundle, base, name string) (string, bool) {
	if !strings.HasSuffix(name, ".bib") {
		name += ".bib"
	}
	return resolveInput(b, base, name)
}

func dedupeRefs(refs []Reference) []Reference {
	seen := map[string]bool{}
	out := refs[:0]
	for _, r := range refs {
		k := r.Key
		if k == "" {
			k = r.Text
		}
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, r)
	}
	return out
}

// isTarName reports bundle archive names.
func isTarName(n string) bool {
	l := strings.ToLower(n)
	return strings.HasSuffix(l, ".tar.gz") || strings.HasSuffix(l, ".tgz") || strings.HasSuffix(l, ".tar") || strings.HasSuffix(l, ".gz")
}

var _ = bytes.Contains
