package fastcgi

import (
	"context"
	"net"
	"time"

	"github.com/gale-http/gale/upstream"
)

// Probe implements upstream.Prober: it asks the application
// FCGI_GET_VALUES once, on a throwaway connection, so pooled connections
// never carry management records (some applications close the connection
// after answering). An application that does not answer within timeout
// (uWSGI never does) is taken to multiplex nothing.
func (Codec) Probe(ctx context.Context, network, addr string, timeout time.Duration) (upstream.Probed, error) {
	d := net.Dialer{Timeout: timeout}
	c, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return upstream.Probed{}, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(timeout))
	pc := NewConn(1)
	if _, err := c.Write(pc.AppendGetValues(nil)); err != nil {
		return upstream.Probed{}, err
	}
	buf := make([]byte, 0, 512)
	tmp := make([]byte, 512)
	for !pc.Values().Known {
		n, err := c.Read(tmp)
		buf = append(buf, tmp[:n]...)
		k, ferr := pc.Feed(buf)
		buf = buf[k:]
		if ferr != nil {
			return upstream.Probed{}, ferr
		}
		if err != nil {
			return upstream.Probed{}, err
		}
	}
	v := pc.Values()
	return upstream.Probed{MaxConns: v.MaxConns, MaxReqs: v.MaxReqs, Multiplex: v.MpxsConns}, nil
}
