package torrent

import (
	"errors"
	"fmt"
)

// MaxBencodeDepth bounds how deeply lists and dictionaries may nest in bencode from outside
// (.torrent files, tracker responses). anacrolix's decoder recurses once per level with no limit:
// a tracker answering "llll…" a million deep overflows the goroutine stack, a fatal error no
// recover() catches (found by internal/hostile). Real torrents nest a handful of levels (v2 file
// trees one per directory).
const MaxBencodeDepth = 512

// ErrTooDeep is returned for bencode nested deeper than MaxBencodeDepth.
var ErrTooDeep = errors.New("bencode nested too deeply")

// checkBencodeDepth scans b without decoding it and fails when lists and dictionaries nest deeper
// than MaxBencodeDepth. Malformed input passes (the decoder reports it); the scan is linear and
// always ends.
func checkBencodeDepth(b []byte) error {
	depth := 0
	for i := 0; i < len(b); {
		switch c := b[i]; {
		case c == 'd' || c == 'l':
			depth++
			if depth > MaxBencodeDepth {
				return fmt.Errorf("%w (over %d levels at byte %d)", ErrTooDeep, MaxBencodeDepth, i)
			}
			i++
		case c == 'e':
			depth--
			if depth <= 0 {
				return nil // the top-level value ended; trailing bytes are the decoder's business
			}
			i++
		case c == 'i':
			for i < len(b) && b[i] != 'e' {
				i++
			}
			i++ // past 'e'
		case c >= '0' && c <= '9':
			n := 0
			for i < len(b) && b[i] >= '0' && b[i] <= '9' {
				if n > len(b) {
					return nil // longer than the input: malformed
				}
				n = n*10 + int(b[i]-'0')
				i++
			}
			if i >= len(b) || b[i] != ':' {
				return nil
			}
			i += 1 + n
		default:
			return nil // not bencode: the decoder says so
		}
	}
	return nil
}
