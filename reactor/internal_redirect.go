package reactor

import (
	"time"

	"github.com/gale-http/gale/handlers"
)

// serveInternal answers an X-Accel-Redirect or a local Location redirect:
// the target path is served by h (the static handler) as a GET (or HEAD)
// of its own, never visible to the client as a redirect.
func (l *loop) serveInternal(cs *conn, h handlers.Handler, target []byte, head bool, minor uint8, keep bool) {
	raw := l.internalBuf[:0]
	if head {
		raw = append(raw, "HEAD "...)
	} else {
		raw = append(raw, "GET "...)
	}
	raw = append(raw, target...)
	raw = append(raw, " HTTP/1.1\r\nHost: internal\r\n\r\n"...)
	l.internalBuf = raw
	req := &l.req
	if _, err := l.parser.Parse(raw, req); err != nil {
		l.s.cfg.Logger.Error("bad internal redirect from the application", "target", string(target), "err", err)
		l.queueError(cs, 502)
		l.accountError(cs, 502, time.Time{})
		l.flush(cs)
		return
	}
	req.Minor, req.KeepAlive = minor, keep
	l.resp.Reset()
	l.hctx.Client = cs.client.Addr() // the batch in hand may be another connection's
	h.Serve(&l.hctx, req, &l.resp)
	l.handle(cs, true)
	l.flush(cs)
}
