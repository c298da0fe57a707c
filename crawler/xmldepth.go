package crawler

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
)

// MaxXMLDepth bounds element nesting in XML from outside. encoding/xml keeps a stack entry per
// open element: a 7 MB document nested a million deep costs about 244 MiB to decode (found by
// internal/hostile). Atom, RSS and OAI feeds nest a handful of levels.
const MaxXMLDepth = 256

// ErrXMLTooDeep is returned for XML nested deeper than MaxXMLDepth.
var ErrXMLTooDeep = errors.New("XML nested too deeply")

// CheckXMLDepth tokenizes b without building the decoder's element stack and fails when elements
// nest deeper than max (MaxXMLDepth when max <= 0). Malformed XML passes: the real decoder reports
// it. Parsers of outside XML call it before decoding.
func CheckXMLDepth(b []byte, max int) error {
	if max <= 0 {
		max = MaxXMLDepth
	}
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = false
	depth := 0
	for {
		tok, err := d.RawToken()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return nil // malformed: the caller's decoder says what is wrong
		}
		switch tok.(type) {
		case xml.StartElement:
			depth++
			if depth > max {
				return fmt.Errorf("%w (over %d levels)", ErrXMLTooDeep, max)
			}
		case xml.EndElement:
			depth--
		}
	}
}
