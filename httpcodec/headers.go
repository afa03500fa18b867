package httpcodec

// headerID identifies the indexed headers. It switches on the length and
// the first byte and then compares case-insensitively, so an unknown name
// usually costs two compares and no hashing.
func headerID[T string | []byte](name T) HeaderID {
	if len(name) < 2 {
		return HdrUnknown
	}
	switch len(name) {
	case 2:
		return match(name, "te", HdrTE)
	case 4:
		return match(name, "host", HdrHost)
	case 5:
		switch name[0] | 0x20 {
		case 'r':
			return match(name, "range", HdrRange)
		case 'p':
			return match(name, "proxy", HdrProxy)
		}
	case 6:
		switch name[0] | 0x20 {
		case 'c':
			return match(name, "cookie", HdrCookie)
		case 'e':
			return match(name, "expect", HdrExpect)
		}
	case 7:
		return match(name, "upgrade", HdrUpgrade)
	case 8:
		if name[0]|0x20 == 'i' && name[1]|0x20 == 'f' {
			switch name[3] | 0x20 {
			case 'm':
				return match(name, "if-match", HdrIfMatch)
			case 'r':
				return match(name, "if-range", HdrIfRange)
			}
		}
	case 10:
		switch name[0] | 0x20 {
		case 'c':
			return match(name, "connection", HdrConnection)
		case 'u':
			return match(name, "user-agent", HdrUserAgent)
		}
	case 12:
		return match(name, "content-type", HdrContentType)
	case 13:
		return match(name, "if-none-match", HdrIfNoneMatch)
	case 14:
		return match(name, "content-length", HdrContentLength)
	case 15:
		return match(name, "accept-encoding", HdrAcceptEncoding)
	case 17:
		switch name[0] | 0x20 {
		case 't':
			return match(name, "transfer-encoding", HdrTransferEncoding)
		case 'i':
			return match(name, "if-modified-since", HdrIfModifiedSince)
		}
	case 19:
		return match(name, "if-unmodified-since", HdrIfUnmodifiedSince)
	}
	return HdrUnknown
}

func match[T string | []byte](name T, lowerName string, id HeaderID) HeaderID {
	if eqFoldLower(name, lowerName) {
		return id
	}
	return HdrUnknown
}

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
