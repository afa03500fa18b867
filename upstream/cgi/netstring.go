package cgi

import "strconv"

// Netstring frames dst[mark:], written in place, as a netstring,
// "<len>:<bytes>,": the length, known only once the bytes are written, is
// put in front by moving them up by its few digits (a few hundred bytes,
// cheaper than encoding twice). SCGI frames its headers so; gale's CGI
// runner frames the request it hands its script goroutine so.
func Netstring(dst []byte, mark int) []byte {
	n := len(dst) - mark
	var num [24]byte
	prefix := append(strconv.AppendInt(num[:0], int64(n), 10), ':')
	dst = append(dst, prefix...) // room for the prefix
	copy(dst[mark+len(prefix):], dst[mark:mark+n])
	copy(dst[mark:], prefix)
	return append(dst, ',')
}
