package frontier

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"path/filepath"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/crawler"
)

func codecJobs() []crawler.Job {
	return []crawler.Job{
		{ID: "a", RunID: "r", Source: "s", URL: "https://example.org/a"},
		{ID: "huggingface|model-info|https://hf/api/models/Org/Ñame?x=1&y=ü", RunID: "20261207T120000Z-abc", Source: "huggingface",
			Kind: "model-info", URL: "https://hf/api/models/Org/Ñame?x=1&y=ü", Dataset: "laion-5b", Page: 7, Attempt: 2,
			NotBefore: time.Unix(0, 1765108800123456789), Meta: map[string]string{"hop": "3", "base": "Org/Base", "": "empty key", "v": ""}},
		{ID: "neg", RunID: "r", Source: "s", Page: -1, NotBefore: time.Unix(-5, 0), Meta: map[string]string{}},
	}
}

// normal is what a job is after a trip through JSON (the old stored form): times compared by
// instant, an empty Meta is nil.
func normal(j crawler.Job) crawler.Job {
	if len(j.Meta) == 0 {
		j.Meta = nil
	}
	if !j.NotBefore.IsZero() {
		j.NotBefore = time.Unix(0, j.NotBefore.UnixNano())
	}
	return j
}

func TestJobCodecRoundTripsAndReadsJSON(t *testing.T) {
	for _, j := range codecJobs() {
		got, err := decodeJob(encodeJob(j), j.RunID, j.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(normal(got), normal(j)) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", got, j)
		}
		// A record written by an earlier version (JSON) reads the same.
		old, _ := json.Marshal(j)
		fromJSON, err := decodeJob(old, "other-run", "other-id")
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(normal(fromJSON), normal(got)) {
			t.Fatalf("JSON record:\n got %+v\nwant %+v", fromJSON, got)
		}
	}
}

// A damaged record is an error, never a panic or a half-read job: every truncation, and trailing
// bytes.
func TestJobCodecRejectsDamagedRecords(t *testing.T) {
	b := encodeJob(codecJobs()[1])
	for n := 1; n < len(b); n++ {
		if _, err := decodeJob(b[:n], "r", "x"); err == nil {
			t.Fatalf("record cut to %d of %d bytes decoded without error", n, len(b))
		}
	}
	if _, err := decodeJob(append(append([]byte{}, b...), 0), "r", "x"); err == nil {
		t.Fatal("record with a trailing byte decoded without error")
	}
	if _, err := decodeJob([]byte{jobFormat1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f}, "r", "x"); err == nil {
		t.Fatal("record claiming 2^32 meta entries decoded without error")
	}
	// A URL said to be the last 10 bytes of an ID of 3.
	if _, err := decodeJob([]byte{jobFormat2, 0, 0, 11, 0, 0, 0, 0, 0}, "r", "abc"); err == nil {
		t.Fatal("record with a URL longer than its ID decoded without error")
	}
}

// encodeJobFormat1 is the record round 5 wrote (jobFormat1: the IDs and the URL in full), to
// test that files written by it are still read.
func encodeJobFormat1(j crawler.Job) []byte {
	b := []byte{jobFormat1}
	for _, s := range []string{j.ID, j.RunID, j.Source, j.Kind, j.URL, j.Dataset} {
		b = appendString(b, s)
	}
	b = binary.AppendVarint(b, int64(j.Page))
	b = binary.AppendVarint(b, int64(j.Attempt))
	if j.NotBefore.IsZero() {
		b = binary.AppendUvarint(b, 0)
	} else {
		b = binary.AppendUvarint(b, 1)
		b = binary.AppendVarint(b, j.NotBefore.UnixNano())
	}
	keys := make([]string, 0, len(j.Meta))
	for k := range j.Meta {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	b = binary.AppendUvarint(b, uint64(len(keys)))
	for _, k := range keys {
		b = appendString(b, k)
		b = appendString(b, j.Meta[k])
	}
	return b
}

// A record holds neither the run ID nor a second copy of the URL (they are in the row), and
// a URL that is not the end of the ID is kept whole.
func TestJobRecordLeavesOutWhatTheRowHolds(t *testing.T) {
	j := codecJobs()[1]
	b := encodeJob(j)
	if bytes.Contains(b, []byte(j.RunID)) || bytes.Contains(b, []byte(j.URL)) {
		t.Fatalf("record %q holds the run ID or the URL", b)
	}
	if old := encodeJobFormat1(j); len(b) > len(old)-len(j.ID)-len(j.URL) {
		t.Fatalf("record %d bytes, format 1 %d", len(b), len(old))
	}
	j.URL = "https://elsewhere.example/x"
	got, err := decodeJob(encodeJob(j), j.RunID, j.ID)
	if err != nil || got.URL != j.URL {
		t.Fatalf("URL apart from the ID: got %q, %v", got.URL, err)
	}
	// The IDs come from the row.
	if got, err := decodeJob(encodeJob(j), "run-2", "id-2"); err != nil || got.RunID != "run-2" || got.ID != "id-2" {
		t.Fatalf("IDs from the row: %+v, %v", got, err)
	}
}

// A frontier file written by round 5 (jobFormat1 records) is claimed and dead-lettered as before,
// beside jobs enqueued now.
func TestFrontierReadsFormat1JobRecords(t *testing.T) {
	ctx := context.Background()
	f, err := Open(filepath.Join(t.TempDir(), "frontier.db"), Options{MaxAttempts: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	old := codecJobs()[1]
	old.Attempt = 0
	if _, err := f.db.Exec(`INSERT INTO jobs (run_id, id, seq, source, job, state, attempts, not_before, updated) VALUES (?, ?, 0, ?, ?, 'pending', 0, 0, 0)`,
		old.RunID, old.ID, old.Source, encodeJobFormat1(old)); err != nil {
		t.Fatal(err)
	}
	now := old
	now.ID, now.URL, now.NotBefore = "huggingface|model-info|https://hf/api/models/Org/Other", "https://hf/api/models/Org/Other", time.Time{}
	if _, err := f.Enqueue(ctx, now); err != nil {
		t.Fatal(err)
	}
	ls, err := f.Claim(ctx, old.RunID, "w", 2)
	if err != nil || len(ls) != 2 {
		t.Fatalf("Claim = %d, %v", len(ls), err)
	}
	byID := map[string]crawler.Job{}
	for _, l := range ls {
		byID[l.Job.ID] = l.Job
		if err := f.Bury(ctx, l, "HTTP 404"); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []crawler.Job{old, now} {
		want.Attempt = 1
		if !reflect.DeepEqual(normal(byID[want.ID]), normal(want)) {
			t.Fatalf("claimed\n %+v\nwant %+v", byID[want.ID], want)
		}
	}
	dl, err := f.DeadLetters(ctx, old.RunID)
	if err != nil || len(dl) != 2 {
		t.Fatalf("DeadLetters = %+v, %v", dl, err)
	}
	for _, d := range dl {
		if want := byID[d.Job.ID]; d.Job.URL != want.URL || d.Job.RunID != old.RunID || d.Job.Meta["hop"] != "3" {
			t.Fatalf("dead letter %+v, claimed %+v", d.Job, want)
		}
	}
}

// A frontier file written by an earlier version (JSON job records) is claimed and dead-lettered
// as before.
func TestFrontierReadsJSONJobRecords(t *testing.T) {
	ctx := context.Background()
	f, err := Open(filepath.Join(t.TempDir(), "frontier.db"), Options{MaxAttempts: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want := codecJobs()[1]
	want.Attempt = 0
	want.NotBefore = time.Time{}
	doc, _ := json.Marshal(want)
	if _, err := f.db.Exec(`INSERT INTO jobs (run_id, id, seq, source, job, state, attempts, not_before, updated) VALUES (?, ?, 1, ?, ?, 'pending', 0, 0, 0)`,
		want.RunID, want.ID, want.Source, doc); err != nil {
		t.Fatal(err)
	}
	ls, err := f.Claim(ctx, want.RunID, "w", 1)
	if err != nil || len(ls) != 1 {
		t.Fatalf("Claim = %d, %v", len(ls), err)
	}
	want.Attempt = 1
	if !reflect.DeepEqual(normal(ls[0].Job), normal(want)) {
		t.Fatalf("claimed\n %+v\nwant %+v", ls[0].Job, want)
	}
	if err := f.Bury(ctx, ls[0], "HTTP 404"); err != nil {
		t.Fatal(err)
	}
	dl, err := f.DeadLetters(ctx, want.RunID)
	if err != nil || len(dl) != 1 || dl[0].Job.URL != want.URL || dl[0].Job.Meta["hop"] != "3" {
		t.Fatalf("DeadLetters = %+v, %v", dl, err)
	}
}

func BenchmarkJobCodec(b *testing.B) {
	j := codecJobs()[1]
	b.Run("binary", func(b *testing.B) {
		for b.Loop() {
			if _, err := decodeJob(encodeJob(j), j.RunID, j.ID); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json", func(b *testing.B) {
		for b.Loop() {
			doc, _ := json.Marshal(j)
			if _, err := decodeJob(doc, j.RunID, j.ID); err != nil {
				b.Fatal(err)
			}
		}
	})
}
