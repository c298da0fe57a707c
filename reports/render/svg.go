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

// niceTicks returns the y-axis ticks from 0 to at least maxV in steps of 1, 2 or 5 × 10^k (at
// most 6 ticks); the last tick is the axis' top.
func niceTicks(maxV int) []int {
	if maxV < 1 {
		maxV = 1
	}
	step := 1
	for mag := 1; ; mag *= 10 {
		done := false
		for _, m := range []int{1, 2, 5} {
			if maxV/(m*mag) <= 4 {
				step, done = m*mag, true
				break
			}
		}
		if done {
			break
		}
	}
	var out []int
	for v := 0; ; v += step {
		out = append(out, v)
		if v >= maxV {
			return out
		}
	}
}

// frame is a chart's plot area inside its viewBox.
type frame struct{ w, h, left, right, top, bottom int }

func (f frame) plotW() float64 { return float64(f.w - f.left - f.right) }
func (f frame) plotH() float64 { return float64(f.h - f.top - f.bottom) }

// yAxis draws the y axis with its ticks (values), light grid lines and its title, and returns
// the function placing a value.
func (f frame) yAxis(b *strings.Builder, ticks []int, title string) func(v int) float64 {
	top := ticks[len(ticks)-1]
	y := func(v int) float64 { return float64(f.h-f.bottom) - float64(v)*f.plotH()/float64(top) }
	fmt.Fprintf(b, `<g class="axis axis-y">`)
	fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#9aa0a6"/>`, f.left, f.top, f.left, f.h-f.bottom)
	for _, t := range ticks {
		fmt.Fprintf(b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#eceff1"/>`, f.left+1, y(t), f.w-f.right, y(t))
		fmt.Fprintf(b, `<text class="tick" x="%d" y="%.1f" font-size="11" text-anchor="end" fill="#5f6368">%d</text>`, f.left-5, y(t)+4, t)
	}
	fmt.Fprintf(b, `<text class="axis-title" x="12" y="%.1f" font-size="11" text-anchor="middle" fill="#202124" transform="rotate(-90 12 %.1f)">%s</text>`,
		float64(f.top)+f.plotH()/2, float64(f.top)+f.plotH()/2, html.EscapeString(title))
	b.WriteString(`</g>`)
	return y
}

// xAxis draws the x axis line and its title; the caller draws the tick labels.
func (f frame) xAxis(b *strings.Builder, title string) {
	fmt.Fprintf(b, `<line class="axis axis-x" x1="%d" y1="%d" x2="%d" y2="%d" stroke="#9aa0a6"/>`, f.left, f.h-f.bottom, f.w-f.right, f.h-f.bottom)
	fmt.Fprintf(b, `<text class="axis-title axis-x-title" x="%.1f" y="%d" font-size="11" text-anchor="middle" fill="#202124">%s</text>`,
		float64(f.left)+f.plotW()/2, f.h-4, html.EscapeString(title))
}

// every returns how many labels to skip so that at most max of n are drawn.
func every(n, max int) int {
	if n <= max {
		return 1
	}
	return (n + max - 1) / max
}

// timelineSVG draws live sightings over runs (one line per scoring class), with labelled axes,
// the run dates on the x axis and each line's last value.
func timelineSVG(pts []TimelinePoint) template.HTML {
	if len(pts) == 0 {
		return ""
	}
	f := frame{w: 680, h: 250, left: 56, right: 56, top: 30, bottom: 46}
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
			return float64(f.left) + f.plotW()/2
		}
		return float64(f.left) + float64(i)*f.plotW()/float64(len(pts)-1)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-label="Live sightings at each run" xmlns="http://www.w3.org/2000/svg">`, f.w, f.h)
	y := f.yAxis(&b, niceTicks(maxV), "live sightings")
	f.xAxis(&b, "run (date)")
	step := every(len(pts), 6)
	for i, p := range pts {
		if i%step != 0 && i != len(pts)-1 {
			continue
		}
		anchor := "middle"
		switch {
		case len(pts) > 1 && i == 0:
			anchor = "start"
		case len(pts) > 1 && i == len(pts)-1:
			anchor = "end"
		}
		fmt.Fprintf(&b, `<text class="tick" x="%.1f" y="%d" font-size="11" text-anchor="%s" fill="#5f6368">%s</text>`, x(i), f.h-f.bottom+15, anchor, html.EscapeString(fmtDay(p.At)))
	}
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
		fmt.Fprintf(&b, `<rect x="%d" y="6" width="10" height="10" fill="%s"/><text x="%d" y="15" font-size="11" fill="#202124">%s (%d)</text>`,
			f.left+si*110, s.color, f.left+si*110+14, s.name, s.vals[len(s.vals)-1])
	}
	// The last value of each line, beside its last point (live on top: it is the sum).
	last := len(pts) - 1
	placed := []float64{}
	for _, s := range ss {
		v := s.vals[last]
		ty := y(v) + 4
		for _, p := range placed { // keep labels of equal values from overlapping
			if ty > p-11 && ty < p+11 {
				ty = p + 12
			}
		}
		placed = append(placed, ty)
		fmt.Fprintf(&b, `<text class="value" x="%.1f" y="%.1f" font-size="11" fill="%s">%d</text>`, x(last)+6, ty, s.color, v)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// papersSVG draws papers per year, with labelled axes and each bar's count; bars after the
// retraction in red.
func papersSVG(ys []YearCount, retYear int) template.HTML {
	if len(ys) == 0 {
		return ""
	}
	f := frame{w: 680, h: 220, left: 56, right: 16, top: 24, bottom: 46}
	maxV := 1
	for _, y := range ys {
		if y.Papers > maxV {
			maxV = y.Papers
		}
	}
	first, last := ys[0].Year, ys[len(ys)-1].Year
	n := last - first + 1
	bw := f.plotW() / float64(n)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-label="Papers using the dataset per publication year" xmlns="http://www.w3.org/2000/svg">`, f.w, f.h)
	y := f.yAxis(&b, niceTicks(maxV), "papers")
	f.xAxis(&b, "publication year")
	step := every(n, 16)
	for yr := first; yr <= last; yr++ {
		if (yr-first)%step == 0 || yr == last {
			x := float64(f.left) + float64(yr-first)*bw + bw/2
			fmt.Fprintf(&b, `<text class="tick" x="%.1f" y="%d" font-size="10" text-anchor="middle" fill="#5f6368">%d</text>`, x, f.h-f.bottom+14, yr)
		}
	}
	for _, c := range ys {
		color := "#5f6368"
		if c.AfterRetraction {
			color = "#b3261e"
		}
		x := float64(f.left) + float64(c.Year-first)*bw
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%d: %d papers</title></rect>`,
			x+1, y(c.Papers), max(bw-2, 1), y(0)-y(c.Papers), color, c.Year, c.Papers)
		fmt.Fprintf(&b, `<text class="value" x="%.1f" y="%.1f" font-size="10" text-anchor="middle" fill="%s">%d</text>`, x+bw/2, y(c.Papers)-3, color, c.Papers)
	}
	if retYear >= first && retYear <= last {
		x := float64(f.left) + float64(retYear-first+1)*bw
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#b3261e" stroke-dasharray="4 3"/><text x="%.1f" y="%d" font-size="10" fill="#b3261e">retracted</text>`,
			x, f.top, x, f.h-f.bottom, x+3, f.top+8)
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

// swarmColors are the lines of the swarm chart, one per torrent.
var swarmColors = []string{"#9334e6", "#1a73e8", "#b3261e", "#188038", "#e37400", "#5f6368"}

// swarmSVG draws each swarm's seeders at each probing run (up to 6 swarms), with labelled axes
// and each line's last value; nothing when no swarm was probed twice.
func swarmSVG(sws []SwarmHealth) template.HTML {
	var shown []SwarmHealth
	maxV, maxN := 1, 0
	for _, sw := range sws {
		if len(sw.History) < 2 || len(shown) == len(swarmColors) {
			continue
		}
		shown = append(shown, sw)
		maxN = max(maxN, len(sw.History))
		for _, p := range sw.History {
			maxV = max(maxV, p.Seeders)
		}
	}
	if len(shown) == 0 {
		return ""
	}
	f := frame{w: 680, h: 220, left: 56, right: 40, top: 30, bottom: 46}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-label="Seeders of each swarm at each probe" xmlns="http://www.w3.org/2000/svg">`, f.w, f.h)
	y := f.yAxis(&b, niceTicks(maxV), "seeders")
	f.xAxis(&b, "probe (oldest to newest)")
	x := func(i, n int) float64 { return float64(f.left) + float64(i+maxN-n)*f.plotW()/float64(max(maxN-1, 1)) }
	for i := 0; i < maxN; i++ {
		if i%every(maxN, 8) == 0 || i == maxN-1 {
			fmt.Fprintf(&b, `<text class="tick" x="%.1f" y="%d" font-size="10" text-anchor="middle" fill="#5f6368">%d</text>`, x(i, maxN), f.h-f.bottom+14, i+1)
		}
	}
	for si, sw := range shown {
		c := swarmColors[si]
		var pts strings.Builder
		n := len(sw.History)
		for i, p := range sw.History {
			fmt.Fprintf(&pts, "%.1f,%.1f ", x(i, n), y(max(p.Seeders, 0)))
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2" points="%s"><title>%s</title></polyline>`, c, strings.TrimSpace(pts.String()), html.EscapeString(sw.InfoHash))
		last := sw.History[n-1]
		fmt.Fprintf(&b, `<text class="value" x="%.1f" y="%.1f" font-size="11" fill="%s">%d</text>`, x(n-1, n)+5, y(max(last.Seeders, 0))+4, c, last.Seeders)
		fmt.Fprintf(&b, `<rect x="%d" y="6" width="10" height="10" fill="%s"/><text x="%d" y="15" font-size="11" fill="#202124">%s…</text>`,
			f.left+si*100, c, f.left+si*100+14, html.EscapeString(truncate(sw.InfoHash, 9)))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}
