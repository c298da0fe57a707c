package frontier

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"sort"
	"strings"
	"time"

	"github.com/afterlife-watch/afterlife/crawler"
)

// A job is stored as a compact binary record: decoding the JSON form on every claim and encoding
// it on every enqueue, through reflection, was ~4% of a crawl's CPU (bench/results/crawl.md).
// Records written before it, JSON objects, are still read, and so are jobFormat1 records.
//
// jobFormat2 (written since round 6) leaves out what the job's row already holds: the job ID and
// the run ID are the row's key columns, and the URL is most often the end of the ID
// ("source|kind|URL"). A demo-world job's row was ~800 bytes, four to a 4 KiB page, so the ~32
// jobs a Settle acks and claims dirtied ~8 table pages per commit (bench/results/crawl.md,
// round 6); without the copies a row is about half as long.
const (
	jobFormat1 = 0x01
	jobFormat2 = 0x02
)

// encodeJob is the job's stored form, jobFormat2: the format byte, then Source, Kind (each a
// uvarint length and the bytes), the URL (uvarint 0 and the URL as a string, or 1 + n where the
// URL is the last n bytes of the ID), Dataset, Page and Attempt (varints), NotBefore (uvarint 0
// for the zero time, else 1 and the Unix nanoseconds as a varint), and Meta (a uvarint count,
// then key and value per entry, keys sorted). The ID and run ID are not in it: decodeJob takes
// them from the row.
func encodeJob(j crawler.Job) []byte {
	n := 1 + 6*binary.MaxVarintLen64 + len(j.Source) + len(j.Kind) + len(j.URL) + len(j.Dataset) + 5*binary.MaxVarintLen64
	for k, v := range j.Meta {
		n += 2*binary.MaxVarintLen64 + len(k) + len(v)
	}
	b := make([]byte, 0, n)
	b = append(b, jobFormat2)
	b = appendString(b, j.Source)
	b = appendString(b, j.Kind)
	if j.URL != "" && strings.HasSuffix(j.ID, j.URL) {
		b = binary.AppendUvarint(b, 1+uint64(len(j.URL)))
	} else {
		b = binary.AppendUvarint(b, 0)
		b = appendString(b, j.URL)
	}
	b = appendString(b, j.Dataset)
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

// decodeJob reads a stored job of the row keyed (runID, id): a jobFormat2 record, a jobFormat1
// record or the JSON of earlier versions (the last two carry their own IDs).
func decodeJob(b []byte, runID, id string) (crawler.Job, error) {
	var j crawler.Job
	if len(b) == 0 || (b[0] != jobFormat1 && b[0] != jobFormat2) {
		err := json.Unmarshal(b, &j)
		return j, err
	}
	d := jobDecoder{b: b[1:]}
	if b[0] == jobFormat1 {
		for _, dst := range []*string{&j.ID, &j.RunID, &j.Source, &j.Kind, &j.URL, &j.Dataset} {
			*dst = d.string()
		}
	} else {
		j.ID, j.RunID = id, runID
		j.Source = d.string()
		j.Kind = d.string()
		switch u := d.uvarint(); {
		case d.err != nil:
		case u == 0:
			j.URL = d.string()
		case u-1 > uint64(len(id)):
			d.err = errBadJobRecord
		default:
			j.URL = id[uint64(len(id))-(u-1):]
		}
		j.Dataset = d.string()
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
