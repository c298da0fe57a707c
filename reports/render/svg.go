package render

import (
	"fmt"
	"html"
	"html/template"
	"strings"
	"unicode/utf8"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/reports"
)

// Charts are built as inline SVG from numbers; the only text they carry (run ids, hosts, labels)
// goes through html.EscapeString. SVG uses presentation attributes, no style attributes, so the
// pages need no 'unsafe-inline' style.

// truncate cuts s to at most n runes (the last one an ellipsis when cut), without copying the
// runes.
func truncate(s string, n int) string {
	if len(s) <= n || n < 1 {
		return s // fewer bytes than n: fewer runes too
	}
	i, count := 0, 0
	for i < len(s) && count < n-1 {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		count++
	}
	if i >= len(s) || utf8.RuneCountInString(s[i:]) <= 1 {
		return s
	}
	return s[:i] + "…"
}

type series struct {
	name  string
	color string
	vals  []int
}

// timelineSVG draws live sightings over runs (one line per scoring class).
func timelineSVG(pts []TimelinePoint) template.HTML {
	if len(pts) == 0 {
		return ""
	}
	const w, h, pad, left = 640, 220, 28, 44
	ss := []series{{"live", "#202124", nil}, {"data", "#b3261e", nil}, {"models", "#1a73e8", nil}, {"uses", "#188038", nil}}
	maxV := 1
	for _, p := range pts {
		ss[0].vals = append(ss[0].vals, p.Live)
		ss[1].vals = append(ss[1].vals, p.Data)
		ss[2].vals = append(ss[2].vals, p.Model)
		ss[3].vals = append(ss[3].vals, p.Uses)
		if p.Live > maxV {
			maxV = p.Live
		}
	}
	x := func(i int) float64 {
		if len(pts) == 1 {
			return float64(left+w-pad) / 2
		}
		return float64(left) + float64(i)*float64(w-left-pad)/float64(len(pts)-1)
	}
	y := func(v int) float64 { return float64(h-pad) - float64(v)*float64(h-2*pad)/float64(maxV) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-label="Sightings over time" xmlns="http://www.w3.org/2000/svg">`, w, h)
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#9aa0a6"/>`, left, h-pad, w-pad, h-pad)
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#9aa0a6"/>`, left, pad, left, h-pad)
	fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="11" text-anchor="end" fill="#5f6368">%d</text>`, left-4, pad+4, maxV)
	fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="11" text-anchor="end" fill="#5f6368">0</text>`, left-4, h-pad+4)
	fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="11" fill="#5f6368">%s</text>`, left, h-8, html.EscapeString(fmtDay(pts[0].At)))
	fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="11" text-anchor="end" fill="#5f6368">%s</text>`, w-pad, h-8, html.EscapeString(fmtDay(pts[len(pts)-1].At)))
	for si, s := range ss {
		var path strings.Builder
		for i, v := range s.vals {
			fmt.Fprintf(&path, "%.1f,%.1f ", x(i), y(v))
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>`, s.color, strings.TrimSpace(path.String()))
		for i, v := range s.vals {
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"><title>%s %s: %d %s</title></circle>`, x(i), y(v), s.color,
				html.EscapeString(pts[i].RunID), html.EscapeString(fmtDay(pts[i].At)), v, s.name)
		}
		fmt.Fprintf(&b, `<rect x="%d" y="6" width="10" height="10" fill="%s"/><text x="%d" y="15" font-size="11" fill="#202124">%s</text>`,
			left+si*90, s.color, left+si*90+14, s.name)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// papersSVG draws papers per year, bars after the retraction in red.
func papersSVG(ys []YearCount, retYear int) template.HTML {
	if len(ys) == 0 {
		return ""
	}
	const w, h, pad = 640, 180, 24
	maxV := 1
	for _, y := range ys {
		if y.Papers > maxV {
			maxV = y.Papers
		}
	}
	first, last := ys[0].Year, ys[len(ys)-1].Year
	n := last - first + 1
	bw := float64(w-2*pad) / float64(n)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-label="Papers per year" xmlns="http://www.w3.org/2000/svg">`, w, h)
	for _, y := range ys {
		bh := float64(y.Papers) * float64(h-3*pad) / float64(maxV)
		color := "#5f6368"
		if y.AfterRetraction {
			color = "#b3261e"
		}
		x := float64(pad) + float64(y.Year-first)*bw
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%d: %d papers</title></rect>`,
			x+1, float64(h-2*pad)-bh, bw-2, bh, color, y.Year, y.Papers)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="10" text-anchor="middle" fill="#5f6368">%d</text>`, x+bw/2, h-pad, y.Year)
	}
	if retYear >= first && retYear <= last {
		x := float64(pad) + float64(retYear-first+1)*bw
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#b3261e" stroke-dasharray="4 3"/><text x="%.1f" y="%d" font-size="10" fill="#b3261e">retracted</text>`,
			x, pad/2, x, h-2*pad, x+3, pad)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// sparkSVG draws a swarm's seeders over its probes.
func sparkSVG(ps []reports.SwarmProbe) template.HTML {
	if len(ps) < 2 {
		return ""
	}
	const w, h = 120, 28
	maxV := 1
	for _, p := range ps {
		if p.Seeders > maxV {
			maxV = p.Seeders
		}
	}
	var pts strings.Builder
	for i, p := range ps {
		v := p.Seeders
		if v < 0 {
			v = 0
		}
		fmt.Fprintf(&pts, "%.1f,%.1f ", float64(i)*float64(w-4)/float64(len(ps)-1)+2, float64(h-2)-float64(v)*float64(h-4)/float64(maxV))
	}
	return template.HTML(fmt.Sprintf(`<svg class="spark" viewBox="0 0 %d %d" role="img" aria-label="seeders over time" xmlns="http://www.w3.org/2000/svg"><polyline fill="none" stroke="#9334e6" stroke-width="2" points="%s"/></svg>`,
		w, h, strings.TrimSpace(pts.String())))
}

// graphColumns are the columns of the drawn graph, in propagation order.
var graphColumns = []string{"datasets", "derivatives", "copies", "models", "fine-tunes", "papers", "code and other"}

func graphColumn(typ string) int {
	switch typ {
	case "dataset":
		return 0
	case "derivative":
		return 1
	case "hosted-dataset", artifact.KindTorrent, artifact.KindRecord, artifact.KindPage:
		return 2
	case artifact.KindModel:
		return 3
	case "fine-tune":
		return 4
	case artifact.KindPaper:
		return 5
	}
	return 6
}

// graphSVG lays the propagation graph out in columns by node type (no script, no layout engine).
func graphSVG(g *Graph, maxNodes int) (template.HTML, int) {
	cols := make([][]GraphNode, len(graphColumns))
	shown := 0
	pos := map[string][2]float64{}
	for _, n := range g.Nodes {
		if shown >= maxNodes {
			break
		}
		c := graphColumn(n.Type)
		cols[c] = append(cols[c], n)
		shown++
	}
	used := []int{}
	rows := 1
	for i, c := range cols {
		if len(c) > 0 {
			used = append(used, i)
			if len(c) > rows {
				rows = len(c)
			}
		}
	}
	const colW, rowH, top = 200, 22, 30
	w := colW*len(used) + 20
	h := top + rows*rowH + 10
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="graph" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="Propagation graph" xmlns="http://www.w3.org/2000/svg">`, w, h, w, h)
	for ci, c := range used {
		x := 10 + ci*colW
		fmt.Fprintf(&b, `<text x="%d" y="16" font-size="12" font-weight="bold" fill="#202124">%s</text>`, x, html.EscapeString(graphColumns[c]))
		for ri, n := range cols[c] {
			pos[n.ID] = [2]float64{float64(x), float64(top + ri*rowH)}
		}
	}
	for _, e := range g.Edges {
		a, ok1 := pos[e.Source]
		z, ok2 := pos[e.Target]
		if !ok1 || !ok2 {
			continue
		}
		fmt.Fprintf(&b, `<line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" stroke="#dadce0"><title>%s</title></line>`, a[0]+colW-30, a[1]+6, z[0], z[1]+6,
			html.EscapeString(e.Relation))
	}
	for _, n := range g.Nodes {
		p, ok := pos[n.ID]
		if !ok {
			continue
		}
		color := dotColor[n.Type]
		if color == "" {
			color = "#5f6368"
		}
		fmt.Fprintf(&b, `<circle cx="%.0f" cy="%.0f" r="4" fill="%s"/><text x="%.0f" y="%.0f" font-size="11" fill="#202124"><title>%s</title>%s</text>`,
			p[0]+4, p[1]+6, color, p[0]+11, p[1]+10, html.EscapeString(n.ID), html.EscapeString(truncate(n.Label, 26)))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()), shown
}
