package monitor_test

import (
	"context"
	"strings"
	"testing"

	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/monitor"
)

// The plan of the embedded watch plan says, per source, the limit it will respect: the anonymous
// one, or the one of the token found in the environment. A token changes what is planned (GitHub
// code search) and how long it takes (GitHub's core and search budgets).
func TestPlanRespectsTheTokenFoundAndItsLimits(t *testing.T) {
	reg, err := configs.LoadRegistry("")
	if err != nil {
		t.Fatal(err)
	}
	w, err := configs.LoadWatch("")
	if err != nil {
		t.Fatal(err)
	}
	plan := func(env map[string]string) map[string]monitor.SourcePlan {
		ps, err := monitor.PlanRun(context.Background(), monitor.PlanConfig{Watch: w, Registry: reg,
			Env: func(k string) string { return env[k] }})
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]monitor.SourcePlan{}
		for _, p := range ps {
			m[p.Source] = p
		}
		return m
	}
	anon := plan(nil)
	tok := plan(map[string]string{"GITHUB_TOKEN": "ghp_test_token_not_real"})
	a, k := anon["github"], tok["github"]
	if !strings.HasSuffix(a.RateLimit, "— anonymous") || !strings.Contains(a.RateLimit, "60 requests/hour anonymous") {
		t.Errorf("anonymous github: %q", a.RateLimit)
	}
	if !strings.HasSuffix(k.RateLimit, "— with GITHUB_TOKEN") || !strings.Contains(k.RateLimit, "5,000 requests/hour with a token") {
		t.Errorf("github with a token: %q", k.RateLimit)
	}
	if k.Buckets["github/search-code"] == 0 || a.Buckets["github/search-code"] != 0 {
		t.Errorf("code searches: anonymous %d, with a token %d", a.Buckets["github/search-code"], k.Buckets["github/search-code"])
	}
	// Anonymous: the core budget (60/h) bounds the run: every core request after the first costs a minute.
	if core := a.Buckets["github"]; a.EstSeconds < float64(core-1)*60 || k.EstSeconds >= a.EstSeconds {
		t.Errorf("github est_seconds: anonymous %.0f for %d core requests, with a token %.0f", a.EstSeconds, core, k.EstSeconds)
	}
	// A source that sends nothing without credentials says so and plans no request.
	if kg := anon["kaggle"]; kg.Requests != 0 || !strings.Contains(strings.Join(kg.Notes, " "), "skipped") {
		t.Errorf("kaggle without credentials: %+v", kg)
	}
	for name, p := range anon {
		if p.Enabled && name != "kaggle" && (p.SeedRequests == 0 || p.RateLimit == "") {
			t.Errorf("%s: %+v", name, p)
		}
	}
}
