package manuscript

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
)

// Bounds for LaTeX sources and bundles.
const (
	MaxBundleFiles = 5000      // entries in one bundle
	MaxBundleBytes = 256 << 20 // total decompressed bytes of text files kept from a bundle
	MaxSourceFile  = 16 << 20  // one .tex/.bib/.bbl file
	MaxInputDepth  = 16        // nesting of \input/\include
	MaxSourceLines = 500000    // lines after expansion
)

// bundle is a read-only set of source files addressed by slash paths relative to the bundle root.
// Paths never escape the root: names with ".." or a leading "/" are refused.
type bundle interface {
	read(name string) ([]byte, error)
	names() []string
}

// mapBundle holds a bundle in memory (tar archives).
type mapBundle map[string][]byte

func (m mapBundle) read(name string) ([]byte, error) {
	name, ok := cleanBundlePath(name)
	if !ok {
		return nil, fmt.Errorf("%q escapes the bundle", name)
	}
	b, found := m[name]
	if !found {
		return nil, fs.ErrNotExist
	}
	return b, nil
}

func (m mapBundle) names() []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// dirBundle reads from a folder through os.Root, which refuses paths (and symlinks) leaving it.
type dirBundle struct {
	root *os.Root
	list []string
}

// openDirBundle opens dir as a bundle; list walks it for the file list (a LaTeX folder needs it to
// find the root file; a single .tex only reads what it inputs, so a large folder around it is fine).
func openDirBundle(dir string, list bool) (*dirBundle, error) {
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	d := &dirBundle{root: r}
	if !list {
		return d, nil
	}
	n := 0
	err = fs.WalkDir(r.FS(), ".", func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return nil // unreadable entries are skipped; \input of them reports not-found
		}
		if e.IsDir() {
			if p != "." && strings.HasPrefix(e.Name(), ".") {
				return fs.SkipDir
			}
			return nil
		}
		n++
		if n > MaxBundleFiles {
			return fmt.Errorf("more than %d files", MaxBundleFiles)
		}
		d.list = append(d.list, p)
		return nil
	})
	if err != nil {
		r.Close()
		return nil, err
	}
	sort.Strings(d.list)
	return d, nil
}

func (d *dirBundle) read(name string) ([]byte, error) {
	name, ok := cleanBundlePath(name)
	if !ok {
		return nil, fmt.Errorf("%q escapes the bundle", name)
	}
	f, err := d.root.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return nil, fs.ErrNotExist
	}
	if st.Size() > MaxSourceFile {
		return nil, fmt.Errorf("%s is %d bytes (limit %d)", name, st.Size(), MaxSourceFile)
	}
	return io.ReadAll(io.LimitReader(f, MaxSourceFile+1))
}

func (d *dirBundle) names() []string { return d.list }
func (d *dirBundle) close()          { d.root.Close() }

// cleanBundlePath cleans a slash path relative to a bundle root and says whether it stays inside.
func cleanBundlePath(name string) (string, bool) {
	name = strings.ReplaceAll(name, "\\", "/")
	if name == "" || strings.HasPrefix(name, "/") || strings.Contains(name, "\x00") {
		return name, false
	}
	c := path.Clean(name)
	if c == ".." || strings.HasPrefix(c, "../") || c == "." {
		return c, false
	}
	return c, true
}

var sourceExts = map[string]bool{".tex": true, ".bib": true, ".bbl": true, ".sty": false, ".cls": false, ".ltx": true, ".txt": true}

// readTarBundle reads a (possibly gzipped) tar archive into memory, keeping only text sources.
// A gzip stream that is not a tar archive is taken as a single gzipped .tex file (arXiv serves
// one-file submissions that way).
func readTarBundle(r io.Reader) (mapBundle, error) {
	br := &peekReader{r: r}
	var src io.Reader = br
	magic := br.peek(2)
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		defer zr.Close()
		src = zr
	}
	lim := &io.LimitedReader{R: src, N: MaxBundleBytes + 1}
	head := make([]byte, 512)
	n, err := io.ReadFull(lim, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read: %w", err)
	}
	head = head[:n]
	rest := io.MultiReader(bytes.NewReader(head), lim)
	if n < 262 || string(head[257:262]) != "ustar" {
		// Not a tar archive: one (gzipped) LaTeX file.
		b, err := io.ReadAll(io.LimitReader(rest, MaxSourceFile+1))
		if err != nil {
			return nil, fmt.Errorf("read: %w", err)
		}
		if len(b) > MaxSourceFile {
			return nil, fmt.Errorf("single source file over %d bytes", MaxSourceFile)
		}
		if !looksLikeText(b) {
			return nil, errors.New("neither a tar archive nor a LaTeX file")
		}
		return mapBundle{"main.tex": b}, nil
	}
	tr := tar.NewReader(rest)
	m := mapBundle{}
	files, total := 0, int64(0)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("tar: %w", err)
		}
		files++
		if files > MaxBundleFiles {
			return nil, fmt.Errorf("more than %d entries", MaxBundleFiles)
		}
		if h.Typeflag != tar.TypeReg && h.Typeflag != tar.TypeRegA {
			continue // directories, links and devices are never followed
		}
		name, ok := cleanBundlePath(h.Name)
		if !ok {
			continue // an entry escaping the bundle is ignored
		}
		if !sourceExts[strings.ToLower(path.Ext(name))] {
			continue
		}
		if h.Size > MaxSourceFile {
			return nil, fmt.Errorf("%s is %d bytes (limit %d)", name, h.Size, MaxSourceFile)
		}
		b, err := io.ReadAll(io.LimitReader(tr, MaxSourceFile+1))
		if err != nil {
			return nil, fmt.Errorf("tar %s: %w", name, err)
		}
		total += int64(len(b))
		if total > MaxBundleBytes {
			return nil, fmt.Errorf("sources over %d bytes", MaxBundleBytes)
		}
		m[name] = b
	}
	if lim.N <= 0 {
		return nil, fmt.Errorf("archive over %d bytes decompressed", MaxBundleBytes)
	}
	return m, nil
}

type peekReader struct {
	r   io.Reader
	buf []byte
}

func (p *peekReader) peek(n int) []byte {
	for len(p.buf) < n {
		b := make([]byte, n-len(p.buf))
		k, err := p.r.Read(b)
		p.buf = append(p.buf, b[:k]...)
		if err != nil {
			break
		}
	}
	if len(p.buf) < n {
		return p.buf
	}
	return p.buf[:n]
}

func (p *peekReader) Read(b []byte) (int, error) {
	if len(p.buf) > 0 {
		n := copy(b, p.buf)
		p.buf = p.buf[n:]
		return n, nil
	}
	return p.r.Read(b)
}

func looksLikeText(b []byte) bool {
	if len(b) > 4096 {
		b = b[:4096]
	}
	for _, c := range b {
		if c == 0 {
			return false
		}
	}
	return true
}

// mainTeX picks the root file of a bundle: the .tex with \documentclass (preferring one with
// \begin{document}, then the conventional names), else the only .tex.
func mainTeX(b bundle) (string, error) {
	var texs, candidates []string
	for _, n := range b.names() {
		if strings.ToLower(path.Ext(n)) != ".tex" && strings.ToLower(path.Ext(n)) != ".ltx" {
			continue
		}
		texs = append(texs, n)
		data, err := b.read(n)
		if err != nil {
			continue
		}
		if bytes.Contains(data, []byte(`\documentclass`)) && bytes.Contains(data, []byte(`\begin{document}`)) {
			candidates = append(candidates, n)
		}
	}
	if len(candidates) == 0 && len(texs) == 1 {
		return texs[0], nil
	}
	if len(candidates) == 0 {
		if len(texs) == 0 {
			return "", errors.New("no .tex file in the bundle")
		}
		return "", fmt.Errorf("no .tex file with \\documentclass and \\begin{document} among %d .tex files", len(texs))
	}
	sort.SliceStable(candidates, func(i, j int) bool { return mainRank(candidates[i]) < mainRank(candidates[j]) })
	return candidates[0], nil
}

func mainRank(n string) int {
	depth := strings.Count(n, "/")
	switch strings.ToLower(path.Base(n)) {
	case "main.tex", "ms.tex", "paper.tex", "manuscript.tex":
		return depth * 10
	}
	return depth*10 + 1
}
