package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"

	"github.com/spf13/cobra"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/extract"
)

func init() {
	var workers int
	var scoredOnly, fast, strict bool
	cmd := &cobra.Command{
		Use:   "match [FILE]",
		Short: "Match artifacts (JSONL, stdin by default) against the registry; write findings as JSONL",
		Long: `Read artifacts as JSON Lines (the interchange format; evaluation corpora with "expect" work
as is) from FILE or stdin and write one JSON object per finding to stdout: artifact_id, dataset,
relation, confidence, evidence (field, offsets, snippet, rule), via, chain, post_retraction.
Every line is decoded and validated: a bad line is skipped and counted, the first 5 are shown on
stderr with their line numbers (a binary file does not print a line per "line"), and the exit
status is then non-zero — the same policy as 'report --artifacts' and 'eval'. --fast first scans each raw line with the matcher's automaton and skips, after only a
light structure check, the lines that name nothing in the registry: faster on corpora where most
artifacts name nothing, but such a line that is invalid JSON in a way the structure check cannot
see is skipped without an error (it could not have produced a finding).
By default mention/studies findings and context entries are included; --scored-only keeps only
afterlife of retracted datasets (copy, derivative, trained-on, uses).`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			reg, err := loadRegistry()
			if err != nil {
				return err
			}
			in, name := io.Reader(cmd.InOrStdin()), "<stdin>"
			if len(args) == 1 && args[0] != "-" {
				f, err := os.Open(args[0])
				if err != nil {
					return fmt.Errorf("match: %w", err)
				}
				defer f.Close()
				in, name = f, args[0]
			}
			var opts []extract.Option
			if scoredOnly {
				opts = append(opts, extract.ScanScoredOnly()) // --fast skips lines that name only context entries
			}
			m := extract.New(reg, opts...)
			filter := func(f extract.Finding) bool {
				return !scoredOnly || (f.Relation.Scored() != "" && !f.Context)
			}
			if fast && strict {
				return fmt.Errorf("match: --fast and --strict contradict each other (full validation is the default)")
			}
			stats, err := matchStreamOpts(in, name, cmd.OutOrStdout(), cmd.ErrOrStderr(), m, workers, filter, fast)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "match: %d artifacts, %d findings, %d bad lines\n", stats.artifacts, stats.findings, stats.bad)
			return (&badLines{cmd: "match", n: stats.bad}).err(name)
		},
	}
	cmd.Flags().IntVar(&workers, "workers", runtime.GOMAXPROCS(0), "matching goroutines (output order is the input order)")
	cmd.Flags().BoolVar(&fast, "fast", false, "prefilter raw lines with the automaton: lines that name nothing in the registry get only a light structure check (an invalid line that names nothing may pass unreported)")
	cmd.Flags().BoolVar(&strict, "strict", false, "decode and validate every line (the default now)")
	_ = cmd.Flags().MarkDeprecated("strict", "every line is decoded and validated by default; --fast selects the prefilter")
	cmd.Flags().BoolVar(&scoredOnly, "scored-only", false, "only afterlife findings (copy, derivative, trained-on, uses) of retracted datasets")
	rootCmd.AddCommand(cmd)
}

type matchStats struct{ artifacts, findings, bad int }

// rawLine is one input line with its number.
type rawLine struct {
	n int
	b []byte
}

// matchBatch is a run of input lines matched by one worker; out holds its findings and errs its
// bad lines, written in input order by the writer.
type matchBatch struct {
	lines []rawLine
	block []byte // the input block the lines point into
	done  chan struct{}
	out   []byte
	errs  []error
	arts  int
	finds int
	fast  bool // prefilter raw lines (ScanLine) before decoding
}

// matchStream reads artifacts JSONL, decodes, validates and matches every line on `workers`
// goroutines and writes the findings in input order. Memory stays flat: a bounded number of
// batches is in flight.
func matchStream(in io.Reader, name string, out, errw io.Writer, m *extract.Matcher, workers int, keep func(extract.Finding) bool) (matchStats, error) {
	return matchStreamOpts(in, name, out, errw, m, workers, keep, false)
}

// matchStreamOpts is matchStream; fast first scans each raw line with the automaton
// (Matcher.ScanLine) and only decodes lines that name something in the registry, the others
// getting a light structure check only.
func matchStreamOpts(in io.Reader, name string, out, errw io.Writer, m *extract.Matcher, workers int, keep func(extract.Finding) bool, fast bool) (matchStats, error) {
	if workers < 1 {
		workers = 1
	}
	const batchBytes = 1 << 20
	jobs := make(chan *matchBatch, workers*2)
	ordered := make(chan *matchBatch, workers*4)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				j.run(name, m, keep)
				close(j.done)
			}
		}()
	}
	var stats matchStats
	var werr error
	writerDone := make(chan struct{})
	bw := bufio.NewWriterSize(out, 256<<10)
	bad := &badLines{w: errw, cmd: "match"}
	go func() {
		defer close(writerDone)
		for j := range ordered {
			<-j.done
			for _, e := range j.errs {
				bad.add(e)
			}
			stats.bad += len(j.errs)
			stats.artifacts += j.arts
			stats.findings += j.finds
			if werr == nil && len(j.out) > 0 {
				_, werr = bw.Write(j.out)
			}
		}
	}()
	// Read blocks and cut them into lines without copying: a batch owns its block until a worker
	// has matched it, then the block goes back to the pool (fewer allocations, fewer GC cycles).
	cur := &matchBatch{done: make(chan struct{}), fast: fast}
	flush := func() {
		if len(cur.lines) > 0 {
			ordered <- cur
			jobs <- cur
		} else {
			putBlock(cur.block)
		}
		cur = &matchBatch{done: make(chan struct{}), fast: fast}
	}
	var rerr error
	lineNo := 0
	skipping := false // inside a line longer than artifact.MaxLine
	block := getBlock(0)
	k := 0 // bytes carried over at the start of block
	for {
		nr, err := io.ReadFull(in, block[k:])
		data := block[:k+nr]
		eof := err == io.EOF || err == io.ErrUnexpectedEOF
		if err != nil && !eof {
			rerr = err
			break
		}
		cur.block = block
		start := 0
		for {
			idx := bytes.IndexByte(data[start:], '\n')
			if idx < 0 {
				break
			}
			line := data[start : start+idx]
			start += idx + 1
			if skipping {
				skipping = false
				continue
			}
			lineNo++
			if len(line) > artifact.MaxLine {
				line = nil // too long: reported, skipped
			} else {
				line = bytes.TrimSuffix(line, []byte("\r"))
			}
			cur.lines = append(cur.lines, rawLine{n: lineNo, b: line})
		}
		carry := data[start:]
		if skipping {
			carry = nil
		} else if len(carry) > artifact.MaxLine {
			lineNo++
			cur.lines = append(cur.lines, rawLine{n: lineNo, b: nil}) // too long: reported, skipped
			carry, skipping = nil, true
		}
		if eof {
			if len(carry) > 0 {
				lineNo++
				cur.lines = append(cur.lines, rawLine{n: lineNo, b: carry})
			}
			flush()
			break
		}
		// The unfinished line moves to the next block before this one is handed to a worker.
		block = getBlock(2 * len(carry))
		k = copy(block, carry)
		flush()
	}
	close(jobs)
	close(ordered)
	wg.Wait()
	<-writerDone
	if err := bw.Flush(); werr == nil {
		werr = err
	}
	if rerr != nil {
		return stats, fmt.Errorf("match: read %s: %w", name, rerr)
	}
	if werr != nil {
		return stats, fmt.Errorf("match: write: %w", werr)
	}
	return stats, nil
}

func (j *matchBatch) run(name string, m *extract.Matcher, keep func(extract.Finding) bool) {
	enc := json.NewEncoder(&sliceWriter{&j.out})
	for _, l := range j.lines {
		if l.b == nil { // longer than artifact.MaxLine
			j.errs = append(j.errs, &artifact.LineError{Name: name, Line: l.n, Err: errLineTooLong})
			continue
		}
		if len(bytes.TrimSpace(l.b)) == 0 {
			continue
		}
		if j.fast {
			if may, ok := m.ScanLine(l.b); ok && !may {
				j.arts++ // valid, and names nothing in the registry: no need to decode it
				continue
			}
		}
		a, err := artifact.ParseLine(l.b)
		if err != nil {
			j.errs = append(j.errs, &artifact.LineError{Name: name, Line: l.n, Err: err})
			continue
		}
		j.arts++
		for _, f := range m.Match(&a) {
			if keep(f) {
				_ = enc.Encode(f) // encoding a Finding cannot fail
				j.finds++
			}
		}
	}
	j.lines = nil
	putBlock(j.block)
	j.block = nil
}

const blockSize = 1 << 20

var blockPool = sync.Pool{New: func() any { b := make([]byte, blockSize); return &b }}

// getBlock returns a block of at least blockSize and at least min bytes.
func getBlock(min int) []byte {
	if min > blockSize {
		return make([]byte, min)
	}
	return *(blockPool.Get().(*[]byte))
}

func putBlock(b []byte) {
	if cap(b) == blockSize {
		b = b[:blockSize]
		blockPool.Put(&b)
	}
}

type sliceWriter struct{ b *[]byte }

func (w *sliceWriter) Write(p []byte) (int, error) { *w.b = append(*w.b, p...); return len(p), nil }

var errLineTooLong = fmt.Errorf("line longer than %d bytes", artifact.MaxLine)
