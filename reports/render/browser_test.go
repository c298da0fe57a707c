package render

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/reports"
)

// chromiumPath finds Debian's chromium (installed by .ci/run).
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("AFTERLIFE_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p != "" {
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	t.Skip("chromium not installed (apt-get install chromium; .ci/run installs it)")
	return ""
}

// browser starts a headless Chromium for the test and records everything that would betray
// script execution: dialogs, console calls, exceptions and CSP violation log entries.
type browser struct {
	ctx    context.Context
	mu     sync.Mutex
	events []string
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelC(); cancelA() })
	b := &browser{ctx: ctx}
	err := chromedp.Listen(ctx, func(ev any) {
		var msg string
		switch e := ev.(type) {
		case *cdppage.EventJavascriptDialogOpening:
			msg = "dialog: " + e.Message
			// Dismiss it from another goroutine (a listener must not run commands), so that a
			// planted alert() is recorded instead of hanging the test.
			go chromedp.Call(ctx, cdppage.HandleJavaScriptDialog, cdppage.HandleJavaScriptDialogParams{Accept: false})
		case *runtime.EventConsoleAPICalled:
			msg = "console." + string(e.Type)
		case *runtime.EventExceptionThrown:
			msg = "exception: " + e.ExceptionDetails.Text
		case *log.EventEntryAdded:
			if strings.Contains(e.Entry.Text, "Content Security Policy") || e.Entry.Level == log.EntryLevelError {
				msg = "log: " + e.Entry.Text
			}
		}
		if msg != "" {
			b.mu.Lock()
			b.events = append(b.events, msg)
			b.mu.Unlock()
		}
	})
	if err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return b
}

// do runs actions with a generous per-step deadline (the machine is loaded).
func (b *browser) do(t *testing.T, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 90*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

func get[T any](t *testing.T, b *browser, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 90*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func (b *browser) takeEvents() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	ev := b.events
	b.events = nil
	return ev
}

// pwned reports what the planted scripts would have set ("undefined" when none ran).
func (b *browser) pwned(t *testing.T) string {
	t.Helper()
	return get(t, b, chromedp.Evaluate[string](`String(window.__pwned)`))
}

func (b *browser) count(t *testing.T, css string) int {
	t.Helper()
	return get(t, b, chromedp.Evaluate[int](`document.querySelectorAll(`+strconv.Quote(css)+`).length`))
}

// TestBrowserDetectsScriptControl is the positive control: a page that does run a script is
// detected by the same checks, so the checks below can fail.
func TestBrowserDetectsScriptControl(t *testing.T) {
	b := newBrowser(t)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		if r.URL.Path == "/alert" {
			io.WriteString(w, `<!doctype html><title>alert</title><img src=x onerror="alert('planted')">`)
			return
		}
		io.WriteString(w, `<!doctype html><title>x</title><img src=x onerror="window.__pwned=2;console.log('ran')">`)
	}))
	defer ts.Close()
	b.do(t, chromedp.Navigate(ts.URL))
	get(t, b, chromedp.Poll[bool](`window.__pwned === 2`, chromedp.WithPollingTimeout(60*time.Second)))
	if got := b.pwned(t); got != "2" {
		t.Fatalf("control script did not run: %s", got)
	}
	if ev := b.takeEvents(); len(ev) == 0 {
		t.Fatal("control script's console call not observed")
	}
	// The demo card's payload is alert(): a dialog is observed (and dismissed), too.
	b.do(t, chromedp.Navigate(ts.URL+"/alert"))
	deadline := time.Now().Add(60 * time.Second)
	for {
		ev := strings.Join(b.takeEvents(), "\n")
		if strings.Contains(ev, "dialog: planted") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("alert() not observed: %q", ev)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := get(t, b, chromedp.Evaluate[string](`document.title`)); got != "alert" {
		t.Errorf("page stuck after the dialog: %q", got)
	}
}

func TestBrowserServeRendersAndNeverRunsPlantedScript(t *testing.T) {
	st := fixtureStore(t)
	const token = "s3cret-token"
	srv := NewServer(st, registry(t), token, nil)
	ts := httptest.NewServer(srv)
	defer ts.Close()
	b := newBrowser(t)
	h1 := chromedp.CSS("h1")

	// The token once in the URL sets a cookie and redirects to a clean URL.
	b.do(t, chromedp.Navigate(ts.URL+"/?token="+token), chromedp.WaitVisible(h1))
	if got, loc := get(t, b, chromedp.Text(h1)), get(t, b, chromedp.Location()); got != "Afterlife report" || strings.Contains(loc, "token") {
		t.Fatalf("overview: h1 %q at %s", got, loc)
	}
	// Follow the dataset link like a user.
	b.do(t, chromedp.Click(chromedp.CSS(`a[href="/datasets/ms-celeb-1m"]`)), chromedp.WaitVisible(chromedp.CSS("dl.cards")))
	dsH1, loc := get(t, b, chromedp.Text(h1)), get(t, b, chromedp.Location())
	if !strings.HasSuffix(loc, "/datasets/ms-celeb-1m") || !strings.Contains(dsH1, "MS-Celeb-1M") {
		t.Fatalf("dataset page: %q at %s", dsH1, loc)
	}
	body := get(t, b, chromedp.Evaluate[string](`document.querySelector("main").innerText`))
	if !strings.Contains(body, "<script>window.__pwned=1</script>") || !strings.Contains(body, `onerror="window.__pwned=2"`) {
		t.Errorf("the planted card's title is not shown as text")
	}
	if n, m := b.count(t, "script"), b.count(t, "img,[onerror]"); n != 0 || m != 0 {
		t.Errorf("planted markup became elements: %d scripts, %d img/onerror", n, m)
	}
	if got := b.pwned(t); got != "undefined" {
		t.Errorf("planted script ran: window.__pwned = %s", got)
	}
	// The card excerpt is text too, and the artifact page shows the whole card as text.
	if !strings.Contains(get(t, b, chromedp.TextContent(chromedp.CSS("pre.card"))), "<script>window.__pwned=3</script>") {
		t.Error("card excerpt not shown as text")
	}
	b.do(t, chromedp.Click(chromedp.CSS(`a[href^="/artifacts?id=hf%3Amodel%3Aevil"]`)), chromedp.WaitVisible(chromedp.CSS("dl.meta")))
	if card := get(t, b, chromedp.Text(chromedp.CSS("pre.card"))); !strings.Contains(card, "<script>window.__pwned=3</script>") {
		t.Errorf("artifact page card: %q", card)
	}
	if n := b.count(t, "script,img,[onerror]"); n != 0 || b.pwned(t) != "undefined" {
		t.Errorf("artifact page: %d script/img elements, __pwned=%s", n, b.pwned(t))
	}
	// Search and filters.
	form := chromedp.CSS("form.filters")
	b.do(t, chromedp.Navigate(ts.URL+"/sightings?q=face&relation=trained-on"), chromedp.WaitVisible(form))
	if rows := b.count(t, "main table tr") - 1; rows != 2 {
		t.Errorf("search face+trained-on: %d rows, want 2", rows)
	}
	b.do(t, chromedp.Navigate(ts.URL+"/sightings?state=gone"), chromedp.WaitVisible(form))
	if rows := b.count(t, "main table tr") - 1; rows != 1 {
		t.Errorf("gone filter: %d rows, want 1", rows)
	}
	// Use the form like a user: choose a dataset and submit.
	b.do(t, chromedp.Navigate(ts.URL+"/sightings"), chromedp.WaitVisible(form),
		chromedp.SetValue(chromedp.CSS(`select[name=dataset]`), "books3"))
	get(t, b, chromedp.WaitEvent(cdppage.LoadEventFired, nil, chromedp.Click(chromedp.CSS(`form.filters button`))))
	b.do(t, chromedp.WaitVisible(form))
	if loc, rows := get(t, b, chromedp.Location()), b.count(t, "main table tr")-1; !strings.Contains(loc, "dataset=books3") || rows != 1 {
		t.Errorf("form submit: %s, %d rows", loc, rows)
	}
	b.do(t, chromedp.Navigate(ts.URL+"/graph"), chromedp.WaitVisible(chromedp.CSS("svg.graph")))
	if n := b.count(t, "svg.graph circle"); n < 5 {
		t.Errorf("graph draws %d nodes", n)
	}
	if got := b.pwned(t); got != "undefined" {
		t.Errorf("planted script ran on the graph page: %s", got)
	}
	for _, ev := range b.takeEvents() {
		t.Errorf("browser event (script ran or was blocked): %s", ev)
	}

	// Every link on every page works.
	checkLinks(t, ts.URL, token, []string{"/", "/datasets/ms-celeb-1m", "/datasets/books3", "/graph", "/sightings"})
}

// TestBrowserDemoPlantedCardNeverRuns ingests the demo world's planted artifacts (which include a
// model card with <script>alert(1)</script>, an onerror image and a javascript: link) and opens
// every page that shows such a card.
func TestBrowserDemoPlantedCardNeverRuns(t *testing.T) {
	ctx := context.Background()
	files, _ := filepath.Glob("../../internal/demoworld/planted/*.jsonl")
	if len(files) == 0 {
		t.Fatal("no demo artifacts in ../../internal/demoworld/planted")
	}
	st := openTest(t)
	reg := registry(t)
	var hostile []artifact.Artifact
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := IngestArtifacts(ctx, st, reg, bytes.NewReader(b), f, t0); err != nil {
			t.Fatal(err)
		}
		arts, _ := artifact.ReadAll(bytes.NewReader(b), f)
		for _, a := range arts {
			if strings.Contains(a.Text+a.Title, "<script") || strings.Contains(a.Text+a.Title, "onerror") {
				hostile = append(hostile, a)
			}
		}
	}
	if len(hostile) == 0 {
		t.Fatal("the demo world plants no hostile card")
	}
	ts := httptest.NewServer(NewServer(st, reg, "", nil))
	defer ts.Close()
	br := newBrowser(t)
	for _, a := range hostile {
		u := ts.URL + "/artifacts?" + url.Values{"id": {a.ID}}.Encode()
		br.do(t, chromedp.Navigate(u), chromedp.WaitVisible(chromedp.CSS("h1")))
		card := get(t, br, chromedp.Text(chromedp.CSS("pre.card")))
		if !strings.Contains(card, "<script") && !strings.Contains(card, "onerror") {
			t.Errorf("%s: hostile card not shown as text: %.200q", a.ID, card)
		}
		if n := br.count(t, "script,img,[onerror],a[href^=javascript]"); n != 0 {
			t.Errorf("%s: %d hostile elements", a.ID, n)
		}
		sg, _ := st.Sightings(ctx, reports.SightingQuery{Text: a.ID})
		for _, x := range sg {
			br.do(t, chromedp.Navigate(ts.URL+"/datasets/"+url.PathEscape(x.Dataset)), chromedp.WaitVisible(chromedp.CSS("h1")))
			if n := br.count(t, "script,img,[onerror],a[href^=javascript]"); n != 0 {
				t.Errorf("%s page: %d hostile elements", x.Dataset, n)
			}
		}
	}
	for _, ev := range br.takeEvents() {
		t.Errorf("browser event (a planted script ran or was blocked): %s", ev)
	}
}

// checkLinks fetches every same-site link of the pages and wants 200 for each.
func checkLinks(t *testing.T, base, token string, pages []string) {
	t.Helper()
	seen := map[string]bool{}
	get := func(p string) (int, string) {
		req, _ := http.NewRequest("GET", base+p, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, p := range pages {
		code, body := get(p)
		if code != 200 {
			t.Errorf("%s: HTTP %d", p, code)
			continue
		}
		for _, href := range hrefs(body) {
			if !strings.HasPrefix(href, "/") || seen[href] {
				continue
			}
			seen[href] = true
			if code, _ := get(href); code != 200 {
				t.Errorf("link %s on %s: HTTP %d", href, p, code)
			}
		}
	}
	if len(seen) < 10 {
		t.Errorf("only %d links checked: %v", len(seen), seen)
	}
}

func hrefs(body string) []string {
	var out []string
	for _, part := range strings.Split(body, `href="`)[1:] {
		if i := strings.IndexByte(part, '"'); i >= 0 {
			u := strings.ReplaceAll(part[:i], "&amp;", "&")
			out = append(out, u)
		}
	}
	return out
}

// TestBrowserStaticReportNeverRunsPlantedScript opens the written HTML files from disk.
func TestBrowserStaticReportNeverRunsPlantedScript(t *testing.T) {
	out, _ := writeFixture(t)
	b := newBrowser(t)
	h1 := chromedp.CSS("h1")
	file := func(name string) string { return (&url.URL{Scheme: "file", Path: filepath.Join(out, name)}).String() }
	for _, name := range []string{"index.html", "ms-celeb-1m.html", "graph.html", "books3.html"} {
		b.do(t, chromedp.Navigate(file(name)), chromedp.WaitVisible(h1))
		if got := get(t, b, chromedp.Text(h1)); got == "" {
			t.Errorf("%s: no heading", name)
		}
		if got := b.pwned(t); got != "undefined" {
			t.Errorf("%s: planted script ran (%s)", name, got)
		}
	}
	if n := b.count(t, "tr"); n < 3 {
		t.Errorf("books3.html has %d table rows", n)
	}
	// Relative links between the static pages resolve to files that exist.
	b.do(t, chromedp.Navigate(file("index.html")), chromedp.WaitVisible(h1))
	links := get(t, b, chromedp.Evaluate[[]string](`[...document.querySelectorAll("a[href]")].map(a => a.href).filter(h => h.startsWith("file:"))`))
	if len(links) < 8 {
		t.Fatalf("index has %d local links", len(links))
	}
	for _, l := range links {
		u, _ := url.Parse(l)
		if _, err := os.Stat(u.Path); err != nil {
			t.Errorf("broken link %s", l)
		}
	}
	b.do(t, chromedp.Navigate(file("ms-celeb-1m.html")), chromedp.WaitVisible(h1))
	if n := b.count(t, "svg.chart"); n < 1 {
		t.Errorf("timeline chart missing")
	}
	for _, ev := range b.takeEvents() {
		t.Errorf("browser event: %s", ev)
	}
}
