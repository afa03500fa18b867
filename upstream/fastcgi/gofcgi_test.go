package fastcgi

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"github.com/gale-http/gale/upstream/cgi"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/gale-http/gale/internal/fcgidemo"
	"github.com/gale-http/gale/internal/testenv"
)

// startGoFCGI serves the demo app on Go's net/http/fcgi, which multiplexes.
func startGoFCGI(t *testing.T) string {
	testenv.CheckLeaks(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go fcgidemo.Serve(ln)
	return ln.Addr().String()
}

func postInfo(path string, body []byte) *cgi.RequestInfo {
	ri := getInfo("POST", path, "")
	ri.ContentLength = int64(len(body))
	ri.ContentType = []byte("application/octet-stream")
	return ri
}

func echoWant(body []byte) string {
	sum := sha256.Sum256(body)
	return string(body) + "sha256=" + hex.EncodeToString(sum[:]) + "\n"
}

func TestGoFCGIMultiplexed(t *testing.T) {
	p := dialPeer(t, "tcp", startGoFCGI(t), 8)
	if v := p.getValues(); !v.Known || !v.MpxsConns || p.c.Limit() != 8 {
		t.Fatalf("values %+v limit %d", v, p.c.Limit())
	}

	big := make([]byte, 150000)
	for i := range big {
		big[i] = byte(rand.IntN(256))
	}
	r1, w1 := p.begin(postInfo("/app/echo", big), big)
	r2, w2 := p.begin(getInfo("GET", "/app/", "q=1", "X-Foo", "bar", "Proxy", "evil"), nil)
	small := []byte("hello, multiplexed world")
	r3, w3 := p.begin(postInfo("/app/echo", small), small)
	if r1.id != 1 || r2.id != 2 || r3.id != 3 || p.c.Active() != 3 {
		t.Fatalf("ids %d %d %d active %d", r1.id, r2.id, r3.id, p.c.Active())
	}
	// Hold back request 1's last records: its handler cannot finish, so
	// requests 2 and 3 completing first proves they share the connection.
	cut := lastRecords(t, w1, 2)
	p.write(interleave(t, w1[:cut], w2, w3))
	p.pump(func() bool { return r2.ended && r3.ended })
	if r1.ended {
		t.Fatal("request 1 ended without its whole body")
	}
	p.write(w1[cut:])
	p.pump(func() bool { return r1.ended })

	if got := r1.body.String(); got != echoWant(big) {
		t.Errorf("echo of %d bytes: got %d bytes", len(big), len(got))
	}
	if got := r3.body.String(); got != echoWant(small) {
		t.Errorf("small echo: %q", got)
	}
	head := string(r3.head.AppendHead(nil))
	if head != "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n" {
		t.Errorf("echo head %q", head)
	}
	page := r2.body.String()
	for _, want := range []string{"<td>GET</td>", "<td>/app/</td>", "<td>q=1</td>", "<th>X-Foo</th><td>bar</td>"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(page, "Proxy") || strings.Contains(page, "evil") {
		t.Error("Proxy header reached the application")
	}
	for _, r := range []*response{r1, r2, r3} {
		if r.app != 0 || r.proto != StatusRequestComplete || r.head.Status != 200 {
			t.Errorf("request %d: app %d proto %d status %d", r.id, r.app, r.proto, r.head.Status)
		}
	}
	// IDs are reused once ended, and the connection stays usable.
	if !p.c.Idle() {
		t.Fatalf("active %d", p.c.Active())
	}
	r4 := p.do(getInfo("GET", "/app/sleep", "ms=1"), nil)
	if r4.id != 1 || r4.body.String() != "slept 1 ms\n" {
		t.Fatalf("id %d body %q", r4.id, r4.body.String())
	}
}

func TestGoFCGIManySequential(t *testing.T) {
	p := dialPeer(t, "tcp", startGoFCGI(t), 4)
	p.getValues()
	for i := range 50 {
		body := []byte(strconv.Itoa(i))
		r := p.do(postInfo("/app/echo", body), body)
		if r.body.String() != echoWant(body) || r.id != 1 {
			t.Fatalf("request %d: id %d %q", i, r.id, r.body.String())
		}
	}
	if len(p.in) != 0 || !p.c.Idle() {
		t.Fatalf("not at a clean boundary: %d bytes pending", len(p.in))
	}
}

func TestGoFCGIBadStatusQuery(t *testing.T) {
	p := dialPeer(t, "tcp", startGoFCGI(t), 1)
	r := p.do(getInfo("GET", "/app/sleep", "ms=x"), nil)
	if r.head.Status != 400 || !bytes.HasPrefix(r.head.AppendHead(nil), []byte("HTTP/1.1 400 Bad Request\r\n")) {
		t.Fatalf("status %d head %q", r.head.Status, r.head.AppendHead(nil))
	}
}

// lastRecords returns the offset where the last k records of w start.
func lastRecords(t *testing.T, w []byte, k int) int {
	var offs []int
	for off := 0; off < len(w); {
		offs = append(offs, off)
		_, n, err := ParseRecord(w[off:])
		if err != nil {
			t.Fatal(err)
		}
		off += n
	}
	return offs[len(offs)-k]
}
