package torrent

import (
	"context"
	"fmt"
	"net"
	"sort"
	"sync"
	"time"

	"github.com/anacrolix/dht/v2"
	"github.com/anacrolix/dht/v2/krpc"
	peer_store "github.com/anacrolix/dht/v2/peer-store"
	"github.com/anacrolix/torrent/metainfo"
)

// DHTResult is what a get_peers traversal found.
type DHTResult struct {
	Peers     []string      `json:"peers"`
	Contacted int           `json:"nodes_contacted"`
	Responses int           `json:"responses"`
	Took      time.Duration `json:"took_ns"`
}

// DHTNode is a DHT node that only knows the bootstrap nodes it is given: there is no default
// (public) bootstrap. With a peer store it also stores announces and answers get_peers with them
// (a private DHT router); without, it is a pure querier.
type DHTNode struct {
	s *dht.Server
}

// NewDHTNode starts a DHT node on listen (host:port, e.g. "127.0.0.1:0") bootstrapping only from
// the given nodes (host:port). store=true gives it a peer store keyed by ip:port.
func NewDHTNode(listen string, bootstrap []string, store bool) (*DHTNode, error) {
	var starts []dht.Addr
	for _, b := range bootstrap {
		ua, err := net.ResolveUDPAddr("udp4", b)
		if err != nil {
			return nil, fmt.Errorf("dht bootstrap node %q: %w", b, err)
		}
		starts = append(starts, dht.NewAddr(ua))
	}
	pc, err := net.ListenPacket("udp4", listen)
	if err != nil {
		return nil, fmt.Errorf("dht listen %s: %w", listen, err)
	}
	cfg := dht.NewDefaultServerConfig()
	cfg.Conn = pc
	cfg.Logger = quietLogger()
	// Replace the default, which resolves the public routers.
	cfg.StartingNodes = func() ([]dht.Addr, error) { return starts, nil }
	cfg.QueryResendDelay = func() time.Duration { return 500 * time.Millisecond }
	if store {
		// Not peer_store.InMemory: in dht v2.23.0 it stores under string(ip) but decodes keys as
		// ip+port, so stored peers never come back.
		cfg.PeerStore = &memPeerStore{}
	}
	s, err := dht.NewServer(cfg)
	if err != nil {
		pc.Close()
		return nil, fmt.Errorf("dht: %w", err)
	}
	return &DHTNode{s: s}, nil
}

// Addr is the node's UDP address.
func (n *DHTNode) Addr() string { return n.s.Addr().String() }

// Close stops the node.
func (n *DHTNode) Close() { n.s.Close() }

// GetPeers runs a get_peers traversal for infoHash (no announce_peer: we never claim to have the
// torrent) until the traversal ends or ctx is done, and returns the distinct peers.
func (n *DHTNode) GetPeers(ctx context.Context, infoHash string) (DHTResult, error) {
	var res DHTResult
	var ih metainfo.Hash
	if err := ih.FromHexString(infoHash); err != nil {
		return res, fmt.Errorf("dht get_peers: %w", err)
	}
	start := time.Now()
	a, err := n.s.AnnounceTraversal(ih)
	if err != nil {
		return res, fmt.Errorf("dht get_peers %s: %w", infoHash, err)
	}
	defer a.Close()
	seen := map[string]bool{}
loop:
	for {
		select {
		case pv, ok := <-a.Peers:
			if !ok {
				break loop
			}
			for _, p := range pv.Peers {
				if p.Port <= 0 || p.IP == nil || p.IP.IsUnspecified() {
					continue
				}
				seen[p.String()] = true
			}
		case <-ctx.Done():
			break loop
		}
	}
	res.Took = time.Since(start)
	st := a.TraversalStats()
	res.Contacted, res.Responses = int(st.NumAddrsTried), int(st.NumResponses)
	for k := range seen {
		res.Peers = append(res.Peers, k)
	}
	sort.Strings(res.Peers)
	if res.Responses == 0 && len(res.Peers) == 0 {
		return res, fmt.Errorf("dht get_peers %s: none of %d nodes answered within %v", infoHash, res.Contacted, res.Took.Round(time.Millisecond))
	}
	return res, nil
}

// Announce makes the node announce that port serves infoHash (for test swarms and private DHT
// routers; the probe never announces).
func (n *DHTNode) Announce(ctx context.Context, infoHash string, port int) error {
	var ih metainfo.Hash
	if err := ih.FromHexString(infoHash); err != nil {
		return err
	}
	a, err := n.s.Announce(ih, port, false)
	if err != nil {
		return err
	}
	defer a.Close()
	for {
		select {
		case _, ok := <-a.Peers:
			if !ok {
				return nil
			}
		case <-ctx.Done():
			return fmt.Errorf("dht announce: %w", ctx.Err())
		}
	}
}

// memPeerStore is a peer_store.Interface keyed by ip:port (on loopback every peer is 127.0.0.1).
type memPeerStore struct {
	mu sync.Mutex
	m  map[peer_store.InfoHash]map[string]krpc.NodeAddr
}

const maxStoredPeers = 1000

func (ps *memPeerStore) AddPeer(ih peer_store.InfoHash, na krpc.NodeAddr) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if ps.m == nil {
		ps.m = map[peer_store.InfoHash]map[string]krpc.NodeAddr{}
	}
	if ps.m[ih] == nil {
		ps.m[ih] = map[string]krpc.NodeAddr{}
	}
	if len(ps.m[ih]) >= maxStoredPeers {
		return
	}
	if ip4 := na.IP.To4(); ip4 != nil {
		na.IP = ip4
	}
	ps.m[ih][na.String()] = na
}

func (ps *memPeerStore) GetPeers(ih peer_store.InfoHash) (out []krpc.NodeAddr) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	for _, na := range ps.m[ih] {
		out = append(out, na)
	}
	return out
}
