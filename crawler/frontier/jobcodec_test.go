package frontier

import (
	"context"
	"encoding/json"
	"path/filepath"
	"reflect"
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
		got, err := decodeJob(encodeJob(j))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(normal(got), normal(j)) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", got, j)
		}
		// A record written by an earlier version (JSON) reads the same.
		old, _ := json.Marshal(j)
		fromJSON, err := decodeJob(old)
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
		if _, err := decodeJob(b[:n]); err == nil {
			t.Fatalf("record cut to %d of %d bytes decoded without error", n, len(b))
		}
	}
	if _, err := decodeJob(append(append([]byte{}, b...), 0)); err == nil {
		t.Fatal("record with a trailing byte decoded without error")
	}
	if _, err := decodeJob([]byte{jobFormat1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f}); err == nil {
		t.Fatal("record claiming 2^32 meta entries decoded without error")
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
			if _, err := decodeJob(encodeJob(j)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json", func(b *testing.B) {
		for b.Loop() {
			doc, _ := json.Marshal(j)
			if _, err := decodeJob(doc); err != nil {
				b.Fatal(err)
			}
		}
	})
}
