package e2e

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/configs"
)

// Issue test 4 with the real stack: four `afterlife worker` processes crawl one source whose host
// is limited to 5 requests/s; the server side (a recording proxy in front of the demo world)
// measures no 1-second window with more than 5 requests.
func TestFourWorkerProcessesStayInsideHostLimit(t *testing.T) {
	e := setup(t, 0, false)
	target, _ := url.Parse(e.world.URL)
	var mu sync.Mutex
	var times []time.Time
	var lines []string
	recording := false
	proxy := httputil.NewSingleHostReverseProxy(target)
	rec := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := time.Now()
		mu.Lock()
		if recording {
			times = append(times, now)
			lines = append(lines, now.Format("15:04:05.000")+" "+r.URL.RequestURI())
		}
		mu.Unlock()
		proxy.ServeHTTP(w, r)
	}))
	defer rec.Close()
	const rate = 5.0
	const src = "zenodo"
	watch := &configs.Watch{Contact: "test", AllowLoopback: true, Workers: 2, Sources: map[string]configs.SourceConfig{
		src: {Enabled: true, BaseURL: rec.URL + "/" + src, Rate: rate, Burst: 1, MaxPages: 5},
	}}
	b, err := watch.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	e.wfile = filepath.Join(t.TempDir(), "watch-limited.yaml")
	if err := os.WriteFile(e.wfile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if e.watch, err = configs.LoadWatch(e.wfile); err != nil {
		t.Fatal(err)
	}
	ws := []*worker{e.startWorker(), e.startWorker(), e.startWorker(), e.startWorker()}
	// A warm-up run first, then the measured run: the second run's requests meet the first run's
	// state on Redis (slots booked, requests counted until answered), as a long-lived worker does.
	e.distributed(nil)
	mu.Lock()
	recording = true
	mu.Unlock()
	start := time.Now()
	got, _ := e.distributed(nil)
	elapsed := time.Since(start)
	for _, w := range ws {
		w.stop(t)
	}
	mu.Lock()
	ts := append([]time.Time(nil), times...)
	mu.Unlock()
	if len(ts) < 15 {
		t.Fatalf("only %d requests reached the host: too few to measure a rate", len(ts))
	}
	if len(got) == 0 {
		t.Fatal("the limited crawl found nothing")
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i].Before(ts[j]) })
	worst, j := 0, 0
	for i := range ts {
		for ts[i].Sub(ts[j]) >= time.Second {
			j++
		}
		worst = max(worst, i-j+1)
	}
	if worst > int(rate) {
		mu.Lock()
		t.Logf("requests:\n%s", strings.Join(lines, "\n"))
		mu.Unlock()
		t.Fatalf("the host saw %d requests within one second; its limit is %v/s", worst, rate)
	}
	// At most 5 in any second means request k+5 comes a second after request k, so N requests span
	// at least ⌊(N−1)/5⌋ seconds (a second check of the same limit, over the whole run).
	span := ts[len(ts)-1].Sub(ts[0])
	if min := time.Duration((len(ts)-1)/int(rate)) * time.Second; span < min {
		t.Fatalf("%d requests within %v: faster than %v/s allows", len(ts), span, rate)
	}
	t.Logf("%d requests from 4 worker processes over %v (%.2f/s, limit %v/s, worst 1 s window %d); run %v, %d sightings",
		len(ts), span.Round(time.Millisecond), float64(len(ts)-1)/span.Seconds(), rate, worst, elapsed.Round(time.Millisecond), len(got))
}
