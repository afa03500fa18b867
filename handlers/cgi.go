package handlers

import (
	"bytes"

	"github.com/gale-http/gale/httpcodec"
	"github.com/gale-http/gale/upstream"
	"github.com/gale-http/gale/upstream/cgi"
)

// CGI runs CGI scripts found below Static's root (the upstream's protocol
// runs them: upstream/cgiexec). With Exts, as for lighttpd's cgi.assign
// or a location ~ \.cgi$, the script is the path up to the first segment
// that ends in one of them ("/app.py/users/7" runs /app.py with PATH_INFO
// /users/7); without, as for a cgi-bin directory (Apache's ScriptAlias),
// it is the first segment of the path that is a file ("/cgi-bin/env.sh/x"
// runs /cgi-bin/env.sh with PATH_INFO /x). Only a regular file below the
// root, reached without symlinks out of it and with no dotfile on the
// way, runs: anything else is 404, never served as a file, so a script's
// source is never handed out.
type CGI struct {
	Static   *Static
	Upstream *upstream.Upstream
	// Root is the document root the scripts see (DOCUMENT_ROOT).
	Root string
	// Exts are the script extensions (".cgi", ".py"); empty: every file.
	Exts []string
	// Internal serves the scripts' local redirects (a Location that is a
	// path) and X-Accel-Redirects; nil serves none.
	Internal Handler

	scripts scriptCache
}

// Serve implements Handler.
func (h *CGI) Serve(ctx *Ctx, req *httpcodec.Request, resp *Response) {
	script, pathInfo := h.script(req.Path)
	if script == nil {
		errorFor(ctx, req, resp, 404)
		return
	}
	r := resp.RouteUpstream(h.Upstream, h.Root, script, pathInfo)
	r.Internal = h.Internal
}

// script finds the script a path runs, or nil.
func (h *CGI) script(path []byte) (script, pathInfo []byte) {
	if len(h.Exts) > 0 {
		for _, ext := range h.Exts {
			if s, info := cgi.SplitScript(path, ext); bytes.HasSuffix(s, []byte(ext)) && h.isFile(s) {
				return s, info
			}
		}
		return nil, nil
	}
	// The shortest prefix of whole segments that is a file. The segments
	// before a file are directories, so a prefix the cache holds is that
	// one: looking there first saves the syscalls for the directories
	// ("/cgi-bin") on every request for a known script.
	for _, known := range [2]bool{true, false} {
		for i := 1; i <= len(path); i++ {
			if i < len(path) && path[i] != '/' {
				continue
			}
			p := path[:i:i]
			if known && h.scripts.fresh(h.Static, p) || !known && h.isFile(p) {
				return p, path[i:]
			}
		}
	}
	return nil, nil
}

// isFile reports whether path names a regular file below the root, as the
// static handler resolves it; the scripts found are cached as the front
// controller's are, so a CGI request does not pay openat2, fstat and close
// for its script.
func (h *CGI) isFile(path []byte) bool { return h.scripts.isFile(h.Static, path) }
