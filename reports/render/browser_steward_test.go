package render

import (
	"bytes"
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/afterlife-watch/afterlife/reports"
)

// What a steward sees first, and that nothing is wider than the screen, checked in headless
// Chromium on the static report files at 1280 x 900 (issue 17: "Done when" browser checks).

const viewW, viewH = 1280, 900

func fileURL(dir, name string) string {
	return (&url.URL{Scheme: "file", Path: filepath.Join(dir, name)}).String()
}

// box is an element's place on the page (document coordinates) and its text.
type box struct {
	Found  bool    `json:"found"`
	Top    float64 `json:"top"`
	Height float64 `json:"height"`
	Text   string  `json:"text"`
}

func (b *browser) box(t *testing.T, css string) box {
	t.Helper()
	return get(t, b, chromedp.Evaluate[box](`(() => { const e = document.querySelector(`+jsString(css)+`);
		if (!e) return {found: false};
		const r = e.getBoundingClientRect(), s = getComputedStyle(e);
		return {found: s.display !== "none" && s.visibility !== "hidden" && r.height > 0, top: r.top + scrollY, height: r.height, text: e.innerText}; })()`))
}

// headingTop is the document top of the first h2 whose text starts with prefix (-1: none).
func (b *browser) headingTop(t *testing.T, prefix string) float64 {
	t.Helper()
	return get(t, b, chromedp.Evaluate[float64](`(() => { for (const h of document.querySelectorAll("h2")) {
		if (h.innerText.startsWith(`+jsString(prefix)+`)) return h.getBoundingClientRect().top + scrollY; } return -1; })()`))
}

func jsString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}

// overflow is how far the page is wider than the viewport, and the widest element that sticks out.
type overflow struct {
	ScrollWidth float64 `json:"scroll_width"`
	Inner       float64 `json:"inner"`
	Culprit     string  `json:"culprit"`
}

func (b *browser) overflow(t *testing.T) overflow {
	t.Helper()
	return get(t, b, chromedp.Evaluate[overflow](`(() => {
		let culprit = "";
		for (const e of document.querySelectorAll("body *")) {
			const r = e.getBoundingClientRect();
			if (r.right > innerWidth + 1 && !e.closest(".scroll")) { culprit = e.tagName + "." + e.className + ": " + (e.innerText || "").slice(0, 80); break; }
		}
		return {scroll_width: document.documentElement.scrollWidth, inner: innerWidth, culprit}; })()`))
}

// brokenWords lists the words in table cells that the browser broke across lines mid-word: a run
// of letters and digits (3 to 30 of them: URLs and hashes may wrap at their punctuation) whose
// characters lie on more than one line. Card excerpts (pre) wrap their long tokens and are left
// out.
func (b *browser) brokenWords(t *testing.T) []string {
	t.Helper()
	return get(t, b, chromedp.Evaluate[[]string](`(() => {
		const bad = [];
		for (const cell of document.querySelectorAll("th, td")) {
			const walk = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
			for (let n = walk.nextNode(); n; n = walk.nextNode()) {
				if (n.parentElement.closest("pre")) continue; // a card excerpt: wraps its long tokens
				for (const m of n.data.matchAll(/(?<![\p{L}\p{N}])[\p{L}\p{N}]{3,30}(?![\p{L}\p{N}])/gu)) {
					const r = document.createRange();
					r.setStart(n, m.index); r.setEnd(n, m.index + m[0].length);
					const tops = new Set([...r.getClientRects()].filter(x => x.width > 0).map(x => Math.round(x.top)));
					if (tops.size > 1) bad.push(m[0] + " in " + cell.tagName.toLowerCase() + " " + Math.round(cell.getBoundingClientRect().width) + "px (" + n.parentElement.tagName.toLowerCase() + ": " + JSON.stringify(n.data.slice(Math.max(0, m.index - 30), m.index + 40)) + ")");
				}
			}
		}
		return bad; })()`))
}

func (b *browser) open(t *testing.T, u string) {
	t.Helper()
	b.do(t, chromedp.EmulateViewport(viewW, viewH), chromedp.Navigate(u), chromedp.WaitVisible(chromedp.CSS("h1")))
}

// A run that checked nothing: the first thing on the overview and on a dataset page, within the
// first screen, is that nothing could be checked.
func TestBrowserNothingCheckedHeadlineComesFirst(t *testing.T) {
	s := coverageStore(t, map[string]string{"huggingface": "failed", "github": "failed"})
	out := t.TempDir()
	if _, err := Write(context.Background(), s, registry(t), "", out); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t)
	for page, next := range map[string]string{"index.html": "Retracted datasets", "ms-celeb-1m.html": "Summary"} {
		b.open(t, fileURL(out, page))
		c := b.box(t, "#coverage")
		if !c.Found || !strings.Contains(c.Text, "Nothing could be checked") {
			t.Errorf("%s: no visible nothing-checked headline (%+v)", page, c)
			continue
		}
		if c.Top > viewH/2 {
			t.Errorf("%s: the headline starts at %.0fpx, not in the first half screen", page, c.Top)
		}
		if h := b.headingTop(t, next); h < 0 || c.Top > h {
			t.Errorf("%s: the headline (at %.0f) is not above %q (at %.0f)", page, c.Top, next, h)
		}
		if body := get(t, b, chromedp.Evaluate[string](`document.querySelector("main").innerText`)); strings.Contains(body, "No sighting of a retracted dataset") {
			t.Errorf("%s says there is no sighting although nothing was checked", page)
		}
	}
	for _, ev := range b.takeEvents() {
		t.Errorf("browser event: %s", ev)
	}
}

// A copy back online: its own section, in the first screen, above the dataset tables and the
// summary, listing the copy.
func TestBrowserReappearedSectionComesFirst(t *testing.T) {
	s := reappearedStore(t)
	out := t.TempDir()
	if _, err := Write(context.Background(), s, registry(t), "", out); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t)
	for page, next := range map[string]string{"index.html": "Retracted datasets", "ms-celeb-1m.html": "Summary"} {
		b.open(t, fileURL(out, page))
		r := b.box(t, "#reappeared")
		if !r.Found || !strings.Contains(r.Text, "Back online since the last run") || !strings.Contains(r.Text, "ms1m-reupload") {
			t.Errorf("%s: no visible back-online section listing the copy (%+v)", page, r)
			continue
		}
		if r.Top > viewH/2 {
			t.Errorf("%s: the back-online section starts at %.0fpx, not in the first half screen", page, r.Top)
		}
		if h := b.headingTop(t, next); h < 0 || r.Top > h {
			t.Errorf("%s: the back-online section (at %.0f) is not above %q (at %.0f)", page, r.Top, next, h)
		}
	}
	// In the dataset's table the copy is live, with a badge, not struck through as gone.
	b.open(t, fileURL(out, "ms-celeb-1m.html"))
	row := get(t, b, chromedp.Evaluate[string](`(() => { for (const tr of document.querySelectorAll("tr")) if (tr.innerText.includes("ms1m-reupload")) return tr.className + "|" + tr.innerText; return ""; })()`))
	if !strings.Contains(row, "back online") || !strings.HasPrefix(row, "back|") || strings.Contains(row, "gone 20") {
		t.Errorf("the copy's table row is not live, highlighted and marked back online: %q", row)
	}
	bg := get(t, b, chromedp.Evaluate[string](`getComputedStyle(document.querySelector("tr.back td")).backgroundColor`))
	if bg == "" || bg == "rgba(0, 0, 0, 0)" || bg == "transparent" {
		t.Errorf("the back-online row is not highlighted (background %q)", bg)
	}
}

// No page of a report is wider than a 1280px screen (tables scroll inside their box, long URLs
// and ids wrap) and no table cell breaks a word mid-word. Checked on the fixture, the two stories above and the demo world's afterlife.
func TestBrowserNoHorizontalOverflowAt1280(t *testing.T) {
	ctx := context.Background()
	reg := registry(t)
	dirs := map[string]string{}
	out, _ := writeFixture(t)
	dirs["fixture"] = out
	for name, s := range map[string]*reports.SQLiteStore{
		"nothing-checked": coverageStore(t, map[string]string{"huggingface": "failed", "github": "failed"}),
		"reappeared":      reappearedStore(t),
	} {
		d := t.TempDir()
		if _, err := Write(ctx, s, reg, "", d); err != nil {
			t.Fatal(err)
		}
		dirs[name] = d
	}
	// The demo world's planted afterlife, ingested.
	files, _ := filepath.Glob("../../internal/demoworld/planted/*.jsonl")
	if len(files) == 0 {
		t.Fatal("no demo artifacts")
	}
	var all bytes.Buffer
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		all.Write(b)
	}
	st := openTest(t)
	if _, err := IngestArtifacts(ctx, st, reg, &all, "demo.jsonl", t0); err != nil {
		t.Fatal(err)
	}
	d := t.TempDir()
	if _, err := Write(ctx, st, reg, "", d); err != nil {
		t.Fatal(err)
	}
	dirs["demo"] = d

	b := newBrowser(t)
	// Control: the same checks catch a page that is too wide and a table that breaks words.
	ctl := filepath.Join(t.TempDir(), "control.html")
	os.WriteFile(ctl, []byte(`<!doctype html><html><body><h1>control</h1><div style="width:2000px">wide</div>`+
		`<table style="width:300px"><tr><td style="width:10px;overflow-wrap:anywhere">Afterlife</td><td>x</td></tr></table></body></html>`), 0o644)
	b.open(t, "file://"+ctl)
	if o := b.overflow(t); o.ScrollWidth <= o.Inner || o.Culprit == "" {
		t.Fatalf("control: a 2000px page not seen as overflowing: %+v", o)
	}
	if w := b.brokenWords(t); len(w) == 0 {
		t.Fatal("control: a word broken in a 10px cell not seen")
	}
	checked := 0
	for name, dir := range dirs {
		pages, _ := filepath.Glob(filepath.Join(dir, "*.html"))
		for _, p := range pages {
			b.open(t, fileURL(dir, filepath.Base(p)))
			o := b.overflow(t)
			checked++
			if o.ScrollWidth > o.Inner || o.Culprit != "" {
				t.Errorf("%s/%s: page is %.0fpx wide in a %.0fpx window; sticking out: %s", name, filepath.Base(p), o.ScrollWidth, o.Inner, o.Culprit)
			}
			if w := b.brokenWords(t); len(w) > 0 {
				t.Errorf("%s/%s: table cells break words mid-word: %v", name, filepath.Base(p), w)
			}
		}
	}
	if checked < 15 {
		t.Errorf("only %d pages checked", checked)
	}
}

// chartCheck is what the browser measured of one chart.
type chartCheck struct {
	Label    string   `json:"label"`
	XTitle   string   `json:"x_title"`
	YTitle   string   `json:"y_title"`
	YTicks   []string `json:"y_ticks"`
	XTicks   int      `json:"x_ticks"`
	Values   int      `json:"values"`
	Outside  []string `json:"outside"`
	Overlaps []string `json:"overlaps"`
	Ascends  bool     `json:"ascends"`
}

// Charts (sightings over time, papers per year, swarm health) have both axes titled, numbered
// y ticks going up, x tick labels and the values written on them, all text inside the chart and
// no two labels on top of each other.
func TestBrowserChartsHaveLabelledAxes(t *testing.T) {
	out, _ := writeFixture(t)
	b := newBrowser(t)
	b.open(t, fileURL(out, "ms-celeb-1m.html"))
	charts := get(t, b, chromedp.Evaluate[[]chartCheck](`[...document.querySelectorAll("svg.chart")].map(svg => {
		const box = svg.getBoundingClientRect();
		const texts = [...svg.querySelectorAll("text")].map(e => ({e, r: e.getBoundingClientRect(), s: e.textContent}));
		const yt = [...svg.querySelectorAll(".axis-y .tick")].map(e => ({s: e.textContent, y: e.getBoundingClientRect().top}));
		const out = {label: svg.getAttribute("aria-label"),
			x_title: (svg.querySelector(".axis-x-title") || {}).textContent || "",
			y_title: (svg.querySelector(".axis-y .axis-title") || {}).textContent || "",
			y_ticks: yt.map(t => t.s), x_ticks: svg.querySelectorAll(":scope > .tick").length,
			values: svg.querySelectorAll(".value").length, outside: [], overlaps: [],
			ascends: yt.length >= 2 && yt.every((t, i) => i == 0 || (+t.s > +yt[i-1].s && t.y < yt[i-1].y))};
		for (const t of texts) {
			if (t.r.width == 0) continue;
			if (t.r.left < box.left - 1 || t.r.right > box.right + 1 || t.r.top < box.top - 1 || t.r.bottom > box.bottom + 1) out.outside.push(t.s);
		}
		for (let i = 0; i < texts.length; i++) for (let j = i + 1; j < texts.length; j++) {
			const a = texts[i].r, c = texts[j].r;
			if (a.width && c.width && a.left < c.right - 1 && c.left < a.right - 1 && a.top < c.bottom - 1 && c.top < a.bottom - 1) out.overlaps.push(texts[i].s + " / " + texts[j].s);
		}
		return out; })`))
	if len(charts) < 3 {
		t.Fatalf("%d charts on the dataset page, want the timeline, papers per year and swarm health: %+v", len(charts), charts)
	}
	for _, c := range charts {
		if c.XTitle == "" || c.YTitle == "" {
			t.Errorf("%s: axis titles x %q y %q", c.Label, c.XTitle, c.YTitle)
		}
		if len(c.YTicks) < 2 || !c.Ascends {
			t.Errorf("%s: y ticks %v do not go up from 0", c.Label, c.YTicks)
		}
		if c.XTicks < 1 || c.Values < 1 {
			t.Errorf("%s: %d x tick labels, %d value labels", c.Label, c.XTicks, c.Values)
		}
		if len(c.Outside) > 0 || len(c.Overlaps) > 0 {
			t.Errorf("%s: text outside the chart %v, overlapping %v", c.Label, c.Outside, c.Overlaps)
		}
	}
}

// The demo's dataset pages show, under "Actions by host", the registry's takedown route for each
// host it knows, although the demo world serves every source on 127.0.0.1: the planted artifacts
// are ingested with the addresses the demo world gives them.
func TestBrowserDemoShowsTakedownRoutes(t *testing.T) {
	ctx := context.Background()
	reg := registry(t)
	files, _ := filepath.Glob("../../internal/demoworld/planted/*.jsonl")
	var all bytes.Buffer
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		all.Write(b)
	}
	local := strings.NewReplacer("https://huggingface.co/", "http://127.0.0.1:8700/huggingface/", "https://github.com/", "http://127.0.0.1:8700/github/",
		"https://zenodo.org/", "http://127.0.0.1:8700/zenodo/", "https://www.kaggle.com/", "http://127.0.0.1:8700/kaggle/",
		"https://academictorrents.com/", "http://127.0.0.1:8700/academictorrents/").Replace(all.String())
	st := openTest(t)
	if _, err := IngestArtifacts(ctx, st, reg, strings.NewReader(local), "demo.jsonl", t0); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	if _, err := Write(ctx, st, reg, "", out); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t)
	routes := map[string]string{}
	for _, page := range []string{"ms-celeb-1m.html", "books3.html", "laion-5b.html", "dukemtmc.html"} {
		b.open(t, fileURL(out, page))
		got := get(t, b, chromedp.Evaluate[map[string]string](`(() => { const out = {};
			const start = [...document.querySelectorAll("h2")].find(h => h.innerText.startsWith("Actions by host"));
			for (let e = start.nextElementSibling; e && e.tagName != "H2"; e = e.nextElementSibling) {
				if (e.tagName != "H3") continue;
				const p = e.nextElementSibling, a = p && p.querySelector("a[href]");
				out[e.innerText.split(" ")[0]] = a ? a.href : "";
			}
			return out; })()`))
		for h, u := range got {
			routes[h] = u
		}
	}
	for host, want := range map[string]string{"huggingface.co": "https://huggingface.co/content-policy", "github.com": "https://github.com/contact/dmca",
		"kaggle.com": "https://www.kaggle.com/contact", "zenodo.org": "https://zenodo.org/support"} {
		if routes[host] != want {
			t.Errorf("demo pages: actions for %s link %q, want the registry's route %q (all: %v)", host, routes[host], want, routes)
		}
	}
	for h := range routes {
		if strings.HasPrefix(h, "127.0.0.1") {
			t.Errorf("an action group is headed by the demo world's address %s instead of the source's host", h)
		}
	}
}

// The README's two screenshots of the demo's reports (the overview and the MS-Celeb-1M page, the
// first screen a steward sees at 1280 × 900) are taken by this test: with AFTERLIFE_SCREENSHOTS=DIR
// it writes them there (`AFTERLIFE_SCREENSHOTS=$PWD/docs/img go test -run TestBrowserREADMEScreenshots
// ./reports/render/` from the repository root).
func TestBrowserREADMEScreenshots(t *testing.T) {
	ctx := context.Background()
	reg := registry(t)
	files, _ := filepath.Glob("../../internal/demoworld/planted/*.jsonl")
	var all bytes.Buffer
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		all.Write(b)
	}
	st := openTest(t)
	if _, err := IngestArtifacts(ctx, st, reg, &all, "demo.jsonl", t0); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	if _, err := Write(ctx, st, reg, "", out); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t)
	for page, name := range map[string]string{"index.html": "demo-overview.png", "ms-celeb-1m.html": "demo-ms-celeb-1m.png"} {
		b.open(t, fileURL(out, page))
		png := get(t, b, chromedp.CaptureScreenshot())
		img, err := pngDecode(png)
		if err != nil {
			t.Fatalf("%s: screenshot: %v", page, err)
		}
		if w, h := img.Bounds().Dx(), img.Bounds().Dy(); w != viewW || h != viewH {
			t.Errorf("%s: screenshot %dx%d, want %dx%d", page, w, h, viewW, viewH)
		}
		if colors := distinctColors(img, 50); colors < 10 {
			t.Errorf("%s: screenshot has %d colours: blank?", page, colors)
		}
		if dir := os.Getenv("AFTERLIFE_SCREENSHOTS"); dir != "" {
			if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
