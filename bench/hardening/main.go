// Command hardening-bench measures the hostile inputs of issue 18 — a tracker flood in a .torrent,
// a PDF whose page tree loops and one whose content stream expands, a manuscript of one long line,
// crawled HTML nested deep or flooded with nodes and links, and gzip responses at a moderate ratio
// fetched by 4 and 16 workers — each in a child process of its own, so that the peak resident set
// (getrusage ru_maxrss) and the CPU time are the case's alone. A child past -kill-rss or -kill-after
// is killed and reported as such (the code before the fixes never returned from some of them).
//
// It uses only APIs that existed before the fixes, so the same program measures both: run it in
// an export of the old commit to get the "before" column. Results: bench/results/hardening.md.
//
//	go run ./bench/hardening                 # every case
//	go run ./bench/hardening -only check     # cases whose name contains "check"
package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/anacrolix/torrent/bencode"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler"
	"github.com/afterlife-watch/afterlife/crawler/academictorrents"
	"github.com/afterlife-watch/afterlife/extract"
	"github.com/afterlife-watch/afterlife/internal/hostile"
	"github.com/afterlife-watch/afterlife/manuscript"
	"github.com/afterlife-watch/afterlife/reports"
	"github.com/afterlife-watch/afterlife/reports/render"
	"github.com/afterlife-watch/afterlife/torrent"
)

type benchCase struct {
	name, what string
	run        func() (string, error)
}

var cases = []benchCase{
	{"baseline", "a child that does nothing (the Go runtime's own RSS)", func() (string, error) { return "", nil }},
	{"torrent-20k", ".torrent naming 20,000 UDP trackers on 20,000 loopback hosts: parse + probe, --timeout 2s", func() (string, error) { return torrentFlood(20_000) }},
	{"torrent-600k", ".torrent naming 600,000 trackers (23 MB): parse + probe, --timeout 2s", func() (string, error) { return torrentFlood(600_000) }},
	{"pdf-kids-loop", "PDF of 615 bytes whose /Pages /Kids contains itself: ReadPDF", pdfLoop},
	{"pdf-content-bomb", "PDF of 17 KB whose content stream expands to 4 M glyphs: ReadPDF", pdfBomb},
	{"check-1mb", "one 1 MB line repeating a training sentence: read + check (embedded registry)", func() (string, error) { return checkLine(1) }},
	{"check-4mb", "the same, 4 MB", func() (string, error) { return checkLine(4) }},
	{"check-16mb", "the same, 16 MB", func() (string, error) { return checkLine(16) }},
	{"html-nested", "Academic Torrents details page nested 700,000 <div>s deep (7.7 MB)", func() (string, error) {
		return details(strings.Repeat("<div>", 700_000) + "1 seeders" + strings.Repeat("</div>", 700_000))
	}},
	{"html-links", "details page with 400,000 links (7.2 MB)", func() (string, error) {
		return details(strings.Repeat(`<a href="/x">x</a>`, 400_000))
	}},
	{"html-nodes", "details page with 1,100,000 elements (7.7 MB)", func() (string, error) {
		return details(strings.Repeat(`<i></i>`, 1_100_000))
	}},
	{"html-honest", "details page with a 20,000-row file table (accepted)", func() (string, error) {
		var b strings.Builder
		b.WriteString("<table><tr><th>File<th>Size")
		for i := range 20_000 {
			fmt.Fprintf(&b, "<tr><td>dir/file-%d.jpg<td>%d kB", i, 1000+i)
		}
		return details(b.String() + "</table>")
	}},
	{"gzip-4-workers", "4 workers each fetching 4 responses of 96:1 gzip decoding to 60 MiB (budget 128 + 4 × 64 MiB)", func() (string, error) { return gzipWorkers(4) }},
	{"gzip-16-workers", "16 workers, the same (budget 128 + 16 × 64 MiB)", func() (string, error) { return gzipWorkers(16) }},
	{"serve-50", "afterlife serve: 50 concurrent downloads of report.json of a 25,000-sighting store", func() (string, error) { return serveDownloads(25_000, 50) }},
}

func init() {
	for _, workers := range []int{4, 16} {
		for _, c := range append([]string{"all"}, hostile.FloodCases...) {
			c, workers := c, workers
			what := map[string]string{
				"all":                "whole scan (monitor.Run) of every flood below at once",
				hostile.CaseGzip:     "scan: Hugging Face and 2×workers probe jobs against 60 MiB of gzip at 77:1",
				hostile.CaseSearch:   "scan: Zenodo against search pages of 20,000 hits for 25 asked, endless next links (job budget 100)",
				hostile.CaseTrackers: "scan: Academic Torrents + swarm prober against a .torrent naming 30,000 trackers",
				hostile.CaseLinks:    "scan: Academic Torrents against details pages of 1,000,000 links / 500,000 deep",
			}[c]
			cases = append(cases, benchCase{fmt.Sprintf("flood-%s-%d", c, workers), fmt.Sprintf("%s, %d workers (budget %d MiB)", what, workers, (128<<20+workers*crawler.DefaultWorkerMemory)>>20),
				func() (string, error) { return floodScan(c, workers) }})
		}
	}
}

// floodScan runs a whole embedded scan against the hostile world's floods (case c, or all) and
// says what the crawler's accounting saw.
func floodScan(c string, workers int) (string, error) {
	world, err := hostile.Start()
	if err != nil {
		return "", err
	}
	defer world.Close()
	world.Gzip77Body() // built before the scan, as a server's file would be
	dir, err := os.MkdirTemp("", "flood-bench-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	var cs []string
	if c != "all" {
		cs = []string{c}
	}
	o := crawler.FetcherOptions{Timeout: 10 * time.Second, DialTimeout: 2 * time.Second, MaxAttempts: 2,
		BaseBackoff: 10 * time.Millisecond, MaxWait: 5 * time.Second}
	// FLOOD_MAX_DECODED=67108864 measures the scan with the former 64 MiB decoded bound ("before").
	if v := os.Getenv("FLOOD_MAX_DECODED"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return "", fmt.Errorf("FLOOD_MAX_DECODED: %w", err)
		}
		o.MaxDecompressed, o.MaxBody = n, n
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	r, err := world.RunFloodScan(context.Background(), dir, world.FloodWatch(workers, cs...), o, log, 0)
	if err != nil {
		return "", err
	}
	return r.Summary(), nil
}

// serveDownloads builds a store of n sightings, serves it (render.NewServer) on 127.0.0.1 and
// downloads report.json with c clients at once; 503s (the concurrency bound) are retried after a
// short pause, as a client honouring Retry-After would.
func serveDownloads(n, c int) (string, error) {
	st, err := reports.OpenTempStore()
	if err != nil {
		return "", err
	}
	defer st.Close()
	ctx := context.Background()
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := st.BeginRun(ctx, reports.Run{ID: "r", Started: at}); err != nil {
		return "", err
	}
	text := strings.Repeat("A model card that mentions a retracted dataset among other words. ", 9)
	for i := 0; i < n; i += 1000 {
		var obs []reports.Observation
		for k := i; k < min(i+1000, n); k++ {
			a := artifact.Artifact{ID: fmt.Sprintf("bench:model:%07d", k), Source: artifact.SourceHuggingFace, Kind: artifact.KindModel,
				URL: fmt.Sprintf("https://host%02d.example.org/x/%07d", k%40, k), Title: fmt.Sprintf("Artifact %d", k), Text: text}
			obs = append(obs, reports.Observation{Artifact: a, Findings: []extract.Finding{{ArtifactID: a.ID, Dataset: "ms-celeb-1m",
				Relation: extract.TrainedOn, Confidence: 0.9, Evidence: []extract.Evidence{{Field: "text", Rule: "alias", Snippet: "… MS-Celeb-1M …", Start: 1, End: 2}}}}})
		}
		if _, err := st.RecordBatch(ctx, "r", at, obs); err != nil {
			return "", err
		}
	}
	if _, err := st.FinishRun(ctx, "r", at.Add(time.Hour)); err != nil {
		return "", err
	}
	reg, err := configs.LoadRegistry("")
	if err != nil {
		return "", err
	}
	ts := httptest.NewServer(render.NewServer(st, reg, "", nil))
	defer ts.Close()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var bytes int64
	busy, ok := 0, 0
	var firstErr error
	for i := 0; i < c; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				resp, err := http.Get(ts.URL + "/files/report.json")
				if err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
					return
				}
				nb, _ := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				mu.Lock()
				if resp.StatusCode == http.StatusServiceUnavailable {
					busy++
					mu.Unlock()
					time.Sleep(50 * time.Millisecond)
					continue
				}
				ok++
				bytes = nb
				mu.Unlock()
				return
			}
		}()
	}
	wg.Wait()
	return fmt.Sprintf("%d downloads of %.1f MB, %d answers 503", ok, float64(bytes)/1e6, busy), firstErr
}

func main() {
	child := flag.String("case", "", "run one case in this process (used by the parent)")
	only := flag.String("only", "", "run the cases whose name contains this")
	killRSS := flag.Int64("kill-rss", 4<<30, "kill a child whose RSS passes this many bytes")
	killAfter := flag.Duration("kill-after", 3*time.Minute, "kill a child running longer")
	flag.Parse()
	if *child != "" {
		for _, c := range cases {
			if c.name == *child {
				out, err := c.run()
				if err != nil {
					out = strings.TrimSpace(out + " error: " + err.Error())
				}
				fmt.Println(clip(out, 300))
				return
			}
		}
		fmt.Fprintln(os.Stderr, "no case", *child)
		os.Exit(2)
	}
	fmt.Println("| case | input | outcome | wall | CPU | peak RSS |")
	fmt.Println("| --- | --- | --- | ---: | ---: | ---: |")
	for _, c := range cases {
		if *only != "" && !strings.Contains(c.name, *only) {
			continue
		}
		out, wall, cpu, rss, killed := runChild(c.name, *killRSS, *killAfter)
		if killed != "" {
			out = "**killed: " + killed + "**"
		}
		fmt.Printf("| %s | %s | %s | %.2f s | %.2f s | %d MiB |\n", c.name, c.what, out, wall.Seconds(), cpu.Seconds(), rss>>20)
	}
}

// runChild runs one case in a child process and returns its output line, wall and CPU time and
// peak RSS; killed says why it was killed, if it was.
func runChild(name string, killRSS int64, killAfter time.Duration) (out string, wall, cpu time.Duration, rss int64, killed string) {
	cmd := exec.Command(os.Args[0], "-case", name)
	var o bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &o
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return err.Error(), 0, 0, 0, ""
	}
	done := make(chan struct{})
	var mu sync.Mutex
	go func() {
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				r := procRSS(cmd.Process.Pid)
				el := time.Since(start)
				mu.Lock()
				switch {
				case r > killRSS:
					killed = fmt.Sprintf("RSS passed %d MiB after %.1f s", killRSS>>20, el.Seconds())
				case el > killAfter:
					killed = fmt.Sprintf("still running after %v", killAfter)
				}
				k := killed != ""
				mu.Unlock()
				if k {
					cmd.Process.Kill()
					return
				}
			}
		}
	}()
	_ = cmd.Wait()
	close(done)
	wall = time.Since(start)
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rss = ru.Maxrss << 10
		cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	mu.Lock()
	defer mu.Unlock()
	return strings.TrimSpace(o.String()), wall, cpu, rss, killed
}

// procRSS is a live process's resident set in bytes (0 if unknown).
func procRSS(pid int) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func clip(s string, n int) string {
	s = strings.ReplaceAll(s, "|", "/")
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

func torrentFlood(n int) (string, error) {
	info, _ := bencode.Marshal(map[string]any{"name": "flood.bin", "length": 1, "piece length": 16384, "pieces": strings.Repeat("x", 20)})
	tracker := func(i int) string {
		return fmt.Sprintf("udp://127.%d.%d.%d:6969/announce", 1+i/62500%250, i/250%250, 1+i%250)
	}
	tiers := make([][]string, n)
	for i := range tiers {
		tiers[i] = []string{tracker(i)}
	}
	b, err := bencode.Marshal(map[string]any{"announce": tracker(0), "announce-list": tiers, "info": bencode.Bytes(info)})
	if err != nil {
		return "", err
	}
	tiers = nil
	m, err := torrent.ParseMetainfo(b)
	if err != nil {
		return "", err
	}
	size := len(b)
	b = nil
	tc := &torrent.Trackers{RequestTimeout: 500 * time.Millisecond}
	p := &torrent.Prober{Trackers: tc, Timeout: 2 * time.Second}
	res, err := p.Probe(context.Background(), torrent.Target{InfoHash: m.InfoHash, Meta: m, Trackers: m.Trackers})
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%d-byte file: %d trackers kept by the parse, %d probed, %d tracker requests, probe took %.1f s",
		size, len(m.Trackers), len(res.Trackers), tc.Requests(), res.Took), nil
}

func buildPDF(objs []string) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n")
	offs := make([]int, len(objs))
	for i, o := range objs {
		offs[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offs {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return b.Bytes()
}

const pageObj = "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>"
const fontObj = "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"

func readPDF(data []byte) (string, error) {
	doc, err := manuscript.ReadPDF(context.Background(), "bench.pdf", bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return fmt.Sprintf("%d-byte PDF refused:", len(data)), err
	}
	return fmt.Sprintf("%d-byte PDF read: %d pages", len(data), doc.Pages), nil
}

func pdfLoop() (string, error) {
	content := "BT /F1 12 Tf 72 720 Td (We train our ResNet-100 on MS1MV2.) Tj ET"
	return readPDF(buildPDF([]string{"<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>", pageObj,
		fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(content), content), fontObj}))
}

func pdfBomb() (string, error) {
	content := "BT /F1 12 Tf 72 720 Td " + strings.Repeat("(AAAAA) Tj ", 800_000) + "ET"
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write([]byte(content))
	zw.Close()
	return readPDF(buildPDF([]string{"<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>", pageObj,
		fmt.Sprintf("<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream", z.Len(), z.String()), fontObj}))
}

func checkLine(mb int) (string, error) {
	const s = "We trained the model on MS-Celeb-1M and fine-tuned it on MegaFace. "
	data := []byte(strings.Repeat(s, mb<<20/len(s)+1)[:mb<<20])
	reg, err := configs.LoadRegistry("")
	if err != nil {
		return "", err
	}
	doc, err := manuscript.ReadText(context.Background(), "long.txt", data, false)
	if err != nil {
		return "", err
	}
	rep := manuscript.NewChecker(reg).Check(context.Background(), doc)
	return fmt.Sprintf("%d blocks, verdict %s", len(doc.Blocks), rep.Verdict), nil
}

func details(body string) (string, error) {
	page := "<!doctype html><html><head><title>x - Academic Torrents</title></head><body><h1>Some dataset</h1>" + body
	d, err := academictorrents.ParseDetails([]byte(page))
	if err != nil {
		return fmt.Sprintf("%d-byte page refused:", len(page)), err
	}
	return fmt.Sprintf("%d-byte page parsed: %d files", len(page), len(d.Files)), nil
}

func gzipWorkers(workers int) (string, error) {
	// 60 MiB of spaces with a few random letters per 4 KiB: about 96:1, under the 250:1 bomb check.
	rng := rand.New(rand.NewPCG(1, 2))
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	chunk := make([]byte, 4096)
	for written := 0; written < 60<<20; written += len(chunk) {
		for i := range chunk {
			chunk[i] = ' '
		}
		for i := 0; i < 12; i++ {
			chunk[rng.IntN(len(chunk))] = byte('a' + rng.IntN(26))
		}
		zw.Write(chunk)
	}
	zw.Close()
	body := z.Bytes()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(body)
	}))
	defer srv.Close()
	w := &configs.Watch{Contact: "mailto:ops@example.org", AllowLoopback: true, Workers: workers,
		Sources: map[string]configs.SourceConfig{"t": {Enabled: true, BaseURL: srv.URL, Rate: 1000, Burst: 1000}}}
	f, err := crawler.NewFetcher(w, crawler.FetcherOptions{})
	if err != nil {
		return "", err
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, tooLarge := 0, 0
	var other error
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 4 {
				_, err := f.Fetch(context.Background(), crawler.Request{Source: "t", URL: srv.URL + "/x"})
				mu.Lock()
				switch {
				case err == nil:
					ok++
				case errors.Is(err, crawler.ErrBodyTooLarge):
					tooLarge++
				default:
					other = err
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return fmt.Sprintf("%d KiB on the wire at %d:1: %d decoded whole, %d refused as too large", len(body)>>10, (60<<20)/len(body), ok, tooLarge), other
}
