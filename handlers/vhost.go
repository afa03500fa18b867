package handlers

import (
	"bytes"
	"errors"
	"strings"

	"github.com/gale-http/gale/httpcodec"
)

// VHosts picks a virtual host by the request's Host (nginx server_name):
// an exact name first, then the longest matching wildcard ("*.example.com"
// matches a.example.com and a.b.example.com, not example.com), else the
// default. Matching ignores ASCII case, the port and a trailing dot. It is
// configured before serving and read-only afterwards; a lookup allocates
// nothing.
type VHosts struct {
	exact map[string]Handler
	// wild maps ".example.com" (the wildcard without its "*") to its vhost.
	wild map[string]Handler
	def  Handler
}

// maxHost bounds the Host names looked up: longer ones (253 is the DNS
// limit) go to the default vhost.
const maxHost = 255

// Add maps names to h. A name is "example.com" or "*.example.com".
func (v *VHosts) Add(h Handler, names ...string) error {
	if v.exact == nil {
		v.exact, v.wild = map[string]Handler{}, map[string]Handler{}
	}
	for _, n := range names {
		n = strings.TrimSuffix(strings.ToLower(n), ".")
		if n == "" || len(n) > maxHost || strings.Contains(n[1:], "*") {
			return errors.New("handlers: bad vhost name " + n)
		}
		m, key := v.exact, n
		if suffix, ok := strings.CutPrefix(n, "*"); ok {
			if len(suffix) < 2 || suffix[0] != '.' {
				return errors.New("handlers: bad vhost wildcard " + n)
			}
			m, key = v.wild, suffix
		}
		if _, dup := m[key]; dup {
			return errors.New("handlers: vhost name " + n + " given twice")
		}
		m[key] = h
	}
	return nil
}

// SetDefault makes h answer Hosts no name matches, and requests without a
// Host (HTTP/1.0).
func (v *VHosts) SetDefault(h Handler) { v.def = h }

// Lookup returns the handler for a Host header value; nil when nothing
// matches and there is no default.
func (v *VHosts) Lookup(host []byte) Handler {
	var buf [maxHost]byte
	n := hostKey(&buf, host)
	if n <= 0 {
		return v.def
	}
	key := buf[:n]
	// The string(key) conversions in map indexes do not allocate.
	if h, ok := v.exact[string(key)]; ok {
		return h
	}
	if len(v.wild) > 0 {
		// The longest wildcard first: try the suffix from each dot.
		for i := 0; i < len(key); i++ {
			if key[i] == '.' {
				if h, ok := v.wild[string(key[i:])]; ok {
					return h
				}
			}
		}
	}
	return v.def
}

// hostKey writes host lower-cased, without port and trailing dot, into
// buf and returns its length; 0 for an empty or over-long host.
func hostKey(buf *[maxHost]byte, host []byte) int {
	end := len(host)
	if end > 0 && host[0] == '[' {
		// IPv6 literal: the port follows the closing bracket.
		if i := bytes.IndexByte(host, ']'); i >= 0 {
			end = i + 1
		}
	} else if i := bytes.LastIndexByte(host, ':'); i >= 0 {
		end = i
	}
	if end > 0 && host[end-1] == '.' {
		end--
	}
	if end == 0 || end > maxHost {
		return 0
	}
	for i := 0; i < end; i++ {
		c := host[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return end
}

// Serve implements Handler: the matching vhost serves the request; with
// no match and no default the answer is 404.
func (v *VHosts) Serve(ctx *Ctx, req *httpcodec.Request, resp *Response) {
	if h := v.Lookup(req.Host); h != nil {
		h.Serve(ctx, req, resp)
		return
	}
	errorFor(ctx, req, resp, 404)
}
