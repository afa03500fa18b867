package httpcodec

// validHost checks Host = uri-host [ ":" port ] (RFC 9110 section 7.2,
// RFC 3986 section 3.2.2): an IP-literal in brackets, or a reg-name /
// IPv4address made of unreserved, sub-delims and pct-encoded bytes, then an
// optional port of digits. Userinfo ('@'), spaces, controls and non-ASCII
// bytes are invalid. An empty value is valid (RFC 9110 section 7.2: a
// client sends an empty Host when the target URI has no authority).
func validHost(h []byte) bool {
	i, ok := hostEnd(h)
	if !ok {
		return false
	}
	if i == len(h) {
		return true
	}
	if h[i] != ':' {
		return false
	}
	for _, c := range h[i+1:] {
		if !isDigit(c) {
			return false
		}
	}
	return true
}

// validAuthority checks authority-form = uri-host ":" port (RFC 9112
// section 3.2.3): a non-empty host and a non-empty port.
func validAuthority(a []byte) bool {
	i, ok := hostEnd(a)
	return ok && i > 0 && i+1 < len(a) && validHost(a)
}

// hostEnd scans the uri-host at the start of h and returns where it ends.
func hostEnd(h []byte) (int, bool) {
	if len(h) > 0 && h[0] == '[' {
		for i := 1; i < len(h); i++ {
			if h[i] == ']' {
				return i + 1, validIPLiteral(h[1:i])
			}
		}
		return 0, false
	}
	i := 0
	for i < len(h) && h[i] != ':' {
		switch {
		case regNameChar[h[i]]:
			i++
		case h[i] == '%' && i+2 < len(h) && hexVal[h[i+1]] >= 0 && hexVal[h[i+2]] >= 0:
			i += 3
		default:
			return 0, false
		}
	}
	return i, true
}

// validIPLiteral checks the inside of "[...]": an IPv6 address (hex digits,
// ':' and '.') or an IPvFuture ("v" HEXDIG "." then unreserved, sub-delims
// or ':'). The IPv6 structure itself is not verified: it is never resolved.
func validIPLiteral(s []byte) bool {
	if len(s) == 0 {
		return false
	}
	if s[0] == 'v' || s[0] == 'V' {
		for _, c := range s[1:] {
			if !regNameChar[c] && c != ':' {
				return false
			}
		}
		return len(s) > 3
	}
	colon := false
	for _, c := range s {
		switch {
		case c == ':':
			colon = true
		case c == '.' || hexVal[c] >= 0:
		default:
			return false
		}
	}
	return colon
}
