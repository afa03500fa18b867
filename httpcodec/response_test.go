package httpcodec

import (
	"testing"
	"time"
)

func TestStatusLine(t *testing.T) {
	cases := []struct {
		code int
		want string
	}{
		{200, "HTTP/1.1 200 OK\r\n"},
		{404, "HTTP/1.1 404 Not Found\r\n"},
		{413, "HTTP/1.1 413 Content Too Large\r\n"},
		{431, "HTTP/1.1 431 Request Header Fields Too Large\r\n"},
		{599, "HTTP/1.1 599 \r\n"}, // RFC 9112 4: empty reason
		{42, "HTTP/1.1 500 Internal Server Error\r\n"},
	}
	for _, c := range cases {
		if got := string(AppendStatusLine([]byte("x"), c.code)); got != "x"+c.want {
			t.Errorf("%d: %q", c.code, got)
		}
	}
	if StatusText(505) != "HTTP Version Not Supported" || StatusText(299) != "" {
		t.Error("StatusText")
	}
}

func TestAppendHeader(t *testing.T) {
	got := string(AppendHeader(nil, "Location", "/a\r\nSet-Cookie: x\x00"))
	if got != "Location: /a  Set-Cookie: x \r\n" {
		t.Errorf("%q", got)
	}
	if got := string(AppendContentLength(nil, 1234567)); got != "Content-Length: 1234567\r\n" {
		t.Errorf("%q", got)
	}
}

func TestDateCache(t *testing.T) {
	var c DateCache
	t0 := time.Date(2006, 1, 2, 15, 4, 5, 0, time.FixedZone("X", 3600))
	c.Update(t0)
	if got := string(c.Line()); got != "Date: Mon, 02 Jan 2006 14:04:05 GMT\r\n" {
		t.Fatalf("%q", got)
	}
	c.Update(t0.Add(999 * time.Millisecond)) // same second: unchanged
	if got := string(c.Line()); got != "Date: Mon, 02 Jan 2006 14:04:05 GMT\r\n" {
		t.Fatalf("%q", got)
	}
	c.Update(t0.Add(time.Second + 5*time.Minute))
	if got := string(c.Line()); got != "Date: Mon, 02 Jan 2006 14:09:06 GMT\r\n" {
		t.Fatalf("%q", got)
	}
	var z DateCache // never updated: the current time, well formed
	if l := z.Line(); len(l) != len(dateLineExample) || string(l[len(l)-6:]) != " GMT\r\n" {
		t.Fatalf("%q", l)
	}
}

func TestAppendError(t *testing.T) {
	date := []byte("Date: Mon, 02 Jan 2006 15:04:05 GMT\r\n")
	want := "HTTP/1.1 400 Bad Request\r\n" +
		"Server: gale\r\n" +
		"Date: Mon, 02 Jan 2006 15:04:05 GMT\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n" +
		"Content-Length: 16\r\n" +
		"Connection: close\r\n" +
		"\r\n" +
		"400 Bad Request\n"
	if got := string(AppendError(nil, 400, date)); got != want {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
	want = "HTTP/1.1 599 \r\nServer: gale\r\nContent-Type: text/plain; charset=utf-8\r\n" +
		"Content-Length: 4\r\nConnection: close\r\n\r\n599\n"
	if got := string(AppendError(nil, 599, nil)); got != want {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
	if Continue100 != "HTTP/1.1 100 Continue\r\n\r\n" || ServerHeader != "Server: gale\r\n" {
		t.Error("constants")
	}
}
