package torrent

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/anacrolix/torrent"
	"github.com/anacrolix/torrent/metainfo"
	"github.com/anacrolix/torrent/storage"
)

// MetadataClient fetches info dictionaries from peers (BEP 9) and nothing else: no DHT, PEX,
// UPnP, webtorrent, web seeds, uTP, IPv6, uploads or incoming connections; its storage refuses
// piece data; every torrent is added with data download disallowed and dropped afterwards. It
// is safe for concurrent use.
type MetadataClient struct {
	cl *torrent.Client
}

// MetadataClientConfig configures NewMetadataClient.
type MetadataClientConfig struct {
	// BindHost is the address the client listens on ("127.0.0.1" for loopback-only use, "0.0.0.0"
	// for the internet). Required.
	BindHost string
	// HandshakesTimeout bounds a peer handshake (10 s when 0; anacrolix's 4 s default is too short
	// for aria2 under load).
	HandshakesTimeout time.Duration
}

// NewMetadataClient starts a metadata-only client.
func NewMetadataClient(c MetadataClientConfig) (*MetadataClient, error) {
	if c.BindHost == "" {
		return nil, errors.New("metadata client: BindHost is required (127.0.0.1 for loopback)")
	}
	if net.ParseIP(c.BindHost) == nil {
		return nil, fmt.Errorf("metadata client: bind host %q is not an IP address", c.BindHost)
	}
	cfg := torrent.NewDefaultClientConfig()
	cfg.SetListenAddr(net.JoinHostPort(c.BindHost, "0"))
	cfg.NoDHT = true
	cfg.DhtStartingNodes = nil
	cfg.PeriodicallyAnnounceTorrentsToDht = false
	cfg.DisablePEX = true
	cfg.NoDefaultPortForwarding = true
	cfg.DisableWebtorrent = true
	cfg.DisableWebseeds = true
	cfg.DisableIPv6 = true
	cfg.DisableUTP = true
	cfg.AcceptPeerConnections = false
	cfg.NoUpload = true
	cfg.Seed = false
	// We announce ourselves (Trackers.Announce, started then stopped): the library's "stopped"
	// is asynchronous and lost on Close, which leaves ghost leechers.
	cfg.DisableTrackers = true
	cfg.DefaultStorage = noStorage{}
	cfg.TrackerListenPacket = func(string, string) (net.PacketConn, error) {
		return net.ListenPacket("udp4", net.JoinHostPort(c.BindHost, "0"))
	}
	cfg.HandshakesTimeout = c.HandshakesTimeout
	if cfg.HandshakesTimeout <= 0 {
		cfg.HandshakesTimeout = 10 * time.Second
	}
	cfg.MinDialTimeout = 2 * time.Second
	cfg.NominalDialTimeout = 5 * time.Second
	cfg.Logger = quietLogger()
	cfg.Slogger = discardSlog()
	cl, err := torrent.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("metadata client: %w", err)
	}
	return &MetadataClient{cl: cl}, nil
}

// Close stops the client. Torrents are dropped by Fetch already.
func (mc *MetadataClient) Close() error {
	errs := mc.cl.Close()
	return errors.Join(errs...)
}

// LocalPort is the port the client listens on (announced to trackers so we can drop ourselves
// from their peer lists).
func (mc *MetadataClient) LocalPort() int { return mc.cl.LocalPort() }

// FetchStats says what a metadata fetch cost. ContentBytesRead, ChunksRead and
// ContentBytesWritten are content transfer and must stay zero.
type FetchStats struct {
	Took                time.Duration `json:"took_ns"`
	MetadataChunks      int64         `json:"metadata_chunks"`
	InfoBytes           int           `json:"info_bytes"`
	ContentBytesRead    int64         `json:"content_bytes_read"`
	ChunksRead          int64         `json:"chunks_read"`
	ContentBytesWritten int64         `json:"content_bytes_written"`
	PeersKnown          int           `json:"peers_known"`
}

// ErrContentTransferred would mean the no-content guarantee failed; Fetch returns it rather than
// a result if any piece data moved.
var ErrContentTransferred = errors.New("content bytes were transferred during a metadata fetch")

// Fetch gets the info dict of infoHash from the given peers (host:port), verifies that its SHA-1
// is the info-hash, and drops the torrent. It waits until ctx is done at most. addPeers, when not
// nil, feeds more peers while the fetch waits (e.g. from tracker
// announces or the DHT).
func (mc *MetadataClient) Fetch(ctx context.Context, infoHash string, peers []string, more <-chan []string) (*Meta, FetchStats, error) {
	var st FetchStats
	var ih metainfo.Hash
	if err := ih.FromHexString(infoHash); err != nil {
		return nil, st, fmt.Errorf("metadata %s: %w", infoHash, err)
	}
	start := time.Now()
	t, isNew := mc.cl.AddTorrentOpt(torrent.AddTorrentOpts{
		InfoHash:                 ih,
		Storage:                  noStorage{},
		DisallowDataDownload:     true,
		DisallowDataUpload:       true,
		DisableInitialPieceCheck: true,
	})
	if !isNew {
		return nil, st, fmt.Errorf("metadata %s: torrent already being fetched", infoHash)
	}
	defer t.Drop()
	t.DisallowDataDownload()
	add := func(ps []string) {
		pis := make([]torrent.PeerInfo, 0, len(ps))
		for _, p := range ps {
			if hp, ok := normalizePeer(p); ok {
				pis = append(pis, torrent.PeerInfo{Addr: torrent.StringAddr(hp), Source: torrent.PeerSourceDirect})
			}
		}
		t.AddPeers(pis)
	}
	add(peers)
	for {
		select {
		case ps, ok := <-more:
			if !ok {
				more = nil
				continue
			}
			add(ps)
			continue
		case <-t.GotInfo():
		case <-ctx.Done():
			s := t.Stats()
			return nil, st, fmt.Errorf("metadata %s: none after %v from %d known peers (%d active): %w",
				infoHash, time.Since(start).Round(time.Millisecond), s.TotalPeers, s.ActivePeers, ctx.Err())
		}
		break
	}
	st.Took = time.Since(start)
	info := t.Metainfo().InfoBytes
	st.PeersKnown = t.Stats().TotalPeers
	// Drop first, then read the torrent's counters: nothing can arrive after the drop.
	t.Drop()
	ts := t.Stats()
	st.MetadataChunks = ts.MetadataChunksRead.Int64()
	st.ContentBytesRead = ts.BytesReadData.Int64()
	st.ChunksRead = ts.ChunksRead.Int64()
	st.ContentBytesWritten = ts.BytesWrittenData.Int64()
	st.InfoBytes = len(info)
	if st.ContentBytesRead != 0 || st.ChunksRead != 0 || st.ContentBytesWritten != 0 {
		return nil, st, fmt.Errorf("metadata %s: %w (read %d bytes, %d chunks; wrote %d)", infoHash,
			ErrContentTransferred, st.ContentBytesRead, st.ChunksRead, st.ContentBytesWritten)
	}
	// The library verified the SHA-1 before GotInfo fired; check again, it is the whole point.
	if sum := sha1.Sum(info); !bytes.Equal(sum[:], ih[:]) {
		return nil, st, fmt.Errorf("metadata %s: info dict hashes to %s", infoHash, hex.EncodeToString(sum[:]))
	}
	m, err := MetaFromInfo(info)
	if err != nil {
		return nil, st, fmt.Errorf("metadata %s: %w", infoHash, err)
	}
	return m, st, nil
}

// noStorage stores nothing: any attempt to write or read piece data fails, no file is created.
type noStorage struct{}

type noPiece struct{}

var errNoStorage = errors.New("metadata-only client: piece storage disabled")

func (noStorage) OpenTorrent(context.Context, *metainfo.Info, metainfo.Hash) (storage.TorrentImpl, error) {
	return storage.TorrentImpl{
		Piece: func(metainfo.Piece) storage.PieceImpl { return noPiece{} },
		Close: func() error { return nil },
	}, nil
}

func (noPiece) ReadAt([]byte, int64) (int, error)  { return 0, errNoStorage }
func (noPiece) WriteAt([]byte, int64) (int, error) { return 0, errNoStorage }
func (noPiece) MarkComplete() error                { return errNoStorage }
func (noPiece) MarkNotComplete() error             { return nil }
func (noPiece) Completion() storage.Completion {
	return storage.Completion{Ok: true, Complete: false}
}
