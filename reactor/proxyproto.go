package reactor

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"strconv"
	"unsafe"
)

// The PROXY protocol (HAProxy's spec, versions 1 and 2) is how a load
// balancer that passes TCP through tells the server who the client is:
// one header before the connection's first byte of HTTP. It is accepted
// only on a listener configured for it (Config.ProxyProtocol), where it is
// required; anywhere else its bytes are an HTTP request like any other,
// and a bad one (400): a client must not be able to claim an address.

// ppState is where a connection is with its PROXY protocol header.
type ppState uint8

const (
	ppOff   ppState = iota // the listener takes no PROXY header
	ppAwait                // the header has not fully arrived
	ppGot                  // read; peer is the address it gave
)

// Errors of a PROXY protocol header.
var (
	errPPMissing = errors.New("PROXY protocol: the connection did not start with a PROXY header")
	errPPBad     = errors.New("PROXY protocol: malformed header")
)

var ppV2Sig = []byte("\r\n\r\n\x00\r\nQUIT\n")

// ppV1Max is the longest v1 header, CRLF included (the spec's 107).
const ppV1Max = 107

// parseProxyHeader parses the PROXY header at the start of b. It returns
// its length (0: incomplete, read more) and the client's address, the zero
// AddrPort for a LOCAL (health check) or UNKNOWN header, which keep the
// connection's own address.
func parseProxyHeader(b []byte) (int, netip.AddrPort, error) {
	switch {
	case len(b) >= len(ppV2Sig) && bytes.Equal(b[:len(ppV2Sig)], ppV2Sig):
		return parsePPv2(b)
	case len(b) < len(ppV2Sig) && bytes.HasPrefix(ppV2Sig, b):
		return 0, netip.AddrPort{}, nil
	case len(b) >= 6 && string(b[:6]) == "PROXY ":
		return parsePPv1(b)
	case len(b) < 6 && bytes.HasPrefix([]byte("PROXY "), b):
		return 0, netip.AddrPort{}, nil
	}
	return 0, netip.AddrPort{}, errPPMissing
}

// parsePPv1: "PROXY TCP4 src dst sport dport\r\n", or "PROXY UNKNOWN ...".
func parsePPv1(b []byte) (int, netip.AddrPort, error) {
	end := bytes.Index(b[:min(len(b), ppV1Max)], []byte("\r\n"))
	if end < 0 {
		if len(b) >= ppV1Max {
			return 0, netip.AddrPort{}, errPPBad
		}
		return 0, netip.AddrPort{}, nil
	}
	n := end + 2
	var f [6][]byte
	k := 0
	for line := b[:end]; ; k++ {
		if k == len(f) {
			return 0, netip.AddrPort{}, errPPBad
		}
		i := bytes.IndexByte(line, ' ')
		if i < 0 {
			f[k] = line
			k++
			break
		}
		f[k], line = line[:i], line[i+1:]
	}
	if k >= 2 && string(f[1]) == "UNKNOWN" {
		return n, netip.AddrPort{}, nil
	}
	if k != 6 || (string(f[1]) != "TCP4" && string(f[1]) != "TCP6") {
		return 0, netip.AddrPort{}, errPPBad
	}
	ip, err := netip.ParseAddr(bstr(f[2]))
	if err != nil || ip.Is4() != (string(f[1]) == "TCP4") {
		return 0, netip.AddrPort{}, errPPBad
	}
	if _, err := netip.ParseAddr(bstr(f[3])); err != nil {
		return 0, netip.AddrPort{}, errPPBad
	}
	port, err := strconv.ParseUint(bstr(f[4]), 10, 16)
	if err != nil || len(f[4]) > 1 && f[4][0] == '0' {
		return 0, netip.AddrPort{}, errPPBad
	}
	if _, err := strconv.ParseUint(bstr(f[5]), 10, 16); err != nil {
		return 0, netip.AddrPort{}, errPPBad
	}
	return n, netip.AddrPortFrom(ip, uint16(port)), nil
}

// parsePPv2: the binary header; its signature is checked.
func parsePPv2(b []byte) (int, netip.AddrPort, error) {
	if len(b) < 16 {
		return 0, netip.AddrPort{}, nil
	}
	verCmd, fam := b[12], b[13]
	n := 16 + int(binary.BigEndian.Uint16(b[14:16]))
	if verCmd>>4 != 2 {
		return 0, netip.AddrPort{}, errPPBad
	}
	if len(b) < n {
		return 0, netip.AddrPort{}, nil
	}
	body := b[16:n]
	switch verCmd & 0xf {
	case 0: // LOCAL: the balancer's own connection (a health check)
		return n, netip.AddrPort{}, nil
	case 1: // PROXY
	default:
		return 0, netip.AddrPort{}, errPPBad
	}
	switch fam {
	case 0x11, 0x12: // TCP or UDP over IPv4
		if len(body) < 12 {
			return 0, netip.AddrPort{}, errPPBad
		}
		ip := netip.AddrFrom4([4]byte(body[0:4]))
		return n, netip.AddrPortFrom(ip, binary.BigEndian.Uint16(body[8:10])), nil
	case 0x21, 0x22: // over IPv6
		if len(body) < 36 {
			return 0, netip.AddrPort{}, errPPBad
		}
		ip := netip.AddrFrom16([16]byte(body[0:16])).Unmap()
		return n, netip.AddrPortFrom(ip, binary.BigEndian.Uint16(body[32:34])), nil
	}
	return n, netip.AddrPort{}, nil // UNSPEC or unix: keep the socket's
}

// bstr views b as a string for a parse that does not keep it (netip
// interns a zone with unique.Make, which copies), so parsing allocates
// nothing.
func bstr(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// readProxyHeader consumes the connection's PROXY header when it has
// arrived, and reports whether the connection may go on to HTTP.
func (l *loop) readProxyHeader(cs *conn) bool {
	buf, _ := cs.gc.Peek(-1)
	n, src, err := parseProxyHeader(buf)
	switch {
	case err != nil:
		// nginx closes too: there is no one to answer but the balancer.
		l.s.cfg.Logger.Info("closing connection", "remote", cs.remote(), "err", err)
		l.kill(cs)
		return false
	case n == 0:
		if cs.t.kind != timerHeader {
			l.wheel.schedule(&cs.t, timerHeader, l.now, l.s.cfg.HeaderTimeout)
		}
		return false
	}
	_, _ = cs.gc.Discard(n)
	cs.pp = ppGot
	if src.IsValid() {
		cs.peer = src
	}
	return cs.gc.InboundBuffered() > 0
}
