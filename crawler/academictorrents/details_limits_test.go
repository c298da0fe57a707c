package academictorrents

import (
	"bytes"
	"testing"

	"github.com/afterlife-watch/afterlife/crawler"
)

// A details page over MaxDetailsBytes is refused with an error the run loop treats as permanent:
// retrying the same page cannot make it smaller (the hostile flood scan saw it fetched three times).
func TestOversizedDetailsPageIsAPermanentRefusal(t *testing.T) {
	page := append([]byte("<html><body>"), bytes.Repeat([]byte("<p>x</p>"), MaxDetailsBytes/8+1)...)
	_, err := ParseDetails(page)
	if err == nil {
		t.Fatal("an over-size details page was parsed")
	}
	if !crawler.Permanent(err) {
		t.Fatalf("over-size refusal is retried: %v", err)
	}
}
