package cgiexec

import (
	"strings"
	"testing"

	"github.com/gale-http/gale/upstream/cgi"
)

// TestParseHead: the head the engine writes becomes the script's request;
// a NUL can neither cut a variable in two nor reach exec.
func TestParseHead(t *testing.T) {
	ri := &cgi.RequestInfo{
		Method: []byte("GET"), Path: []byte("/cgi-bin/a.sh"), DocumentRoot: "/srv", ScriptName: []byte("/cgi-bin/a.sh"),
		Headers: []cgi.Field{{Name: []byte("X-Evil"), Value: []byte("a\x00LD_PRELOAD=/tmp/x.so")}, {Name: []byte("Accept"), Value: []byte("*/*")}},
		Extra:   [][2]string{{"BAD=NAME", "x"}, {"APP", "1"}},
	}
	var r Runner
	head := r.EncodeHead(nil, ri, 12)
	colon := strings.IndexByte(string(head), ':')
	req, err := parseHead(head[colon+1 : len(head)-1])
	if err != nil {
		t.Fatal(err)
	}
	env := "\n" + strings.Join(req.env, "\n") + "\n"
	for _, want := range []string{"SCRIPT_FILENAME=/srv/cgi-bin/a.sh", "CONTENT_LENGTH=12", "HTTP_ACCEPT=*/*", "APP=1", "PATH=" + DefaultPath} {
		if !strings.Contains(env, "\n"+want+"\n") {
			t.Errorf("missing %s in%s", want, env)
		}
	}
	for _, bad := range []string{"LD_PRELOAD", "HTTP_X_EVIL", "BAD="} {
		if strings.Contains(env, bad) {
			t.Errorf("%s reached the environment:%s", bad, env)
		}
	}
	if req.script != "/srv/cgi-bin/a.sh" || req.length != 12 {
		t.Fatalf("script %q length %d", req.script, req.length)
	}
	if _, err := parseHead(head[colon+1 : len(head)-5]); err == nil {
		t.Fatal("a truncated head parsed")
	}
}

// TestSplitNetstring: the head is exactly the netstring, what follows is
// the body's start, a netstring not yet whole asks for more, and a
// malformed one is an error.
func TestSplitNetstring(t *testing.T) {
	head, rest, err := splitNetstring([]byte("5:hello,BODY"))
	if err != nil || string(head) != "hello" || string(rest) != "BODY" {
		t.Fatalf("head %q rest %q err %v", head, rest, err)
	}
	for _, short := range []string{"", "5", "5:", "5:hell", "5:hello"} {
		if _, _, err := splitNetstring([]byte(short)); err != errShort {
			t.Errorf("%q: %v, want errShort", short, err)
		}
	}
	for _, bad := range []string{"x:", ":", "5:hello;", "123456789:", "9999999:"} {
		if _, _, err := splitNetstring([]byte(bad)); err == nil || err == errShort {
			t.Errorf("%q: %v, want an error", bad, err)
		}
	}
}
