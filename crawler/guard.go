package crawler

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"time"
)

// ErrBlockedAddress is returned when the dial guard refuses an address: crawled text is hostile and
// must never make the crawler reach loopback, private, link-local or cloud-metadata addresses.
var ErrBlockedAddress = errors.New("address refused by the outbound guard")

// Guard decides at dial time which resolved addresses the crawler may connect to. Checking the
// resolved address (not the host name) also defeats DNS names that resolve to internal addresses.
type Guard struct {
	AllowLoopback bool // 127.0.0.0/8, ::1 (the demo world and tests)
	AllowPrivate  bool // RFC 1918, fc00::/7, 100.64.0.0/10
}

var (
	cgnat     = netip.MustParsePrefix("100.64.0.0/10")
	metadata4 = []netip.Addr{
		netip.MustParseAddr("169.254.169.254"), // AWS, GCP, Azure, OpenStack
		netip.MustParseAddr("100.100.100.200"), // Alibaba Cloud
		netip.MustParseAddr("192.0.0.192"),     // Oracle Cloud
	}
	metadata6 = netip.MustParsePrefix("fd00:ec2::/32") // AWS IMDS over IPv6
)

// Check returns nil when ip may be dialled, else an error wrapping ErrBlockedAddress.
func (g Guard) Check(ip netip.Addr) error {
	ip = ip.Unmap()
	reason := ""
	switch {
	case !ip.IsValid():
		reason = "invalid address"
	case isMetadata(ip):
		reason = "cloud metadata address"
	case ip.IsUnspecified():
		reason = "unspecified address"
	case ip.IsMulticast() || ip.IsInterfaceLocalMulticast() || ip.IsLinkLocalMulticast():
		reason = "multicast address"
	case ip.IsLinkLocalUnicast():
		reason = "link-local address"
	case ip.IsLoopback():
		if !g.AllowLoopback {
			reason = "loopback address (allow_loopback is off)"
		}
	case ip.IsPrivate() || cgnat.Contains(ip):
		if !g.AllowPrivate {
			reason = "private address (allow_private is off)"
		}
	case ip == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		reason = "broadcast address"
	}
	if reason != "" {
		return fmt.Errorf("%w: %s is a %s", ErrBlockedAddress, ip, reason)
	}
	return nil
}

func isMetadata(ip netip.Addr) bool {
	for _, m := range metadata4 {
		if ip == m {
			return true
		}
	}
	return metadata6.Contains(ip)
}

// control is a net.Dialer Control hook: it runs after name resolution, before connect.
func (g Guard) control(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("%w: %q: %v", ErrBlockedAddress, address, err)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("%w: %q is not an IP address", ErrBlockedAddress, host)
	}
	return g.Check(ip)
}

// Dialer returns a dialer that refuses what the guard refuses.
func (g Guard) Dialer(timeout time.Duration) *net.Dialer {
	return &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second, Control: g.control}
}
