package github

import "testing"

// FuzzParseResponses: every GitHub response parser (repo, search items, comments, tree) on the
// same hostile bytes; none may panic.
func FuzzParseResponses(f *testing.F) {
	f.Add([]byte(`{"full_name":"a/b","description":"x","topics":["t"],"size":1}`))
	f.Add([]byte(`[{"title":"t","body":"b","html_url":"https://github.com/a/b/issues/1"}]`))
	f.Add([]byte(`{"tree":[{"path":"a","size":-5,"type":"blob"}],"truncated":true}`))
	f.Add([]byte(`[{"name":"x","path":"\u0000","repository":{"full_name":null}}]`))
	f.Add([]byte("[\"\xff\"]"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = ParseRepo(b)
		_, _ = ParseRepos(b)
		_, _ = ParseIssues(b)
		_, _ = ParseCode(b)
		_, _ = ParseComments(b)
		_, _ = ParseTree(b)
	})
}
