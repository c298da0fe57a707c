package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
)

// Big reports are written piece by piece, so that memory is bounded by one item rather than the
// whole document, with exactly the bytes json.MarshalIndent(v, "", "  ") gives (tested).

// streamedArray is an array field that v holds empty and whose items are written in place.
type streamedArray struct {
	key  string
	n    int
	item func(w io.Writer, depth, i int) error
}

// writeStreamed writes v indented at depth, with each array of arrs (in field order) streamed.
// The marker `"key": []` at the field's indentation cannot occur inside an encoded string, where
// quotes are escaped.
func writeStreamed(w io.Writer, v any, depth int, arrs ...streamedArray) error {
	prefix := indentOf(depth)
	b, err := json.MarshalIndent(v, prefix, "  ")
	if err != nil {
		return err
	}
	for _, a := range arrs {
		marker := []byte("\n" + prefix + "  " + `"` + a.key + `": []`)
		at := bytes.Index(b, marker)
		if at < 0 {
			return fmt.Errorf("json stream: field %q not found", a.key)
		}
		if a.n == 0 {
			continue
		}
		end := at + len(marker)
		if _, err := w.Write(b[:end-1]); err != nil { // through '['
			return err
		}
		inner := indentOf(depth + 2)
		for i := 0; i < a.n; i++ {
			sep := "\n" + inner
			if i > 0 {
				sep = "," + sep
			}
			if _, err := io.WriteString(w, sep); err != nil {
				return err
			}
			if err := a.item(w, depth+2, i); err != nil {
				return err
			}
		}
		if _, err := io.WriteString(w, "\n"+prefix+"  ]"); err != nil {
			return err
		}
		b = b[end:]
	}
	_, err = w.Write(b)
	return err
}

func indentOf(depth int) string { return string(bytes.Repeat([]byte("  "), depth)) }

func writeIndented(w io.Writer, v any, depth int) error {
	b, err := json.MarshalIndent(v, indentOf(depth), "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// streamReportJSON writes rep as indented JSON, one sighting at a time.
func streamReportJSON(w io.Writer, rep *Report) error {
	shell := *rep
	shell.Datasets = []DatasetReport{}
	err := writeStreamed(w, shell, 0, streamedArray{"datasets", len(rep.Datasets), func(w io.Writer, depth, i int) error {
		d := rep.Datasets[i]
		ss := d.Sightings
		d.Sightings = []SightingView{}
		arrs := []streamedArray{{"sightings", len(ss), func(w io.Writer, depth, j int) error {
			return writeIndented(w, ss[j], depth)
		}}}
		if acts := d.Actions; acts != nil { // a host's items are as many as its live sightings
			d.Actions = []HostActions{}
			arrs = append(arrs, streamedArray{"actions", len(acts), func(w io.Writer, depth, j int) error {
				h := acts[j]
				items := h.Items
				if items == nil {
					return writeIndented(w, h, depth)
				}
				h.Items = []ActionItem{}
				return writeStreamed(w, h, depth, streamedArray{"items", len(items), func(w io.Writer, depth, k int) error {
					return writeIndented(w, items[k], depth)
				}})
			}})
		}
		return writeStreamed(w, d, depth, arrs...)
	}})
	if err != nil {
		return fmt.Errorf("report.json: %w", err)
	}
	_, err = io.WriteString(w, "\n")
	return err
}

// streamGraphJSON writes g as indented JSON, one node or edge at a time.
func streamGraphJSON(w io.Writer, g *Graph) error {
	err := writeStreamed(w, Graph{Nodes: []GraphNode{}, Edges: []GraphEdge{}}, 0,
		streamedArray{"nodes", len(g.Nodes), func(w io.Writer, depth, i int) error { return writeIndented(w, g.Nodes[i], depth) }},
		streamedArray{"edges", len(g.Edges), func(w io.Writer, depth, i int) error { return writeIndented(w, g.Edges[i], depth) }})
	if err != nil {
		return fmt.Errorf("graph.json: %w", err)
	}
	_, err = io.WriteString(w, "\n")
	return err
}
