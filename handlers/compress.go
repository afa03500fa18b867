package handlers

import (
	"bytes"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/gale-http/gale/httpcodec"
)

// minCompressSize is the smallest body worth compressing: below it the
// coding's framing eats the gain.
const minCompressSize = 256

// worthIt reports whether a compressed variant saves at least 10%.
func worthIt(orig, comp int) bool { return comp <= orig-orig/10 }

var (
	zstdOnce sync.Once
	zstdEnc  *zstd.Encoder
)

// zstdEncoder returns the shared encoder; EncodeAll is safe for
// concurrent use.
func zstdEncoder() *zstd.Encoder {
	zstdOnce.Do(func() {
		// Variants are built once per cached file, so pay for the ratio.
		zstdEnc, _ = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedBestCompression),
			zstd.WithEncoderConcurrency(1))
	})
	return zstdEnc
}

// compressGzip returns body gzipped at the best level.
func compressGzip(body []byte) []byte {
	var buf bytes.Buffer
	buf.Grow(len(body) / 2)
	w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression) // level is valid
	w.Write(body)                                           // writes to a bytes.Buffer do not fail
	w.Close()
	return buf.Bytes()
}

// compressZstd returns body as a zstd frame.
func compressZstd(body []byte) []byte {
	return zstdEncoder().EncodeAll(body, make([]byte, 0, len(body)/2))
}

// q-value of each coding in an Accept-Encoding field, 0..1000; -1 = not named.
type acceptQ struct {
	coding   [numEnc]int
	wildcard int
}

// preferredEncodings orders the codings the client accepts by q-value, the
// server's preference (zstd, gzip, identity) breaking ties, into dst; it
// always ends with identity so there is something to send (RFC 9110
// section 12.5.3 allows identity even when the client excluded it).
func preferredEncodings(ae []byte, dst *[numEnc]int) []int {
	q := parseAcceptEncoding(ae)
	out := dst[:0]
	var eff [numEnc]int
	for enc := range numEnc {
		eff[enc] = q.coding[enc]
		if eff[enc] < 0 {
			switch {
			case q.wildcard >= 0:
				eff[enc] = q.wildcard
			case enc == encIdentity:
				eff[enc] = 1
			default:
				eff[enc] = 0
			}
		}
	}
	for _, enc := range [...]int{encZstd, encGzip} {
		if eff[enc] > 0 {
			out = append(out, enc)
		}
	}
	if len(out) == 2 && eff[encGzip] > eff[encZstd] {
		out[0], out[1] = out[1], out[0]
	}
	// identity goes before any coding it beats.
	i := len(out)
	for i > 0 && eff[encIdentity] > eff[out[i-1]] {
		i--
	}
	out = append(out, 0)
	copy(out[i+1:], out[i:])
	out[i] = encIdentity
	return out
}

// parseAcceptEncoding reads the q-value of gzip (and x-gzip), zstd,
// identity and "*" in one pass without allocating. Elements with a
// malformed q-value are skipped.
func parseAcceptEncoding(ae []byte) acceptQ {
	q := acceptQ{coding: [numEnc]int{-1, -1, -1}, wildcard: -1}
	for i := 0; i < len(ae); {
		i = skipOWS(ae, i, true)
		start := i
		for i < len(ae) && ae[i] != ',' && ae[i] != ';' && ae[i] != ' ' && ae[i] != '\t' {
			i++
		}
		name := ae[start:i]
		v, ok := 1000, true
		for i = skipOWS(ae, i, false); i < len(ae) && ae[i] == ';'; i = skipOWS(ae, i, false) {
			ps := skipOWS(ae, i+1, false)
			for i = ps; i < len(ae) && ae[i] != ',' && ae[i] != ';'; i++ {
			}
			if p := trimOWS(ae[ps:i]); len(p) >= 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=' {
				v, ok = parseQValue(p[2:])
			}
		}
		for i < len(ae) && ae[i] != ',' {
			i++ // junk after the element
		}
		if ok && len(name) > 0 {
			q.set(name, v)
		}
	}
	return q
}

// set records the q-value of a coding name, compared case-insensitively.
func (q *acceptQ) set(name []byte, v int) {
	switch {
	case httpcodec.EqualFold(name, "gzip"), httpcodec.EqualFold(name, "x-gzip"):
		q.coding[encGzip] = v
	case httpcodec.EqualFold(name, "zstd"):
		q.coding[encZstd] = v
	case httpcodec.EqualFold(name, "identity"):
		q.coding[encIdentity] = v
	case len(name) == 1 && name[0] == '*':
		q.wildcard = v
	}
}

// skipOWS skips spaces and tabs (and commas when commas) from i.
func skipOWS(b []byte, i int, commas bool) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || (commas && b[i] == ',')) {
		i++
	}
	return i
}

// trimOWS trims trailing spaces and tabs.
func trimOWS(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// parseQValue parses qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ).
func parseQValue(v []byte) (int, bool) {
	if len(v) == 0 || (v[0] != '0' && v[0] != '1') || len(v) > 5 || (len(v) > 1 && v[1] != '.') {
		return 0, false
	}
	n := int(v[0]-'0') * 1000
	scale := 100
	for _, c := range v[min(2, len(v)):] {
		if c < '0' || c > '9' {
			return 0, false
		}
		n += int(c-'0') * scale
		scale /= 10
	}
	return n, n <= 1000
}
