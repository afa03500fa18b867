package cgiexec

import (
	"os"
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

// TestReadNetstring: exactly the netstring is read, not the body after it.
func TestReadNetstring(t *testing.T) {
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	go func() { pw.WriteString("5:hello,BODY"); pw.Close() }()
	got, err := readNetstring(pr)
	if err != nil || string(got) != "hello" {
		t.Fatalf("%q %v", got, err)
	}
	rest := make([]byte, 8)
	n, _ := pr.Read(rest)
	if string(rest[:n]) != "BODY" {
		t.Fatalf("read past the netstring: rest %q", rest[:n])
	}
	for _, bad := range []string{"x:", ":", "5:hello;", "123456789:"} {
		pr, pw, _ := os.Pipe()
		pw.WriteString(bad)
		pw.Close()
		if _, err := readNetstring(pr); err == nil {
			t.Errorf("%q accepted", bad)
		}
		pr.Close()
	}
}
