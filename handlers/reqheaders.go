package handlers

import "github.com/gale-http/gale/httpcodec"

// RequestHeaderRules change the header fields of the requests a location
// hands to an application (nginx proxy_set_header and fastcgi_param
// HTTP_*, done once for every protocol): the fields they remove, then
// theirs, so a client cannot send a field the application trusts
// (X-Forwarded-Proto for Django's SECURE_PROXY_SSL_HEADER) and the front
// can set one for it. Prepared once, read-only while serving.
type RequestHeaderRules struct {
	drop []string           // names whose fields are removed ("set" and "remove")
	set  []httpcodec.Header // fields added ("set")
}

// NewRequestHeaderRules prepares rules: set replaces (or adds) each
// field, remove drops each named field. Names and values must be valid
// (internal/config checks them).
func NewRequestHeaderRules(set [][2]string, remove []string) *RequestHeaderRules {
	h := &RequestHeaderRules{drop: append([]string(nil), remove...)}
	for _, kv := range set {
		h.drop = append(h.drop, kv[0])
		h.set = append(h.set, httpcodec.Header{Name: []byte(kv[0]), Value: []byte(kv[1])})
	}
	return h
}

// Apply appends to dst the fields of in that the rules keep, then the
// fields they set, and returns it: views of in and of the rules, no
// copies, so a reused dst costs no allocation.
func (h *RequestHeaderRules) Apply(dst, in []httpcodec.Header) []httpcodec.Header {
	for _, f := range in {
		if !h.drops(f.Name) {
			dst = append(dst, f)
		}
	}
	return append(dst, h.set...)
}

func (h *RequestHeaderRules) drops(name []byte) bool {
	for _, d := range h.drop {
		if httpcodec.EqualFold(name, d) {
			return true
		}
	}
	return false
}
