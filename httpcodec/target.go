package httpcodec

import "bytes"

// TargetForm is the form of a request-target (RFC 9112 section 3.2).
type TargetForm uint8

// Request-target forms.
const (
	// FormOrigin is "/path?query", the usual form.
	FormOrigin TargetForm = iota
	// FormAbsolute is "http://host[:port]/path?query"; Host comes from it.
	FormAbsolute
	// FormAsterisk is "*", only with OPTIONS; Path is "/".
	FormAsterisk
	// FormAuthority is "host:port", only with CONNECT; Path is "/".
	FormAuthority
)

// parseTarget classifies r.RawTarget and fills Form, Path, Query and, for
// absolute-form, Host. A target that matches none of the four forms, or a
// form the method may not use, is a 400 (RFC 9112 section 3.2).
func parseTarget(r *Request) error {
	t := r.RawTarget
	switch {
	case r.Method == MethodConnect:
		// RFC 9112 section 3.2.3: CONNECT takes authority-form only.
		if !validAuthority(t) {
			return ErrTarget
		}
		r.Form = FormAuthority
		return r.setPath(rootPath)
	case t[0] == '/':
		r.Form = FormOrigin
		return r.setPath(t)
	case len(t) == 1 && t[0] == '*':
		// RFC 9112 section 3.2.4: only for a server-wide OPTIONS.
		if r.Method != MethodOptions {
			return ErrTarget
		}
		r.Form = FormAsterisk
		return r.setPath(rootPath)
	}
	return parseAbsolute(r, t)
}

var rootPath = []byte("/")

// parseAbsolute handles absolute-form (RFC 9112 section 3.2.2) for the http
// and https schemes. The authority replaces any Host field. Userinfo is an
// error (RFC 9110 section 4.2.4), and so is an empty host.
func parseAbsolute(r *Request, t []byte) error {
	var rest []byte
	switch {
	case len(t) > 7 && eqFoldLower(t[:7], "http://"):
		rest = t[7:]
	case len(t) > 8 && eqFoldLower(t[:8], "https://"):
		rest = t[8:]
	default:
		return ErrTarget
	}
	end := 0
	for end < len(rest) && rest[end] != '/' && rest[end] != '?' {
		end++
	}
	auth := rest[:end]
	if len(auth) == 0 || auth[0] == ':' || !validHost(auth) {
		return ErrTarget
	}
	r.Form = FormAbsolute
	r.Host = auth
	rest = rest[end:]
	if len(rest) == 0 || rest[0] == '?' {
		// "http://h?q": the path is empty, which means "/".
		if len(rest) > 0 {
			r.Query = rest[1:]
		}
		return r.setPath(rootPath)
	}
	return r.setPath(rest)
}

// setPath splits "path?query", and stores the normalized path in the
// Request's own storage.
func (r *Request) setPath(t []byte) error {
	if q := bytes.IndexByte(t, '?'); q >= 0 {
		r.Query = t[q+1:]
		t = t[:q]
	}
	if r.pathBuf == nil {
		r.pathBuf = r.pathArr[:0]
	}
	var err error
	if pathIsClean(t) {
		r.Path = append(r.pathBuf[:0], t...)
	} else if r.Path, err = appendNormalized(r.pathBuf[:0], t); err != nil {
		r.Path = nil
		return err
	}
	r.pathBuf = r.Path[:0]
	return nil
}

// pathIsClean reports whether an absolute path needs no normalization: no
// '%' and no segment that is empty or starts with a dot.
func pathIsClean(p []byte) bool {
	prev := byte(0)
	for _, c := range p {
		if c == '%' || prev == '/' && (c == '/' || c == '.') {
			return false
		}
		prev = c
	}
	return true
}

// NormalizePath appends to dst the normalized form of the absolute path raw
// (without its query) and returns the extended slice:
//
//   - percent-escapes are decoded once ("%252e" becomes the literal "%2e");
//     a '%' not followed by two hex digits is an error;
//   - an encoded slash ("%2F", "%2f") or a NUL byte, raw or encoded, is an
//     error: it would change how the path splits into segments or names;
//   - "." and ".." segments are removed (RFC 3986 section 5.2.4), after
//     decoding, so "%2e%2e" is ".."; a ".." that would climb above "/" is an
//     error rather than being clamped, since only an attack sends it;
//   - empty segments ("//") are collapsed;
//   - a backslash is an ordinary byte, not a separator: on the POSIX
//     filesystems gale serves it is part of a name, so "\..\" is harmless;
//   - other bytes, including decoded non-UTF-8 ("%c0%ae" is the two bytes
//     0xc0 0xae, not a dot) and controls, are kept as they are.
//
// The result starts with '/' and has no "." or ".." segment. raw must start
// with '/'. On error dst is returned unchanged.
func NormalizePath(dst, raw []byte) ([]byte, error) {
	if bytes.IndexByte(raw, 0) >= 0 {
		return dst, ErrPath
	}
	return appendNormalized(dst, raw)
}

// appendNormalized is NormalizePath for a path whose bytes the parser has
// already checked.
func appendNormalized(dst, raw []byte) ([]byte, error) {
	if len(raw) == 0 || raw[0] != '/' {
		return dst, ErrPath
	}
	base := len(dst)
	out := append(dst, '/')
	for i := 1; i <= len(raw); {
		j := bytes.IndexByte(raw[i:], '/')
		last := j < 0
		if last {
			j = len(raw)
		} else {
			j += i
		}
		seg := len(out)
		var err error
		if out, err = appendSegment(out, raw[i:j]); err != nil {
			return dst[:base], err
		}
		s := out[seg:]
		switch {
		case len(s) == 0: // "//" or a trailing '/'
		case len(s) == 1 && s[0] == '.':
			out = out[:seg]
		case len(s) == 2 && s[0] == '.' && s[1] == '.':
			if seg == base+1 {
				return dst[:base], ErrPathAboveRoot
			}
			out = out[:base+bytes.LastIndexByte(out[base:seg-1], '/')+1]
		default:
			if !last {
				out = append(out, '/')
			}
		}
		i = j + 1
	}
	return out, nil
}

// appendSegment appends one path segment, percent-decoded.
func appendSegment(out, seg []byte) ([]byte, error) {
	for {
		k := bytes.IndexByte(seg, '%')
		if k < 0 {
			return append(out, seg...), nil
		}
		out = append(out, seg[:k]...)
		if k+2 >= len(seg) || hexVal[seg[k+1]] < 0 || hexVal[seg[k+2]] < 0 {
			return out, ErrPath
		}
		c := byte(hexVal[seg[k+1]])<<4 | byte(hexVal[seg[k+2]])
		if c == '/' || c == 0 {
			return out, ErrPath
		}
		out = append(out, c)
		seg = seg[k+3:]
	}
}
