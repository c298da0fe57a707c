package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/artifact"
	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/extract"
	"github.com/afterlife-watch/afterlife/reports"
	"github.com/afterlife-watch/afterlife/reports/render"
)

// A finished scan posts its new sightings to the webhooks named in the environment.
func TestScanPostsNewSightingsToWebhooks(t *testing.T) {
	var mu sync.Mutex
	var bodies []render.WebhookPayload
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var p render.WebhookPayload
		if err := json.Unmarshal(b, &p); err != nil {
			t.Errorf("webhook body is not the JSON payload: %v: %s", err, b)
		}
		mu.Lock()
		bodies = append(bodies, p)
		mu.Unlock()
	}))
	defer srv.Close()
	t.Setenv(render.EnvWebhooks, srv.URL+"/hook")
	t.Setenv(render.EnvSlackWebhooks, "")

	reg, err := configs.LoadRegistry("")
	if err != nil {
		t.Fatal(err)
	}
	st, err := reports.OpenTempStore()
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	run := reports.Run{ID: "run-1", Started: now}
	if err := st.BeginRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	a := artifact.Artifact{ID: "hf:dataset:x/faces-emore", Source: "huggingface", Kind: "dataset",
		URL: "https://huggingface.co/datasets/x/faces-emore", Title: "faces-emore"}
	f := extract.Finding{ArtifactID: a.ID, Dataset: "ms-celeb-1m", Relation: extract.Copy, Confidence: 0.9,
		Evidence: []extract.Evidence{{Field: "title", Rule: "alias"}}}
	if _, err := st.Record(ctx, run.ID, now, a, []extract.Finding{f}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.FinishRun(ctx, run.ID, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}

	if err := notifyScanWebhooks(ctx, st, reg, run.ID); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(bodies) != 1 {
		t.Fatalf("webhook got %d posts, want 1", len(bodies))
	}
	p := bodies[0]
	if p.RunID != run.ID || len(p.Datasets) != 1 || p.Datasets[0].ID != "ms-celeb-1m" || len(p.Datasets[0].Sightings) != 1 {
		t.Fatalf("payload = %+v, want run-1 with one ms-celeb-1m sighting", p)
	}
}

// Without webhooks in the environment nothing is built or sent, and a bad URL is a clear error.
func TestScanWebhooksFromEnvErrors(t *testing.T) {
	t.Setenv(render.EnvWebhooks, "")
	t.Setenv(render.EnvSlackWebhooks, "")
	if err := notifyScanWebhooks(context.Background(), nil, nil, "none"); err != nil {
		t.Fatalf("no webhooks configured: got %v", err)
	}
	t.Setenv(render.EnvWebhooks, "ftp://example.invalid/x")
	if err := notifyScanWebhooks(context.Background(), nil, nil, "none"); err == nil {
		t.Fatal("a non-http webhook URL was accepted")
	}
}
