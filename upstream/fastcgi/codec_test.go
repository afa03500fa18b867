package fastcgi

import (
	"bytes"
	"testing"

	"github.com/gale-http/gale/upstream/cgi"
)

// AppendRequest frames the pairs in place; it must produce exactly what
// AppendParams does from a separately built pair stream, also when the
// pairs exceed one record.
func TestAppendRequestFraming(t *testing.T) {
	for _, size := range []int{0, 100, MaxContent - 400, 70000, 200000} {
		ri := sampleInfo()
		ri.Headers = append(ri.Headers, cgi.Field{Name: []byte("X-Big"), Value: bytes.Repeat([]byte("z"), size)})
		prefix := []byte("existing")
		got := AppendRequest(append([]byte(nil), prefix...), 9, ri)
		want := appendBegin(append([]byte(nil), prefix...), 9)
		want = AppendParams(want, 9, cgi.AppendEnv(nil, cgi.FastCGI, ri))
		if !bytes.Equal(got, want) {
			t.Fatalf("size %d: framing differs (len %d vs %d)", size, len(got), len(want))
		}
		// And the records parse back to the same pair stream.
		var stream []byte
		rest := got[len(prefix)+16+len(blankLine):]
		for {
			rec, n, err := ParseRecord(rest)
			if err != nil || rec.Type != TypeParams || rec.ID != 9 {
				t.Fatalf("size %d: %+v %v", size, rec.Header, err)
			}
			rest = rest[n:]
			if len(rec.Content) == 0 {
				break
			}
			stream = append(stream, rec.Content...)
		}
		if len(rest) != 0 || !bytes.Equal(stream, cgi.AppendEnv(nil, cgi.FastCGI, ri)) {
			t.Fatalf("size %d: stream mismatch", size)
		}
	}
}

// sampleInfo is a typical front-controller request.
func sampleInfo() *cgi.RequestInfo {
	path := []byte("/index.php/users/7")
	script, info := cgi.SplitScript(path, ".php")
	return &cgi.RequestInfo{
		Method: []byte("POST"), RequestURI: []byte("/index.php/users/7?x=1&y=%20"),
		Path: path, Query: []byte("x=1&y=%20"), Proto: []byte("HTTP/1.1"),
		ContentType: []byte("application/json"), ContentLength: 17,
		DocumentRoot: "/srv/www", ScriptName: script, PathInfo: info,
		RemoteAddr: []byte("192.0.2.7"), RemotePort: []byte("51000"),
		ServerAddr: []byte("192.0.2.1"), ServerPort: []byte("443"), ServerName: []byte("example.test"),
		HTTPS: true,
		Headers: []cgi.Field{
			{Name: []byte("Host"), Value: []byte("example.test")},
			{Name: []byte("content-type"), Value: []byte("application/json")},
			{Name: []byte("Content-Length"), Value: []byte("17")},
			{Name: []byte("X-Foo"), Value: []byte("bar")},
			{Name: []byte("X_Foo"), Value: []byte("spoofed")},
			{Name: []byte("Proxy"), Value: []byte("http://evil.test/")},
			{Name: []byte("Cookie"), Value: []byte("a=1")},
			{Name: []byte("Accept"), Value: []byte("text/html")},
			{Name: []byte("cookie"), Value: []byte("b=2")},
			{Name: []byte("ACCEPT"), Value: []byte("*/*")},
			{Name: []byte("X.Dot"), Value: []byte("dropped")},
		},
		Extra: [][2]string{{"APP_ENV", "prod"}},
	}
}

// decodePairs returns pairs as "NAME=value" strings in wire order.
func decodePairs(t testing.TB, b []byte) []string {
	t.Helper()
	var out []string
	if err := ParsePairs(b, func(n, v []byte) error {
		out = append(out, string(n)+"="+string(v))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestCodecFrames: the codec's body framing and ID patching give the same
// records as the record functions.
func TestCodecFrames(t *testing.T) {
	var c Codec
	ri := sampleInfo()
	head := c.EncodeHead(nil, ri, 5)
	c.PatchID(head, 300)
	want := AppendRequest(nil, 300, ri)
	if !bytes.Equal(head, want) {
		t.Fatal("PatchID differs from a head built with the ID")
	}
	got := c.FrameBody(nil, 300, 5)
	got = append(got, "hello"...)
	got = c.FrameEnd(got, 300)
	want = AppendStdin(nil, 300, []byte("hello"), false)
	want = AppendStdinEOF(want, 300)
	if !bytes.Equal(got, want) {
		t.Fatalf("framed body % x, want % x", got, want)
	}
	if rec, _, _ := ParseRecord(c.Cancel(nil, 300)); rec.Type != TypeAbortRequest || rec.ID != 300 {
		t.Fatalf("cancel: %+v", rec.Header)
	}
}
