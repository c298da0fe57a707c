package artifact_test

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/afterlife-watch/afterlife/artifact"
)

// FuzzReader: artifacts JSONL from anywhere (`afterlife match < file`, evaluation corpora) never
// panics the reader; every error names a line; what it returns validates or is reported.
func FuzzReader(f *testing.F) {
	f.Add([]byte(`{"id":"hf:model:a/b","source":"huggingface","kind":"model","url":"https://huggingface.co/a/b","title":"x"}` + "\n"))
	f.Add([]byte("{\"id\":\"\xff\",\"files\":[{\"path\":\"a\",\"size\":-1}]}\n{}\n\n[1,2]\n"))
	f.Add([]byte(`{"id":"x","text":"` + string(bytes.Repeat([]byte("a"), 1000)) + `"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r := artifact.NewReader(bytes.NewReader(b), "fuzz.jsonl")
		for i := 0; i < 10000; i++ {
			_, err := r.Next()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				var le *artifact.LineError
				if !errors.As(err, &le) {
					t.Fatalf("error without a line: %v", err)
				}
				return
			}
		}
	})
}
