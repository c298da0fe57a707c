package zenodo

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler/webapi"
	"github.com/afterlife-watch/afterlife/crawler/webapi/webapitest"
)

// A search that asked for 25 records and got 20,000 (a hostile page, generated here) yields at
// most 25 record jobs, says so in a note, and no page of the query is a complete listing.
func TestOversizedSearchPageIsCutToThePageSizeAsked(t *testing.T) {
	const hits, asked = 20000, 25
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		var b strings.Builder
		b.WriteString(`{"hits":{"total":20001,"hits":[`)
		for i := 0; i < hits; i++ {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, `{"id":%d,"metadata":{"title":"flood %d"}}`, 1000+i, i)
		}
		next := ""
		if r.URL.Query().Get("page") != "2" {
			next = fmt.Sprintf(`"next":"http://%s/api/records?q=x&size=25&page=2"`, r.Host)
		}
		fmt.Fprintf(&b, `]},"links":{%s}}`, next)
		rw.Header().Set("Content-Type", "application/json")
		fmt.Fprint(rw, b.String())
	}))
	defer srv.Close()
	s := newSource(t, srv.URL, configs.SourceConfig{})
	res, err := s.Handle(ctx(t), s.searchJob("d", `"x"`), webapitest.NewFetcher())
	if err != nil {
		t.Fatal(err)
	}
	records, pages := 0, 0
	var page2 = res.Next[len(res.Next)-1]
	for _, j := range res.Next {
		switch j.Kind {
		case KindRecord:
			records++
		case KindSearch:
			pages++
		}
	}
	if records > asked || pages != 1 {
		t.Fatalf("%d record jobs and %d next pages from a page of %d hits, want at most %d and 1", records, pages, hits, asked)
	}
	if len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "answered 20000 items for a page of 25") {
		t.Fatalf("notes = %q", res.Notes)
	}
	if page2.Meta[webapi.MetaPartial] == "" {
		t.Fatal("the next page does not carry that the query was cut")
	}
	// The last page is fine in itself, but the query lost hits on page 1: no listing.
	res, err = s.Handle(ctx(t), page2, webapitest.NewFetcher())
	if err != nil {
		t.Fatal(err)
	}
	if res.Listing != nil {
		t.Fatalf("a query with a cut page was taken for a complete listing of %d ids", len(res.Listing.IDs))
	}
}
