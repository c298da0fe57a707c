package huggingface

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler/webapi/webapitest"
)

// A search that asked for 25 models and got 20,000 (a hostile page, generated here) yields at most
// 25 follow-up jobs, says so in a note, and is no complete listing (nothing is taken for gone).
func TestOversizedSearchPageIsCutToThePageSizeAsked(t *testing.T) {
	const hits, asked = 20000, 25
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		var b strings.Builder
		b.WriteString("[")
		for i := 0; i < hits; i++ {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, `{"id":"flood/model-%d"}`, i)
		}
		b.WriteString("]")
		rw.Header().Set("Content-Type", "application/json")
		fmt.Fprint(rw, b.String())
	}))
	defer srv.Close()
	src, err := New(configs.SourceConfig{BaseURL: srv.URL, PageSize: asked}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := src.(*Source)
	res, err := s.Handle(ctx(t), s.searchJob(KindSearchModels, "test", "search", "bert", ""), webapitest.NewFetcher())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Next) > asked {
		t.Fatalf("%d follow-up jobs from a page of %d hits, want at most the %d asked for", len(res.Next), hits, asked)
	}
	if res.Listing != nil {
		t.Fatalf("a cut page was taken for a complete listing of %d ids", len(res.Listing.IDs))
	}
	if len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "answered 20000 items for a page of 25") {
		t.Fatalf("notes = %q", res.Notes)
	}
}
