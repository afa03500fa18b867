package handlers

import (
	"bytes"
	"time"

	"github.com/gale-http/gale/httpcodec"
)

// Outcomes of evaluating preconditions.
const (
	condProceed = iota
	condNotModified
	condFailed
)

// evalPreconditions applies RFC 9110 section 13.2.2 to a GET or HEAD of a
// representation with the given ETag (quoted) and Last-Modified:
// If-Match, else If-Unmodified-Since (412); then If-None-Match, else
// If-Modified-Since (304). If-Range is handled with the Range header.
func evalPreconditions(req *httpcodec.Request, etag []byte, m *fileMeta) int {
	if im := req.Get(httpcodec.HdrIfMatch); im != nil {
		if !etagListMatch(im, etag, false) {
			return condFailed
		}
	} else if ius := req.Get(httpcodec.HdrIfUnmodifiedSince); ius != nil {
		if t, ok := parseHTTPDate(ius, m); ok && m.mtimeSec > t {
			return condFailed
		}
	}
	if inm := req.Get(httpcodec.HdrIfNoneMatch); inm != nil {
		if etagListMatch(inm, etag, true) {
			return condNotModified
		}
		return condProceed
	}
	if ims := req.Get(httpcodec.HdrIfModifiedSince); ims != nil {
		if t, ok := parseHTTPDate(ims, m); ok && m.mtimeSec <= t {
			return condNotModified
		}
	}
	return condProceed
}

// ifRangeAllows reports whether a Range header may be honoured: true when
// there is no If-Range, or when it strongly matches the identity ETag or
// equals Last-Modified exactly (RFC 9110 section 13.1.5).
func ifRangeAllows(req *httpcodec.Request, m *fileMeta) bool {
	ir := req.Get(httpcodec.HdrIfRange)
	if ir == nil {
		return true
	}
	if len(ir) > 0 && ir[0] == '"' {
		return string(ir) == m.etag
	}
	if bytes.HasPrefix(ir, []byte("W/")) {
		return false // weak validators never match for ranges
	}
	t, ok := parseHTTPDate(ir, m)
	return ok && t == m.mtimeSec
}

// etagListMatch reports whether etag (quoted, strong) is in the field value
// list: "*" matches anything; weak comparison ignores "W/" prefixes, strong
// comparison refuses weak tags. Malformed lists stop matching at the fault.
func etagListMatch(list, etag []byte, weak bool) bool {
	for i := 0; i < len(list); {
		c := list[i]
		switch {
		case c == ' ' || c == '\t' || c == ',':
			i++
			continue
		case c == '*':
			return true
		}
		isWeak := false
		if c == 'W' && i+1 < len(list) && list[i+1] == '/' {
			isWeak = true
			i += 2
		}
		if i >= len(list) || list[i] != '"' {
			return false
		}
		end := bytes.IndexByte(list[i+1:], '"')
		if end < 0 {
			return false
		}
		tag := list[i : i+end+2]
		if (weak || !isWeak) && bytes.Equal(tag, etag) {
			return true
		}
		i += end + 2
	}
	return false
}

// parseHTTPDate parses an HTTP-date into Unix seconds; the common case, a
// client echoing our Last-Modified, costs a compare.
func parseHTTPDate(b []byte, m *fileMeta) (int64, bool) {
	if string(b) == m.lastMod {
		return m.mtimeSec, true
	}
	return httpDate(b)
}

// httpDate parses an HTTP-date (RFC 9110 section 5.6.7) into unix seconds:
// IMF-fixdate by hand, the obsolete formats by package time.
func httpDate(b []byte) (int64, bool) {
	if t, ok := parseIMFFixdate(b); ok {
		return t, true
	}
	for _, layout := range [...]string{"Monday, 02-Jan-06 15:04:05 GMT", time.ANSIC} {
		if t, err := time.Parse(layout, string(b)); err == nil {
			return t.Unix(), true
		}
	}
	return 0, false
}

var monthNames = [12]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// parseIMFFixdate parses "Sun, 06 Nov 1994 08:49:37 GMT" without allocating.
// The day name is not checked against the date.
func parseIMFFixdate(b []byte) (int64, bool) {
	if len(b) != 29 || b[3] != ',' || b[4] != ' ' || b[7] != ' ' || b[11] != ' ' ||
		b[16] != ' ' || b[19] != ':' || b[22] != ':' || string(b[25:]) != " GMT" {
		return 0, false
	}
	month := -1
	for i, name := range monthNames {
		if string(b[8:11]) == name {
			month = i + 1
		}
	}
	day, ok1 := parseDigits(b[5:7])
	year, ok2 := parseDigits(b[12:16])
	hh, ok3 := parseDigits(b[17:19])
	mm, ok4 := parseDigits(b[20:22])
	ss, ok5 := parseDigits(b[23:25])
	if month < 0 || !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60 {
		return 0, false
	}
	return time.Date(int(year), time.Month(month), int(day), int(hh), int(mm), int(ss), 0, time.UTC).Unix(), true
}
