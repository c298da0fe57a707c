package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// `afterlife scan` with AFTERLIFE_REDIS_URL (no --redis flag) and --workers 2 runs the whole
// distributed mode in one process and writes the reports; its findings are the embedded mode's.
func TestScanCommandOnRedis(t *testing.T) {
	e := setup(t, 0, false)
	want := e.embedded()
	data, out := t.TempDir(), filepath.Join(t.TempDir(), "reports")
	cmd := exec.CommandContext(e.ctx, binary(t), "scan", "--config", e.wfile, "--data", data, "--out", out,
		"--workers", "2", "--redis-prefix", "cli", "--lease", "5s", "--log-level", "warn")
	cmd.Env = append(os.Environ(), "AFTERLIFE_REDIS_URL="+e.redis.URL)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("afterlife scan: %v\n%s", err, stderr.String())
	}
	var sum struct {
		RunID   string   `json:"run_id"`
		New     int      `json:"new"`
		Reports []string `json:"reports"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &sum); err != nil {
		t.Fatalf("summary is not JSON: %v\n%s", err, stdout.String())
	}
	if sum.RunID == "" || sum.New != len(want) {
		t.Fatalf("summary %+v: want %d new sightings like the embedded mode", sum, len(want))
	}
	if len(sum.Reports) == 0 {
		t.Fatal("no report written")
	}
	for _, f := range sum.Reports {
		p := f
		if !filepath.IsAbs(p) {
			p = filepath.Join(out, f)
		}
		if st, err := os.Stat(p); err != nil || st.Size() == 0 {
			t.Fatalf("report %s: %v", f, err)
		}
	}
	// Nothing of the run is left active on Redis.
	rdb := e.redis.Client(t)
	if n, _ := rdb.SCard(e.ctx, "cli:runs").Result(); n != 0 {
		t.Fatalf("%d runs still active on Redis after scan returned", n)
	}
	t.Logf("scan --redis: run %s, %d new sightings, %d reports in %v", sum.RunID, sum.New, len(sum.Reports), time.Since(start).Round(time.Millisecond))
}
