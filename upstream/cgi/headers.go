package cgi

// The request's header fields as HTTP_* variables: which are forwarded,
// under which name, and how repeated ones are joined (see AppendEnv).

// appendHeaderPairs appends the HTTP_* variables for hs; skipHost drops
// the Host fields (HTTP_HOST was written from an absolute-form target).
func appendHeaderPairs(dst []byte, f Format, hs []Field, skipHost bool) []byte {
	conn := hasConnectionOptions(hs)
	for i := range hs {
		name := hs[i].Name
		if !forwardable(name) || seenBefore(hs[:i], name) ||
			skipHost && equalFold(name, "host") || conn && listedInConnection(hs, name) {
			continue
		}
		sep := ", "
		if len(name) == len("cookie") && equalFold(name, "cookie") {
			sep = "; "
		}
		vlen := len(hs[i].Value)
		for _, h := range hs[i+1:] {
			if equalFold(h.Name, name) {
				vlen += len(sep) + len(h.Value)
			}
		}
		dst = f.begin(dst, len("HTTP_")+len(name), vlen)
		dst = append(dst, "HTTP_"...)
		for _, c := range name {
			dst = append(dst, cgiNameByte[c])
		}
		dst = f.mid(dst, vlen)
		dst = append(dst, hs[i].Value...)
		for _, h := range hs[i+1:] {
			if equalFold(h.Name, name) {
				dst = append(dst, sep...)
				dst = append(dst, h.Value...)
			}
		}
		dst = f.end(dst)
	}
	return dst
}

// cgiNameByte maps a header name byte to its CGI variable byte: letters
// upper-cased, '-' to '_', digits kept; 0 marks a byte that disqualifies
// the header.
var cgiNameByte = func() (t [256]byte) {
	for c := '0'; c <= '9'; c++ {
		t[c] = byte(c)
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = byte(c)
		t[c+'a'-'A'] = byte(c)
	}
	t['-'] = '_'
	return t
}()

// forwardable reports whether a header becomes an HTTP_* variable.
func forwardable(name []byte) bool {
	if len(name) == 0 {
		return false
	}
	for _, c := range name {
		if cgiNameByte[c] == 0 {
			return false
		}
	}
	if len(name) >= len("proxy") && equalFold(name[:len("proxy")], "proxy") &&
		(len(name) == len("proxy") || name[len("proxy")] == '-') {
		// Proxy (httpoxy, see AppendEnv) and the hop-by-hop Proxy-*
		// fields (Proxy-Authorization, Proxy-Connection).
		return false
	}
	switch len(name) {
	case len("te"):
		return !equalFold(name, "te")
	case len("upgrade"):
		return !equalFold(name, "upgrade")
	case len("keep-alive"):
		return !equalFold(name, "keep-alive") && !equalFold(name, "connection")
	case len("content-type"):
		return !equalFold(name, "content-type")
	case len("transfer-encoding"):
		return !equalFold(name, "transfer-encoding")
	case len("content-length"):
		return !equalFold(name, "content-length")
	}
	return true
}

// hasConnectionOptions reports whether a Connection field lists anything
// but keep-alive and close: only then must every field be checked
// against its list (listedInConnection).
func hasConnectionOptions(hs []Field) bool {
	for _, h := range hs {
		if !equalFold(h.Name, "connection") {
			continue
		}
		for v := h.Value; len(v) > 0; {
			var tok []byte
			tok, v = nextToken(v)
			if len(tok) > 0 && !equalFold(tok, "keep-alive") && !equalFold(tok, "close") {
				return true
			}
		}
	}
	return false
}

// listedInConnection reports whether a Connection field names name: a
// field the client meant for gale alone (RFC 9110 section 7.6.1).
func listedInConnection(hs []Field, name []byte) bool {
	for _, h := range hs {
		if !equalFold(h.Name, "connection") {
			continue
		}
		for v := h.Value; len(v) > 0; {
			var tok []byte
			tok, v = nextToken(v)
			if equalFold(tok, name) {
				return true
			}
		}
	}
	return false
}

// nextToken splits the first element off a comma-separated list, without
// its surrounding spaces and tabs.
func nextToken(v []byte) (tok, rest []byte) {
	i := 0
	for i < len(v) && v[i] != ',' {
		i++
	}
	tok, rest = v[:i], v[min(i+1, len(v)):]
	for len(tok) > 0 && (tok[0] == ' ' || tok[0] == '\t') {
		tok = tok[1:]
	}
	for len(tok) > 0 && (tok[len(tok)-1] == ' ' || tok[len(tok)-1] == '\t') {
		tok = tok[:len(tok)-1]
	}
	return tok, rest
}

// seenBefore reports whether name occurs in hs (the headers already
// handled, so a repeated header was merged into its first occurrence).
func seenBefore(hs []Field, name []byte) bool {
	for _, h := range hs {
		if equalFold(h.Name, name) {
			return true
		}
	}
	return false
}
