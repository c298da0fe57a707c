package github

import (
	"encoding/base64"
	"encoding/json"
	"strings"
)

// decodeContents reads a /contents or /readme JSON object ({"encoding":"base64","content":...}).
func decodeContents(body []byte) ([]byte, bool) {
	var c struct {
		Encoding string `json:"encoding"`
		Content  string `json:"content"`
	}
	if json.Unmarshal(body, &c) != nil || c.Encoding != "base64" {
		return nil, false
	}
	b, err := base64.StdEncoding.DecodeString(strings.NewReplacer("\n", "", "\r", "").Replace(c.Content))
	if err != nil {
		return nil, false
	}
	return b, true
}
