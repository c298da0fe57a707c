package render

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strconv"
	"testing"
)

// graphMLWhole is WriteGraphML as it was before it streamed: one gmlDoc encoded at once.
func graphMLWhole(g *Graph) []byte {
	doc := gmlDoc{NS: "http://graphml.graphdrawing.org/xmlns", Graph: gmlGraph{ID: "afterlife", Dir: "directed"}}
	doc.Keys = append(doc.Keys, gmlKeys...)
	for _, n := range g.Nodes {
		gn := gmlNode{ID: n.ID}
		add := func(k, v string) {
			if v != "" {
				gn.Data = append(gn.Data, gmlData{k, v})
			}
		}
		add("label", n.Label)
		add("type", n.Type)
		add("dataset", n.Dataset)
		add("source", n.Source)
		add("url", n.URL)
		add("published", n.Published)
		add("first_seen", n.FirstSeen)
		add("gone", strconv.FormatBool(n.Gone))
		doc.Graph.Nodes = append(doc.Graph.Nodes, gn)
	}
	for i, e := range g.Edges {
		ge := gmlEdge{ID: fmt.Sprintf("e%d", i), Source: e.Source, Target: e.Target, Data: []gmlData{
			{"relation", e.Relation}, {"edge_dataset", e.Dataset}, {"confidence", strconv.FormatFloat(e.Confidence, 'f', 3, 64)}}}
		if e.FirstSeen != "" {
			ge.Data = append(ge.Data, gmlData{"edge_first_seen", e.FirstSeen})
		}
		doc.Graph.Edges = append(doc.Graph.Edges, ge)
	}
	var b bytes.Buffer
	b.WriteString(xml.Header)
	enc := xml.NewEncoder(&b)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		panic(err)
	}
	b.WriteString("\n")
	return b.Bytes()
}

func TestStreamedGraphMLMatchesWholeDocument(t *testing.T) {
	graphs := map[string]*Graph{
		"empty": {},
		"hostile": {Nodes: []GraphNode{{ID: "dataset:x", Label: "X", Type: "dataset"},
			{ID: "hf:model:a<b>&\"c\"", Label: evilTitle + "\x00\x1b", Type: "model", URL: "https://h/?a=1&b=2", Gone: true}},
			Edges: []GraphEdge{{Source: "dataset:x", Target: "hf:model:a<b>&\"c\"", Relation: "trained-on", Dataset: "x", Confidence: 0.87654},
				{Source: "dataset:x", Target: "y", Relation: "copy", Dataset: "x", Confidence: 1, FirstSeen: "2026-01-01T00:00:00Z"}}},
	}
	for name, g := range graphs {
		var got bytes.Buffer
		if err := g.WriteGraphML(&got); err != nil {
			t.Fatal(err)
		}
		if want := graphMLWhole(g); !bytes.Equal(got.Bytes(), want) {
			t.Errorf("%s: streamed GraphML differs:\n%s\nwant:\n%s", name, got.Bytes(), want)
		}
	}
}
