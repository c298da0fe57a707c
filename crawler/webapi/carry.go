package webapi

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/afterlife-watch/afterlife/artifact"
)

// Meta keys adapters use to carry state from one job to the next.
const (
	MetaArtifact = "artifact" // a partly filled artifact (JSON) a follow-up job completes
	MetaID       = "id"       // the artifact id a detail job is about (for Result.Gone)
	MetaSeen     = "seen"     // ids listed on earlier pages of the same query, newline-separated
	MetaScope    = "scope"    // the listing scope (query) a page belongs to
	MetaDepth    = "depth"    // lineage depth (children of children)
)

// MaxCarriedFiles bounds the file list carried in job metadata.
const MaxCarriedFiles = 2000

// EncodeArtifact serialises a partial artifact for a follow-up job's metadata.
func EncodeArtifact(a artifact.Artifact) string {
	if len(a.Files) > MaxCarriedFiles {
		a.Files = a.Files[:MaxCarriedFiles]
	}
	b, _ := json.Marshal(a)
	return string(b)
}

// DecodeArtifact reads what EncodeArtifact wrote.
func DecodeArtifact(s string) (artifact.Artifact, error) {
	var a artifact.Artifact
	if err := json.Unmarshal([]byte(s), &a); err != nil {
		return a, fmt.Errorf("carried artifact: %w", err)
	}
	if err := a.Validate(); err != nil {
		return a, fmt.Errorf("carried artifact: %w", err)
	}
	return a, nil
}

// Seen splits MetaSeen.
func Seen(meta map[string]string) []string {
	s := meta[MetaSeen]
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// WithSeen returns a copy of meta with ids appended to MetaSeen.
func WithSeen(meta map[string]string, ids []string) map[string]string {
	out := make(map[string]string, len(meta)+1)
	for k, v := range meta {
		out[k] = v
	}
	all := append(Seen(meta), ids...)
	out[MetaSeen] = strings.Join(all, "\n")
	return out
}

// CopyMeta returns a copy of meta with the given key/value pairs set.
func CopyMeta(meta map[string]string, kv ...string) map[string]string {
	out := make(map[string]string, len(meta)+len(kv)/2)
	for k, v := range meta {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}
