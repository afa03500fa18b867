package httpcodec

// classify interprets one field line of a response head: the framing and
// persistence fields (into st, with the request parser's transferEncoding
// and connection), the ones gale acts on, and those it must not pass on.
// Date and Server are gale's own (nginx replaces them too); the framing is
// the reactor's (it re-frames the body for its client); hop-by-hop fields
// describe the backend's connection, not the client's (RFC 9110 section
// 7.6.1; the list of Go's httputil.ReverseProxy).
func (p *ResponseParser) classify(w []byte, f *respField, st *headState) error {
	name, v := f.name.at(w), f.value.at(w)
	switch len(name) {
	case 2:
		f.drop = eqFoldLower(name, "te")
	case 4:
		f.drop = eqFoldLower(name, "date")
	case 6:
		f.drop = eqFoldLower(name, "server")
	case 7:
		f.drop = eqFoldLower(name, "upgrade") || eqFoldLower(name, "trailer")
		if f.drop && name[0]|0x20 == 'u' {
			p.upgrade = f.value
		}
	case 10:
		switch {
		case eqFoldLower(name, "connection"):
			f.drop = true
			return p.connection(f.value, v, st)
		case eqFoldLower(name, "keep-alive"):
			f.drop = true
		}
	case 12:
		if eqFoldLower(name, "content-type") {
			p.ctype = f.value
		}
	case 14:
		if eqFoldLower(name, "content-length") {
			f.drop = true
			return p.contentLength(v, st)
		}
	case 16:
		if eqFoldLower(name, "proxy-connection") {
			f.drop = true
		}
	case 17:
		if eqFoldLower(name, "transfer-encoding") {
			f.drop = true
			if st.transferEncoding(v) != nil {
				return ErrRespTransferEncoding // chunked twice, or not last
			}
		}
	case 18:
		f.drop = eqFoldLower(name, "proxy-authenticate")
	}
	if len(name) > 8 && eqFoldLower(name[:8], "x-accel-") {
		// nginx's X-Accel-* are for the proxy, never for the client.
		f.drop = true
		switch {
		case eqFoldLower(name, "x-accel-redirect"):
			p.accel = f.value
		case eqFoldLower(name, "x-accel-buffering"):
			p.bufMode = 1
			if eqFoldLower(v, "no") {
				p.bufMode = -1
			}
		}
	}
	return nil
}

// connection reads the connection options (RFC 9112 section 9.3) and
// keeps the value: the fields it names are hop-by-hop too.
func (p *ResponseParser) connection(s span, v []byte, st *headState) error {
	if p.nconn == len(p.conn) {
		return ErrRespConnection
	}
	p.conn[p.nconn] = s
	p.nconn++
	st.connection(v)
	return nil
}

// contentLength accepts one value, repeated (in more fields or as a list)
// only identically: RFC 9110 section 8.6 lets a recipient take "5, 5" as
// 5, while two different lengths mean two parties would frame the
// response differently (RFC 9112 section 6.3 rule 5).
func (p *ResponseParser) contentLength(v []byte, st *headState) error {
	for len(v) > 0 || !st.cl {
		var e []byte
		e, v = nextElement(v)
		n, ok := parseLength(e)
		switch {
		case !ok:
			return ErrRespContentLength
		case st.cl && n != p.ContentLength:
			return ErrRespContentLength
		}
		st.cl, p.ContentLength = true, n
	}
	return nil
}

// frame decides where the body ends (RFC 9112 section 6.3) and whether
// the connection persists (section 9.3), from the whole head: the answer
// never depends on field order.
func (p *ResponseParser) frame(st *headState, headRequest bool) error {
	if !st.cl {
		p.ContentLength = -1
	}
	if st.te {
		switch {
		case p.Minor == 0:
			// Section 6.1: faulty framing in HTTP/1.0.
			return ErrRespTransferEncoding
		case st.unknownTE:
			// Any coding but chunked: the reactor would have to pass it
			// to a client that did not ask for it (the body would
			// otherwise arrive still encoded and unmarked).
			return ErrRespTransferEncoding
		case st.cl:
			// Section 6.1: a proxy MUST NOT forward both; the rule that
			// TE wins is the one smuggling exploits. Refused.
			return ErrRespCLAndTE
		case !st.chunked:
			return ErrRespTransferEncoding // only empty elements
		case p.Status < 200 || p.Status == 204:
			// Section 6.1: a server MUST NOT send it in 1xx or 204; its
			// body, if any, would be read as the next response.
			return ErrRespTransferEncoding
		}
	}
	switch {
	case p.Status == 101:
		if p.upgrade.end == 0 {
			return ErrRespUpgrade // switching to nothing named
		}
		p.Framing = FrameTunnel
	case headRequest || p.Status < 200 || p.Status == 204 || p.Status == 304:
		p.Framing = FrameNone
	case st.te:
		p.Framing = FrameChunked
	case st.cl:
		p.Framing = FrameLength
	default:
		p.Framing = FrameClose
	}
	if p.Minor == 0 {
		p.KeepAlive = st.connKeep && !st.connClose
	} else {
		p.KeepAlive = !st.connClose
	}
	p.KeepAlive = p.KeepAlive && p.Framing != FrameClose && p.Framing != FrameTunnel
	return nil
}

// dropConnectionListed drops the fields the Connection options name
// (RFC 9110 section 7.6.1): a backend says which of its fields are meant
// for gale alone.
func (p *ResponseParser) dropConnectionListed() {
	for _, s := range p.conn[:p.nconn] {
		v := s.at(p.buf)
		for len(v) > 0 {
			var e []byte
			e, v = nextElement(v)
			if len(e) == 0 {
				continue
			}
			for i := range p.fields {
				if eqFold(p.fields[i].name.at(p.buf), e) {
					p.fields[i].drop = true
				}
			}
		}
	}
}

// StatusCode implements upstream.ResponseHead.
func (p *ResponseParser) StatusCode() int { return p.Status }

// Length implements upstream.ResponseHead: the declared Content-Length,
// or -1 (chunked, close-delimited, tunnel, none).
func (p *ResponseParser) Length() int64 {
	if p.Framing == FrameChunked || p.Framing == FrameTunnel {
		return -1
	}
	return p.ContentLength
}

// AccelRedirect implements upstream.ResponseHead: the X-Accel-Redirect
// target, or nil.
func (p *ResponseParser) AccelRedirect() []byte { return p.get(p.accel) }

// LocalRedirect implements upstream.ResponseHead: HTTP has no local
// redirects (its Location is sent to the client as is).
func (p *ResponseParser) LocalRedirect() []byte { return nil }

// NoBuffering implements upstream.ResponseHead: "X-Accel-Buffering: no",
// or a text/event-stream body (Server-Sent Events are useless held
// back) unless "X-Accel-Buffering: yes" says otherwise.
func (p *ResponseParser) NoBuffering() bool {
	if p.bufMode != 0 {
		return p.bufMode < 0
	}
	ct := p.get(p.ctype)
	const sse = "text/event-stream"
	return len(ct) >= len(sse) && eqFold(ct[:len(sse)], sse) &&
		(len(ct) == len(sse) || ct[len(sse)] == ';' || ct[len(sse)] == ' ' || ct[len(sse)] == '\t')
}

// Get returns the value of the first field called name, or nil.
func (p *ResponseParser) Get(name string) []byte {
	for _, f := range p.fields {
		if eqFold(f.name.at(p.buf), name) {
			return f.value.at(p.buf)
		}
	}
	return nil
}

// AppendHead implements upstream.ResponseHead: the status line (as
// HTTP/1.1, with the backend's reason phrase) and the forwarded fields in
// the backend's order, each line ending in CRLF; no blank line.
func (p *ResponseParser) AppendHead(dst []byte) []byte {
	dst = append(dst, "HTTP/1.1 "...)
	dst = append(dst, byte('0'+p.Status/100), byte('0'+p.Status/10%10), byte('0'+p.Status%10), ' ')
	if p.reason.end > p.reason.off {
		dst = append(dst, p.reason.at(p.buf)...)
	} else {
		dst = append(dst, StatusText(p.Status)...)
	}
	dst = append(dst, "\r\n"...)
	if p.Framing == FrameTunnel {
		// The switch is the client's now: it needs what the backend
		// switched to (RFC 9110 section 7.8).
		dst = append(dst, "Connection: Upgrade\r\nUpgrade: "...)
		dst = append(dst, p.upgrade.at(p.buf)...)
		dst = append(dst, "\r\n"...)
	}
	for _, f := range p.fields {
		if f.drop {
			continue
		}
		dst = append(dst, f.name.at(p.buf)...)
		dst = append(dst, ": "...)
		dst = append(dst, f.value.at(p.buf)...)
		dst = append(dst, "\r\n"...)
	}
	return dst
}

// get returns the bytes of s, or nil for an unset span.
func (p *ResponseParser) get(s span) []byte {
	if s.end == 0 {
		return nil
	}
	return s.at(p.buf)
}
