package manuscript

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/afterlife-watch/afterlife/configs"
)

// The same documents against the embedded registry that ships in the binary: the verdicts a user
// gets must be the same.
func TestEmbeddedRegistryVerdicts(t *testing.T) {
	reg, err := configs.LoadRegistry("")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	face := groffPDF(t, dir, "face.pdf", faceMS)
	imagenet := groffPDF(t, dir, "imagenet.pdf", imagenetMS)
	files, order := tinyAuditBundle()
	tiny := filepath.Join(dir, "tiny.tar.gz")
	writeTarGz(t, tiny, files, order)
	sd := filepath.Join(dir, "sd.md")
	if err := os.WriteFile(sd, []byte(sdMarkdown), 0o644); err != nil {
		t.Fatal(err)
	}
	reid := filepath.Join(dir, "reid.md")
	if err := os.WriteFile(reid, []byte("# Part Features for Re-identification\n\n## 4 Experiments\n\nWe evaluate on Market-1501 and DukeMTMC-reID.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]Verdict{
		reid:     {"dukemtmc": Uses},
		face:     {"ms-celeb-1m": Uses, "megaface": Mentions},
		imagenet: {},
		tiny:     {"tiny-images": Studies},
		sd:       {"laion-5b": Uses},
	}
	c := NewChecker(reg)
	for p, w := range want {
		r := c.CheckPath(context.Background(), Reader{}, p)
		if r.Error != nil {
			t.Fatalf("%s: %+v", p, r.Error)
		}
		got := map[string]Verdict{}
		for _, dv := range r.Datasets {
			got[dv.Dataset] = dv.Verdict
		}
		if len(got) != len(w) {
			t.Errorf("%s: verdicts %v, want %v", filepath.Base(p), got, w)
			continue
		}
		for ds, v := range w {
			if got[ds] != v {
				t.Errorf("%s: %s is %s, want %s", filepath.Base(p), ds, got[ds], v)
			}
		}
	}
}
