package torrent

import (
	"errors"
	"strings"
	"testing"
)

// Deeply nested bencode from outside is refused before anacrolix's recursive decoder can
// overflow the stack (a fatal error, not a panic); ordinary nesting passes.
func TestDeepBencodeRefused(t *testing.T) {
	deep := "d4:infod4:listl" + strings.Repeat("l", 1_000_000) + strings.Repeat("e", 1_000_000) + "eee"
	if _, err := ParseMetainfo([]byte(deep)); !errors.Is(err, ErrTooDeep) {
		t.Fatalf("ParseMetainfo(deep) = %v, want ErrTooDeep", err)
	}
	if _, err := ParseScrapeResponse([]byte(strings.Repeat("l", 100_000))); !errors.Is(err, ErrTooDeep) {
		t.Fatalf("ParseScrapeResponse(deep) = %v, want ErrTooDeep", err)
	}
	if _, err := ParseAnnounceResponse([]byte(strings.Repeat("d1:a", 10_000))); !errors.Is(err, ErrTooDeep) {
		t.Fatalf("ParseAnnounceResponse(deep) = %v, want ErrTooDeep", err)
	}
	ok := "d5:filesd20:" + strings.Repeat("a", 20) + "d8:completei3e10:incompletei1e10:downloadedi9eeee"
	if err := checkBencodeDepth([]byte(ok)); err != nil {
		t.Fatal(err)
	}
	if err := checkBencodeDepth([]byte(strings.Repeat("l", MaxBencodeDepth) + strings.Repeat("e", MaxBencodeDepth))); err != nil {
		t.Fatalf("exactly MaxBencodeDepth levels: %v", err)
	}
	for _, junk := range []string{"", "i", "99999999999999999999999:", "1:", "l9", "<html>", "d3:abc"} {
		_ = checkBencodeDepth([]byte(junk)) // must end, whatever it says
	}
}

// FuzzCheckBencodeDepth: the depth scan ends on any input; what it passes does not overflow the
// decoder's stack (ParseMetainfo and the tracker parsers run on it).
func FuzzCheckBencodeDepth(f *testing.F) {
	f.Add([]byte("d4:infod4:name1:ae"))
	f.Add([]byte(strings.Repeat("l", 600)))
	f.Add([]byte("d3:keyi99999999999999999999ee"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if err := checkBencodeDepth(b); err != nil {
			if !errors.Is(err, ErrTooDeep) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		_, _ = ParseMetainfo(b)
		_, _ = ParseScrapeResponse(b)
		_, _ = ParseAnnounceResponse(b)
	})
}
