package httpcodec

import "time"

// DateCache keeps the Date header line (RFC 9110 section 6.6.1) for the
// current second, so that formatting a date costs nothing on most
// responses. It is not safe for concurrent use: keep one per event loop,
// Update it from the loop (on each tick or callback) and read Line there.
type DateCache struct {
	sec  int64
	line [len(dateLineExample)]byte
}

const dateLineExample = "Date: Mon, 02 Jan 2006 15:04:05 GMT\r\n"

// Update sets the cached line to now, reformatting only when the second
// changed.
func (c *DateCache) Update(now time.Time) {
	sec := now.Unix()
	if sec == c.sec && c.line[0] != 0 {
		return
	}
	c.sec = sec
	b := append(c.line[:0], "Date: "...)
	b = now.UTC().AppendFormat(b, "Mon, 02 Jan 2006 15:04:05 GMT")
	copy(c.line[len(b):], "\r\n")
}

// Line returns "Date: <IMF-fixdate>\r\n" for the last Update (the current
// time if Update was never called). The slice is the cache's own storage:
// append it to a response, do not keep it.
func (c *DateCache) Line() []byte {
	if c.line[0] == 0 {
		c.Update(time.Now())
	}
	return c.line[:]
}
