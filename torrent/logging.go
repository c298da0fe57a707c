package torrent

import (
	"fmt"
	"io"
	"log/slog"

	alog "github.com/anacrolix/log"
)

// quietLogger keeps anacrolix's own logging to critical messages only; our errors carry context.
func quietLogger() alog.Logger { return alog.Default.WithFilterLevel(alog.Critical) }

func discardSlog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// decodeSafely runs a bencode decode and turns a panic inside the decoder or an Unmarshaler
// (anacrolix's httpTracker.Peers panicked on hostile input) into an error: crawled bytes must
// never take the process down.
func decodeSafely(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("malformed bencode (decoder panicked: %v)", r)
		}
	}()
	return f()
}
