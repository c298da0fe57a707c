package academictorrents

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/afterlife-watch/afterlife/configs"
	"github.com/afterlife-watch/afterlife/crawler/webapi/webapitest"
)

const brokenHash = "0123456789abcdef0123456789abcdef01234567"

// interleavedCatalogue is the recorded database.xml excerpt (testdata, from AT's official docs)
// with malformed items put between and after its two real items: a stray '<' in a title, a
// control character in a description (AT's own API is known for those), a bare '&', an item whose
// </item> is missing, invalid UTF-8, and one malformed item that names MS-Celeb-1M with a valid
// info-hash. Each is the kind of damage a hand-edited or badly escaped entry shows.
func interleavedCatalogue(t *testing.T) []byte {
	t.Helper()
	real := fixture(t, catalogueFixture)
	first := bytes.Index(real, []byte("<item>"))
	second := bytes.Index(real[first+1:], []byte("<item>")) + first + 1
	end := bytes.LastIndex(real, []byte("</item>")) + len("</item>")
	if first < 0 || second <= first || end <= second {
		t.Fatal("recorded catalogue has no two items")
	}
	bad := func(s string) []byte { return []byte("\n" + s + "\n") }
	var b bytes.Buffer
	b.Write(real[:first])
	b.Write(bad(`<item><title>weights < 2GB</title><category>Dataset</category><infohash>1111111111111111111111111111111111111111</infohash><size>12</size></item>`))
	b.Write(real[first:second])
	b.Write(bad("<item><title>ctrl</title><description>bell \x07 here</description><infohash>2222222222222222222222222222222222222222</infohash></item>"))
	b.Write(bad(`<item><title>R&D faces</title><infohash>3333333333333333333333333333333333333333</infohash></item>`))
	b.Write(bad(`<item><title>no end tag</title><infohash>4444444444444444444444444444444444444444</infohash>`))
	b.Write(real[second:end])
	b.Write(bad("<item><title>bad \xff\xfe utf-8</title><infohash>5555555555555555555555555555555555555555</infohash></item>"))
	b.Write(bad(`<item><title>MS-Celeb-1M aligned <b>crops</title><description>mirror</description><infohash>` + brokenHash + `</infohash><size>1000</size></item>`))
	b.Write(real[end:])
	return b.Bytes()
}

// Malformed items between good ones are skipped and counted; the good ones all come through.
// Today's strict decoding aborts the whole catalogue at the first bad item.
func TestCatalogueSkipsAndCountsMalformedItems(t *testing.T) {
	var got []Item
	st, err := ParseCatalogue(interleavedCatalogue(t), func(it Item) error { got = append(got, it); return nil })
	if err != nil {
		t.Fatalf("catalogue aborted: %v", err)
	}
	if st.Items != 2 || st.Malformed != 6 || st.Skipped != 0 || !st.Complete {
		t.Errorf("stats %+v, want 2 items, 6 malformed, complete", st)
	}
	var good, salvaged []string
	for _, it := range got {
		if it.Malformed {
			salvaged = append(salvaged, it.InfoHash)
		} else {
			good = append(good, it.InfoHash)
		}
	}
	if !slices.Equal(good, []string{"b2bbaccd349e8e2954a438ced6fc01adae4ea1f1", "c143f1b108fe5ab748d5a6f1ff7b2a6271e4219d"}) {
		t.Errorf("good items %v", good)
	}
	// Every malformed item with a readable info-hash is handed on, marked, for the listing.
	if len(salvaged) != 6 || salvaged[5] != brokenHash {
		t.Errorf("salvaged %v", salvaged)
	}
	if it := got[len(got)-1]; it.Title != "MS-Celeb-1M aligned crops" || it.Size != 1000 {
		t.Errorf("salvaged item %+v", it)
	}
}

// Through the adapter: the malformed count reaches the source's notes (the run's message), the
// good match is followed, and the malformed entry that matches a watched dataset is kept in the
// listing (its torrent is not gone) but not followed.
func TestCatalogueMalformedCountReachesNotesAndListing(t *testing.T) {
	body := interleavedCatalogue(t)
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "application/xml")
		_, _ = rw.Write(body)
	}))
	t.Cleanup(srv.Close)
	s := newSource(t, srv.URL)
	d := &configs.Dataset{ID: "ms-celeb-1m", Name: "MS-Celeb-1M", InfoHashes: []string{"c143f1b108fe5ab748d5a6f1ff7b2a6271e4219d"}}
	jobs, err := s.Plan(context.Background(), []*configs.Dataset{d})
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Handle(context.Background(), jobs[0], webapitest.NewFetcher())
	if err != nil {
		t.Fatal(err)
	}
	notes := strings.Join(res.Notes, "\n")
	if !strings.Contains(notes, "2 items, 1 matched, 0 without a valid info-hash skipped, 6 malformed skipped") ||
		!strings.Contains(notes, "1 malformed catalogue entries match a watched dataset") || !strings.Contains(notes, "at:"+brokenHash) {
		t.Errorf("notes:\n%s", notes)
	}
	if len(res.Next) != 1 || res.Next[0].Meta["id"] != "at:c143f1b108fe5ab748d5a6f1ff7b2a6271e4219d" {
		t.Errorf("followed %+v", res.Next)
	}
	if res.Listing == nil || !slices.Contains(res.Listing.IDs, "at:"+brokenHash) || len(res.Listing.IDs) != 2 {
		t.Errorf("listing %+v", res.Listing)
	}
}
