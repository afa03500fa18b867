package handlers

import "testing"

func TestConditionals(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, "a.txt", "conditional body")
	s := newStatic(t, root, nil)
	etag := etagOf(16)
	gzETag := etag[:len(etag)-1] + `-gz"`
	const older = "Mon, 04 Mar 2024 07:09:11 GMT"
	const newer = "Wed, 06 Mar 2024 07:09:11 GMT"

	for _, tc := range []struct {
		name    string
		headers []string
		status  int
	}{
		{"none", nil, 200},
		{"inm match", []string{"If-None-Match: " + etag}, 304},
		{"inm weak match in list", []string{`If-None-Match: "x", W/` + etag}, 304},
		{"inm star", []string{"If-None-Match: *"}, 304},
		{"inm other", []string{`If-None-Match: "nope"`}, 200},
		{"inm other coding's tag", []string{"If-None-Match: " + gzETag}, 200},
		{"inm malformed", []string{"If-None-Match: bare, " + etag}, 200},
		{"ims equal", []string{"If-Modified-Since: " + fixedLastMod}, 304},
		{"ims newer", []string{"If-Modified-Since: " + newer}, 304},
		{"ims older", []string{"If-Modified-Since: " + older}, 200},
		{"ims rfc850", []string{"If-Modified-Since: Wednesday, 06-Mar-24 07:09:11 GMT"}, 304},
		{"ims asctime", []string{"If-Modified-Since: Wed Mar  6 07:09:11 2024"}, 304},
		{"ims garbage", []string{"If-Modified-Since: yesterday"}, 200},
		{"inm mismatch wins over ims", []string{`If-None-Match: "nope"`, "If-Modified-Since: " + newer}, 200},
		{"if-match ok", []string{"If-Match: " + etag}, 200},
		{"if-match star", []string{"If-Match: *"}, 200},
		{"if-match weak refused", []string{"If-Match: W/" + etag}, 412},
		{"if-match other", []string{`If-Match: "nope"`}, 412},
		{"if-match wins over ius", []string{"If-Match: " + etag, "If-Unmodified-Since: " + older}, 200},
		{"ius older", []string{"If-Unmodified-Since: " + older}, 412},
		{"ius equal", []string{"If-Unmodified-Since: " + fixedLastMod}, 200},
		{"412 before 304", []string{`If-Match: "nope"`, "If-None-Match: " + etag}, 412},
	} {
		r := serve(t, s, "GET", "/a.txt", tc.headers...)
		if r.resp.Status != tc.status {
			t.Errorf("%s: status %d, want %d (%q)", tc.name, r.resp.Status, tc.status, r.head)
		}
	}
}

func TestNotModifiedExactHead(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, "a.txt", "conditional body")
	s := newStatic(t, root, nil)
	r := serve(t, s, "GET", "/a.txt", "If-None-Match: "+etagOf(16))
	want := "HTTP/1.1 304 Not Modified\r\nServer: gale\r\nETag: " + etagOf(16) + "\r\nLast-Modified: " +
		fixedLastMod + "\r\nVary: Accept-Encoding\r\n"
	if r.head != want || r.body != "" || r.resp.Close {
		t.Fatalf("%q %q", r.head, r.body)
	}
	r = serve(t, s, "HEAD", "/a.txt", "If-Modified-Since: "+fixedLastMod)
	if r.head != want {
		t.Fatalf("HEAD %q", r.head)
	}
	r = serve(t, s, "GET", "/a.txt", `If-Match: "x"`)
	if r.resp.Status != 412 || r.body != "412 Precondition Failed\n" || r.resp.Close {
		t.Fatalf("412 %q %q", r.head, r.body)
	}
}

func TestParseIMFFixdate(t *testing.T) {
	for in, ok := range map[string]bool{
		fixedLastMod:                    true,
		"Tue, 05 Mar 2024 07:09:11 UTC": false,
		"Tue, 05 Foo 2024 07:09:11 GMT": false,
		"Tue, 05 Mar 2024 25:09:11 GMT": false,
		"Tue, 5 Mar 2024 07:09:11 GMT":  false,
	} {
		got, gotOK := parseIMFFixdate([]byte(in))
		if gotOK != ok || (ok && got != fixedTime.Unix()) {
			t.Errorf("%q: %d %v", in, got, gotOK)
		}
	}
}
