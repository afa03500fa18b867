package fastcgi

import "github.com/gale-http/gale/upstream"

// SetLimit sets how many requests may be in flight at once, up to the
// maxMux given to Reset. gale asks FCGI_GET_VALUES once per backend on a
// separate connection and applies the answer to every pooled connection
// with SetLimit, so pooled connections never carry management records.
func (c *Conn) SetLimit(n int) { c.limit = min(max(n, 1), c.maxMux) }

// Requests appends the sinks of the requests in flight (detached ones
// excluded), for failing or retrying them when the connection is lost.
func (c *Conn) Requests(dst []upstream.Stream) []upstream.Stream {
	for i := range c.slots {
		if s := &c.slots[i]; s.inUse && s.sink != nil {
			dst = append(dst, s.sink)
		}
	}
	return dst
}

// PeerClosed implements upstream.ConnCodec: a FastCGI response ends with
// FCGI_END_REQUEST, never with the close, so nothing ends here.
func (c *Conn) PeerClosed() {}
