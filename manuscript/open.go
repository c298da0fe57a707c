package manuscript

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// DefaultMaxFileSize bounds one manuscript file (PDF, archive or text).
const DefaultMaxFileSize = 100 << 20

// Supported lists the inputs Open reads, for error messages and docs.
const Supported = ".pdf, .tex/.ltx, a LaTeX folder, .tar.gz/.tgz/.tar/.gz source bundles, .bib, .bbl, .md/.markdown, .txt"

// Reader reads manuscripts from disk.
type Reader struct {
	MaxFileSize int64
}

// Open reads the manuscript at p: a file of a supported kind or a LaTeX folder. Every failure is an
// *Error naming the file and its kind.
func (rd Reader) Open(ctx context.Context, p string) (*Document, error) {
	max := rd.MaxFileSize
	if max <= 0 {
		max = DefaultMaxFileSize
	}
	st, err := os.Stat(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, &Error{Name: p, Kind: ErrNotFound, Err: errors.New("no such file")}
		}
		return nil, &Error{Name: p, Kind: ErrBroken, Err: err}
	}
	if st.IsDir() {
		return readLaTeXDir(ctx, p)
	}
	if !st.Mode().IsRegular() {
		return nil, &Error{Name: p, Kind: ErrFormat, Err: errors.New("not a regular file")}
	}
	if st.Size() > max {
		return nil, &Error{Name: p, Kind: ErrTooLarge, Err: fmt.Errorf("%d bytes (limit %d; see --max-size)", st.Size(), max)}
	}
	if st.Size() == 0 {
		return nil, &Error{Name: p, Kind: ErrBroken, Err: errors.New("empty file")}
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, &Error{Name: p, Kind: ErrBroken, Err: err}
	}
	defer f.Close()
	head := make([]byte, 8)
	n, _ := f.ReadAt(head, 0)
	head = head[:n]
	kind := kindOf(p, head)
	switch kind {
	case FormatPDF:
		if !bytes.HasPrefix(head, []byte("%PDF-")) {
			return nil, &Error{Name: p, Kind: ErrFormat, Err: fmt.Errorf("named .pdf but is not a PDF (starts with %q)", printable(head))}
		}
		return ReadPDF(ctx, p, f, st.Size())
	case "bundle":
		b, err := readTarBundle(io.LimitReader(f, max))
		if err != nil {
			return nil, &Error{Name: p, Kind: ErrBroken, Err: fmt.Errorf("source bundle: %w", err)}
		}
		root, err := mainTeX(b)
		if err != nil {
			return nil, &Error{Name: p, Kind: ErrFormat, Err: fmt.Errorf("source bundle: %w", err)}
		}
		return readLaTeX(ctx, p, b, root)
	}
	data, err := io.ReadAll(io.LimitReader(f, max))
	if err != nil {
		return nil, &Error{Name: p, Kind: ErrBroken, Err: err}
	}
	if !looksLikeText(data) {
		return nil, &Error{Name: p, Kind: ErrFormat, Err: fmt.Errorf("%s file holds binary data", kind)}
	}
	switch kind {
	case FormatLaTeX:
		// A single .tex file: its folder is the bundle, so \input siblings resolve, and nothing outside.
		dir := filepath.Dir(p)
		db, err := openDirBundle(dir, false)
		if err != nil {
			return nil, &Error{Name: p, Kind: ErrBroken, Err: err}
		}
		defer db.close()
		return readLaTeX(ctx, p, db, filepath.ToSlash(filepath.Base(p)))
	case FormatBibTeX:
		refs, errs := ParseBibTeX(data, p)
		if len(refs) == 0 {
			return nil, &Error{Name: p, Kind: ErrBroken, Err: fmt.Errorf("no BibTeX entries (%v)", errors.Join(errs...))}
		}
		d := &Document{Name: p, Format: FormatBibTeX, References: refs}
		for _, e := range errs {
			d.Warnings = append(d.Warnings, e.Error())
		}
		return d, nil
	case FormatBBL:
		refs := parseBBL(string(data), Location{File: filepath.Base(p), Line: 1})
		if len(refs) == 0 {
			return nil, &Error{Name: p, Kind: ErrBroken, Err: errors.New(`no \bibitem entries`)}
		}
		return &Document{Name: p, Format: FormatBBL, References: refs}, nil
	case FormatMarkdown:
		return ReadText(ctx, p, data, true)
	case FormatText:
		return ReadText(ctx, p, data, false)
	}
	return nil, &Error{Name: p, Kind: ErrFormat, Err: fmt.Errorf("unsupported file type %q: supported are %s", filepath.Ext(p), Supported)}
}

// kindOf decides how to read a file from its name, sniffing files without an extension (arXiv
// downloads are named by id).
func kindOf(p string, head []byte) string {
	l := strings.ToLower(filepath.Base(p))
	switch {
	case strings.HasSuffix(l, ".pdf"):
		return FormatPDF
	case isTarName(l):
		return "bundle"
	case strings.HasSuffix(l, ".tex"), strings.HasSuffix(l, ".ltx"):
		return FormatLaTeX
	case strings.HasSuffix(l, ".bib"):
		return FormatBibTeX
	case strings.HasSuffix(l, ".bbl"):
		return FormatBBL
	case strings.HasSuffix(l, ".md"), strings.HasSuffix(l, ".markdown"):
		return FormatMarkdown
	case strings.HasSuffix(l, ".txt"), strings.HasSuffix(l, ".text"):
		return FormatText
	}
	if filepath.Ext(l) == "" || isArXivName(l) {
		switch {
		case bytes.HasPrefix(head, []byte("%PDF-")):
			return FormatPDF
		case len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b:
			return "bundle"
		}
	}
	return ""
}

func isArXivName(l string) bool {
	return arxivIDRE.MatchString(strings.TrimSuffix(l, filepath.Ext(l))) || arxivIDRE.MatchString(l)
}

func printable(b []byte) string {
	out := make([]byte, len(b))
	for i, c := range b {
		if c < 32 || c > 126 {
			c = '.'
		}
		out[i] = c
	}
	return string(out)
}

func readLaTeXDir(ctx context.Context, dir string) (*Document, error) {
	db, err := openDirBundle(dir, true)
	if err != nil {
		return nil, &Error{Name: dir, Kind: ErrTooLarge, Err: err}
	}
	defer db.close()
	root, err := mainTeX(db)
	if err != nil {
		return nil, &Error{Name: dir, Kind: ErrFormat, Err: fmt.Errorf("LaTeX folder: %w", err)}
	}
	return readLaTeX(ctx, dir, db, root)
}
