// Command check-bench generates N ten-page PDFs with groff (once, cached in -dir) and checks them
// with the manuscript checker, printing manuscripts per second and the share of time spent in text
// extraction vs matching. Run it through bench/check/run.sh.
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/manuscript"
)

func main() {
	n := flag.Int("n", 1000, "manuscripts")
	dir := flag.String("dir", filepath.Join(os.TempDir(), "afterlife-check-bench-v2"), "where the generated PDFs are cached")
	jobs := flag.Int("jobs", runtime.GOMAXPROCS(0), "parallel checks")
	regFile := flag.String("registry", "", "registry (default: embedded)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the check phase to this file")
	flag.Parse()
	profile = *cpuProfile
	if err := run(*n, *dir, *jobs, *regFile); err != nil {
		fmt.Fprintln(os.Stderr, "check-bench:", err)
		os.Exit(1)
	}
}

var profile string

func run(n int, dir string, jobs int, regFile string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	t0 := time.Now()
	made, err := generate(n, dir, jobs)
	if err != nil {
		return err
	}
	if made > 0 {
		fmt.Printf("generated %d ten-page PDFs with groff in %s (%.1fs)\n", made, dir, time.Since(t0).Seconds())
	}
	reg, err := configs.LoadRegistry(regFile)
	if err != nil {
		return err
	}
	paths := make([]string, n)
	for i := range paths {
		paths[i] = filepath.Join(dir, fmt.Sprintf("paper-%04d.pdf", i))
	}
	c := manuscript.NewChecker(reg)
	var mu sync.Mutex
	var read, match time.Duration
	verdicts := map[manuscript.Verdict]int{}
	errs := 0
	pages := 0
	runtime.GC()
	if profile != "" {
		pf, err := os.Create(profile)
		if err != nil {
			return err
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	cpu0 := cpuTime()
	start := time.Now()
	c.Batch(context.Background(), manuscript.Reader{}, paths, jobs, func(r *manuscript.Report) {
		mu.Lock()
		defer mu.Unlock()
		read += r.Timing.Read
		match += r.Timing.Match
		pages += r.Pages
		if r.Error != nil {
			errs++
			return
		}
		verdicts[r.Verdict]++
	})
	wall := time.Since(start)
	cpu := cpuTime() - cpu0
	total := read + match
	fmt.Printf("checked %d manuscripts (%d pages) in %.2fs with %d workers on %d CPUs\n", n, pages, wall.Seconds(), jobs, runtime.NumCPU())
	fmt.Printf("manuscripts/s: %.1f   pages/s: %.0f\n", float64(n)/wall.Seconds(), float64(pages)/wall.Seconds())
	fmt.Printf("CPU time: %.1fs (%.1f ms/manuscript; %.1f manuscripts per CPU-second) — the figure to compare on a shared machine\n",
		cpu.Seconds(), float64(cpu.Milliseconds())/float64(n), float64(n)/cpu.Seconds())
	fmt.Printf("time split (summed over workers): text extraction %.1f%% (%.1f ms/manuscript), matching %.1f%% (%.1f ms/manuscript)\n",
		100*float64(read)/float64(total), float64(read.Milliseconds())/float64(n),
		100*float64(match)/float64(total), float64(match.Milliseconds())/float64(n))
	fmt.Printf("verdicts: uses %d, studies %d, mentions %d, none %d, errors %d\n",
		verdicts[manuscript.Uses], verdicts[manuscript.Studies], verdicts[manuscript.Mentions], verdicts[manuscript.None], errs)
	return nil
}

// cpuTime is the process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// generate writes the PDFs that are missing; it returns how many it made.
func generate(n int, dir string, jobs int) (int, error) {
	var todo []int
	for i := 0; i < n; i++ {
		if _, err := os.Stat(filepath.Join(dir, fmt.Sprintf("paper-%04d.pdf", i))); err != nil {
			todo = append(todo, i)
		}
	}
	if len(todo) == 0 {
		return 0, nil
	}
	if _, err := exec.LookPath("groff"); err != nil {
		return 0, fmt.Errorf("groff is needed to generate the PDFs: %w", err)
	}
	ch := make(chan int)
	errc := make(chan error, len(todo))
	var wg sync.WaitGroup
	for w := 0; w < jobs; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range ch {
				out := filepath.Join(dir, fmt.Sprintf("paper-%04d.pdf", i))
				cmd := exec.Command("groff", "-ms", "-Tpdf")
				cmd.Stdin = strings.NewReader(paper(i))
				b, err := cmd.Output()
				if err != nil {
					errc <- fmt.Errorf("groff paper %d: %w", i, err)
					continue
				}
				if err := os.WriteFile(out+".tmp", b, 0o644); err != nil {
					errc <- err
					continue
				}
				if err := os.Rename(out+".tmp", out); err != nil {
					errc <- err
				}
			}
		}()
	}
	for _, i := range todo {
		ch <- i
	}
	close(ch)
	wg.Wait()
	close(errc)
	for err := range errc {
		return 0, err
	}
	return len(todo), nil
}

var filler = []string{
	"Deep networks learn hierarchical representations from large collections of labelled examples.",
	"We optimise with stochastic gradient descent, momentum 0.9 and a cosine learning-rate schedule.",
	"The loss combines a classification term with a regulariser that keeps the embedding norm bounded.",
	"Table 3 reports the mean and standard deviation over five random seeds for every configuration.",
	"Ablations show that removing the attention block costs about two points of accuracy.",
	"Our implementation builds on PyTorch and runs on eight accelerators with mixed precision.",
	"Prior approaches relied on hand-crafted features and shallow classifiers.",
	"The validation split is used for early stopping and for choosing the temperature of the softmax.",
	"Qualitative examples in Figure 4 show that the model attends to discriminative regions.",
	"We release code and trained weights to support reproducibility of every experiment in the paper.",
}

// paper returns ms source for a ten-page paper; every fourth uses MS1MV2, one in four mentions
// MegaFace in related work, one in four audits Tiny Images, the rest use ImageNet-1k only.
func paper(i int) string {
	r := rand.New(rand.NewSource(int64(i)))
	var b strings.Builder
	para := func(extra string) {
		b.WriteString(".PP\n")
		for k := 0; k < 7; k++ {
			b.WriteString(filler[r.Intn(len(filler))])
			b.WriteByte('\n')
		}
		if extra != "" {
			b.WriteString(extra + "\n")
		}
	}
	fmt.Fprintf(&b, ".TL\nGenerated Paper %d on Representation Learning\n.AU\nA. Author\n.AB\nWe study representation learning at scale.\n.AE\n", i)
	sections := []string{"Introduction", "Related Work", "Method", "Experiments", "Discussion"}
	kind := i % 4
	for s, title := range sections {
		fmt.Fprintf(&b, ".NH\n%s\n", title)
		for p := 0; p < 8; p++ {
			extra := ""
			switch {
			case kind == 0 && title == "Experiments" && p == 2:
				extra = "We train our ResNet-100 on MS1MV2 and evaluate on the IJB-C benchmark."
			case kind == 1 && title == "Related Work" && p == 1:
				extra = "MegaFace introduced one million distractors for identification."
			case kind == 2 && title == "Introduction" && p == 0:
				extra = "In this paper we audit the 80 Million Tiny Images dataset and document offensive labels."
			case title == "Experiments" && p == 0:
				extra = "We train on ImageNet-1k for 90 epochs."
			}
			para(extra)
		}
		if s < len(sections)-1 {
			b.WriteString(".bp\n")
		}
	}
	b.WriteString(".SH\nReferences\n")
	for k := 1; k <= 24; k++ {
		fmt.Fprintf(&b, ".IP [%d] 5\nA. Author and B. Author. A study of topic %d in machine learning. Proceedings of a Conference, 20%02d.\n", k, k, 10+k%14)
	}
	if kind == 0 {
		b.WriteString(".IP [31] 5\nY. Guo et al. MS-Celeb-1M: A Dataset and Benchmark for Large-Scale Face Recognition. ECCV 2016. arXiv:1607.08221.\n")
	}
	return b.String()
}
