package httpcodec

import "strings"

// headerID identifies the indexed headers with a perfect hash of the
// length and the first and last bytes, then one case-insensitive compare:
// no branching on the name, so no misprediction per field line.
func headerID[T string | []byte](name T) HeaderID {
	n := len(name)
	if n == 0 {
		return HdrUnknown
	}
	e := &headerTable[headerHash(n, name[0], name[n-1])]
	if len(e.name) == n && eqFoldLower(name, e.name) {
		return e.id
	}
	return HdrUnknown
}

// headerHash is collision-free over the indexed names (multipliers found by
// search; init checks it).
func headerHash(n int, first, last byte) uint {
	return (uint(n)*14 + uint(first|0x20)*3 + uint(last|0x20)) & 31
}

type headerEntry struct {
	name string // lower case
	id   HeaderID
}

var headerTable = func() (t [32]headerEntry) {
	for id := HdrUnknown + 1; id < numHeaderIDs; id++ {
		name := strings.ToLower(headerNames[id])
		h := headerHash(len(name), name[0], name[len(name)-1])
		if t[h].name != "" {
			panic("httpcodec: headerHash collision: " + name)
		}
		t[h] = headerEntry{name, id}
	}
	return t
}()

// headerNames are the canonical names of the indexed headers, for Lookup.
var headerNames = [numHeaderIDs]string{
	HdrHost:              "Host",
	HdrContentLength:     "Content-Length",
	HdrTransferEncoding:  "Transfer-Encoding",
	HdrConnection:        "Connection",
	HdrExpect:            "Expect",
	HdrAcceptEncoding:    "Accept-Encoding",
	HdrIfNoneMatch:       "If-None-Match",
	HdrIfModifiedSince:   "If-Modified-Since",
	HdrIfMatch:           "If-Match",
	HdrIfUnmodifiedSince: "If-Unmodified-Since",
	HdrRange:             "Range",
	HdrIfRange:           "If-Range",
	HdrContentType:       "Content-Type",
	HdrUserAgent:         "User-Agent",
	HdrCookie:            "Cookie",
	HdrTE:                "TE",
	HdrUpgrade:           "Upgrade",
	HdrProxy:             "Proxy",
}

// String returns the canonical name of an indexed header.
func (id HeaderID) String() string {
	if id >= numHeaderIDs || id == HdrUnknown {
		return ""
	}
	return headerNames[id]
}
