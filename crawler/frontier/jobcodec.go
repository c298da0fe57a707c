package frontier

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"sort"
	"time"

	"github.com/afterlife-watch/afterlife/crawler"
)

// A job is stored as a compact binary record (jobFormat1): decoding the JSON form on every claim
// and encoding it on every enqueue, through reflection, was ~4% of a crawl's CPU
// (bench/results/crawl.md). Records written before it, JSON objects, are still read.
const jobFormat1 = 0x01

// encodeJob is the job's stored form: jobFormat1, then ID, RunID, Source, Kind, URL, Dataset
// (each a uvarint length and the bytes), Page and Attempt (varints), NotBefore (uvarint 0 for the
// zero time, else 1 and the Unix nanoseconds as a varint), and Meta (a uvarint count, then key
// and value per entry, keys sorted).
func encodeJob(j crawler.Job) []byte {
	n := 1 + 6*binary.MaxVarintLen64 + len(j.ID) + len(j.RunID) + len(j.Source) + len(j.Kind) + len(j.URL) + len(j.Dataset) + 5*binary.MaxVarintLen64
	for k, v := range j.Meta {
		n += 2*binary.MaxVarintLen64 + len(k) + len(v)
	}
	b := make([]byte, 0, n)
	b = append(b, jobFormat1)
	for _, s := range []string{j.ID, j.RunID, j.Source, j.Kind, j.URL, j.Dataset} {
		b = appendString(b, s)
	}
	b = binary.AppendVarint(b, int64(j.Page))
	b = binary.AppendVarint(b, int64(j.Attempt))
	if j.NotBefore.IsZero() {
		b = binary.AppendUvarint(b, 0)
	} else {
		b = binary.AppendUvarint(b, 1)
		b = binary.AppendVarint(b, j.NotBefore.UnixNano())
	}
	b = binary.AppendUvarint(b, uint64(len(j.Meta)))
	if len(j.Meta) > 0 {
		keys := make([]string, 0, len(j.Meta))
		for k := range j.Meta {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			b = appendString(b, k)
			b = appendString(b, j.Meta[k])
		}
	}
	return b
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

var errBadJobRecord = errors.New("malformed job record")

// decodeJob reads a stored job: a jobFormat1 record, or the JSON of earlier versions.
func decodeJob(b []byte) (crawler.Job, error) {
	var j crawler.Job
	if len(b) == 0 || b[0] != jobFormat1 {
		err := json.Unmarshal(b, &j)
		return j, err
	}
	d := jobDecoder{b: b[1:]}
	for _, dst := range []*string{&j.ID, &j.RunID, &j.Source, &j.Kind, &j.URL, &j.Dataset} {
		*dst = d.string()
	}
	j.Page = int(d.varint())
	j.Attempt = int(d.varint())
	if d.uvarint() == 1 {
		j.NotBefore = time.Unix(0, d.varint())
	}
	if n := d.uvarint(); n > 0 && d.err == nil {
		if n > uint64(len(d.b)) { // each entry takes at least two bytes
			return crawler.Job{}, errBadJobRecord
		}
		j.Meta = make(map[string]string, n)
		for i := uint64(0); i < n && d.err == nil; i++ {
			k := d.string()
			j.Meta[k] = d.string()
		}
	}
	if d.err != nil || len(d.b) != 0 {
		return crawler.Job{}, errBadJobRecord
	}
	return j, nil
}

type jobDecoder struct {
	b   []byte
	err error
}

func (d *jobDecoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errBadJobRecord
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *jobDecoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = errBadJobRecord
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *jobDecoder) string() string {
	n := d.uvarint()
	if d.err != nil {
		return ""
	}
	if n > uint64(len(d.b)) {
		d.err = errBadJobRecord
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}
