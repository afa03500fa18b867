package handlers

import (
	"bytes"
	"crypto/rand"
)

// maxRanges caps the ranges of one request. More than that, or overlapping
// ranges, are answered with the whole 200 entity: RFC 9110 section 14.2
// lets a server ignore Range, and it defeats "many small ranges" amplification.
const maxRanges = 16

// byteRange is one satisfiable range: length bytes from start.
type byteRange struct{ start, length int64 }

// Outcomes of parseRange.
const (
	rangeIgnore        = iota // no, invalid, too many or overlapping ranges: serve 200
	rangeOK                   // dst holds at least one satisfiable range
	rangeUnsatisfiable        // valid, but no range overlaps the entity: 416
)

// parseRange parses a "bytes=" Range header for an entity of size bytes
// into dst (which needs room for maxRanges, so the caller can keep it on
// the stack). Unsatisfiable ranges in a list with satisfiable ones are
// dropped; a syntax error anywhere ignores the whole header.
func parseRange(h []byte, size int64, dst []byteRange) ([]byteRange, int) {
	const unit = "bytes="
	if len(h) < len(unit) || !bytes.EqualFold(h[:len(unit)], []byte(unit)) {
		return dst, rangeIgnore
	}
	specs := 0
	for rest := h[len(unit):]; len(rest) > 0; {
		var spec []byte
		if i := bytes.IndexByte(rest, ','); i >= 0 {
			spec, rest = rest[:i], rest[i+1:]
		} else {
			spec, rest = rest, nil
		}
		spec = bytes.Trim(spec, " \t")
		if len(spec) == 0 {
			continue // empty list elements are allowed (RFC 9110 section 5.6.1)
		}
		if specs++; specs > maxRanges {
			return dst, rangeIgnore
		}
		r, ok, valid := parseRangeSpec(spec, size)
		if !valid {
			return dst, rangeIgnore
		}
		if ok {
			dst = append(dst, r)
		}
	}
	if specs == 0 {
		return dst, rangeIgnore
	}
	if len(dst) == 0 {
		return dst, rangeUnsatisfiable
	}
	if overlapping(dst) {
		return dst[:0], rangeIgnore
	}
	return dst, rangeOK
}

// parseRangeSpec parses "first-last", "first-" or "-suffix". valid is false
// on a syntax error; ok is false for a valid but unsatisfiable spec.
func parseRangeSpec(spec []byte, size int64) (r byteRange, ok, valid bool) {
	dash := bytes.IndexByte(spec, '-')
	if dash < 0 {
		return r, false, false
	}
	if dash == 0 { // suffix range
		n, v := parseDigits(spec[1:])
		if !v {
			return r, false, false
		}
		if n == 0 || size == 0 {
			return r, false, true
		}
		n = min(n, size)
		return byteRange{size - n, n}, true, true
	}
	first, v := parseDigits(spec[:dash])
	if !v {
		return r, false, false
	}
	last := size - 1
	if dash+1 < len(spec) {
		l, v := parseDigits(spec[dash+1:])
		if !v || l < first {
			return r, false, false
		}
		last = min(l, size-1)
	}
	if first >= size {
		return r, false, true
	}
	return byteRange{first, last - first + 1}, true, true
}

// parseDigits parses a non-empty decimal without sign, refusing overflow.
func parseDigits(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// overlapping reports whether any two ranges share a byte.
func overlapping(rs []byteRange) bool {
	for i := range rs {
		for j := i + 1; j < len(rs); j++ {
			a, b := rs[i], rs[j]
			if a.start < b.start+b.length && b.start < a.start+a.length {
				return true
			}
		}
	}
	return false
}

// serveUnsatisfiable answers 416 with "Content-Range: bytes */size".
func serveUnsatisfiable(ctx *Ctx, resp *Response, size int64, withBody bool) {
	extra := make([]byte, 0, 48)
	extra = append(extra, "Content-Range: bytes */"...)
	extra = appendInt(extra, size)
	extra = append(extra, "\r\n"...)
	errorResponse(ctx, resp, 416, string(extra), withBody)
}

// serveSingleRange writes the 206 head of one range into ctx.Scratch; the
// caller attaches the body view or file range.
func serveSingleRange(ctx *Ctx, resp *Response, m *fileMeta, r byteRange) {
	start := len(ctx.Scratch)
	b := appendEntityHead(ctx.Scratch, 206, m, encIdentity, m.mime.ctype, r.length)
	ctx.Scratch = appendContentRange(b, r, m.size)
	resp.Status = 206
	resp.Head = scratchView(ctx, start)
}

// appendPartHeads appends the multipart/byteranges framing (RFC 9110
// section 14.6) for rs to dst: each part's delimiter and head, then the
// closing delimiter. ends[i] is where part i's head ends in the result,
// ends[len(rs)] where the closing delimiter does; part i's head begins
// where part i-1's ends (the first at len(dst)).
func appendPartHeads(dst []byte, m *fileMeta, rs []byteRange, boundary string) ([]byte, [maxRanges + 1]int) {
	var ends [maxRanges + 1]int
	for i, r := range rs {
		dst = append(dst, "\r\n--"...)
		dst = append(dst, boundary...)
		dst = append(dst, "\r\nContent-Type: "...)
		dst = append(dst, m.mime.ctype...)
		dst = append(dst, "\r\n"...)
		dst = appendContentRange(dst, r, m.size)
		dst = append(dst, "\r\n"...)
		ends[i] = len(dst)
	}
	dst = append(dst, "\r\n--"...)
	dst = append(dst, boundary...)
	dst = append(dst, "--\r\n"...)
	ends[len(rs)] = len(dst)
	return dst, ends
}

// multipartLength is the body length of a multipart/byteranges response:
// its framing plus the ranges.
func multipartLength(framing []byte, rs []byteRange) int64 {
	total := int64(len(framing))
	for _, r := range rs {
		total += r.length
	}
	return total
}

// appendMultipartHead appends the 206 head of a multipart/byteranges
// response to ctx.Scratch and points resp at it.
func appendMultipartHead(ctx *Ctx, resp *Response, m *fileMeta, boundary string, length int64) {
	start := len(ctx.Scratch)
	ctype := "multipart/byteranges; boundary=" + boundary
	ctx.Scratch = appendEntityHead(ctx.Scratch, 206, m, encIdentity, ctype, length)
	resp.Status = 206
	resp.Head = scratchView(ctx, start)
}

// serveMultiRange answers 206 multipart/byteranges (RFC 9110 section
// 14.6): each part's head is built in ctx.Scratch, each part's body is a
// view of the cached body. boundary must not occur in body; see
// entry.boundary.
func serveMultiRange(ctx *Ctx, resp *Response, m *fileMeta, body []byte, rs []byteRange, boundary string, withBody bool) {
	// Part heads first, so the total length is known for the main head.
	partStart := len(ctx.Scratch)
	var ends [maxRanges + 1]int
	ctx.Scratch, ends = appendPartHeads(ctx.Scratch, m, rs, boundary)
	parts := ctx.Scratch[partStart:len(ctx.Scratch):len(ctx.Scratch)]
	appendMultipartHead(ctx, resp, m, boundary, multipartLength(parts, rs))
	if !withBody {
		return
	}
	prev := 0
	for i, r := range rs {
		end := ends[i] - partStart
		resp.AddBody(parts[prev:end:end])
		resp.AddBody(body[r.start : r.start+r.length : r.start+r.length])
		prev = end
	}
	resp.AddBody(parts[prev:])
}

// serveMultiRangeFile answers 206 multipart/byteranges for a file the
// reactor streams (serveLarge): the framing is memory, each range goes out
// with sendfile. The first part's head is resp.Body and its range
// resp.File; each further part is one FilePart in resp.FileMore, and the
// closing delimiter a last FilePart without a range. The framing outlives
// ctx.Scratch (the reactor may send it after the batch), so it gets its
// own allocation; multi-range requests on large files are rare.
//
// The boundary is random: a client cannot put it in a file it uploads,
// and the file is not scanned for it (it may be gigabytes).
func serveMultiRangeFile(ctx *Ctx, resp *Response, fd int, m *fileMeta, rel string, rs []byteRange) {
	boundary := "gale-" + rand.Text()
	framing, ends := appendPartHeads(make([]byte, 0, len(rs)*(96+len(m.mime.ctype))+48), m, rs, boundary)
	appendMultipartHead(ctx, resp, m, boundary, multipartLength(framing, rs))
	resp.AddBody(framing[:ends[0]:ends[0]])
	attachFile(resp, fd, rel, rs[0].start, rs[0].length)
	more := make([]FilePart, len(rs))
	for i := 1; i < len(rs); i++ {
		more[i-1] = FilePart{Pre: framing[ends[i-1]:ends[i]:ends[i]], Off: rs[i].start, Len: rs[i].length}
	}
	more[len(rs)-1] = FilePart{Pre: framing[ends[len(rs)-1]:]}
	resp.FileMore = more
}
