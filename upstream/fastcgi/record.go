// Package fastcgi is gale's FastCGI client side without I/O: the record and
// name-value pair codec, the CGI/1.1 parameter builder, the per-connection
// protocol state machine (request IDs, multiplexing, dispatch to sinks) and
// the parser for the CGI response head carried on FCGI_STDOUT.
//
// Nothing here touches a socket. The reactor appends outbound records into
// its own (pooled) buffers, feeds inbound bytes to Conn.Feed, and receives
// each request's output through a Sink. The wire format follows the
// FastCGI 1.0 specification (https://fast-cgi.github.io/spec).
package fastcgi

import "encoding/binary"

// Version1 is the only FastCGI protocol version (FCGI_VERSION_1).
const Version1 = 1

// HeaderLen is the fixed size of a record header (FCGI_HEADER_LEN).
const HeaderLen = 8

// MaxContent is the largest content a single record can carry; longer
// streams are split over several records.
const MaxContent = 65535

// Record types (spec section 8).
const (
	TypeBeginRequest    uint8 = 1
	TypeAbortRequest    uint8 = 2
	TypeEndRequest      uint8 = 3
	TypeParams          uint8 = 4
	TypeStdin           uint8 = 5
	TypeStdout          uint8 = 6
	TypeStderr          uint8 = 7
	TypeData            uint8 = 8
	TypeGetValues       uint8 = 9
	TypeGetValuesResult uint8 = 10
	TypeUnknownType     uint8 = 11
)

// Roles carried in FCGI_BEGIN_REQUEST.
const (
	RoleResponder  uint16 = 1
	RoleAuthorizer uint16 = 2
	RoleFilter     uint16 = 3
)

// FlagKeepConn asks the application to keep the connection open after the
// request (FCGI_KEEP_CONN); gale always sets it and pools the connection.
const FlagKeepConn uint8 = 1

// Protocol status values carried in FCGI_END_REQUEST.
const (
	StatusRequestComplete uint8 = 0
	StatusCantMpxConn     uint8 = 1
	StatusOverloaded      uint8 = 2
	StatusUnknownRole     uint8 = 3
)

// Header is a decoded record header. The reserved eighth byte is ignored.
type Header struct {
	Version       uint8
	Type          uint8
	ID            uint16
	ContentLength uint16
	PaddingLength uint8
}

// DecodeHeader decodes the first HeaderLen bytes of b, which the caller
// guarantees are present. It is written out by hand because binary.Read on
// a struct costs a reflection walk and an allocation per record.
func DecodeHeader(b []byte) Header {
	_ = b[7]
	return Header{
		Version:       b[0],
		Type:          b[1],
		ID:            binary.BigEndian.Uint16(b[2:4]),
		ContentLength: binary.BigEndian.Uint16(b[4:6]),
		PaddingLength: b[6],
	}
}

const httpSlash = "HTTP/"

// Record is one parsed record. Content is a view into the buffer given to
// ParseRecord and is valid only as long as that buffer is unchanged (with
// gnet: until the next Discard or the end of the OnTraffic callback).
type Record struct {
	Header
	Content []byte
}

// ParseRecord parses the record at the start of buf. It returns the record,
// the number of bytes it occupies including padding, and ErrNeedMore when
// buf holds only part of it: the caller then keeps buf and calls again once
// more bytes have arrived. A wrong version byte is reported as soon as the
// first byte is seen, so a peer that is not speaking FastCGI (an HTTP server
// on the configured port, say) fails fast instead of stalling.
func ParseRecord(buf []byte) (rec Record, n int, err error) {
	if len(buf) > 0 && buf[0] != Version1 {
		if n := min(len(buf), len(httpSlash)); string(buf[:n]) == httpSlash[:n] {
			// "HTTP/1.1 400 Bad Request" (what an HTTP server answers
			// to the blank line in BEGIN_REQUEST's padding): its first
			// bytes are enough, the rest may never come.
			return Record{}, 0, protoErr(ErrSpeaksHTTP, 0, 0)
		}
		return Record{}, 0, protoErr(ErrVersion, 0, 0)
	}
	if len(buf) < HeaderLen {
		return Record{}, 0, ErrNeedMore
	}
	h := DecodeHeader(buf)
	end := HeaderLen + int(h.ContentLength)
	n = end + int(h.PaddingLength)
	if len(buf) < n {
		return Record{}, 0, ErrNeedMore
	}
	return Record{Header: h, Content: buf[HeaderLen:end:end]}, n, nil
}

// AppendHeader appends a record header for a record of type typ for request
// id with contentLen content bytes followed by padLen padding bytes.
// contentLen must not exceed MaxContent; the appenders below guarantee it.
func AppendHeader(dst []byte, typ uint8, id uint16, contentLen int, padLen uint8) []byte {
	return append(dst, Version1, typ, byte(id>>8), byte(id),
		byte(contentLen>>8), byte(contentLen), padLen, 0)
}

// AppendBeginRequest appends FCGI_BEGIN_REQUEST for id with the given role;
// keepConn sets FCGI_KEEP_CONN.
func AppendBeginRequest(dst []byte, id uint16, role uint16, keepConn bool) []byte {
	var flags uint8
	if keepConn {
		flags = FlagKeepConn
	}
	dst = AppendHeader(dst, TypeBeginRequest, id, 8, 0)
	return append(dst, byte(role>>8), byte(role), flags, 0, 0, 0, 0, 0)
}

// AppendAbort appends FCGI_ABORT_REQUEST for id.
func AppendAbort(dst []byte, id uint16) []byte {
	return AppendHeader(dst, TypeAbortRequest, id, 0, 0)
}

// AppendEndRequest appends FCGI_END_REQUEST; gale never sends it, but the
// tests and the demo peers do.
func AppendEndRequest(dst []byte, id uint16, appStatus uint32, protoStatus uint8) []byte {
	dst = AppendHeader(dst, TypeEndRequest, id, 8, 0)
	return append(dst, byte(appStatus>>24), byte(appStatus>>16), byte(appStatus>>8), byte(appStatus),
		protoStatus, 0, 0, 0)
}

// AppendStream appends data as records of type typ for id, split into
// records of at most MaxContent bytes. With pad, each record is padded to a
// multiple of 8 bytes, as the spec recommends and php-fpm and Go do; without
// it no padding is sent, which the spec also allows. Empty data appends
// nothing: the stream's end is a separate AppendStreamEnd.
func AppendStream(dst []byte, typ uint8, id uint16, data []byte, pad bool) []byte {
	for len(data) > 0 {
		n := min(len(data), MaxContent)
		var p uint8
		if pad {
			p = uint8(-n & 7)
		}
		dst = AppendHeader(dst, typ, id, n, p)
		dst = append(dst, data[:n]...)
		dst = append(dst, zeroPad[:p]...)
		data = data[n:]
	}
	return dst
}

// zeroPad is the source of padding bytes.
var zeroPad [8]byte

// AppendStreamEnd appends the empty record that ends a stream of type typ.
func AppendStreamEnd(dst []byte, typ uint8, id uint16) []byte {
	return AppendHeader(dst, typ, id, 0, 0)
}

// AppendStdin appends data as FCGI_STDIN records for id (see AppendStream).
// Call it as often as body bytes arrive, then AppendStdinEOF once.
func AppendStdin(dst []byte, id uint16, data []byte, pad bool) []byte {
	return AppendStream(dst, TypeStdin, id, data, pad)
}

// AppendStdinEOF appends the empty FCGI_STDIN record that ends the body.
func AppendStdinEOF(dst []byte, id uint16) []byte {
	return AppendStreamEnd(dst, TypeStdin, id)
}

// AppendParams appends pairs, an encoded name-value pair stream (see
// AppendPair), as FCGI_PARAMS records for id, then the empty FCGI_PARAMS
// record that ends the stream.
func AppendParams(dst []byte, id uint16, pairs []byte) []byte {
	dst = AppendStream(dst, TypeParams, id, pairs, false)
	return AppendStreamEnd(dst, TypeParams, id)
}

// AppendUnknownType appends FCGI_UNKNOWN_TYPE naming typ; an application
// answers management records it does not understand with it.
func AppendUnknownType(dst []byte, typ uint8) []byte {
	dst = AppendHeader(dst, TypeUnknownType, 0, 8, 0)
	return append(dst, typ, 0, 0, 0, 0, 0, 0, 0)
}
