package handlers

import (
	"bytes"
)

// ccDirectives are the Cache-Control directives the response cache acts
// on (RFC 9111 section 5.2), from every field line of one header. A
// directive that appears twice keeps its first value (section 4.2.1).
type ccDirectives struct {
	present                      bool
	noStore, noCache, private    bool
	public, mustRevalidate       bool
	proxyRevalidate, noTransform bool
	onlyIfCached, mustUnderstand bool
	maxAge, sMaxAge              int64 // seconds; -1: absent
	swr, sie                     int64 // stale-while-revalidate, stale-if-error; -1: absent
	badAge                       bool  // max-age or s-maxage with a value that is no number
}

func newCC() ccDirectives { return ccDirectives{maxAge: -1, sMaxAge: -1, swr: -1, sie: -1} }

// add parses one field value into d.
func (d *ccDirectives) add(v []byte) {
	d.present = true
	for len(v) > 0 {
		var name, val []byte
		name, val, v = nextDirective(v)
		switch {
		case len(name) == 0:
		case eqFoldStr(name, "no-store"):
			d.noStore = true
		case eqFoldStr(name, "no-cache"):
			d.noCache = true
		case eqFoldStr(name, "private"):
			d.private = true
		case eqFoldStr(name, "public"):
			d.public = true
		case eqFoldStr(name, "must-revalidate"):
			d.mustRevalidate = true
		case eqFoldStr(name, "proxy-revalidate"):
			d.proxyRevalidate = true
		case eqFoldStr(name, "no-transform"):
			d.noTransform = true
		case eqFoldStr(name, "only-if-cached"):
			d.onlyIfCached = true
		case eqFoldStr(name, "must-understand"):
			d.mustUnderstand = true
		case eqFoldStr(name, "max-age"):
			d.maxAge = d.seconds(d.maxAge, val)
		case eqFoldStr(name, "s-maxage"):
			d.sMaxAge = d.seconds(d.sMaxAge, val)
		case eqFoldStr(name, "stale-while-revalidate"):
			d.swr = d.seconds(d.swr, val)
		case eqFoldStr(name, "stale-if-error"):
			d.sie = d.seconds(d.sie, val)
		}
	}
}

// seconds parses a delta-seconds value unless one was seen already. An
// invalid value counts as 0: the response is stale (RFC 9111 section
// 4.2.1 allows treating it so), never fresh by accident.
func (d *ccDirectives) seconds(prev int64, v []byte) int64 {
	if prev >= 0 {
		return prev
	}
	n, ok := deltaSeconds(v)
	if !ok {
		d.badAge = true
		return 0
	}
	return n
}

// deltaSeconds parses 1*DIGIT, capping at 2^31 (RFC 9111 section 1.2.2).
func deltaSeconds(v []byte) (int64, bool) {
	if len(v) == 0 {
		return 0, false
	}
	var n int64
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, false
		}
		if n < 1<<31 {
			n = n*10 + int64(c-'0')
		}
	}
	return min(n, 1<<31), true
}

// nextDirective splits the first directive off a Cache-Control list: its
// name, its value (unquoted), and the rest.
func nextDirective(v []byte) (name, val, rest []byte) {
	i := 0
	for i < len(v) && (v[i] == ' ' || v[i] == '\t' || v[i] == ',') {
		i++
	}
	v = v[i:]
	i = 0
	for i < len(v) && v[i] != '=' && v[i] != ',' && v[i] != ' ' && v[i] != '\t' {
		i++
	}
	name = v[:i]
	j := i
	for j < len(v) && (v[j] == ' ' || v[j] == '\t') {
		j++
	}
	if j < len(v) && v[j] == '=' {
		j++
		for j < len(v) && (v[j] == ' ' || v[j] == '\t') {
			j++
		}
		if j < len(v) && v[j] == '"' {
			k := j + 1
			for k < len(v) && v[k] != '"' {
				k++
			}
			val = v[j+1 : k]
			j = min(k+1, len(v))
		} else {
			k := j
			for k < len(v) && v[k] != ',' && v[k] != ' ' && v[k] != '\t' {
				k++
			}
			val = v[j:k]
			j = k
		}
	}
	for j < len(v) && v[j] != ',' {
		j++ // garbage after a directive: skip to the next one
	}
	return name, val, v[j:]
}

// eqFoldStr compares b to the lower-case ASCII s without regard to case.
func eqFoldStr(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

// validCDNCacheControl reports whether v is a valid Structured Field
// Dictionary (RFC 8941) whose freshness members are integers, as RFC 9213
// requires of CDN-Cache-Control; an invalid one is ignored whole.
func validCDNCacheControl(v []byte) bool {
	for len(v) > 0 {
		for len(v) > 0 && (v[0] == ' ' || v[0] == '\t') {
			v = v[1:]
		}
		i := 0
		for i < len(v) && (v[i] >= 'a' && v[i] <= 'z' || v[i] == '*' || i > 0 && (v[i] >= '0' && v[i] <= '9' || v[i] == '_' || v[i] == '-' || v[i] == '.')) {
			i++
		}
		if i == 0 {
			return false // a key starts with lcalpha or *
		}
		key := v[:i]
		v = v[i:]
		if len(v) > 0 && v[0] == '=' {
			j := 1
			for j < len(v) && v[j] != ',' && v[j] != ';' {
				j++
			}
			val := bytes.TrimSpace(v[1:j])
			v = v[j:]
			switch string(key) {
			case "max-age", "s-maxage", "stale-while-revalidate", "stale-if-error":
				if _, ok := deltaSeconds(val); !ok {
					return false // wrong type: a string, a token, a decimal
				}
			default:
				if len(val) == 0 {
					return false
				}
			}
		}
		for len(v) > 0 && v[0] == ';' { // parameters: skipped, but must not be garbage
			j := 1
			for j < len(v) && v[j] != ',' && v[j] != ';' {
				j++
			}
			v = v[j:]
		}
		v = bytes.TrimLeft(v, " \t")
		if len(v) == 0 {
			return true
		}
		if v[0] != ',' {
			return false
		}
		v = bytes.TrimLeft(v[1:], " \t")
		if len(v) == 0 {
			return false // a trailing comma
		}
	}
	return true
}

// storableStatus reports whether gale understands a status (RFC 9111
// section 3: a status it does not is stored only when explicitly fresh,
// never under must-understand); heuristic tells the ones RFC 9110
// section 15.1 calls heuristically cacheable, to which a configured
// default TTL may apply.
func storableStatus(st int) (ok, heuristic bool) {
	switch st {
	case 200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501:
		return true, true
	case 201, 202, 302, 303, 307, 400, 401, 402, 403, 406, 407, 408, 409, 411, 412, 413, 415, 416, 417,
		421, 422, 423, 424, 425, 426, 428, 429, 431, 451, 500, 502, 503, 504, 505, 511:
		return true, false
	}
	return false, false
}
