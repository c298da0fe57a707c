package manuscript

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
)

// trainingLine is the report's input: one line repeating a training sentence, n bytes long.
func trainingLine(n int) []byte {
	const s = "We trained the model on MS-Celeb-1M and fine-tuned it on MegaFace. "
	return []byte(strings.Repeat(s, n/len(s)+1)[:n])
}

// pollCtx is a context that counts its Err polls and reports itself cancelled from poll after+1
// on: how often a function checks its context is then a count, not a time.
type pollCtx struct {
	context.Context
	polls atomic.Int64
	after int64
}

func (c *pollCtx) Err() error {
	if c.polls.Add(1) > c.after {
		return context.Canceled
	}
	return nil
}

// One line of 1, 4 and 16 MB (the report: 1.1 s, 11 s and over two minutes): reading bounds every
// block — the unit the matcher, sentence location and verdicts work on — so the work per block is
// bounded and the whole check is linear in the input; the text is kept, not dropped; and a title
// is not the whole line.
func TestCheckOneLongLineIsCutIntoBoundedBlocks(t *testing.T) {
	for _, mb := range []int{1, 4, 16} {
		data := trainingLine(mb << 20)
		doc, err := ReadText(context.Background(), "long.txt", data, false)
		if err != nil {
			t.Fatal(err)
		}
		total, biggest := 0, 0
		for _, bl := range doc.Blocks {
			total += len(bl.Text)
			biggest = max(biggest, len(bl.Text))
		}
		t.Logf("%d MB: %d blocks, the biggest %d bytes, %d bytes of text, title %d bytes", mb, len(doc.Blocks), biggest, total, len(doc.Title))
		if biggest > MaxBlockBytes {
			t.Errorf("%d MB: a block of %d bytes (bound %d)", mb, biggest, MaxBlockBytes)
		}
		if total < len(data)*99/100 {
			t.Errorf("%d MB: %d bytes of text kept of %d", mb, total, len(data))
		}
		if len(doc.Title) > maxTitleBytes {
			t.Errorf("%d MB: a title of %d bytes", mb, len(doc.Title))
		}
	}
}

// Checking polls its context at least once per block, and a check stopped midway says it was
// interrupted instead of giving a verdict from the part it saw.
func TestCheckOfOneLongLineIsInterruptible(t *testing.T) {
	c := NewChecker(testRegistry(t))
	data := trainingLine(1 << 20)
	doc, err := ReadText(context.Background(), "long.txt", data, false)
	if err != nil {
		t.Fatal(err)
	}
	// Not stopped: a verdict, and at least one poll per MaxBlockBytes of text.
	full := &pollCtx{Context: context.Background(), after: 1 << 40}
	rep := c.Check(full, doc)
	t.Logf("1 MB: %d polls, verdict %s", full.polls.Load(), rep.Verdict)
	if rep.Error != nil || rep.Verdict != Uses {
		t.Fatalf("verdict %s error %+v", rep.Verdict, rep.Error)
	}
	if min := int64(len(data) / MaxBlockBytes); full.polls.Load() < min {
		t.Errorf("%d context polls for %d bytes; want at least %d (one per block)", full.polls.Load(), len(data), min)
	}
	// Stopped after 5 polls: an interrupted report, and the check returned at the next poll.
	stop := &pollCtx{Context: context.Background(), after: 5}
	rep = c.Check(stop, doc)
	if rep.Error == nil || !strings.Contains(rep.Error.Message, "interrupted") || rep.Verdict != None || len(rep.Datasets) != 0 {
		t.Fatalf("stopped check: verdict %s datasets %d error %+v", rep.Verdict, len(rep.Datasets), rep.Error)
	}
	if p := stop.polls.Load(); p > 7 {
		t.Errorf("the check went on for %d polls after it was stopped at poll 6", p-6)
	}
}

// A bibliography of one endless entry (no markers, no full stops) is read in linear time: an
// entry's text is bounded instead of growing by concatenation line after line.
func TestEndlessReferenceEntryIsBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString("References\n\n")
	for b.Len() < 2<<20 {
		b.WriteString("and another author and\n")
	}
	doc, err := ReadText(context.Background(), "refs.txt", []byte(b.String()), false)
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.References) == 0 {
		t.Fatal("no references")
	}
	for _, r := range doc.References {
		if len(r.Text) > maxReferenceBytes {
			t.Fatalf("a reference of %d bytes (bound %d)", len(r.Text), maxReferenceBytes)
		}
	}
}
