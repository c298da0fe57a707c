package huggingface

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/afterlife-watch/afterlife/artifact"
)

func addFixtures(f *testing.F, glob string) {
	files, _ := filepath.Glob(glob)
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
}

func FuzzParseInfo(f *testing.F) {
	addFixtures(f, "testdata/*.json")
	f.Add([]byte(`{"id":"a/b","cardData":{"datasets":"x","base_model":["y/z",3]},"siblings":[{"rfilename":"f","size":-1,"lfs":{"size":5}}]}`))
	s := &Source{base: "https://huggingface.co"}
	f.Fuzz(func(t *testing.T, b []byte) {
		info, err := ParseInfo(b)
		if err != nil {
			return
		}
		a := s.Artifact(info, false)
		if err := a.Validate(); err != nil {
			t.Fatalf("parsed object gives an invalid artifact: %v", err)
		}
	})
}

func FuzzParseList(f *testing.F) {
	f.Add([]byte(`[{"id":"a/b"},{"id":""},{"modelId":"c/d"},3,null]`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		items, err := ParseList(b, true)
		if err != nil {
			return
		}
		for _, it := range items {
			if !validID(it.ID) {
				t.Fatalf("invalid id %q passed", it.ID)
			}
		}
	})
}

func FuzzApplyCard(f *testing.F) {
	addFixtures(f, "testdata/model_cards/*.md")
	f.Add([]byte("---\r\ndatasets: [a]\r\n---\r\n"))
	f.Add([]byte("---\ndatasets: {a: 1}\nbase_model: [[x]]\n---\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		a := artifact.Artifact{ID: "hf:model:o/n", Source: Name, Kind: artifact.KindModel}
		ApplyCard(&a, b)
		if len(a.Text) > MaxTextBytes {
			t.Fatalf("text %d bytes", len(a.Text))
		}
	})
}
