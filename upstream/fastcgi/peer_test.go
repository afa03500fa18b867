package fastcgi

import (
	"bytes"
	"errors"
	"github.com/gale-http/gale/upstream/cgi"
	"net"
	"testing"
	"time"
)

// peer is a tiny blocking FastCGI client for tests against real
// applications: the codec, Conn, params and cgi.ResponseParser driven over a
// real socket, the way the reactor drives them over gnet.
type peer struct {
	t  testing.TB
	nc net.Conn
	c  *Conn
	in []byte
}

// dialPeer connects to a FastCGI application.
func dialPeer(t testing.TB, network, addr string, maxMux int) *peer {
	t.Helper()
	nc, err := net.Dial(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &peer{t: t, nc: nc, c: NewConn(maxMux)}
}

func (p *peer) write(b []byte) {
	p.t.Helper()
	if _, err := p.nc.Write(b); err != nil {
		p.t.Fatal(err)
	}
}

// pump reads and feeds until done reports true. Reads are small on
// purpose, so records arrive split. The deadline only keeps a broken peer
// from hanging the test run; nothing asserts on time.
func (p *peer) pump(done func() bool) {
	p.t.Helper()
	var rbuf [1500]byte
	for !done() {
		p.nc.SetReadDeadline(time.Now().Add(20 * time.Second))
		n, err := p.nc.Read(rbuf[:])
		if err != nil {
			p.t.Fatalf("read: %v (%d bytes pending)", err, len(p.in))
		}
		p.in = append(p.in, rbuf[:n]...)
		m, err := p.c.Feed(p.in)
		if err != nil {
			p.t.Fatalf("feed: %v", err)
		}
		p.in = p.in[:copy(p.in, p.in[m:])]
	}
}

// getValues asks FCGI_GET_VALUES and waits for the answer.
func (p *peer) getValues() Values {
	p.write(p.c.AppendGetValues(nil))
	p.pump(func() bool { return p.c.Values().Known })
	return p.c.Values()
}

// response is a Sink collecting one request's response.
type response struct {
	id     uint16
	head   cgi.ResponseParser
	body   bytes.Buffer
	stderr bytes.Buffer
	ended  bool
	app    uint32
	proto  uint8
}

func (r *response) Data(b []byte) error {
	if !r.head.Done() {
		n, err := r.head.Feed(b)
		if err == cgi.ErrNeedMore {
			return nil
		}
		if err != nil {
			return err
		}
		b = b[n:]
	}
	r.body.Write(b)
	return nil
}
func (r *response) Log(b []byte) { r.stderr.Write(b) }
func (r *response) End(app uint32, proto uint8) {
	r.ended, r.app, r.proto = true, app, proto
}

// begin allocates an ID and returns the records of a whole request.
func (p *peer) begin(ri *cgi.RequestInfo, body []byte) (*response, []byte) {
	p.t.Helper()
	r := &response{}
	id, ok := p.c.Begin(r)
	if !ok {
		p.t.Fatalf("Begin refused at %d active", p.c.Active())
	}
	r.id = id
	wire := AppendRequest(nil, id, ri)
	wire = AppendStdin(wire, id, body, true)
	return r, AppendStdinEOF(wire, id)
}

// do runs one request to completion.
func (p *peer) do(ri *cgi.RequestInfo, body []byte) *response {
	p.t.Helper()
	r, wire := p.begin(ri, body)
	p.write(wire)
	p.pump(func() bool { return r.ended })
	if !r.head.Done() {
		p.t.Fatalf("response ended without a complete head")
	}
	return r
}

// interleave splits each record stream into records and merges them
// round-robin, so records of different requests alternate on the wire.
func interleave(t testing.TB, streams ...[]byte) []byte {
	var out []byte
	for more := true; more; {
		more = false
		for i, s := range streams {
			if len(s) == 0 {
				continue
			}
			_, n, err := ParseRecord(s)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, s[:n]...)
			streams[i] = s[n:]
			more = true
		}
	}
	return out
}

// getInfo is a minimal GET for path with query and extra headers.
func getInfo(method, path, query string, hs ...string) *cgi.RequestInfo {
	uri := path
	if query != "" {
		uri += "?" + query
	}
	ri := &cgi.RequestInfo{
		Method: []byte(method), RequestURI: []byte(uri), Path: []byte(path), Query: []byte(query),
		Proto: []byte("HTTP/1.1"), ContentLength: -1, ScriptName: []byte(path),
		RemoteAddr: []byte("127.0.0.1"), RemotePort: []byte("40000"),
		ServerAddr: []byte("127.0.0.1"), ServerPort: []byte("8080"), ServerName: []byte("gale.test"),
		Headers: []cgi.Field{{Name: []byte("Host"), Value: []byte("gale.test")}},
	}
	for i := 0; i+1 < len(hs); i += 2 {
		ri.Headers = append(ri.Headers, cgi.Field{Name: []byte(hs[i]), Value: []byte(hs[i+1])})
	}
	return ri
}

// isProto reports whether err is a protocol violation.
func isProto(err error) bool {
	var pe *ProtocolError
	return errors.As(err, &pe)
}
