package render

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/reports"
)

// WriteReportJSON writes report.json (docs/report.schema.json), indented, streaming one sighting
// at a time. HTML characters in strings are escaped (\u003c), so the file is inert even if
// served as HTML.
func WriteReportJSON(w io.Writer, rep *Report) error { return streamReportJSON(w, rep) }

// Write renders every output of runID ("" for the latest run) from the store into outDir and
// returns the files written, sorted:
//
//	report.json                 the report (docs/report.schema.json)
//	index.html, index.md        overview across datasets
//	<dataset>.html, <dataset>.md one page per dataset with sightings
//	graph.html, graph.graphml, graph.dot, graph.json   the propagation graph
//	sightings.csv, timeseries.csv                      for researchers
//	feeds/<dataset>.atom        new sightings per dataset
//
// Files are written atomically (temp file, then rename). The same store renders the same bytes.
func Write(ctx context.Context, st reports.Store, reg *configs.Registry, runID string, outDir string) ([]string, error) {
	rep, err := Build(ctx, st, reg, runID, Options{})
	if err != nil {
		return nil, err
	}
	return WriteAll(ctx, rep, reg, outDir)
}

// WriteAll renders a built report into outDir (see Write).
func WriteAll(ctx context.Context, rep *Report, reg *configs.Registry, outDir string) ([]string, error) {
	if err := os.MkdirAll(filepath.Join(outDir, "feeds"), 0o755); err != nil {
		return nil, fmt.Errorf("write reports: %w", err)
	}
	var files []string
	put := func(name string, fn func(io.Writer) error) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		p := filepath.Join(outDir, name)
		if err := writeFileAtomic(p, fn); err != nil {
			return fmt.Errorf("write %s: %w", p, err)
		}
		files = append(files, p)
		return nil
	}
	l := linker{}
	// The graph is built for its four files and let go after them (it is not kept while the
	// dataset pages are written).
	var g *Graph
	graph := func() *Graph {
		if g == nil {
			g = BuildGraph(rep, reg)
		}
		return g
	}
	steps := []struct {
		name string
		fn   func(io.Writer) error
	}{
		{"report.json", func(w io.Writer) error { return WriteReportJSON(w, rep) }},
		{"index.md", func(w io.Writer) error { return WriteIndexMarkdown(w, rep) }},
		{"index.html", func(w io.Writer) error { return writeIndexHTML(w, l, rep) }},
		{"graph.html", func(w io.Writer) error { return writeGraphHTML(w, l, rep, graph()) }},
		{"graph.graphml", func(w io.Writer) error { return graph().WriteGraphML(w) }},
		{"graph.dot", func(w io.Writer) error { return graph().WriteDOT(w) }},
		{"graph.json", func(w io.Writer) error {
			err := graph().WriteJSON(w)
			g = nil
			return err
		}},
		{"sightings.csv", func(w io.Writer) error { return WriteSightingsCSV(w, rep) }},
		{"timeseries.csv", func(w io.Writer) error { return WriteTimeSeriesCSV(w, rep) }},
	}
	for _, s := range steps {
		if err := put(s.name, s.fn); err != nil {
			return files, err
		}
	}
	for i := range rep.Datasets {
		d := &rep.Datasets[i]
		name := fileID(d.ID)
		if err := put(name+".md", func(w io.Writer) error { return WriteDatasetMarkdown(w, rep, d) }); err != nil {
			return files, err
		}
		if err := put(name+".html", func(w io.Writer) error { return writeDatasetHTML(w, l, rep, d) }); err != nil {
			return files, err
		}
		for _, g := range relGroups(l, d) { // pages 2…N of the large relations
			if g.Pages > 1 {
				if err := os.MkdirAll(filepath.Join(outDir, name), 0o755); err != nil {
					return files, fmt.Errorf("write reports: %w", err)
				}
			}
			for k := 2; k <= g.Pages; k++ {
				if err := put(filepath.FromSlash(relPageFile(d.ID, g.Rel, k)), func(w io.Writer) error {
					return writeRelGroupPage(w, l, rep, d, g, k)
				}); err != nil {
					return files, err
				}
			}
		}
		if err := put(filepath.Join("feeds", name+".atom"), func(w io.Writer) error { return WriteAtom(w, rep, d) }); err != nil {
			return files, err
		}
	}
	sort.Strings(files)
	if err := pruneStale(outDir, files); err != nil {
		return files, err
	}
	return files, nil
}

// manifestFile lists what the last render wrote, so that a later render removes pages of
// datasets that are no longer in the report (and nothing it did not write itself).
const manifestFile = ".afterlife-files"

func pruneStale(outDir string, files []string) error {
	now := map[string]bool{}
	var names []string
	for _, f := range files {
		rel, err := filepath.Rel(outDir, f)
		if err != nil {
			return err
		}
		now[rel] = true
		names = append(names, rel)
	}
	mpath := filepath.Join(outDir, manifestFile)
	if old, err := os.ReadFile(mpath); err == nil {
		for _, rel := range strings.Split(string(old), "\n") {
			if rel == "" || now[rel] || !filepath.IsLocal(rel) {
				continue
			}
			if err := os.Remove(filepath.Join(outDir, rel)); err != nil && !os.IsNotExist(err) {
				return fmt.Errorf("remove stale %s: %w", rel, err)
			}
		}
	}
	return writeFileAtomic(mpath, func(w io.Writer) error {
		_, err := io.WriteString(w, strings.Join(names, "\n")+"\n")
		return err
	})
}

func writeFileAtomic(path string, fn func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	bw := bufio.NewWriterSize(f, 256<<10)
	if err := fn(bw); err != nil {
		f.Close()
		return err
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
