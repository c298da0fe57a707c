package render

import (
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"net/url"
	"strings"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/extract"
	"github.com/afterlife-watch/afterlife/reports"
)

//go:embed templates/*.html templates/style.css
var templateFS embed.FS

var styleCSS = func() string {
	b, err := templateFS.ReadFile("templates/style.css")
	if err != nil {
		panic(err)
	}
	return string(b)
}()

// StyleHash is the CSP source of the one inline stylesheet every page carries.
var StyleHash = func() string {
	h := sha256.Sum256([]byte(styleCSS))
	return "'sha256-" + base64.StdEncoding.EncodeToString(h[:]) + "'"
}()

// ContentSecurityPolicy forbids every script (inline or not), every external resource and framing;
// the only style allowed is the pages' own stylesheet, by hash.
var ContentSecurityPolicy = metaCSP + "; frame-ancestors 'none'"

// metaCSP is the policy static files carry in a <meta> element (where frame-ancestors is ignored).
var metaCSP = "default-src 'none'; script-src 'none'; style-src " + StyleHash +
	"; img-src 'self' data:; base-uri 'none'; form-action 'self'"

// MaxHTMLRows bounds the rows of one relation's table in a dataset page, HTML and Markdown (the
// CSV, the JSON and the server's search hold every sighting). Rows are live first, then by
// confidence, so the cut keeps what a steward acts on.
const MaxHTMLRows = 500

// linker makes the links of a page: relative files for a static report, routes for the server.
type linker struct {
	live bool // served by `afterlife serve` (auth, if any, is a cookie: links carry no token)
}

func (l linker) Live() bool { return l.live }
func (l linker) Index() string {
	if l.live {
		return "/"
	}
	return "index.html"
}
func (l linker) Dataset(id string) string {
	if l.live {
		return "/datasets/" + url.PathEscape(id)
	}
	return fileID(id) + ".html"
}
func (l linker) Graph() string {
	if l.live {
		return "/graph"
	}
	return "graph.html"
}
func (l linker) Sightings() string { return "/sightings" }
func (l linker) SightingsFor(ds string) string {
	return "/sightings?" + url.Values{"dataset": {ds}}.Encode()
}
func (l linker) Artifact(id string) string {
	return "/artifacts?" + url.Values{"id": {id}}.Encode()
}
func (l linker) File(name string) string {
	if l.live {
		return "/files/" + name
	}
	return name
}

var funcs = template.FuncMap{
	"day":      fmtDay,
	"time":     fmtTime,
	"count":    count,
	"join":     strings.Join,
	"safe":     safeURL,
	"spark":    sparkSVG,
	"plain":    PlainEvidence,
	"confword": ConfidenceWord,
	"mdname":   func(id string) string { return fileID(id) + ".md" },
	"feedname": func(id string) string { return "feeds/" + fileID(id) + ".atom" },
	"host":     func(a artifact.Artifact) string { return a.Host() },
	"row":      func(l linker, s SightingView) rowData { return rowData{L: l, S: s} },
	"dsrows":   func(l linker, ds []DatasetReport) dsRows { return dsRows{L: l, DS: ds} },
}

type dsRows struct {
	L  linker
	DS []DatasetReport
}

type rowData struct {
	L linker
	S SightingView
}

func parsePage(name string) *template.Template {
	return template.Must(template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html"))
}

var pages = map[string]*template.Template{
	"index":     parsePage("index"),
	"dataset":   parsePage("dataset"),
	"graph":     parsePage("graph"),
	"sightings": parsePage("sightings"),
	"artifact":  parsePage("artifact"),
}

type page struct {
	Title   string
	CSS     template.CSS
	MetaCSP string
	L       linker
	Rep     *Report
	// index page: retracted datasets and context entries, and what came back across datasets
	Retracted, Context []DatasetReport
	Back               []BackOnline
	// dataset page
	DS       *DatasetReport
	New      []SightingView
	GoneNow  []SightingView
	Reapp    []SightingView
	Timeline template.HTML
	Papers   template.HTML
	SwarmSVG template.HTML
	Rels     []relGroup
	Hosts    []HostStat
	// graph page
	G        *Graph
	GraphSVG template.HTML
	Shown    int
	Edges    []GraphEdge
	// artifact page
	Art       artifact.Artifact
	ArtFound  []reports.Sighting
	ArtFiles  []artifact.File
	MoreFiles int
	// sightings page
	Q          reports.SightingQuery
	State      string
	Rows       []reports.Sighting
	Capped     bool
	DatasetIDs []string
	Relations  []extract.Relation
}

type relGroup struct {
	Title string
	Total int
	Rows  []SightingView
}

func newPage(l linker, rep *Report, title string) *page {
	p := &page{Title: title, CSS: template.CSS(styleCSS), L: l, Rep: rep}
	if !l.live {
		p.MetaCSP = metaCSP
	}
	return p
}

func render(w io.Writer, name string, p *page) error {
	if err := pages[name].ExecuteTemplate(w, "layout", p); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	return nil
}

func writeIndexHTML(w io.Writer, l linker, rep *Report) error {
	p := newPage(l, rep, "Overview")
	p.Back = backOnline(rep)
	for _, d := range rep.Datasets {
		if d.Retracted {
			p.Retracted = append(p.Retracted, d)
		} else {
			p.Context = append(p.Context, d)
		}
	}
	return render(w, "index", p)
}

func writeDatasetHTML(w io.Writer, l linker, rep *Report, d *DatasetReport) error {
	p := newPage(l, rep, d.Name)
	p.DS = d
	for _, x := range d.Sightings {
		if x.New {
			p.New = append(p.New, x)
		}
		if x.GoneNow {
			p.GoneNow = append(p.GoneNow, x)
		}
		if x.Reappeared {
			p.Reapp = append(p.Reapp, x)
		}
	}
	if len(d.Timeline) > 1 {
		p.Timeline = timelineSVG(d.Timeline)
	}
	p.Papers = papersSVG(d.PapersPerYear, d.retractionYear)
	p.SwarmSVG = swarmSVG(d.Swarms)
	for _, rel := range extract.Relations {
		g := relGroup{Title: relTitle[rel]}
		for _, x := range d.Sightings {
			if x.Relation == rel {
				g.Total++
				if len(g.Rows) < MaxHTMLRows {
					g.Rows = append(g.Rows, x)
				}
			}
		}
		if g.Total > 0 {
			p.Rels = append(p.Rels, g)
		}
	}
	p.Hosts = byHost(d.Sightings)
	return render(w, "dataset", p)
}

// maxGraphNodes bounds the drawn graph (the GraphML, DOT and JSON files hold all of it).
const maxGraphNodes = 400

func writeGraphHTML(w io.Writer, l linker, rep *Report, g *Graph) error {
	p := newPage(l, rep, "Propagation graph")
	p.G = g
	p.GraphSVG, p.Shown = graphSVG(g, maxGraphNodes)
	p.Edges = g.Edges
	if len(p.Edges) > MaxHTMLRows {
		p.Edges = p.Edges[:MaxHTMLRows]
	}
	return render(w, "graph", p)
}

// BackOnline is one sighting that came back in the report's run, with its dataset.
type BackOnline struct {
	DatasetID, DatasetName string
	S                      SightingView
}

// backOnline lists the report's reappeared sightings across datasets, in report order.
func backOnline(rep *Report) []BackOnline {
	var out []BackOnline
	for _, d := range rep.Datasets {
		for _, x := range d.Sightings {
			if x.Reappeared {
				out = append(out, BackOnline{DatasetID: d.ID, DatasetName: d.Name, S: x})
			}
		}
	}
	return out
}
