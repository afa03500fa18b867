package handlers

import (
	"html"
	"os"
	"slices"
	"strings"

	"github.com/gale-http/gale/httpcodec"
	"golang.org/x/sys/unix"
)

// serveListing writes an HTML index of the directory rel into ctx.Scratch.
// Hidden names are left out, as they would 404. Listings are not cached.
func (s *Static) serveListing(ctx *Ctx, req *httpcodec.Request, resp *Response, rel string) {
	fd, err := s.res.open(rel, unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		errorFor(ctx, req, resp, StatusFromError(err))
		return
	}
	f := os.NewFile(uintptr(fd), rel)
	ents, err := f.ReadDir(-1)
	f.Close()
	if err != nil {
		errorFor(ctx, req, resp, StatusFromError(err))
		return
	}
	slices.SortFunc(ents, func(a, b os.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	title := html.EscapeString(string(req.Path))
	bodyStart := len(ctx.Scratch)
	b := append(ctx.Scratch, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Index of "...)
	b = append(b, title...)
	b = append(b, "</title></head>\n<body><h1>Index of "...)
	b = append(b, title...)
	b = append(b, "</h1>\n<ul>\n"...)
	if len(req.Path) > 1 {
		b = append(b, "<li><a href=\"../\">../</a></li>\n"...)
	}
	for _, de := range ents {
		name := de.Name()
		if strings.HasPrefix(name, ".") {
			continue
		}
		slash := ""
		if de.IsDir() {
			slash = "/"
		}
		b = append(b, "<li><a href=\"./"...)
		b = appendEscapedPath(b, []byte(name))
		b = append(b, slash...)
		b = append(b, "\">"...)
		b = append(b, html.EscapeString(name)...)
		b = append(b, slash...)
		b = append(b, "</a></li>\n"...)
	}
	b = append(b, "</ul>\n</body></html>\n"...)
	ctx.Scratch = b
	body := scratchView(ctx, bodyStart)

	headStart := len(ctx.Scratch)
	b = httpcodec.AppendStatusLine(ctx.Scratch, 200)
	b = append(b, httpcodec.ServerHeader...)
	b = httpcodec.AppendHeader(b, "Content-Type", "text/html; charset=utf-8")
	ctx.Scratch = httpcodec.AppendContentLength(b, int64(len(body)))
	resp.Status = 200
	resp.Head = scratchView(ctx, headStart)
	if req.Method == httpcodec.MethodGet {
		resp.AddBody(body)
	}
}
