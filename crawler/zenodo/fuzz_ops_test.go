package zenodo

import "testing"

// FuzzParseSearch: a records search page from a hostile server never panics the parser.
func FuzzParseSearch(f *testing.F) {
	f.Add([]byte(`{"hits":{"hits":[{"id":1,"metadata":{"title":"x"}}],"total":1},"links":{"next":"https://zenodo.org/api/records?page=2"}}`))
	f.Add([]byte(`{"hits":{"hits":[null,{},{"files":[{"size":-1}]}]}}`))
	f.Add([]byte("{\"hits\":{\"hits\":[{\"metadata\":{\"title\":\"\xff\xfe\"}}]}}"))
	f.Add([]byte(`[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		recs, _, err := ParseSearch(b)
		if err != nil {
			return
		}
		for _, r := range recs {
			if r == nil {
				t.Fatal("nil record in a parsed page")
			}
		}
	})
}
