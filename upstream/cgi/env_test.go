package cgi

import (
	"bytes"
	"encoding/binary"
	"strconv"
	"strings"
	"testing"
)

// decodePairs returns FastCGI pairs as "NAME=value" strings in wire order.
func decodePairs(t testing.TB, b []byte) []string {
	t.Helper()
	return decode(t, FastCGI, b)
}

// decode parses variables in format f (written here from each protocol's
// spec, independently of the encoder).
func decode(t testing.TB, f Format, b []byte) []string {
	t.Helper()
	var out []string
	fcgiLen := func() int {
		if b[0] < 128 {
			n := int(b[0])
			b = b[1:]
			return n
		}
		n := int(binary.BigEndian.Uint32(b) &^ (1 << 31))
		b = b[4:]
		return n
	}
	for len(b) > 0 {
		var name, value []byte
		switch f {
		case FastCGI:
			nl := fcgiLen()
			vl := fcgiLen()
			name, value, b = b[:nl], b[nl:nl+vl], b[nl+vl:]
		case SCGI:
			i := bytes.IndexByte(b, 0)
			j := bytes.IndexByte(b[i+1:], 0)
			if i < 0 || j < 0 {
				t.Fatalf("SCGI: unterminated variable in %q", b)
			}
			name, value, b = b[:i], b[i+1:i+1+j], b[i+2+j:]
		case UWSGI:
			nl := int(binary.LittleEndian.Uint16(b))
			name, b = b[2:2+nl], b[2+nl:]
			vl := int(binary.LittleEndian.Uint16(b))
			value, b = b[2:2+vl], b[2+vl:]
		}
		out = append(out, string(name)+"="+string(value))
	}
	return out
}

// TestAppendEnvFormats: the three encodings carry the same variables in
// the same order, except that SCGI starts with CONTENT_LENGTH and SCGI=1
// (its spec's rule) and has no other CONTENT_LENGTH.
func TestAppendEnvFormats(t *testing.T) {
	fcgi := decode(t, FastCGI, AppendEnv(nil, FastCGI, sampleInfo()))
	want := strings.Join(fcgi, "\n")
	if got := strings.Join(decode(t, UWSGI, AppendEnv(nil, UWSGI, sampleInfo())), "\n"); got != want {
		t.Errorf("uwsgi:\n%s\nwant\n%s", got, want)
	}
	scgi := []string{"CONTENT_LENGTH=17", "SCGI=1"}
	for _, v := range fcgi {
		if !strings.HasPrefix(v, "CONTENT_LENGTH=") {
			scgi = append(scgi, v)
		}
	}
	want = strings.Join(scgi, "\n")
	if got := strings.Join(decode(t, SCGI, AppendEnv(nil, SCGI, sampleInfo())), "\n"); got != want {
		t.Errorf("scgi:\n%s\nwant\n%s", got, want)
	}
	// Without a body SCGI still states a length, "0"; FastCGI sends it empty.
	ri := sampleInfo()
	ri.ContentLength = -1
	if got := decode(t, SCGI, AppendEnv(nil, SCGI, ri))[0]; got != "CONTENT_LENGTH=0" {
		t.Errorf("scgi without a body starts with %q", got)
	}
}

// sampleInfo is a typical front-controller request.
func sampleInfo() *RequestInfo {
	path := []byte("/index.php/users/7")
	script, info := SplitScript(path, ".php")
	return &RequestInfo{
		Method: []byte("POST"), RequestURI: []byte("/index.php/users/7?x=1&y=%20"),
		Path: path, Query: []byte("x=1&y=%20"), Proto: []byte("HTTP/1.1"),
		ContentType: []byte("application/json"), ContentLength: 17,
		DocumentRoot: "/srv/www", ScriptName: script, PathInfo: info,
		RemoteAddr: []byte("192.0.2.7"), RemotePort: []byte("51000"),
		ServerAddr: []byte("192.0.2.1"), ServerPort: []byte("443"), ServerName: []byte("example.test"),
		HTTPS: true,
		Headers: []Field{
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
			{Name: []byte("Transfer-Encoding"), Value: []byte("chunked")},
		},
		Extra: [][2]string{{"APP_ENV", "prod"}},
	}
}

func TestAppendCGIPairs(t *testing.T) {
	got := decodePairs(t, AppendEnv(nil, FastCGI, sampleInfo()))
	want := []string{
		"SCRIPT_FILENAME=/srv/www/index.php",
		"SCRIPT_NAME=/index.php",
		"PATH_INFO=/users/7",
		"PATH_TRANSLATED=/srv/www/users/7",
		"DOCUMENT_ROOT=/srv/www",
		"DOCUMENT_URI=/index.php/users/7",
		"REQUEST_URI=/index.php/users/7?x=1&y=%20",
		"QUERY_STRING=x=1&y=%20",
		"REQUEST_METHOD=POST",
		"CONTENT_TYPE=application/json",
		"CONTENT_LENGTH=17",
		"SERVER_PROTOCOL=HTTP/1.1",
		"GATEWAY_INTERFACE=CGI/1.1",
		"SERVER_SOFTWARE=gale (nginx-compatible)",
		"REMOTE_ADDR=192.0.2.7",
		"REMOTE_PORT=51000",
		"SERVER_ADDR=192.0.2.1",
		"SERVER_PORT=443",
		"SERVER_NAME=example.test",
		"REQUEST_SCHEME=https",
		"HTTPS=on",
		"REDIRECT_STATUS=200",
		"HTTP_HOST=example.test",
		"HTTP_X_FOO=bar",
		"HTTP_COOKIE=a=1; b=2",
		"HTTP_ACCEPT=text/html, */*",
		"APP_ENV=prod",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestAppendCGIPairsPlainNoBody(t *testing.T) {
	ri := &RequestInfo{Method: []byte("GET"), Path: []byte("/a.php"), ScriptName: []byte("/a.php"),
		ScriptFilename: []byte("/other/a.php"), ContentLength: -1, DocumentRoot: "/srv"}
	got := strings.Join(decodePairs(t, AppendEnv(nil, FastCGI, ri)), "\n")
	for _, want := range []string{"SCRIPT_FILENAME=/other/a.php", "PATH_INFO=", "CONTENT_LENGTH=",
		"REQUEST_SCHEME=http"} {
		if !strings.Contains(got, want+"\n") {
			t.Errorf("missing %q in\n%s", want, got)
		}
	}
	for _, absent := range []string{"PATH_TRANSLATED", "HTTPS=", "HTTP_"} {
		if strings.Contains(got, absent) {
			t.Errorf("unexpected %q in\n%s", absent, got)
		}
	}
}

func TestSplitScript(t *testing.T) {
	tests := []struct{ path, script, info string }{
		{"/index.php", "/index.php", ""},
		{"/index.php/", "/index.php", "/"},
		{"/index.php/users/7", "/index.php", "/users/7"},
		{"/a.php/b.php/c", "/a.php", "/b.php/c"},
		{"/a.phpx/b.php/c", "/a.phpx/b.php", "/c"},
		{"/dir.php.bak/x", "/dir.php.bak/x", ""},
		{"/static/app.js", "/static/app.js", ""},
		{"/", "/", ""},
		{"", "", ""},
	}
	for _, tt := range tests {
		s, i := SplitScript([]byte(tt.path), ".php")
		if string(s) != tt.script || string(i) != tt.info {
			t.Errorf("%q: got %q %q, want %q %q", tt.path, s, i, tt.script, tt.info)
		}
	}
	if s, i := SplitScript([]byte("/a.php/b"), ""); string(s) != "/a.php/b" || i != nil {
		t.Errorf("empty ext split: %q %q", s, i)
	}
}

// contentLengthString is CONTENT_LENGTH as AppendCGIPairs writes it.
func (ri *RequestInfo) contentLengthString() string {
	if ri.ContentLength < 0 {
		return ""
	}
	return strconv.FormatInt(ri.ContentLength, 10)
}
