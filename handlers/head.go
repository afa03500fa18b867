package handlers

import (
	"strconv"
	"time"

	"github.com/gale-http/gale/httpcodec"

	"golang.org/x/sys/unix"
)

// httpTimeFormat is the IMF-fixdate layout of RFC 9110 section 5.6.7.
const httpTimeFormat = "Mon, 02 Jan 2006 15:04:05 GMT"

// Content codings, also indexes into entry.reps. The order is the server's
// preference at equal q-values: zstd, then gzip, then identity.
const (
	encIdentity = iota
	encGzip
	encZstd
	numEnc
)

var (
	encName       = [numEnc]string{"", "gzip", "zstd"}
	encETagSuffix = [numEnc]string{"", "-gz", "-zst"}
	encSidecarExt = [numEnc]string{"", ".gz", ".zst"}
)

// fileMeta is what the heads of one file are built from.
type fileMeta struct {
	size     int64
	mtimeNs  int64 // for the ETag and revalidation
	mtimeSec int64 // Last-Modified resolution
	dev, ino uint64
	mime     mimeType
	etag     string // identity ETag, quoted
	lastMod  string // IMF-fixdate
}

// newMeta derives a file's validators from its stat.
func newMeta(st *unix.Stat_t, name string) fileMeta {
	m := fileMeta{
		size:     st.Size,
		mtimeNs:  st.Mtim.Nano(),
		mtimeSec: st.Mtim.Sec,
		dev:      st.Dev,
		ino:      st.Ino,
		mime:     mimeByName(name),
	}
	// Strong ETag from size and mtime (nginx's scheme, with nanoseconds).
	e := make([]byte, 0, 40)
	e = append(e, '"')
	e = strconv.AppendInt(e, m.size, 16)
	e = append(e, '-')
	e = strconv.AppendInt(e, m.mtimeNs, 16)
	e = append(e, '"')
	m.etag = string(e)
	m.lastMod = time.Unix(m.mtimeSec, 0).UTC().Format(httpTimeFormat)
	return m
}

// sameFile reports whether st still describes the file m was built from.
func (m *fileMeta) sameFile(st *unix.Stat_t) bool {
	return st.Dev == m.dev && st.Ino == m.ino && st.Size == m.size && st.Mtim.Nano() == m.mtimeNs
}

// appendETag appends the ETag of the enc representation: the identity tag
// with a coding suffix inside the quotes, so each representation has its own
// strong validator.
func appendETag(dst []byte, m *fileMeta, enc int) []byte {
	dst = append(dst, m.etag[:len(m.etag)-1]...)
	dst = append(dst, encETagSuffix[enc]...)
	return append(dst, '"')
}

// appendEntityHead appends the status line and entity headers of a
// response carrying (part of) the enc representation of m. A 304 carries
// only the validators and Vary (RFC 9110 section 15.4.5).
func appendEntityHead(dst []byte, code int, m *fileMeta, enc int, ctype string, length int64) []byte {
	dst = httpcodec.AppendStatusLine(dst, code)
	dst = append(dst, httpcodec.ServerHeader...)
	if code != 304 {
		dst = httpcodec.AppendHeader(dst, "Content-Type", ctype)
		dst = httpcodec.AppendContentLength(dst, length)
	}
	dst = append(dst, "ETag: "...)
	dst = appendETag(dst, m, enc)
	dst = append(dst, "\r\n"...)
	dst = httpcodec.AppendHeader(dst, "Last-Modified", m.lastMod)
	if code != 304 {
		dst = append(dst, "Accept-Ranges: bytes\r\n"...)
		if enc != encIdentity {
			dst = httpcodec.AppendHeader(dst, "Content-Encoding", encName[enc])
		}
	}
	if m.mime.compressible {
		dst = append(dst, "Vary: Accept-Encoding\r\n"...)
	}
	return dst
}

// appendContentRange appends "Content-Range: bytes first-last/size".
func appendContentRange(dst []byte, r byteRange, size int64) []byte {
	dst = append(dst, "Content-Range: bytes "...)
	dst = appendInt(dst, r.start)
	dst = append(dst, '-')
	dst = appendInt(dst, r.start+r.length-1)
	dst = append(dst, '/')
	dst = appendInt(dst, size)
	return append(dst, "\r\n"...)
}

func appendInt(dst []byte, n int64) []byte { return strconv.AppendInt(dst, n, 10) }

// scratchView returns ctx.Scratch[start:] capped, so later appends to the
// scratch buffer never write into it.
func scratchView(ctx *Ctx, start int) []byte {
	n := len(ctx.Scratch)
	return ctx.Scratch[start:n:n]
}
