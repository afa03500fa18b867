package handlers

import (
	"bytes"
	"os"
	"path/filepath"

	"github.com/gale-http/gale/httpcodec"
	"github.com/gale-http/gale/upstream"
	"github.com/gale-http/gale/upstream/fastcgi"
)

// FrontController is the one-liner PHP setup (`gale -root DIR -fastcgi
// ADDR`, like Caddy's php_fastcgi or nginx's try_files $uri $uri/
// /index.php): a request for a script (`*.php`, with optional PATH_INFO
// after it) goes to the application; an existing file is served by the
// static handler; a directory runs its index.php; anything else is
// rewritten to the front controller script.
type FrontController struct {
	Static   *Static
	Upstream *upstream.Upstream
	// Root is the document root the application sees (DOCUMENT_ROOT).
	Root string
	// Ext is the script extension (default ".php").
	Ext string
	// Index is the front controller script (default "/index.php"); change
	// it with SetIndex, which also updates the bytes Serve routes to.
	Index string

	indexB []byte
}

// NewFrontController returns a front controller for the application u with
// its files under root.
func NewFrontController(static *Static, u *upstream.Upstream, root string) *FrontController {
	fc := &FrontController{Static: static, Upstream: u, Root: root, Ext: ".php", Index: "/index.php"}
	fc.indexB = []byte(fc.Index)
	return fc
}

// SetIndex makes script ("/index.php") the front controller script.
func (fc *FrontController) SetIndex(script string) {
	fc.Index = script
	fc.indexB = []byte(script)
}

// Serve implements Handler.
func (fc *FrontController) Serve(ctx *Ctx, req *httpcodec.Request, resp *Response) {
	ext := fc.Ext
	if script, pathInfo := fastcgi.SplitScript(req.Path, ext); bytes.HasSuffix(script, []byte(ext)) {
		resp.RouteFastCGI(fc.Upstream, fc.Root, script, pathInfo).Internal = fc.Static
		return
	}
	if req.Method == httpcodec.MethodGet || req.Method == httpcodec.MethodHead {
		fc.Static.Serve(ctx, req, resp)
		if resp.Status != 404 && resp.Status != 403 {
			return
		}
	} else if fc.isFile(req.Path) {
		fc.Static.Serve(ctx, req, resp) // 405 with Allow, as for any file
		return
	}
	// A directory runs its own index script when it has one.
	if n := len(req.Path); n > 0 && req.Path[n-1] == '/' {
		dirIndex := append(ctx.Scratch, req.Path...)
		dirIndex = append(dirIndex, "index"...)
		dirIndex = append(dirIndex, ext...)
		ctx.Scratch = dirIndex
		script := dirIndex[len(dirIndex)-n-len("index")-len(ext):]
		if fc.isFile(script) {
			resp.Reset()
			resp.RouteFastCGI(fc.Upstream, fc.Root, script, nil).Internal = fc.Static
			return
		}
	}
	resp.Reset()
	resp.RouteFastCGI(fc.Upstream, fc.Root, fc.indexB, nil).Internal = fc.Static
}

// isFile reports whether path names a regular file under the root. Only
// paths the static handler did not answer reach it, so it is off the hot
// path of both static files and scripts.
func (fc *FrontController) isFile(path []byte) bool {
	if hiddenPath(path) {
		return false
	}
	st, err := os.Stat(filepath.Join(fc.Root, string(path)))
	return err == nil && st.Mode().IsRegular()
}
