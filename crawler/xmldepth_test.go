package crawler_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/afterlife-watch/afterlife/crawler"
)

func TestCheckXMLDepth(t *testing.T) {
	deep := `<?xml version="1.0"?><feed>` + strings.Repeat("<a>", 100_000) + strings.Repeat("</a>", 100_000) + `</feed>`
	if err := crawler.CheckXMLDepth([]byte(deep), 0); !errors.Is(err, crawler.ErrXMLTooDeep) {
		t.Fatalf("deep XML: %v, want ErrXMLTooDeep", err)
	}
	flat := `<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>a &amp; b</title><link href="x"/></entry>` +
		strings.Repeat("<entry><id>1</id></entry>", 10_000) + `</feed>`
	if err := crawler.CheckXMLDepth([]byte(flat), 0); err != nil {
		t.Fatalf("a wide, shallow feed: %v", err)
	}
	if err := crawler.CheckXMLDepth([]byte(strings.Repeat("<a>", 10)), 10); err != nil {
		t.Fatalf("exactly the limit: %v", err)
	}
	for _, junk := range []string{"", "<", "<<<>>>", "\xff\xfe<a", "<!DOCTYPE x [<!ENTITY a 'b'>]><x>&a;</x>"} {
		_ = crawler.CheckXMLDepth([]byte(junk), 0) // must end; malformed input is the decoder's to report
	}
}

// FuzzCheckXMLDepth: the depth scan ends on any input and agrees with a full decode about depth.
func FuzzCheckXMLDepth(f *testing.F) {
	f.Add([]byte(`<feed><entry><title>x</title></entry></feed>`), 3)
	f.Add([]byte(strings.Repeat("<a>", 40)), 8)
	f.Add([]byte("<a><![CDATA[<b><b><b>]]><!-- <c><c> --></a>"), 1)
	f.Fuzz(func(t *testing.T, b []byte, max int) {
		if max < 1 || max > 64 {
			max = 8
		}
		err := crawler.CheckXMLDepth(b, max)
		if err != nil && !errors.Is(err, crawler.ErrXMLTooDeep) {
			t.Fatalf("unexpected error %v", err)
		}
		if strings.Count(string(b), "<") <= max && err != nil {
			t.Fatalf("%d tags cannot nest deeper than %d: %v", strings.Count(string(b), "<"), max, err)
		}
	})
}
