package torrent

import (
	"fmt"
	"net"
	"syscall"
)

// reservePort binds (without listening) a TCP socket on host:0 and returns the port the kernel
// chose, held until release is called. Announces claim this port: the kernel never hands out a
// port another local TCP socket is bound to, so on a shared address (loopback tests, a NAT) our
// announce cannot take over — and our "stopped" cannot remove — a real peer's ip:port entry.
func reservePort(host string) (port uint16, release func(), err error) {
	ip := net.ParseIP(host).To4()
	if ip == nil {
		return 0, nil, fmt.Errorf("reserve port: %q is not an IPv4 address", host)
	}
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		return 0, nil, fmt.Errorf("reserve port: %w", err)
	}
	sa := &syscall.SockaddrInet4{}
	copy(sa.Addr[:], ip)
	if err := syscall.Bind(fd, sa); err != nil {
		syscall.Close(fd)
		return 0, nil, fmt.Errorf("reserve port: bind %s: %w", host, err)
	}
	got, err := syscall.Getsockname(fd)
	if err != nil {
		syscall.Close(fd)
		return 0, nil, fmt.Errorf("reserve port: %w", err)
	}
	in4, ok := got.(*syscall.SockaddrInet4)
	if !ok || in4.Port == 0 {
		syscall.Close(fd)
		return 0, nil, fmt.Errorf("reserve port: no port bound")
	}
	return uint16(in4.Port), func() { syscall.Close(fd) }, nil
}
