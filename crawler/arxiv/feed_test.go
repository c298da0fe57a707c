package arxiv

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Every recorded arXiv feed (both formats) parses to the values the server sent.
func TestParseFeedRecorded(t *testing.T) {
	type want struct {
		total, start, n int
		first           Entry // fields compared when non-empty
		firstAuthors    int
	}
	cases := map[string]want{
		"query_id_list_2016_old_format.xml": {total: 1, n: 1, first: Entry{ID: "1111.2011", Version: "v2",
			Title:     "Quantum Criticality for Extended Nodes on a Bethe Lattice in the Large Connectivity Limit",
			Published: "2011-11-08", Updated: "2012-04-02"}},
		"query_search_au_ti_2016_old_format.xml": {total: 1, n: 1, firstAuthors: 3, first: Entry{ID: "cond-mat/0603029", Version: "v1",
			Title: "From stripe to checkerboard order on the square lattice in the presence of quenched disorder",
			DOI:   "10.1103/PhysRevB.74.024520", JournalRef: "Phys. Rev. B 74, 024520 (2006)", Primary: "cond-mat.str-el",
			Comment: "10 pages, 11 figures; added reference", Published: "2006-03-02"}},
		"query_search_author_2016_old_format.xml": {total: 31, n: 10, first: Entry{ID: "1201.4869",
			Title: "A Luttinger Liquid Core Inside Helium-4 Filled Nanopores", Published: "2012-01-23"}},
		"query_id_list_single_2026.xml": {total: 1, n: 1, firstAuthors: 2, first: Entry{ID: "1605.08386", Version: "v1",
			Title: "Heat-bath random walks with Markov bases", Comment: "20 pages, 3 figures", Primary: "math.CO", Published: "2016-05-26"}},
		"query_id_list_two_ids_2026.xml": {total: 1, n: 1, first: Entry{ID: "1707.08567",
			Title: "Proceedings of Workshop AEW10: Concepts in Information Theory and Communications", Primary: "cs.IT"}},
		"query_id_list_old_style_id_2026.xml":          {total: 1, n: 1, first: Entry{ID: "astro-ph/0601001", Version: "v1", Published: "2006-01-02"}},
		"query_id_list_unknown_id_empty_feed_2026.xml": {total: 0, n: 0},
		"query_search_all_testing_start0_max10_2026.xml": {total: 214881, n: 10, first: Entry{ID: "2202.12139",
			Title: "Testing Deep Learning Models: A First Comparative Study of Multiple Testing Techniques",
			DOI:   "10.1109/ICSTW55395.2022.00035", Published: "2022-02-24"}},
		"query_search_all_testing_start10_max10_2026.xml": {total: 214881, start: 10, n: 10, first: Entry{ID: "2403.16981", Version: "v2",
			Title: "The Sample Complexity of Simple Binary Hypothesis Testing", Published: "2024-03-25"}},
	}
	for name, w := range cases {
		t.Run(name, func(t *testing.T) {
			f, err := ParseFeed(readFixture(t, name))
			if err != nil {
				t.Fatal(err)
			}
			if f.TotalResults != w.total || f.StartIndex != w.start || len(f.Entries) != w.n {
				t.Fatalf("total/start/n = %d/%d/%d, want %d/%d/%d", f.TotalResults, f.StartIndex, len(f.Entries), w.total, w.start, w.n)
			}
			if w.n == 0 {
				return
			}
			got := f.Entries[0]
			check := func(field, g, want string) {
				if want != "" && g != want {
					t.Errorf("%s = %q, want %q", field, g, want)
				}
			}
			check("ID", got.ID, w.first.ID)
			check("Version", got.Version, w.first.Version)
			check("Title", got.Title, w.first.Title)
			check("DOI", got.DOI, w.first.DOI)
			check("JournalRef", got.JournalRef, w.first.JournalRef)
			check("Primary", got.Primary, w.first.Primary)
			check("Comment", got.Comment, w.first.Comment)
			check("Published", got.Published, w.first.Published)
			check("Updated", got.Updated, w.first.Updated)
			if w.firstAuthors > 0 && len(got.Authors) != w.firstAuthors {
				t.Errorf("authors = %v, want %d", got.Authors, w.firstAuthors)
			}
			for _, e := range f.Entries {
				a := e.Artifact()
				if err := a.Validate(); err != nil {
					t.Errorf("%s: %v", a.ID, err)
				}
				if a.Text == "" || strings.Contains(a.Text, "\n") || a.URL != "https://arxiv.org/abs/"+e.ID {
					t.Errorf("%s: text %q url %q", a.ID, truncate(a.Text, 40), a.URL)
				}
			}
		})
	}
}

func TestParseFeedArtifactFields(t *testing.T) {
	f, err := ParseFeed(readFixture(t, "query_search_au_ti_2016_old_format.xml"))
	if err != nil {
		t.Fatal(err)
	}
	a := f.Entries[0].Artifact()
	if a.ID != "arxiv:cond-mat/0603029" || a.Kind != "paper" || a.Source != "arxiv" || a.Published != "2006-03-02" {
		t.Fatalf("artifact = %+v", a)
	}
	if !strings.HasPrefix(a.Text, "We discuss the effects of quenched disorder on a model of charge density wave (CDW) ordering") {
		t.Errorf("text = %q", truncate(a.Text, 100))
	}
	want := []string{"arxiv-category:cond-mat.str-el", "arxiv-category:cond-mat.supr-con", "doi:10.1103/physrevb.74.024520"}
	if strings.Join(a.Tags, ",") != strings.Join(want, ",") {
		t.Errorf("tags = %v, want %v", a.Tags, want)
	}
}

func TestParseFeedErrorFeed(t *testing.T) {
	_, err := ParseFeed(readFixture(t, "query_id_list_malformed_id_400_error_feed_2026.xml"))
	var apiErr *APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("err = %v, want *APIError", err)
	}
	if apiErr.Message != "incorrect id format for abc" || apiErr.Code != "incorrect_id_format_for_abc" {
		t.Errorf("api error = %+v", apiErr)
	}
}

func TestParseFeedRejectsGarbage(t *testing.T) {
	for name, body := range map[string]string{
		"html":        "<html><body>Service unavailable</body></html>",
		"truncated":   `<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>http://arxiv.org/abs/1605.08386v1</id>`,
		"bad total":   `<feed xmlns="http://www.w3.org/2005/Atom" xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/"><opensearch:totalResults>lots</opensearch:totalResults></feed>`,
		"bad entryid": `<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>https://example.org/x</id></entry></feed>`,
		"empty":       "",
	} {
		if _, err := ParseFeed([]byte(body)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func FuzzParseFeed(f *testing.F) {
	for _, name := range []string{"query_id_list_2016_old_format.xml", "query_id_list_single_2026.xml",
		"query_id_list_malformed_id_400_error_feed_2026.xml", "query_search_au_ti_2016_old_format.xml"} {
		f.Add(readFixture(f, name))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		feed, err := ParseFeed(b)
		if err != nil {
			return
		}
		for _, e := range feed.Entries {
			a := e.Artifact()
			if err := a.Validate(); err != nil {
				t.Fatalf("parsed entry gives an invalid artifact: %v", err)
			}
			if !strings.HasPrefix(a.ID, "arxiv:") || len(a.ID) <= len("arxiv:") {
				t.Fatalf("bad id %q", a.ID)
			}
		}
	})
}
