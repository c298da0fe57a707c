package render

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func fixturePayload(t *testing.T) *WebhookPayload {
	t.Helper()
	rep, err := Build(context.Background(), fixtureStore(t), registry(t), "", Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := NewSightingsPayload(rep)
	if p == nil {
		t.Fatal("no payload")
	}
	return p
}

func TestWebhookRetriesWithBackoffThenDelivers(t *testing.T) {
	p := fixturePayload(t)
	var calls atomic.Int32
	var mu sync.Mutex
	var got WebhookPayload
	var times []time.Time
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		times = append(times, time.Now())
		mu.Unlock()
		if calls.Add(1) <= 2 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		if r.Header.Get("Content-Type") != "application/json" || r.Header.Get("X-Secret") != "s" {
			w.WriteHeader(400)
			return
		}
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		json.Unmarshal(b, &got)
		mu.Unlock()
	}))
	defer ts.Close()
	n := &Notifier{Hooks: []Webhook{{URL: ts.URL, Header: http.Header{"X-Secret": {"s"}}}}, Backoff: 20 * time.Millisecond, MaxAttempts: 5}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	go n.Run(ctx)
	if !n.Notify(p) {
		t.Fatal("not queued")
	}
	n.Close()
	if err := n.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	st := n.Stats()
	if st.Delivered != 1 || st.Attempts != 3 || st.Failed != 0 {
		t.Fatalf("stats %+v", st)
	}
	mu.Lock()
	defer mu.Unlock()
	if got.Event != "new_sightings" || got.RunID != "run-2" || len(got.Datasets) == 0 {
		t.Errorf("payload: %+v", got)
	}
	// Backoff doubles: the second gap is at least the first retry delay doubled.
	if gap1, gap2 := times[1].Sub(times[0]), times[2].Sub(times[1]); gap1 < 20*time.Millisecond || gap2 < 40*time.Millisecond {
		t.Errorf("backoff gaps %v %v", gap1, gap2)
	}
}

func TestWebhookGivesUpOnClientErrorAndAfterMaxAttempts(t *testing.T) {
	p := fixturePayload(t)
	var bad, down atomic.Int32
	ts400 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { bad.Add(1); w.WriteHeader(404) }))
	defer ts400.Close()
	ts500 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { down.Add(1); w.WriteHeader(502) }))
	defer ts500.Close()
	n := &Notifier{Hooks: []Webhook{{URL: ts400.URL}, {URL: ts500.URL}}, Backoff: time.Millisecond, MaxAttempts: 3}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	go n.Run(ctx)
	n.Notify(p)
	n.Close()
	n.Wait(ctx)
	if bad.Load() != 1 || down.Load() != 3 || n.Stats().Failed != 2 {
		t.Errorf("404 tried %d times, 502 tried %d times, stats %+v", bad.Load(), down.Load(), n.Stats())
	}
}

// TestWebhookNeverBlocks: a hook that hangs does not block Notify, and a full queue drops.
func TestWebhookNeverBlocks(t *testing.T) {
	p := fixturePayload(t)
	release := make(chan struct{})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer ts.Close()
	defer close(release)
	n := &Notifier{Hooks: []Webhook{{URL: ts.URL}}, MaxAttempts: 1}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go n.Run(ctx)
	defer n.Close()
	start := time.Now()
	queued := 0
	for i := 0; i < 200; i++ {
		if n.Notify(p) {
			queued++
		}
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Notify blocked for %v", d)
	}
	if queued == 200 || n.Stats().Dropped == 0 {
		t.Errorf("queued %d, dropped %d: a full queue must drop", queued, n.Stats().Dropped)
	}
}

func TestSlackMessageEscapesCrawledText(t *testing.T) {
	p := fixturePayload(t)
	var body map[string]string
	done := make(chan struct{})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		json.NewDecoder(r.Body).Decode(&body)
		close(done)
	}))
	defer ts.Close()
	n := &Notifier{Hooks: []Webhook{{URL: ts.URL, Slack: true}}}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	go n.Run(ctx)
	n.Notify(p)
	<-done
	txt := body["text"]
	if !strings.Contains(txt, "Afterlife run run-2") || !strings.Contains(txt, "someone/face-finetune") {
		t.Fatalf("slack text: %q", txt)
	}
	if strings.Contains(txt, "<script") || strings.Contains(txt, "<javascript:") {
		t.Errorf("slack text carries raw markup: %q", txt)
	}
	if !strings.Contains(txt, "<https://huggingface.co/someone/face-finetune|someone/face-finetune>") {
		t.Errorf("slack link missing: %q", txt)
	}
}

func TestWebhooksFromEnv(t *testing.T) {
	env := map[string]string{EnvWebhooks: "https://a.example/hook, https://b.example/x", EnvSlackWebhooks: "https://hooks.slack.com/services/T/B/C"}
	hs, err := WebhooksFromEnv(func(k string) string { return env[k] })
	if err != nil || len(hs) != 3 || hs[1].URL != "https://b.example/x" || hs[1].Slack || !hs[2].Slack {
		t.Fatalf("%+v %v", hs, err)
	}
	env[EnvWebhooks] = "javascript:alert(1)"
	if _, err := WebhooksFromEnv(func(k string) string { return env[k] }); err == nil || strings.Contains(err.Error(), "alert") {
		t.Errorf("bad URL: %v (and the error must not echo the URL)", err)
	}
}

func TestNotifyRunQueuesNewSightings(t *testing.T) {
	st := fixtureStore(t)
	got := make(chan WebhookPayload, 1)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p WebhookPayload
		json.NewDecoder(r.Body).Decode(&p)
		got <- p
	}))
	defer ts.Close()
	n := &Notifier{Hooks: []Webhook{{URL: ts.URL}}}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	go n.Run(ctx)
	defer n.Close()
	ok, err := NotifyRun(ctx, st, registry(t), "run-2", n)
	if err != nil || !ok {
		t.Fatalf("NotifyRun: %v %v", ok, err)
	}
	p := <-got
	var ids []string
	for _, d := range p.Datasets {
		for _, s := range d.Sightings {
			ids = append(ids, s.Artifact.ID)
		}
	}
	// run-2's new scored sightings: the fine-tune and the torrent (the mention is not afterlife).
	if p.RunID != "run-2" || len(ids) != 2 {
		t.Errorf("payload run %s sightings %v", p.RunID, ids)
	}
}
