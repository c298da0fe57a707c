package webapi

import (
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler"
)

func TestLinks(t *testing.T) {
	h := http.Header{}
	// As recorded by GitHub (link_pagination_page2_of5.meta.json).
	h.Add("Link", `<https://api.github.com/repositories/515435940/issues?per_page=3&page=1>; rel="prev", <https://api.github.com/repositories/515435940/issues?per_page=3&page=3>; rel="next", <https://api.github.com/repositories/515435940/issues?per_page=3&page=5>; rel="last", <https://api.github.com/repositories/515435940/issues?per_page=3&page=1>; rel="first"`)
	l := Links(h, "")
	if l["next"] != "https://api.github.com/repositories/515435940/issues?per_page=3&page=3" || l["last"] == "" || l["prev"] == "" || l["first"] == "" {
		t.Errorf("%v", l)
	}
	h = http.Header{"Link": {`</api/models?cursor=eyJ,9>; rel="next"`}}
	if got := Links(h, "https://huggingface.co/api/models?search=x")["next"]; got != "https://huggingface.co/api/models?cursor=eyJ,9" {
		t.Errorf("relative with comma: %q", got)
	}
	if len(Links(http.Header{"Link": {`garbage, <x>; rel=`}}, "")) != 0 {
		t.Error("garbage parsed")
	}
	if !SameHost("https://api.github.com/search", "https://api.github.com/x") || SameHost("https://api.github.com/a", "https://evil.example/a") {
		t.Error("SameHost")
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Unix(1700000000, 0)
	cases := []struct {
		h    http.Header
		want time.Duration
	}{
		{http.Header{"Retry-After": {"60"}}, time.Minute},
		{http.Header{"Retry-After": {now.Add(90 * time.Second).UTC().Format(http.TimeFormat)}}, 90 * time.Second},
		{http.Header{"X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Reset": {"1700000030"}}, 30 * time.Second},
		{http.Header{"X-Ratelimit-Remaining": {"5"}, "X-Ratelimit-Reset": {"1700000030"}}, 0},
		{http.Header{"Ratelimit": {`"api";r=0;t=42`}}, 42 * time.Second},
		{http.Header{}, 0},
	}
	for _, c := range cases {
		if got := RetryAfter(c.h, now); got != c.want {
			t.Errorf("%v: %v, want %v", c.h, got, c.want)
		}
	}
}

func TestClassify(t *testing.T) {
	cases := []struct {
		status int
		h      http.Header
		body   string
		want   Class
	}{
		{200, nil, "", OK},
		{304, nil, "", NotModified},
		{404, nil, "", Gone},
		{410, nil, "", Gone},
		{401, nil, "", Unauthorized},
		{403, http.Header{"X-Ratelimit-Remaining": {"0"}}, "", RateLimited},
		{403, nil, `{"message":"You have exceeded a secondary rate limit."}`, RateLimited},
		{403, nil, `{"message":"You have triggered an abuse detection mechanism."}`, RateLimited},
		{403, nil, `{"message":"Resource not accessible"}`, Forbidden},
		{429, nil, "", RateLimited},
		{400, nil, "", Invalid},
		{422, nil, "", Invalid},
		{502, nil, "", ServerError},
		{302, nil, "", Other},
	}
	for _, c := range cases {
		h := c.h
		if h == nil {
			h = http.Header{}
		}
		if got := Classify(&crawler.Response{Status: c.status, Header: h, Body: []byte(c.body)}); got != c.want {
			t.Errorf("%d %s: %v, want %v", c.status, c.body, got, c.want)
		}
	}
	if Classify(&crawler.Response{Status: 304, FromCache: true, Header: http.Header{}}) != OK {
		t.Error("304 from cache is OK")
	}
}

func TestErrorMessage(t *testing.T) {
	for body, want := range map[string]string{
		`{"message":"Validation Failed","errors":[]}`: "Validation Failed",
		`{"error":"Repository not found"}`:            "Repository not found",
		"Temporary Redirect.\nmore":                   "Temporary Redirect.",
		"bad\x00byte":                                 "bad byte",
	} {
		if got := ErrorMessage([]byte(body)); got != want {
			t.Errorf("%q: %q", body, got)
		}
	}
}

func TestTermsAndIDs(t *testing.T) {
	d := &configs.Dataset{ID: "x", Name: "Oxford Town Centre (CCTV)", Aliases: []string{"TownCentre", "townCentre", "TC"},
		Derivatives: []configs.Derivative{{ID: "d", Name: "Derived", Aliases: []string{"towncentre-v2"}, KnownFiles: []configs.KnownFile{{Name: "b.avi"}}, CarriesData: true},
			{ID: "relabelled", Name: "Relabelled", KnownFiles: []configs.KnownFile{{Name: "r.avi"}}}}, // carries no data: not searched
		KnownFiles:  []configs.KnownFile{{Name: "TownCentreXVID.avi"}},
		KnownModels: []configs.KnownModel{{ID: "o/m", Files: []string{"w.pth"}}, {Name: "see https://x.org/a/b and org/model-v2 (mirror)"}},
		Papers:      []configs.Paper{{ArXiv: "1607.08221"}, {ArXiv: "not-an-id"}}}
	if got := Terms(d, 3); !slices.Equal(got, []string{"TownCentre", "Oxford Town Centre", "towncentre-v2", "Derived"}) {
		t.Errorf("terms %v", got)
	}
	if got := FileNames(d); !slices.Equal(got, []string{"TownCentreXVID.avi", "b.avi", "w.pth"}) {
		t.Errorf("files %v", got)
	}
	if got := HubModelIDs(d); !slices.Equal(got, []string{"o/m"}) {
		t.Errorf("hub ids %v", got)
	}
	d.KnownModels[1].Name = "mirrors: org/model-v2, ab/cd"
	if got := HubModelIDs(d); !slices.Equal(got, []string{"o/m", "org/model-v2", "ab/cd"}) {
		t.Errorf("hub ids %v", got)
	}
	if got := ArXivIDs(d); !slices.Equal(got, []string{"1607.08221"}) {
		t.Errorf("arxiv %v", got)
	}
	if Slug("80 Million Tiny Images") != "80-Million-Tiny-Images" || Slug("laion-aesthetics v2 5+") != "laion-aesthetics-v2-5" || Slug("EleutherAI/pile") != "EleutherAI/pile" {
		t.Error("slug")
	}
	if Date("2024-09-02T10:00:00Z") != "2024-09-02" || Date("2024-9-2") != "" || Date("") != "" {
		t.Error("date")
	}
}

func TestRateLimitError(t *testing.T) {
	now := time.Unix(1700000000, 0)
	resp := &crawler.Response{URL: "https://api.github.com/search/code?q=x", Status: 403,
		Header: http.Header{"Retry-After": {"60"}}, Body: []byte(`{"message":"You have exceeded a secondary rate limit."}`)}
	err := RateLimitError(resp, now)
	var se *crawler.StatusError
	if !errors.As(err, &se) || se.Status != 429 || se.Permanent() || crawler.Permanent(err) {
		t.Fatalf("%v", err)
	}
	var ra interface{ RetryAfter() time.Duration }
	if !errors.As(err, &ra) || ra.RetryAfter() != time.Minute {
		t.Errorf("retry after %v", ra)
	}
	if err.Error() != "GET https://api.github.com/search/code?q=x: HTTP 429: rate limited (HTTP 403): You have exceeded a secondary rate limit.; retry after 60s" {
		t.Errorf("%q", err.Error())
	}
}
