package scgi

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	"github.com/gale-http/gale/upstream/cgi"
)

// TestAppendHeadersWire: the exact bytes of a small request, written from
// the SCGI spec (netstring, CONTENT_LENGTH first, SCGI=1, NUL-separated).
func TestAppendHeadersWire(t *testing.T) {
	ri := &cgi.RequestInfo{
		Method: []byte("POST"), RequestURI: []byte("/app?x=1"), Path: []byte("/app"), Query: []byte("x=1"),
		Proto: []byte("HTTP/1.1"), DocumentRoot: "/srv", ScriptName: []byte("/app"),
		Headers: []cgi.Field{{Name: []byte("Host"), Value: []byte("h")}, {Name: []byte("Content-Length"), Value: []byte("5")}},
	}
	head := Codec{}.EncodeHead([]byte("kept"), ri, 5)
	vars := "CONTENT_LENGTH\x005\x00SCGI\x001\x00" +
		"SCRIPT_FILENAME\x00/srv/app\x00SCRIPT_NAME\x00/app\x00PATH_INFO\x00\x00DOCUMENT_ROOT\x00/srv\x00" +
		"DOCUMENT_URI\x00/app\x00REQUEST_URI\x00/app?x=1\x00QUERY_STRING\x00x=1\x00REQUEST_METHOD\x00POST\x00" +
		"CONTENT_TYPE\x00\x00SERVER_PROTOCOL\x00HTTP/1.1\x00GATEWAY_INTERFACE\x00CGI/1.1\x00SERVER_SOFTWARE\x00gale (nginx-compatible)\x00" +
		"REMOTE_ADDR\x00\x00REMOTE_PORT\x00\x00SERVER_ADDR\x00\x00SERVER_PORT\x00\x00SERVER_NAME\x00\x00" +
		"REQUEST_SCHEME\x00http\x00REDIRECT_STATUS\x00200\x00HTTP_HOST\x00h\x00"
	want := "kept" + strconv.Itoa(len(vars)) + ":" + vars + ","
	if string(head) != want {
		t.Fatalf("head\n%q\nwant\n%q", head, want)
	}
}

// TestNetstringLengths: the length prefix is right across digit counts
// (the headers move up by the prefix's width, which varies).
func TestNetstringLengths(t *testing.T) {
	for _, n := range []int{0, 5, 95, 905, 9995, 99995} {
		ri := &cgi.RequestInfo{Headers: []cgi.Field{{Name: []byte("X-Pad"), Value: bytes.Repeat([]byte("p"), n)}}}
		b := AppendHeaders(nil, ri)
		colon := bytes.IndexByte(b, ':')
		size, err := strconv.Atoi(string(b[:colon]))
		if err != nil || size != len(b)-colon-2 || b[len(b)-1] != ',' {
			t.Fatalf("pad %d: bad netstring %q...", n, b[:min(len(b), 40)])
		}
		fields := strings.Split(string(b[colon+1:len(b)-1]), "\x00")
		if fields[0] != "CONTENT_LENGTH" || fields[1] != "0" || fields[len(fields)-1] != "" || (len(fields)-1)%2 != 0 {
			t.Fatalf("pad %d: headers %q", n, fields[:4])
		}
		if got := fields[len(fields)-2]; len(got) != n {
			t.Fatalf("pad %d: last value has %d bytes", n, len(got))
		}
	}
}
