package render

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/extract"
	"github.com/afterlife-watch/afterlife/reports"
)

// Graph is the propagation graph: dataset → derivatives → models → fine-tunes → papers. Edges
// point the way the data spread (from the dataset to what was made of it).
type Graph struct {
	Nodes []GraphNode `json:"nodes"`
	Edges []GraphEdge `json:"edges"`
}

// GraphNode is a dataset, a derivative, a model or another artifact.
type GraphNode struct {
	ID    string `json:"id"`
	Label string `json:"label"`
	// Type is dataset (a registry entry), derivative (a registry derivative), hosted-dataset (a
	// dataset on a hub), model, fine-tune (a model trained through a base model), paper,
	// repository, torrent, record, issue or page.
	Type      string `json:"type"`
	Dataset   string `json:"dataset,omitempty"`
	Source    string `json:"source,omitempty"`
	URL       string `json:"url,omitempty"`
	Published string `json:"published,omitempty"`
	FirstSeen string `json:"first_seen,omitempty"`
	Gone      bool   `json:"gone"`
}

// GraphEdge is one step of propagation.
type GraphEdge struct {
	Source     string  `json:"source"`
	Target     string  `json:"target"`
	Relation   string  `json:"relation"`
	Dataset    string  `json:"dataset"`
	Confidence float64 `json:"confidence"`
	FirstSeen  string  `json:"first_seen,omitempty"`
}

// BuildGraph builds the propagation graph of a report.
func BuildGraph(rep *Report, reg *configs.Registry) *Graph {
	// Nodes and edges are kept in the slices the graph returns, found by index (no second copy).
	g := &Graph{Nodes: []GraphNode{}, Edges: []GraphEdge{}}
	nodes := map[string]int{}
	edges := map[[3]string]int{}
	derivs := map[string]configs.Derivative{}
	if reg != nil {
		for _, d := range reg.Datasets {
			for _, dv := range d.Derivatives {
				derivs[dv.ID] = dv
			}
		}
	}
	models := map[string]string{} // model key -> artifact node id
	for _, d := range rep.Datasets {
		for _, x := range d.Sightings {
			if x.Artifact.Kind == artifact.KindModel {
				models[reports.ModelKey(x.Artifact.ID)] = x.Artifact.ID
			}
		}
	}
	addNode := func(n GraphNode) string {
		if i, ok := nodes[n.ID]; ok {
			if old := &g.Nodes[i]; old.Type == "model" && n.Type == "fine-tune" {
				old.Type = n.Type
			}
			return n.ID
		}
		nodes[n.ID] = len(g.Nodes)
		g.Nodes = append(g.Nodes, n)
		return n.ID
	}
	addEdge := func(e GraphEdge) {
		k := [3]string{e.Source, e.Target, e.Relation}
		if i, ok := edges[k]; ok {
			old := &g.Edges[i]
			if e.Confidence > old.Confidence {
				old.Confidence = e.Confidence
			}
			if e.FirstSeen != "" && (old.FirstSeen == "" || e.FirstSeen < old.FirstSeen) {
				old.FirstSeen = e.FirstSeen
			}
			return
		}
		edges[k] = len(g.Edges)
		g.Edges = append(g.Edges, e)
	}
	// hop resolves a chain element to a node id.
	hop := func(name, ds string) (string, string) {
		if name == ds {
			return "dataset:" + ds, "dataset"
		}
		if dv, ok := derivs[name]; ok {
			label := dv.Name
			if label == "" {
				label = dv.ID
			}
			return addNode(GraphNode{ID: "derivative:" + dv.ID, Label: label, Type: "derivative", Dataset: ds}), "derivative"
		}
		if id, ok := models[reports.ModelKey(name)]; ok {
			return id, "model"
		}
		return addNode(GraphNode{ID: "model:" + name, Label: name, Type: "model", Dataset: ds}), "model"
	}
	for _, d := range rep.Datasets {
		dsNode := addNode(GraphNode{ID: "dataset:" + d.ID, Label: d.Name, Type: "dataset", Dataset: d.ID, Published: d.RetractedOn})
		for _, x := range d.Sightings {
			typ := x.Artifact.Kind
			switch {
			case typ == artifact.KindModel && len(x.Chain) > 2:
				typ = "fine-tune"
			case typ == artifact.KindDataset:
				typ = "hosted-dataset" // a dataset on a hub, not a registry entry
			}
			first := x.FirstSeen.UTC().Format(time.RFC3339)
			id := addNode(GraphNode{ID: x.Artifact.ID, Label: oneLine(x.Artifact.Title), Type: typ, Source: x.Artifact.Source,
				URL: safeURL(x.Artifact.URL), Published: x.Artifact.Published, FirstSeen: first, Gone: x.Gone})
			if n := &g.Nodes[nodes[id]]; n.Label == "" {
				n.Label = x.Artifact.ID
			}
			chain := x.Chain
			if len(chain) < 2 {
				chain = []string{x.Artifact.ID}
				if x.Via != "" && x.Via != d.ID {
					chain = append(chain, x.Via)
				}
				chain = append(chain, d.ID)
			}
			// Walk from the dataset to the artifact.
			prev := dsNode
			for i := len(chain) - 2; i >= 0; i-- {
				var cur, kind string
				if i == 0 {
					cur, kind = id, typ
				} else {
					cur, kind = hop(chain[i], d.ID)
				}
				if cur == prev {
					continue
				}
				rel := string(extract.TrainedOn)
				switch {
				case i == 0:
					rel = string(x.Relation)
				case kind == "derivative":
					rel = string(extract.Derivative)
				}
				addEdge(GraphEdge{Source: prev, Target: cur, Relation: rel, Dataset: d.ID, Confidence: x.Confidence, FirstSeen: first})
				prev = cur
			}
		}
	}
	nodes, edges = nil, nil
	sort.Slice(g.Nodes, func(i, j int) bool { return g.Nodes[i].ID < g.Nodes[j].ID })
	sort.Slice(g.Edges, func(i, j int) bool {
		a, b := g.Edges[i], g.Edges[j]
		if a.Source != b.Source {
			return a.Source < b.Source
		}
		if a.Target != b.Target {
			return a.Target < b.Target
		}
		return a.Relation < b.Relation
	})
	return g
}

// WriteJSON writes the graph as indented JSON (nodes and edges), streaming.
func (g *Graph) WriteJSON(w io.Writer) error { return streamGraphJSON(w, g) }

type gmlData struct {
	Key   string `xml:"key,attr"`
	Value string `xml:",chardata"`
}

type gmlKey struct {
	ID   string `xml:"id,attr"`
	For  string `xml:"for,attr"`
	Name string `xml:"attr.name,attr"`
	Type string `xml:"attr.type,attr"`
}

type gmlNode struct {
	ID   string    `xml:"id,attr"`
	Data []gmlData `xml:"data"`
}

type gmlEdge struct {
	ID     string    `xml:"id,attr"`
	Source string    `xml:"source,attr"`
	Target string    `xml:"target,attr"`
	Data   []gmlData `xml:"data"`
}

type gmlDoc struct {
	XMLName xml.Name `xml:"graphml"`
	NS      string   `xml:"xmlns,attr"`
	Keys    []gmlKey `xml:"key"`
	Graph   gmlGraph `xml:"graph"`
}

type gmlGraph struct {
	ID    string    `xml:"id,attr"`
	Dir   string    `xml:"edgedefault,attr"`
	Nodes []gmlNode `xml:"node"`
	Edges []gmlEdge `xml:"edge"`
}

// WriteGraphML writes the graph as GraphML (opens in Gephi, yEd, NetworkX, igraph). encoding/xml
// escapes every crawled string and replaces characters XML cannot hold. Nodes and edges are
// encoded one at a time (the bytes of encoding one gmlDoc, which is the test).
func (g *Graph) WriteGraphML(w io.Writer) error {
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := g.encodeGraphML(enc); err != nil {
		return fmt.Errorf("graphml: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}

var gmlKeys = []gmlKey{
	{"label", "node", "label", "string"}, {"type", "node", "type", "string"}, {"dataset", "node", "dataset", "string"},
	{"source", "node", "source", "string"}, {"url", "node", "url", "string"}, {"published", "node", "published", "string"},
	{"first_seen", "node", "first_seen", "string"}, {"gone", "node", "gone", "boolean"},
	{"relation", "edge", "relation", "string"}, {"edge_dataset", "edge", "dataset", "string"},
	{"confidence", "edge", "confidence", "double"}, {"edge_first_seen", "edge", "first_seen", "string"},
}

func (g *Graph) encodeGraphML(enc *xml.Encoder) error {
	root := xml.StartElement{Name: xml.Name{Local: "graphml"}, Attr: []xml.Attr{{Name: xml.Name{Local: "xmlns"}, Value: "http://graphml.graphdrawing.org/xmlns"}}}
	if err := enc.EncodeToken(root); err != nil {
		return err
	}
	for _, k := range gmlKeys {
		if err := enc.EncodeElement(k, xml.StartElement{Name: xml.Name{Local: "key"}}); err != nil {
			return err
		}
	}
	graph := xml.StartElement{Name: xml.Name{Local: "graph"}, Attr: []xml.Attr{{Name: xml.Name{Local: "id"}, Value: "afterlife"},
		{Name: xml.Name{Local: "edgedefault"}, Value: "directed"}}}
	if err := enc.EncodeToken(graph); err != nil {
		return err
	}
	nodeEl, edgeEl := xml.StartElement{Name: xml.Name{Local: "node"}}, xml.StartElement{Name: xml.Name{Local: "edge"}}
	var data []gmlData
	for _, n := range g.Nodes {
		data = data[:0]
		add := func(k, v string) {
			if v != "" {
				data = append(data, gmlData{k, v})
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
		if err := enc.EncodeElement(gmlNode{ID: n.ID, Data: data}, nodeEl); err != nil {
			return err
		}
	}
	for i, e := range g.Edges {
		data = append(data[:0], gmlData{"relation", e.Relation}, gmlData{"edge_dataset", e.Dataset},
			gmlData{"confidence", strconv.FormatFloat(e.Confidence, 'f', 3, 64)})
		if e.FirstSeen != "" {
			data = append(data, gmlData{"edge_first_seen", e.FirstSeen})
		}
		if err := enc.EncodeElement(gmlEdge{ID: "e" + strconv.Itoa(i), Source: e.Source, Target: e.Target, Data: data}, edgeEl); err != nil {
			return err
		}
	}
	if err := enc.EncodeToken(graph.End()); err != nil {
		return err
	}
	if err := enc.EncodeToken(root.End()); err != nil {
		return err
	}
	return enc.Flush()
}

// dotQuote quotes s as a DOT string: backslashes and quotes escaped, control characters dropped.
func dotQuote(s string) string {
	s = oneLine(s)
	return `"` + dotEscaper.Replace(s) + `"`
}

var dotEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`)

var dotColor = map[string]string{"dataset": "#b3261e", "derivative": "#e8710a", "model": "#1a73e8", "fine-tune": "#5e97f6",
	"paper": "#188038", "torrent": "#9334e6", "hosted-dataset": "#c5221f"}

// WriteDOT writes the graph in Graphviz DOT.
func (g *Graph) WriteDOT(w io.Writer) error {
	b := bufio.NewWriter(w)
	b.WriteString("digraph afterlife {\n  rankdir=LR;\n  node [shape=box, style=rounded, fontname=\"sans-serif\"];\n")
	for _, n := range g.Nodes {
		color := dotColor[n.Type]
		if color == "" {
			color = "#5f6368"
		}
		label := truncate(n.Label, 80)
		fmt.Fprintf(b, "  %s [label=%s, type=%s, color=%s", dotQuote(n.ID), dotQuote(label), dotQuote(n.Type), dotQuote(color))
		if n.Gone {
			b.WriteString(", style=\"rounded,dashed\"")
		}
		b.WriteString("];\n")
	}
	for _, e := range g.Edges {
		fmt.Fprintf(b, "  %s -> %s [label=%s, dataset=%s];\n", dotQuote(e.Source), dotQuote(e.Target), dotQuote(e.Relation), dotQuote(e.Dataset))
	}
	b.WriteString("}\n")
	return b.Flush()
}
