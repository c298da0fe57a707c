package render

import (
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/url"
	"slices"
	"sort"
	"strconv"
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

// MaxListItems bounds the lists of a dataset page (new, gone and back online since the last run,
// each host's actions): the rest is counted, and is in the relation pages, sightings.csv and
// report.json.
const MaxListItems = 100

// actionView is one host's actions as a dataset page lists them (Items cut to MaxListItems).
type actionView struct {
	HostActions
	Total int
}

// More is how many items are not listed.
func (a actionView) More() int { return a.Total - len(a.Items) }

// RowsPerPage bounds the rows of one relation's table on one HTML page. A relation with more
// sightings is summarised on its dataset page (counts, top hosts, newest) above its first page of
// rows, and the rest is paged: <dataset>/<relation>-<k>.html for k = 2…N in a static report,
// /datasets/<id>/<relation>/<k> under `afterlife serve`, each page linking to the others.
const RowsPerPage = 200

// linker makes the links of a page: relative files for a static report, routes for the server.
type linker struct {
	live bool // served by `afterlife serve` (auth, if any, is a cookie: links carry no token)
	// up is "../" on a static page one directory down (a relation's page k), "" otherwise.
	up string
}

func (l linker) Live() bool { return l.live }
func (l linker) Index() string {
	if l.live {
		return "/"
	}
	return l.up + "index.html"
}
func (l linker) Dataset(id string) string {
	if l.live {
		return "/datasets/" + url.PathEscape(id)
	}
	return l.up + fileID(id) + ".html"
}

// RelPage links page k of dataset id's relation rel (page 1 is on the dataset page).
func (l linker) RelPage(id, rel string, k int) string {
	switch {
	case k <= 1:
		return l.Dataset(id) + "#rel-" + rel
	case l.live:
		return "/datasets/" + url.PathEscape(id) + "/" + url.PathEscape(rel) + "/" + strconv.Itoa(k)
	}
	return l.up + relPageFile(id, rel, k)
}

// relPageFile is the static file of page k of a relation, relative to the report directory.
func relPageFile(id, rel string, k int) string {
	return fileID(id) + "/" + fileID(rel) + "-" + strconv.Itoa(k) + ".html"
}

func (l linker) Graph() string {
	if l.live {
		return "/graph"
	}
	return l.up + "graph.html"
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
	return l.up + name
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
	"relview":  func(l linker, g relGroup) relView { return relView{L: l, G: g} },
}

type relView struct {
	L linker
	G relGroup
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
	"relpage":   parsePage("relpage"),
}

type page struct {
	Title string
	// RowsPerPage is the package's RowsPerPage, for the templates.
	RowsPerPage int
	CSS         template.CSS
	MetaCSP     string
	L           linker
	Rep         *Report
	// index page: retracted datasets and context entries, and what came back across datasets
	Retracted, Context []DatasetReport
	Back               []BackOnline
	// dataset page
	DS      *DatasetReport
	New     []SightingView
	GoneNow []SightingView
	Reapp   []SightingView
	// how many there are in all (the lists hold at most MaxListItems)
	NewN, GoneN, ReappN int
	Actions             []actionView
	Timeline            template.HTML
	Papers              template.HTML
	SwarmSVG            template.HTML
	Rels                []relGroup
	Rel                 relGroup // a relation's page k
	Hosts               []HostStat
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

// relGroup is one relation's sightings of a dataset, and the page of them being shown.
type relGroup struct {
	Rel   string // the relation (its id in links and file names)
	Title string
	Total int
	all   []*SightingView // into the dataset's sightings: a group copies no sighting
	// Page is the page shown (1: the dataset page), Pages how many there are; Rows are its rows,
	// First the 1-based number of its first row.
	Page, Pages, First int
	Rows               []SightingView
	// Summary of a relation of more than one page.
	Live, Gone, Hosts int
	TopHosts          []hostCount
	Newest            []SightingView
	Nav               []pageLink
}

type hostCount struct {
	Host       string
	Live, Gone int
}

// pageLink is one entry of a relation's page list: a page, or a gap ("…").
type pageLink struct {
	N        int
	Href     string
	Cur, Gap bool
}

// Large reports whether the relation is paged (and summarised).
func (g relGroup) Large() bool { return g.Pages > 1 }

// Last is the number of the last row shown.
func (g relGroup) Last() int { return g.First + len(g.Rows) - 1 }

// Summary sizes.
const (
	topHostsShown = 8
	newestShown   = 10
)

// relGroups groups a dataset's sightings by relation (in extract.Relations order, report order
// within), with page 1 selected and the summary of large relations filled in.
func relGroups(l linker, d *DatasetReport) []relGroup {
	n := map[extract.Relation]int{}
	for i := range d.Sightings {
		n[d.Sightings[i].Relation]++
	}
	by := make(map[extract.Relation][]*SightingView, len(n))
	for i := range d.Sightings {
		x := &d.Sightings[i]
		if by[x.Relation] == nil {
			by[x.Relation] = make([]*SightingView, 0, n[x.Relation])
		}
		by[x.Relation] = append(by[x.Relation], x)
	}
	var out []relGroup
	for _, rel := range extract.Relations {
		all := by[rel]
		if len(all) == 0 {
			continue
		}
		g := relGroup{Rel: string(rel), Title: relTitle[rel], Total: len(all), all: all, Pages: (len(all) + RowsPerPage - 1) / RowsPerPage}
		if g.Large() {
			hosts := map[string]*hostCount{}
			var order []*hostCount
			for _, x := range all {
				if x.Gone {
					g.Gone++
				} else {
					g.Live++
				}
				h := hosts[x.Artifact.Host]
				if h == nil {
					h = &hostCount{Host: x.Artifact.Host}
					hosts[x.Artifact.Host] = h
					order = append(order, h)
				}
				if x.Gone {
					h.Gone++
				} else {
					h.Live++
				}
			}
			sort.SliceStable(order, func(i, j int) bool {
				a, b := order[i], order[j]
				if a.Live+a.Gone != b.Live+b.Gone {
					return a.Live+a.Gone > b.Live+b.Gone
				}
				return a.Host < b.Host
			})
			g.Hosts = len(order)
			for _, h := range order[:min(topHostsShown, len(order))] {
				g.TopHosts = append(g.TopHosts, *h)
			}
			g.Newest = newestOf(all, newestShown)
		}
		out = append(out, g.page(l, d.ID, 1))
	}
	return out
}

// newestOf returns the n sightings of all first seen last (ties by id), newest first: one pass
// keeping the n best, not a sort of the relation.
func newestOf(all []*SightingView, n int) []SightingView {
	newer := func(a, b *SightingView) bool {
		if !a.FirstSeen.Equal(b.FirstSeen) {
			return a.FirstSeen.After(b.FirstSeen)
		}
		return a.Artifact.ID < b.Artifact.ID
	}
	out := make([]SightingView, 0, n+1)
	for _, x := range all {
		if len(out) == n && !newer(x, &out[n-1]) {
			continue
		}
		j := sort.Search(len(out), func(j int) bool { return newer(x, &out[j]) })
		out = slices.Insert(out, j, *x)
		if len(out) > n {
			out = out[:n]
		}
	}
	return out
}

// page returns g showing page k (1-based, clamped) with its page list.
func (g relGroup) page(l linker, id string, k int) relGroup {
	k = max(1, min(k, g.Pages))
	g.Page, g.First = k, (k-1)*RowsPerPage+1
	rows := g.all[(k-1)*RowsPerPage : min(k*RowsPerPage, g.Total)]
	g.Rows = make([]SightingView, len(rows))
	for i, x := range rows {
		g.Rows[i] = *x
	}
	g.Nav = nil
	if g.Pages > 1 {
		last := 0
		for n := 1; n <= g.Pages; n++ {
			if n > 2 && n < g.Pages-1 && (n < k-3 || n > k+3) {
				continue // a window around the current page, and both ends
			}
			if last != 0 && n != last+1 {
				g.Nav = append(g.Nav, pageLink{Gap: true})
			}
			g.Nav = append(g.Nav, pageLink{N: n, Href: l.RelPage(id, g.Rel, n), Cur: n == k})
			last = n
		}
	}
	return g
}

func newPage(l linker, rep *Report, title string) *page {
	p := &page{Title: title, CSS: template.CSS(styleCSS), L: l, Rep: rep, RowsPerPage: RowsPerPage}
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
			if p.NewN++; len(p.New) < MaxListItems {
				p.New = append(p.New, x)
			}
		}
		if x.GoneNow {
			if p.GoneN++; len(p.GoneNow) < MaxListItems {
				p.GoneNow = append(p.GoneNow, x)
			}
		}
		if x.Reappeared {
			if p.ReappN++; len(p.Reapp) < MaxListItems {
				p.Reapp = append(p.Reapp, x)
			}
		}
	}
	for _, a := range d.Actions {
		v := actionView{HostActions: a, Total: len(a.Items)}
		if len(v.Items) > MaxListItems {
			v.Items = v.Items[:MaxListItems]
		}
		p.Actions = append(p.Actions, v)
	}
	if len(d.Timeline) > 1 {
		p.Timeline = timelineSVG(d.Timeline)
	}
	p.Papers = papersSVG(d.PapersPerYear, d.retractionYear)
	p.SwarmSVG = swarmSVG(d.Swarms)
	p.Rels = relGroups(l, d)
	for _, g := range p.Rels {
		if err := rep.fillExcerpts(g.Rows); err != nil {
			return err
		}
	}
	p.Hosts = byHost(d.Sightings)
	return render(w, "dataset", p)
}

// writeRelPageHTML writes page k (≥ 2) of relation rel of d.
func writeRelPageHTML(w io.Writer, l linker, rep *Report, d *DatasetReport, rel string, k int) error {
	for _, g := range relGroups(l, d) {
		if g.Rel == rel {
			return writeRelGroupPage(w, l, rep, d, g, k)
		}
	}
	return fmt.Errorf("%s: no %s sightings: %w", d.ID, rel, errNoPage)
}

// errNoPage is returned for a relation page that does not exist.
var errNoPage = errors.New("no such page")

// writeRelGroupPage writes page k (≥ 2) of g, a relation of d (from relGroups).
func writeRelGroupPage(w io.Writer, l linker, rep *Report, d *DatasetReport, g relGroup, k int) error {
	if !l.live {
		l.up = "../"
	}
	if k < 2 || k > g.Pages {
		return fmt.Errorf("%s %s page %d of %d: %w", d.ID, g.Rel, k, g.Pages, errNoPage)
	}
	p := newPage(l, rep, fmt.Sprintf("%s: %s, page %d of %d", d.Name, g.Title, k, g.Pages))
	p.DS = d
	p.Rel = g.page(l, d.ID, k)
	if err := rep.fillExcerpts(p.Rel.Rows); err != nil {
		return err
	}
	return render(w, "relpage", p)
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
