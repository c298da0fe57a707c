package monitor_test

import (
	"os/exec"
	"strings"
	"testing"
)

// The backends under crawler/ implement the contract monitor owns; none of them may import
// monitor (the layers run one way: monitor above crawler, never the reverse).
func TestNoPackageUnderCrawlerDependsOnMonitor(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	out, err := exec.Command(goBin, "list", "-deps", "-test", "../crawler/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	var bad []string
	for _, p := range strings.Fields(string(out)) {
		if p == "github.com/afterlife-watch/afterlife/monitor" || strings.HasPrefix(p, "github.com/afterlife-watch/afterlife/monitor/") {
			bad = append(bad, p)
		}
	}
	if len(bad) > 0 {
		t.Fatalf("packages under crawler/ (tests included) depend on %v", bad)
	}
	if !strings.Contains(string(out), "github.com/afterlife-watch/afterlife/crawler/redisq") {
		t.Fatal("go list did not list crawler/redisq: the check looked at nothing")
	}
}
