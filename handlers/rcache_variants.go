package handlers

import (
	"bytes"
	"sync/atomic"

	"github.com/gale-http/gale/httpcodec"
)

// Compressed variants of cached responses: the static pipeline's gzip and
// zstd, built once per entry after it is stored, off the event loops (a
// miss never waits for a compressor), and published by replacing the
// entry if it is still the one they were built from. A hit then picks the
// client's preferred coding by Accept-Encoding like a static hit; all
// representations say Vary: Accept-Encoding, and the compressed ones
// carry the ETag made weak (as nginx's gzip does: same content,
// different bytes). Ranges are served from the identity body.

// compressing counts the compressions running; more are skipped (the
// entry is then served uncompressed), so a burst of misses cannot take
// every CPU.
var compressing atomic.Int32

const maxCompressing = 2

// compressLater builds the variants of the entry under h stored at
// storedAt, on a goroutine of its own.
func (c *RespCache) compressLater(h uint64, storedAt int64) {
	if compressing.Add(1) > maxCompressing {
		compressing.Add(-1)
		return
	}
	go func() {
		defer compressing.Add(-1)
		c.addVariants(h, storedAt)
	}()
}

// addVariants builds and publishes the variants of one entry.
func (c *RespCache) addVariants(h uint64, storedAt int64) {
	m, d, pin, ok := c.st.get(h)
	if !ok {
		return
	}
	defer pin.Release() // d is read until the new entry is built
	if m.storedAt != storedAt || m.gzN+m.zsN > 0 {
		return
	}
	body := m.body(d)
	var comp [numEnc][]byte
	for _, enc := range [...]int{encGzip, encZstd} {
		if b := compressBody(enc, body); worthIt(len(body), len(b)) {
			comp[enc] = b
		}
	}
	if comp[encGzip] == nil && comp[encZstd] == nil {
		return
	}
	o := m.keyN + m.varyN
	statusLine := d[o : o+m.statusN]
	fields := m.fields(d)
	const vary = "Vary: Accept-Encoding\r\n"
	nd := append([]byte(nil), d[:o]...)
	nd = append(nd, statusLine...)
	nd = append(nd, fields...)
	nd = append(nd, vary...)
	nd = httpcodec.AppendContentLength(nd, int64(len(body)))
	nm := m
	nm.headN = uint32(len(nd)) - o
	nd = append(nd, body...)
	nd = append(nd, m.etag(d)...)
	nd = append(nd, m.tags(d)...)
	for _, enc := range [...]int{encGzip, encZstd} {
		if comp[enc] == nil {
			continue
		}
		s := len(nd)
		nd = append(nd, statusLine...)
		nd = appendWeakened(nd, fields)
		nd = httpcodec.AppendHeader(nd, "Content-Encoding", encName[enc])
		nd = append(nd, vary...)
		nd = httpcodec.AppendContentLength(nd, int64(len(comp[enc])))
		headN := uint32(len(nd) - s)
		nd = append(nd, comp[enc]...)
		if enc == encGzip {
			nm.gzHeadN, nm.gzN = headN, uint32(len(comp[enc]))
		} else {
			nm.zsHeadN, nm.zsN = headN, uint32(len(comp[enc]))
		}
	}
	c.st.replaceIf(h, func(cur *entryMeta) bool { return cur.storedAt == storedAt && cur.gzN+cur.zsN == 0 }, nm, nd)
}

// appendWeakened appends field lines with a strong ETag made weak.
func appendWeakened(dst, fields []byte) []byte {
	for l := range fieldLines(fields) {
		if name, v := splitField(l); eqFoldStr(name, "etag") && len(v) > 0 && v[0] == '"' {
			dst = append(dst, "ETag: W/"...)
			dst = append(dst, v...)
			dst = append(dst, "\r\n"...)
			continue
		}
		dst = append(dst, l...)
	}
	return dst
}

// variant returns the head and body of the compressed variant the client
// prefers, if the entry has it.
func (m *entryMeta) variant(d, ae []byte) (head, body []byte, ok bool) {
	var order [numEnc]int
	o := m.keyN + m.varyN + m.headN + m.bodyN + m.etagN + m.tagsN
	for _, enc := range preferredEncodings(ae, &order) {
		switch {
		case enc == encIdentity:
			return nil, nil, false
		case enc == encGzip && m.gzN > 0:
			return d[o : o+m.gzHeadN : o+m.gzHeadN], d[o+m.gzHeadN : o+m.gzHeadN+m.gzN : o+m.gzHeadN+m.gzN], true
		case enc == encZstd && m.zsN > 0:
			z := o + m.gzHeadN + m.gzN
			return d[z : z+m.zsHeadN : z+m.zsHeadN], d[z+m.zsHeadN : z+m.zsHeadN+m.zsN : z+m.zsHeadN+m.zsN], true
		}
	}
	return nil, nil, false
}

// compressibleType reports whether a Content-Type is worth compressing:
// text, JSON, XML, JavaScript, SVG.
func compressibleType(ct []byte) bool {
	if i := bytes.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	ct = bytes.ToLower(bytes.TrimSpace(ct))
	switch {
	case bytes.HasPrefix(ct, []byte("text/")):
		return true
	case bytes.HasSuffix(ct, []byte("+json")), bytes.HasSuffix(ct, []byte("+xml")):
		return true
	}
	switch string(ct) {
	case "application/json", "application/javascript", "application/xml", "image/svg+xml", "application/x-javascript":
		return true
	}
	return false
}
