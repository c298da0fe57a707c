package metrics_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler"
	_ "github.com/afterlife-watch/afterlife/crawler/sources"
	"github.com/afterlife-watch/afterlife/internal/demoworld"
	"github.com/afterlife-watch/afterlife/internal/metrics"
	"github.com/afterlife-watch/afterlife/monitor"
	"github.com/afterlife-watch/afterlife/monitor/monitortest"
	"github.com/afterlife-watch/afterlife/reports"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// sample returns the sum of every sample of metric whose labels contain all of labels.
func sample(body, metric string, labels ...string) (float64, bool) {
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(metric) + `(\{[^}]*\})? ([0-9.e+-]+)$`)
	sum, found := 0.0, false
	for _, m := range re.FindAllStringSubmatch(body, -1) {
		ok := true
		for _, l := range labels {
			ok = ok && strings.Contains(m[1], l)
		}
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(m[2], 64)
		if err == nil {
			sum, found = sum+v, true
		}
	}
	return sum, found
}

// A demo-world scan with the metrics hooked in: /metrics shows requests by source and status,
// bytes, latency, jobs, queue depth, findings by dataset and relation and the run's duration.
func TestMetricsFromADemoScan(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	m := metrics.New()
	srv, err := metrics.Listen(ctx, "127.0.0.1:0", m, func(context.Context) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + srv.Addr().String()
	if code, _ := get(t, base+"/healthz"); code != 200 {
		t.Fatalf("/healthz %d", code)
	}
	if code, _ := get(t, base+"/readyz"); code != http.StatusServiceUnavailable {
		t.Fatalf("/readyz before ready: %d, want 503", code)
	}
	srv.SetReady(true)
	if code, body := get(t, base+"/readyz"); code != 200 {
		t.Fatalf("/readyz: %d %s", code, body)
	}

	w, err := demoworld.New(demoworld.Options{})
	if err != nil {
		t.Fatal(err)
	}
	world, err := demoworld.Start(w, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer world.Close()
	reg, err := configs.LoadRegistry("")
	if err != nil {
		t.Fatal(err)
	}
	wc := world.WatchConfig()
	wc.Datasets = []string{"ms-celeb-1m"}
	dir := t.TempDir()
	st, err := reports.OpenStore(filepath.Join(dir, reports.StoreFile))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	res, err := monitortest.Embedded(ctx, dir, st, monitor.RunConfig{Watch: wc, Registry: reg, Workers: 3,
		Version: "test", Env: func(string) string { return "" }, FetcherOptions: crawler.FetcherOptions{Observer: m}, Observer: m})
	if err != nil {
		t.Fatal(err)
	}
	_, body := get(t, base+"/metrics")
	var requests int64
	for _, s := range res.Run.Sources {
		requests += s.Requests
	}
	got, _ := sample(body, "afterlife_http_requests_total")
	if int64(got) != requests {
		t.Errorf("afterlife_http_requests_total = %v, the run counted %d requests", got, requests)
	}
	for _, c := range []struct {
		metric string
		labels []string
	}{
		{"afterlife_http_requests_total", []string{`source="huggingface"`, `status="200"`}},
		{"afterlife_http_response_bytes_total", []string{`source="github"`}},
		{"afterlife_http_request_duration_seconds_count", []string{`source="zenodo"`}},
		{"afterlife_jobs_total", []string{`outcome="ok"`}},
		{"afterlife_findings_total", []string{`dataset="ms-celeb-1m"`}},
		{"afterlife_queue_jobs", []string{`state="done"`}},
		{"afterlife_runs_finished_total", nil},
		{"afterlife_run_duration_seconds_count", nil},
		{"afterlife_last_job_timestamp_seconds", nil},
		{"process_resident_memory_bytes", nil},
	} {
		v, ok := sample(body, c.metric, c.labels...)
		if !ok || v <= 0 {
			t.Errorf("%s%v = %v (present %v), want > 0", c.metric, c.labels, v, ok)
		}
	}
	if v, _ := sample(body, "afterlife_findings_total", `relation="trained-on"`); v == 0 {
		t.Errorf("no trained-on findings counted; the demo world plants models trained on ms-celeb-1m")
	}
	t.Logf("%d requests in the run; /metrics is %d bytes", requests, len(body))
}

func TestMetricsRefusesNonLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:9464"} {
		_, err := metrics.Listen(context.Background(), addr, metrics.New(), nil)
		if !errors.Is(err, metrics.ErrNotLoopback) {
			t.Errorf("%s: err = %v, want ErrNotLoopback", addr, err)
		}
	}
}
