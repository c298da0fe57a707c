package swarmruns_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/configs"
	_ "github.com/afterlife-watch/afterlife/crawler/sources"
	"github.com/afterlife-watch/afterlife/internal/demoworld"
	"github.com/afterlife-watch/afterlife/monitor"
	"github.com/afterlife-watch/afterlife/monitor/monitortest"
	"github.com/afterlife-watch/afterlife/reports"
	"github.com/afterlife-watch/afterlife/reports/render"
)

const (
	plantedMSCeleb = "e0f896a6cd1a99881ccde415d92e768ce1b6a9a7" // planted on Academic Torrents: alive, then dead
	knownMSCeleb   = "9e67eb7cc23c9417f39778a8e06cca5e26196a97" // the registry's known copy: alive, then dead
	knownImageNet  = "564a77c1e1119da199ff32622a1609431b9f1c47" // the registry's known copy: grows
)

// Two in-process runs over the demo world (epoch 1, then epoch 2) with the real adapters, store
// and demo tracker: the swarm source probes the registry's known info-hashes and the torrent
// Academic Torrents finds, every probe is stored with the run, and the reports show the swarms
// alive, then dead, with their trend.
func TestDemoWorldRunsRecordSwarmHealth(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	w, err := demoworld.New(demoworld.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := demoworld.Start(w, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	reg, err := configs.LoadRegistry("")
	if err != nil {
		t.Fatal(err)
	}
	dir, out := t.TempDir(), t.TempDir()
	st, err := reports.OpenStore(filepath.Join(dir, reports.StoreFile))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	wc := srv.WatchConfig()
	// Academic Torrents finds the planted torrents, the swarm source counts them; two datasets
	// keep the run short under -race.
	for name, sc := range wc.Sources {
		if name != "academictorrents" && name != "swarm" {
			sc.Enabled = false
			wc.Sources[name] = sc
		}
	}
	wc.Datasets = []string{"ms-celeb-1m", "imagenet-21k-fall11"}
	tracker := srv.URL + demoworld.TrackerAnnouncePath
	var runs []string
	for epoch := 1; epoch <= 2; epoch++ {
		w.SetEpoch(epoch)
		res, err := monitortest.Embedded(ctx, dir, st, monitor.RunConfig{Watch: wc, Registry: reg, Workers: 3,
			Version: "test", Env: func(string) string { return "" }})
		if err != nil {
			t.Fatalf("epoch %d: %v", epoch, err)
		}
		runs = append(runs, res.Run.ID)
		for _, s := range res.Run.Sources {
			if s.Status != monitor.StatusOK {
				t.Errorf("epoch %d: source %s: %+v", epoch, s.Name, s)
			}
			if s.Name == "swarm" && (s.Requests == 0 || !strings.Contains(s.Message, "swarms counted")) {
				t.Errorf("epoch %d: swarm source stats %+v, want its tracker requests and notes", epoch, s)
			}
		}
	}
	if n := w.Requests("tracker"); n < 4 {
		t.Errorf("the demo tracker served %d requests over two runs, want at least 4 (known hashes + found torrents, per run)", n)
	}

	probes, err := st.Probes(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	type key struct{ ih, run string }
	got := map[key]reports.SwarmProbe{}
	for _, p := range probes {
		if p.Source != tracker {
			t.Errorf("probe %+v: source is not the demo tracker", p)
		}
		got[key{p.InfoHash, p.RunID}] = p
	}
	want := []struct {
		ih, run, artifact string
		s, l, c           int
	}{
		{plantedMSCeleb, runs[0], "at:" + plantedMSCeleb, 7, 2, 120},
		{plantedMSCeleb, runs[1], "at:" + plantedMSCeleb, 0, 0, 121},
		{knownMSCeleb, runs[0], "", 2, 1, 58},
		{knownMSCeleb, runs[1], "", 0, 0, 58},
		{knownImageNet, runs[0], "", 4, 1, 900},
		{knownImageNet, runs[1], "", 6, 0, 912},
	}
	for _, x := range want {
		p, ok := got[key{x.ih, x.run}]
		if !ok {
			t.Errorf("no probe of %s in run %s (probes: %+v)", x.ih, x.run, probes)
			continue
		}
		if p.Seeders != x.s || p.Leechers != x.l || p.Completed != x.c || p.ArtifactID != x.artifact || p.At.IsZero() {
			t.Errorf("probe of %s in run %s: %+v, want %d/%d/%d artifact %q", x.ih, x.run, p, x.s, x.l, x.c, x.artifact)
		}
	}

	if _, err := render.Write(ctx, st, reg, runs[1], out); err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Datasets []struct {
			ID      string `json:"id"`
			Summary struct {
				SwarmsAlive int `json:"swarms_alive"`
				Torrents    int `json:"torrents"`
			} `json:"summary"`
			Swarms []struct {
				InfoHash   string `json:"infohash"`
				ArtifactID string `json:"artifact_id"`
				Seeders    int    `json:"seeders"`
				Alive      bool   `json:"alive"`
				Trend      string `json:"trend"`
				History    []struct {
					RunID   string `json:"run_id"`
					Seeders int    `json:"seeders"`
					Alive   bool   `json:"alive"`
				} `json:"history"`
			} `json:"swarms"`
		} `json:"datasets"`
	}
	b, err := os.ReadFile(filepath.Join(out, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	type sw struct {
		alive   bool
		trend   string
		history string
	}
	seen := map[string]sw{}
	for _, d := range rep.Datasets {
		for _, s := range d.Swarms {
			var h []string
			for _, p := range s.History {
				h = append(h, map[bool]string{true: "alive", false: "dead"}[p.Alive])
			}
			seen[d.ID+" "+s.InfoHash] = sw{s.Alive, s.Trend, strings.Join(h, ",")}
		}
		if d.ID == "imagenet-21k-fall11" && (d.Summary.SwarmsAlive != 1 || d.Summary.Torrents != 1) {
			t.Errorf("imagenet-21k-fall11 summary: %+v, want 1 of 1 swarms alive", d.Summary)
		}
	}
	for k, v := range map[string]sw{
		"ms-celeb-1m " + plantedMSCeleb:        {false, "down", "alive,dead"},
		"ms-celeb-1m " + knownMSCeleb:          {false, "down", "alive,dead"},
		"imagenet-21k-fall11 " + knownImageNet: {true, "up", "alive,alive"},
	} {
		if g, ok := seen[k]; !ok || g != v {
			t.Errorf("report.json swarm %s: %+v (present %v), want %+v", k, g, ok, v)
		}
	}
	for _, f := range []string{"ms-celeb-1m.md", "ms-celeb-1m.html"} {
		b, err := os.ReadFile(filepath.Join(out, f))
		if err != nil {
			t.Fatal(err)
		}
		page := string(b)
		i := strings.Index(page, "Swarm health")
		if i < 0 {
			t.Errorf("%s has no swarm health section", f)
			continue
		}
		sec := page[i:]
		for _, s := range []string{plantedMSCeleb, knownMSCeleb, "dead", "down"} {
			if !strings.Contains(sec, s) {
				t.Errorf("%s: swarm health section lacks %q", f, s)
			}
		}
	}
}
