package configs

import (
	"strings"
	"testing"
)

func TestEmbeddedRelationsValidate(t *testing.T) {
	r, err := DefaultRelations()
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range RequiredCues {
		c := r.Cues[n]
		if c == nil || c.Regexp() == nil {
			t.Fatalf("cue %s not compiled", n)
		}
		for _, ex := range c.Match {
			if !c.MatchString(ex) {
				t.Errorf("cue %s: example %q does not match", n, ex)
			}
		}
	}
	if r.Strengths["infohash"] <= r.Strengths["text"] {
		t.Errorf("an info-hash must be stronger evidence than a name in text: %v", r.Strengths)
	}
}

func TestRelationsValidationNamesEveryProblem(t *testing.T) {
	bad := strings.NewReplacer(
		"schema_version: 1", "schema_version: 2",
		"  infohash: 0.98", "  infohash: 1.5",
		"  train:\n", "  trian:\n",
	).Replace(string(DefaultRelationsYAML()))
	// a gate that hides an example: the first example of `host` no longer passes its gate
	bad = strings.Replace(bad, "'converted', 'parquet',", "'converted',", 1)
	_, err := ParseRelations([]byte(bad), "bad.yaml")
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"bad.yaml", "schema_version: 2", "strengths.infohash", "cues.train: missing",
		"cues.trian: unknown cue", "cues.host: example \"parquet files\" matches the pattern but no gate literal"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestRelationsRejectsBadPatternAndUnknownField(t *testing.T) {
	b := strings.Replace(string(DefaultRelationsYAML()), "pattern: '\\b(train(s|ed|ing)?", "pattern: '\\b((train(s|ed|ing)?", 1)
	if _, err := ParseRelations([]byte(b), "x.yaml"); err == nil || !strings.Contains(err.Error(), "cues.train.pattern") {
		t.Errorf("unbalanced pattern: %v", err)
	}
	b = strings.Replace(string(DefaultRelationsYAML()), "schema_version: 1", "schema_version: 1\nstrenghts: {}", 1)
	if _, err := ParseRelations([]byte(b), "y.yaml"); err == nil || !strings.Contains(err.Error(), "strenghts") {
		t.Errorf("unknown field: %v", err)
	}
}

func TestLoadRelationsFileErrors(t *testing.T) {
	if _, err := LoadRelations("/nonexistent/relations.yaml"); err == nil {
		t.Error("missing file: no error")
	}
	r, err := LoadRelations("")
	if err != nil || r.File != DefaultRelationsName {
		t.Errorf("default: %v %v", r, err)
	}
}
