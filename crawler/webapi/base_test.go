package webapi

import (
	"strings"
	"testing"

	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler"
)

func TestParseCommonAppliesDefaultsBoundsAndToken(t *testing.T) {
	d := Defaults{BaseURL: "https://api.example.org/", PageSize: 50, MaxPageSize: 100, MaxPages: 3, TokenEnv: "EX_TOKEN"}
	env := func(k string) string { return map[string]string{"EX_TOKEN": "  s3cret \n"}[k] }
	c, err := ParseCommon("ex", configs.SourceConfig{PageSize: 500}, env, d)
	if err != nil {
		t.Fatal(err)
	}
	if c.Base != "https://api.example.org" || c.PageSize != 100 || c.MaxPages != 3 || c.Token != "s3cret" || c.URL.Host != "api.example.org" {
		t.Fatalf("common = %+v", c)
	}
	for _, bad := range []string{"not a url", "ftp://example.org", "https://"} {
		_, err := ParseCommon("ex", configs.SourceConfig{BaseURL: bad}, nil, d)
		if err == nil || !strings.HasPrefix(err.Error(), "ex: base_url") {
			t.Errorf("base_url %q: err = %v, want one naming the source and key", bad, err)
		}
	}
}

func TestOptionHelpersNameSourceKeyAndAllowedValues(t *testing.T) {
	cfg := configs.SourceConfig{Options: map[string]string{"sort": "oldest", "deep": "maybe", "depth": "-1", "ok": "relevance"}}
	if _, err := Choice("ex", cfg, "sort", "newest", "best"); err == nil || err.Error() != `ex: options.sort: "oldest" is not one of newest, best` {
		t.Errorf("Choice err = %v", err)
	}
	if v, err := Choice("ex", cfg, "unset", "newest", "best"); err != nil || v != "newest" {
		t.Errorf("unset Choice = %q, %v; want the first allowed value", v, err)
	}
	if v, _ := Choice("ex", cfg, "ok", "bulk", "relevance"); v != "relevance" {
		t.Errorf("Choice = %q", v)
	}
	if _, err := Bool("ex", cfg, "deep", false); err == nil || !strings.Contains(err.Error(), "options.deep") {
		t.Errorf("Bool err = %v", err)
	}
	if _, err := NonNegative("ex", cfg, "depth", 2); err == nil || !strings.Contains(err.Error(), "options.depth") {
		t.Errorf("NonNegative err = %v", err)
	}
}

func TestPlanKeepsEachJobIDOnceInOrder(t *testing.T) {
	var p Plan
	for _, id := range []string{"a", "b", "a", "c", "b"} {
		p.Add(crawler.Job{ID: id})
	}
	if !p.Add(crawler.Job{ID: "D"}, "d") || p.Add(crawler.Job{ID: "d2"}, "d") {
		t.Error("an explicit key dedups jobs with different ids")
	}
	var got []string
	for _, j := range p.Jobs() {
		got = append(got, j.ID)
	}
	if strings.Join(got, ",") != "a,b,c,D" {
		t.Fatalf("jobs = %v", got)
	}
}
