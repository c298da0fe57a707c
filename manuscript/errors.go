package manuscript

import "fmt"

// ErrorKind classifies why a manuscript could not be read, for per-file errors in batch output.
type ErrorKind string

// Kinds of read error.
const (
	ErrFormat    ErrorKind = "unsupported-format" // wrong or unknown extension / content
	ErrBroken    ErrorKind = "broken"             // a damaged file (PDF structure, gzip, tar)
	ErrEncrypted ErrorKind = "encrypted"          // password-protected PDF
	ErrNoText    ErrorKind = "no-text"            // a scan without a text layer
	ErrTooLarge  ErrorKind = "too-large"          // over a size, page or file-count bound
	ErrNotFound  ErrorKind = "not-found"          // missing file or \input target
	ErrOffline   ErrorKind = "offline"            // a fetch (--arxiv, --doi) that cannot be made here
)

// Error is a per-manuscript read error: which file, what kind, and the cause.
type Error struct {
	Name string
	Kind ErrorKind
	Err  error
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s: %v", e.Name, e.Kind, e.Err) }
func (e *Error) Unwrap() error { return e.Err }
