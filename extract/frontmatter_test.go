package extract

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseFrontMatter(t *testing.T) {
	text := "---\nlicense: mit\ndatasets:\n- EleutherAI/pile\n- \"laion/laion2B-en\"\nbase_model: CompVis/stable-diffusion-v1-4\n" +
		"tags: [lora, 'text-to-image', base_model:finetune:x/y]\nmodel-index:\n- name: foo\n  results: []\n---\n# Body\n"
	fm, ok := ParseFrontMatter(text)
	if !ok {
		t.Fatal("not parsed")
	}
	if got := fm.Get("datasets"); !reflect.DeepEqual(got, []string{"EleutherAI/pile", "laion/laion2B-en"}) {
		t.Errorf("datasets = %q", got)
	}
	if got := fm.Get("tags"); !reflect.DeepEqual(got, []string{"lora", "text-to-image", "base_model:finetune:x/y"}) {
		t.Errorf("tags = %q", got)
	}
	if got := fm.Get("base_model"); !reflect.DeepEqual(got, []string{"CompVis/stable-diffusion-v1-4"}) {
		t.Errorf("base_model = %q", got)
	}
	if got := fm.Get("model-index"); len(got) != 0 {
		t.Errorf("mapping items kept: %q", got)
	}
	for _, v := range fm.Values {
		if text[v.Start:v.End] != v.Value {
			t.Errorf("offsets of %q point at %q", v.Value, text[v.Start:v.End])
		}
	}
	if !strings.HasPrefix(text[fm.End:], "# Body") {
		t.Errorf("body starts at %q", text[fm.End:])
	}
}

func TestParseFrontMatterRejects(t *testing.T) {
	for _, s := range []string{
		"",
		"no front matter",
		"---\ndatasets:\n- x\n",    // no closing fence
		"---x\ndatasets: y\n---\n", // not a fence
		"---\n" + strings.Repeat("a: b\n", 100000) + "---\n", // beyond the bounds
	} {
		if _, ok := ParseFrontMatter(s); ok {
			t.Errorf("parsed %.30q", s)
		}
	}
}
