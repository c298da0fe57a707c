package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/reports"
	"github.com/afterlife-watch/afterlife/torrent/swarmtest"
)

// `afterlife torrent probe` is tested through the built binary against a real loopback swarm:
// opentracker + qBittorrent seeding a torrent with a file named like 80 Million Tiny Images'
// tiny_images.bin (the size is not the real one; the name is).
func TestTorrentProbeCommandAgainstSwarm(t *testing.T) {
	seeders := []string{swarmtest.QBittorrent}
	if m := swarmtest.Missing(seeders); m != "" {
		t.Skipf("%s is not installed (CI installs opentracker, mktorrent, qbittorrent-nox)", m)
	}
	bin := filepath.Join(t.TempDir(), "afterlife")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	sw, err := swarmtest.Start(ctx, swarmtest.Options{
		Dir: dir, Name: "mirror-2020", Seeders: seeders, Comment: "a mirror",
		Files: map[string][]byte{"tiny_images.bin": bytes.Repeat([]byte{7}, 100000), "notes.txt": []byte("hello\n")},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sw.Stop)

	run := func(args ...string) (map[string]any, string) {
		t.Helper()
		cmd := exec.CommandContext(ctx, bin, append([]string{"--data", t.TempDir(), "torrent", "probe"}, args...)...)
		var o, e bytes.Buffer
		cmd.Stdout, cmd.Stderr = &o, &e
		if err := cmd.Run(); err != nil {
			t.Fatalf("probe %v: %v\n%s", args, err, e.String())
		}
		var out map[string]any
		if err := json.Unmarshal(o.Bytes(), &out); err != nil {
			t.Fatalf("output is not one JSON object: %v\n%s", err, o.String())
		}
		return out, o.String()
	}

	// By info-hash alone plus the tracker: metadata comes from the seeder.
	out, raw := run(sw.InfoHash, "--tracker", sw.HTTPTracker, "--tracker", sw.UDPTracker, "--timeout", "60s")
	if out["infohash"] != sw.InfoHash || out["name"] != "mirror-2020" || out["metadata_source"] != "peers" {
		t.Fatalf("probe output:\n%s", raw)
	}
	files, _ := out["files"].([]any)
	sizes := map[string]float64{}
	for _, f := range files {
		m := f.(map[string]any)
		sizes[m["path"].(string)] = m["size"].(float64)
	}
	if len(sizes) != 2 || sizes["tiny_images.bin"] != 100000 || sizes["notes.txt"] != 6 {
		t.Errorf("files %v", files)
	}
	trs, _ := out["trackers"].([]any)
	if len(trs) != 2 {
		t.Fatalf("trackers %v", trs)
	}
	for _, tr := range trs {
		m := tr.(map[string]any)
		if m["seeders"] != float64(1) || m["leechers"] != float64(0) || m["error"] != "" {
			t.Errorf("tracker %v", m)
		}
	}
	if out["dht_peers"] != float64(0) {
		t.Errorf("dht_peers %v", out["dht_peers"])
	}
	matches, _ := out["matches"].([]any)
	found := false
	for _, m := range matches {
		if m.(map[string]any)["dataset"] == "tiny-images" {
			found = true
		}
	}
	if !found {
		t.Errorf("no tiny-images finding for a torrent holding tiny_images.bin:\n%s", raw)
	}
	if fetch, _ := out["metadata_fetch"].(map[string]any); fetch == nil || fetch["content_bytes_read"] != float64(0) || fetch["chunks_read"] != float64(0) {
		t.Errorf("metadata_fetch %v", out["metadata_fetch"])
	}

	// From the .torrent file: no fetch, trackers from its announce list.
	out, raw = run(sw.Torrent, "--timeout", "30s")
	if out["metadata_source"] != "torrent-file" || out["name"] != "mirror-2020" || len(out["trackers"].([]any)) != 2 {
		t.Errorf("torrent-file probe:\n%s", raw)
	}

	// A magnet with x.pe (a direct peer) and no tracker.
	out, raw = run("magnet:?xt=urn:btih:"+strings.ToUpper(sw.InfoHash)+"&dn=x&x.pe="+sw.Peers[swarmtest.QBittorrent], "--timeout", "60s")
	if out["metadata_source"] != "peers" || out["name"] != "mirror-2020" {
		t.Errorf("magnet probe:\n%s", raw)
	}

	// --record stores one swarm probe in the store under --data.
	data := t.TempDir()
	cmd := exec.CommandContext(ctx, bin, "--data", data, "torrent", "probe", sw.Torrent, "--record", "--timeout", "30s")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("probe --record: %v\n%s", err, out)
	}
	st, err := reports.OpenStore(filepath.Join(data, reports.StoreFile))
	if err != nil {
		t.Fatal(err)
	}
	probes, err := st.Probes(ctx, sw.InfoHash)
	st.Close()
	if err != nil || len(probes) != 1 || probes[0].Seeders != 1 || probes[0].Leechers != 0 || probes[0].ArtifactID != "dht:"+sw.InfoHash {
		t.Errorf("stored probes %+v %v", probes, err)
	}

	// health: batched scrape of many hashes from stdin, one JSON line each.
	var in strings.Builder
	for i := range 100 {
		fmt.Fprintf(&in, "%040x\n", i+1)
	}
	in.WriteString(sw.InfoHash + "\n")
	cmd = exec.CommandContext(ctx, bin, "torrent", "health", "--tracker", sw.UDPTracker)
	cmd.Stdin = strings.NewReader(in.String())
	var ho, he bytes.Buffer
	cmd.Stdout, cmd.Stderr = &ho, &he
	if err := cmd.Run(); err != nil {
		t.Fatalf("health: %v\n%s", err, he.String())
	}
	lines := strings.Split(strings.TrimSpace(ho.String()), "\n")
	var last struct {
		InfoHash string `json:"infohash"`
		Seeders  int    `json:"seeders"`
	}
	if len(lines) != 101 || json.Unmarshal([]byte(lines[100]), &last) != nil || last.InfoHash != sw.InfoHash || last.Seeders != 1 {
		t.Errorf("health: %d lines, last %q", len(lines), lines[len(lines)-1])
	}
	// 101 hashes over UDP: 1 connect + 2 scrapes.
	if !strings.Contains(he.String(), "3 tracker requests") {
		t.Errorf("health stderr %q", he.String())
	}

	// Bad input: a clear error, non-zero exit.
	bad := filepath.Join(t.TempDir(), "bad.torrent")
	if err := os.WriteFile(bad, []byte("<html>not found</html>"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd = exec.CommandContext(ctx, bin, "torrent", "probe", bad)
	var e bytes.Buffer
	cmd.Stderr = &e
	if err := cmd.Run(); err == nil || !strings.Contains(e.String(), "not a bencoded dictionary") {
		t.Errorf("bad torrent: %v, stderr %q", err, e.String())
	}
}
