package reactor

import (
	"net"
	"net/netip"
	"strconv"

	"github.com/gale-http/gale/httpcodec"
)

// The client's address is, in order of trust: the socket's peer; the
// address a PROXY protocol header gave (proxyproto.go); and, when the peer
// is a trusted proxy (Config.TrustedProxies), the address its forwarding
// header names, walked right to left past trusted proxies (nginx
// real_ip_recursive on). It is the address the access rules, the limits,
// the access log, REMOTE_ADDR and X-Forwarded-For see.

// socketPeer is the address of cs's socket (invalid on a unix socket).
func socketPeer(a net.Addr) netip.AddrPort {
	if ta, ok := a.(*net.TCPAddr); ok {
		ap := ta.AddrPort()
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	return netip.AddrPort{}
}

// resolveClient sets cs.client (and the handlers' Ctx.Client) for req.
func (l *loop) resolveClient(cs *conn, req *httpcodec.Request) {
	cs.client = cs.peer
	if len(l.s.cfg.TrustedProxies) > 0 && l.trusted(cs.peer.Addr()) {
		if a, ok := l.forwardedClient(req); ok {
			cs.client = netip.AddrPortFrom(a, 0)
		}
	}
	l.hctx.Client = cs.client.Addr()
}

// trusted reports whether a is one of the trusted proxies.
func (l *loop) trusted(a netip.Addr) bool {
	for _, p := range l.s.cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// forwardedClient walks the forwarding header's addresses from the right,
// the last field line first: the first address that is not a trusted
// proxy is the client; when all are, the leftmost. An element that is no
// address stops the walk at the one right of it (what can be trusted so
// far). It allocates nothing.
func (l *loop) forwardedClient(req *httpcodec.Request) (netip.Addr, bool) {
	var found netip.Addr
	name := l.s.cfg.RealIPHeader
	for i := len(req.Headers) - 1; i >= 0; i-- {
		h := &req.Headers[i]
		if !httpcodec.EqualFold(h.Name, name) {
			continue
		}
		v := h.Value
		for end := len(v); end > 0; {
			start := end
			for start > 0 && v[start-1] != ',' {
				start--
			}
			elem := trimSpace(v[start:end])
			end = start - 1
			if len(elem) == 0 {
				continue
			}
			a, ok := parseForAddr(elem)
			if !ok {
				return found, found.IsValid()
			}
			found = a
			if !l.trusted(a) {
				return a, true
			}
		}
	}
	return found, found.IsValid()
}

// parseForAddr parses one X-Forwarded-For element: an address, or an
// address with a port ("1.2.3.4:5", "[::1]:5").
func parseForAddr(b []byte) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(bstr(b)); err == nil {
		return a.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(bstr(b)); err == nil {
		return ap.Addr().Unmap(), true
	}
	return netip.Addr{}, false
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// appendAddrPort appends ap's address and port to b, returning views of
// each: nil for an invalid address, an empty port for port 0 (an address
// from a forwarding header has none).
func appendAddrPort(b []byte, ap netip.AddrPort) (ip, port, out []byte) {
	if !ap.IsValid() {
		return nil, nil, b
	}
	s := len(b)
	b = ap.Addr().AppendTo(b)
	m := len(b)
	if ap.Port() != 0 {
		b = strconv.AppendUint(b, uint64(ap.Port()), 10)
	}
	return b[s:m:m], b[m:len(b):len(b)], b
}

// forwardedChain returns the forwarding header's value(s) of a request
// from a trusted proxy, for an HTTP upstream to receive extended rather
// than replaced; several field lines are joined into the loop's buffer.
func (l *loop) forwardedChain(req *httpcodec.Request, name string) []byte {
	var one []byte
	n := 0
	for i := range req.Headers {
		if httpcodec.EqualFold(req.Headers[i].Name, name) {
			one = req.Headers[i].Value
			n++
		}
	}
	if n <= 1 {
		return one
	}
	s := len(l.addrBuf)
	b := l.addrBuf
	for i := range req.Headers {
		if httpcodec.EqualFold(req.Headers[i].Name, name) {
			if len(b) > s {
				b = append(b, ", "...)
			}
			b = append(b, req.Headers[i].Value...)
		}
	}
	l.addrBuf = b
	return b[s:len(b):len(b)]
}
