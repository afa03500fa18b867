package handlers

import "bytes"

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

// serveMultiRange answers 206 multipart/byteranges (RFC 9110 section
// 14.6): each part's head is built in ctx.Scratch, each part's body is a
// view of the cached body. boundary must not occur in body; see
// entry.boundary.
func serveMultiRange(ctx *Ctx, resp *Response, m *fileMeta, body []byte, rs []byteRange, boundary string, withBody bool) {
	// Part heads first, so the total length is known for the main head.
	partStart := len(ctx.Scratch)
	var ends [maxRanges + 1]int
	total := int64(0)
	for i, r := range rs {
		b := append(ctx.Scratch, "\r\n--"...)
		b = append(b, boundary...)
		b = append(b, "\r\nContent-Type: "...)
		b = append(b, m.mime.ctype...)
		b = append(b, "\r\n"...)
		b = appendContentRange(b, r, m.size)
		ctx.Scratch = append(b, "\r\n"...)
		ends[i] = len(ctx.Scratch)
		total += r.length
	}
	ctx.Scratch = append(ctx.Scratch, "\r\n--"...)
	ctx.Scratch = append(ctx.Scratch, boundary...)
	ctx.Scratch = append(ctx.Scratch, "--\r\n"...)
	ends[len(rs)] = len(ctx.Scratch)
	parts := ctx.Scratch[partStart:len(ctx.Scratch):len(ctx.Scratch)]
	total += int64(len(parts))

	headStart := len(ctx.Scratch)
	ctype := "multipart/byteranges; boundary=" + boundary
	ctx.Scratch = appendEntityHead(ctx.Scratch, 206, m, encIdentity, ctype, total)
	resp.Status = 206
	resp.Head = scratchView(ctx, headStart)
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
