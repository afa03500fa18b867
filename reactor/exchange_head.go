package reactor

import (
	"bytes"
	"net"
	"strconv"

	"github.com/gale-http/gale/handlers"
	"github.com/gale-http/gale/httpcodec"
	"github.com/gale-http/gale/upstream"
	"github.com/gale-http/gale/upstream/cgi"
)

// encodeHead appends the codec's request head for req, with a body of
// bodyLen bytes (-1: none); hdrs are its fields (req.Headers, or the
// response cache's version of them: see CacheFill.ConditionalHeaders).
func (l *loop) encodeHead(dst []byte, proto upstream.Protocol, cs *conn, req *httpcodec.Request, route *handlers.UpstreamRoute, bodyLen int64, hdrs []httpcodec.Header) []byte {
	ri := &l.ri
	*ri = cgi.RequestInfo{
		Method:       req.MethodName,
		RequestURI:   req.RawTarget,
		Path:         req.Path,
		Query:        req.Query,
		ContentType:  req.Get(httpcodec.HdrContentType),
		DocumentRoot: route.DocumentRoot,
		ScriptName:   route.ScriptName,
		PathInfo:     route.PathInfo,
		ServerName:   route.ServerName,
		Extra:        route.Upstream.Params,
		Headers:      hdrs,
	}
	if req.Form == httpcodec.FormAbsolute {
		// RFC 9112 section 3.2.2: the target's authority replaces Host,
		// and the application gets the origin-form it would have got
		// from a client that sent one.
		ri.Host = req.Host
		l.uriBuf = appendOriginForm(l.uriBuf[:0], req.RawTarget)
		ri.RequestURI = l.uriBuf
	}
	if route.Rewritten {
		ri.Path, ri.Query, ri.Target = route.Path, route.Query, route.Target
	}
	if rh := route.RequestHeaders; rh != nil {
		l.fieldBuf = rh.Apply(l.fieldBuf[:0], hdrs)
		ri.Headers = l.fieldBuf
	}
	if req.Minor == 0 {
		ri.Proto = proto10
	} else {
		ri.Proto = proto11
	}
	ri.RemoteAddr, ri.RemotePort, ri.ServerAddr, ri.ServerPort = l.addrs(cs)
	if len(l.s.cfg.TrustedProxies) > 0 && l.trusted(cs.peer.Addr()) {
		ri.TrustedFor = l.forwardedChain(req, "X-Forwarded-For")
		ri.TrustedProto = req.Lookup("X-Forwarded-Proto")
		s := len(l.addrBuf)
		l.addrBuf = cs.peer.Addr().AppendTo(l.addrBuf)
		ri.Peer = l.addrBuf[s:len(l.addrBuf):len(l.addrBuf)]
	}
	if len(ri.ServerName) == 0 {
		// RFC 3875 section 4.1.14: the name the client used, else the
		// address it reached. Never empty: Django answers 400 to an
		// HTTP/1.0 request without Host when it is.
		if ri.ServerName = hostWithoutPort(req.Host); len(ri.ServerName) == 0 {
			ri.ServerName = ri.ServerAddr
		}
	}
	return proto.EncodeHead(dst, ri, bodyLen)
}

// hostWithoutPort is a Host value without its port: "example.com:8080"
// gives "example.com", "[::1]:8080" gives "[::1]".
func hostWithoutPort(h []byte) []byte {
	if len(h) > 0 && h[0] == '[' {
		if i := bytes.IndexByte(h, ']'); i > 0 {
			return h[:i+1]
		}
		return h
	}
	if i := bytes.LastIndexByte(h, ':'); i >= 0 {
		return h[:i]
	}
	return h
}

// appendOriginForm appends the origin-form of an absolute-form target
// ("http://h:8080/a?b" gives "/a?b", "http://h?q" gives "/?q").
func appendOriginForm(dst, target []byte) []byte {
	i := bytes.Index(target, []byte("://"))
	if i < 0 {
		return append(dst, target...)
	}
	rest := target[i+3:]
	j := bytes.IndexAny(rest, "/?")
	if j < 0 {
		return append(dst, '/')
	}
	if rest[j] == '?' {
		dst = append(dst, '/')
	}
	return append(dst, rest[j:]...)
}

// addrs formats the connection's addresses for CGI variables into the
// loop's buffer, without allocating. The local address is the same for
// most of a loop's connections (one listener): it is formatted once and
// kept while it stays the same.
func (l *loop) addrs(cs *conn) (rip, rport, lip, lport []byte) {
	b := l.addrBuf[:0]
	rip, rport, b = appendAddrPort(b, cs.client)
	l.addrBuf = b
	if ta, ok := cs.gc.LocalAddr().(*net.TCPAddr); ok {
		if ap := ta.AddrPort(); ap != l.localAP || l.localFmt == nil {
			l.localAP = ap
			l.localIP, l.localPort, l.localFmt = appendAddr(l.localFmt[:0], ta)
		}
		return rip, rport, l.localIP, l.localPort
	}
	return rip, rport, nil, nil
}

// appendAddr appends a TCP address's IP and port to b, returning views of
// each (nil for another kind of address).
func appendAddr(b []byte, a net.Addr) (ip, port, out []byte) {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return nil, nil, b
	}
	ap := ta.AddrPort()
	s := len(b)
	b = ap.Addr().Unmap().AppendTo(b)
	m := len(b)
	b = strconv.AppendUint(b, uint64(ap.Port()), 10)
	return b[s:m:m], b[m:len(b):len(b)], b
}
