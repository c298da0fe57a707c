package kaggle

import "testing"

// FuzzParseListAndFiles: Kaggle's dataset list and file list parsers on hostile bytes.
func FuzzParseListAndFiles(f *testing.F) {
	f.Add([]byte(`[{"ref":"a/b","title":"x","totalBytes":1}]`))
	f.Add([]byte(`{"datasetFiles":[{"name":"a.csv","totalBytes":-1}],"nextPageToken":"x"}`))
	f.Add([]byte(`{"files":[null]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = ParseList(b)
		_, _ = ParseFiles(b)
	})
}
