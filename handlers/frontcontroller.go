package handlers

import (
	"bytes"
	"sync"

	"github.com/gale-http/gale/httpcodec"
	"github.com/gale-http/gale/upstream"
	"github.com/gale-http/gale/upstream/cgi"
)

// FrontController is the one-liner PHP setup (`gale -root DIR -fastcgi
// ADDR`, like Caddy's php_fastcgi or nginx's try_files $uri $uri/
// /index.php): a request for a script (`*.php`, with optional PATH_INFO
// after it) goes to the application when the script is a regular file
// below the root, and is 404 otherwise; an existing file is served by the
// static handler; a directory runs its index.php; anything else is
// rewritten to the front controller script. Scripts are looked up below
// Static's root, which is Root. Paths Refuse matches are neither served nor
// run: a refused script is 404, any other refused path goes to the front
// controller script as an unknown path would (a WordPress page may well be
// called /data/).
type FrontController struct {
	Static   *Static
	Upstream *upstream.Upstream
	// Root is the document root the application sees (DOCUMENT_ROOT).
	Root string
	// Ext is the script extension (default ".php").
	Ext string
	// Refuse lists what is never served nor run (NewFrontController:
	// DefaultRefuse).
	Refuse RefuseList
	// Internal serves the application's internal redirects
	// (X-Accel-Redirect); nil means the front controller's own
	// ServeInternal. cmd/gale sets the vhost's Router.Internal so that
	// internal locations and aliases are reachable.
	Internal Handler

	index   []byte // the front controller script (SetIndex; "/index.php")
	scripts scriptCache
}

// scriptCache remembers the scripts found to be regular files below the
// root for as long as the static cache trusts its entries (revalidateTicks
// of its clock, under a second): a PHP request then costs a map lookup
// instead of three syscalls (openat2, fstat, close), as nginx's
// open_file_cache does for try_files. Only scripts that exist are kept, at
// most maxCachedScripts, so a flood of made-up names costs no memory.
type scriptCache struct {
	mu   sync.RWMutex
	seen map[string]int64 // script path -> the clock tick it was found at
}

// maxCachedScripts bounds the script cache of one front controller or
// CGI handler.
const maxCachedScripts = 4096

// NewFrontController returns a front controller for the application u with
// its files under root.
func NewFrontController(static *Static, u *upstream.Upstream, root string) *FrontController {
	fc := &FrontController{Static: static, Upstream: u, Root: root, Ext: ".php", index: []byte("/index.php")}
	fc.Refuse, _ = NewRefuseList(DefaultRefuse)
	return fc
}

// SetIndex makes script ("/index.php") the front controller script.
func (fc *FrontController) SetIndex(script string) {
	fc.index = []byte(script)
}

// Serve implements Handler.
func (fc *FrontController) Serve(ctx *Ctx, req *httpcodec.Request, resp *Response) {
	ext := fc.Ext
	if script, pathInfo := cgi.SplitScript(req.Path, ext); bytes.HasSuffix(script, []byte(ext)) {
		// Only a script that exists goes to the application. PHP's
		// cgi.fix_pathinfo (on by default) makes php-cgi, and php-fpm
		// with security.limit_extensions relaxed, walk a SCRIPT_FILENAME
		// that is no file back to the first file on its path: for
		// /uploads/avatar.png/x.php that is the upload, and the PHP
		// hidden in it runs. Caddy's php_fastcgi and nginx's
		// try_files $fastcgi_script_name =404 refuse the same way.
		if fc.Refuse.Match(script) || !fc.isFile(script) {
			errorFor(ctx, req, resp, 404)
			return
		}
		fc.route(resp, script, pathInfo)
		return
	}
	refused := fc.Refuse.Match(req.Path)
	switch {
	case refused:
		// Neither the file nor the directory's index: the application
		// answers, as for a path that does not exist.
	case req.Method == httpcodec.MethodGet || req.Method == httpcodec.MethodHead:
		fc.Static.Serve(ctx, req, resp)
		if resp.Status != 404 && resp.Status != 403 {
			return
		}
	case fc.isFile(req.Path):
		fc.Static.Serve(ctx, req, resp) // 405 with Allow, as for any file
		return
	}
	// A directory runs its own index script when it has one.
	if n := len(req.Path); n > 0 && req.Path[n-1] == '/' && !refused {
		dirIndex := append(ctx.Scratch, req.Path...)
		dirIndex = append(dirIndex, "index"...)
		dirIndex = append(dirIndex, ext...)
		ctx.Scratch = dirIndex
		script := dirIndex[len(dirIndex)-n-len("index")-len(ext):]
		if fc.isFile(script) {
			resp.Reset()
			fc.route(resp, script, nil)
			return
		}
	}
	resp.Reset()
	fc.route(resp, fc.index, nil)
}

// route sends the request to the application to run script.
func (fc *FrontController) route(resp *Response, script, pathInfo []byte) {
	r := resp.RouteUpstream(fc.Upstream, fc.Root, script, pathInfo)
	if r.Internal = fc.Internal; r.Internal == nil {
		r.Internal = internalRedirects{fc}
	}
}

// isFile reports whether path names a regular file below the root, as
// the static handler resolves it (scriptCache.isFile).
func (fc *FrontController) isFile(path []byte) bool { return fc.scripts.isFile(fc.Static, path) }

// isFile reports whether the clean absolute path names a regular file
// below s's root, as the static handler resolves it (openat2 with
// RESOLVE_BENEATH: no symlink out of the root, no dotfile), answering
// from the cache while its entry is fresh. It runs for every script
// request, so it allocates nothing.
func (c *scriptCache) isFile(s *Static, path []byte) bool {
	if len(path) == 0 || path[0] != '/' || hiddenPath(path) {
		return false
	}
	now := s.clock.Load()
	at, ok := c.lookup(path)
	if ok && now-at < revalidateTicks {
		return true
	}
	found := s.res.regularFile(path[1:])
	if found || ok {
		c.mu.Lock()
		switch {
		case !found:
			delete(c.seen, string(path))
		case ok || len(c.seen) < maxCachedScripts:
			if c.seen == nil {
				c.seen = make(map[string]int64)
			}
			c.seen[string(path)] = now
		}
		c.mu.Unlock()
	}
	return found
}

// fresh reports whether the cache holds path and trusts it still: a
// regular file below s's root, without a syscall.
func (c *scriptCache) fresh(s *Static, path []byte) bool {
	at, ok := c.lookup(path)
	return ok && s.clock.Load()-at < revalidateTicks
}

// lookup returns the clock tick path was found at, if cached.
func (c *scriptCache) lookup(path []byte) (int64, bool) {
	c.mu.RLock()
	at, ok := c.seen[string(path)]
	c.mu.RUnlock()
	return at, ok
}

// isScript reports whether path would be routed to the application as a
// script: it ends in the script extension, or has a segment that does
// with PATH_INFO after it (the Router's extension match).
func (fc *FrontController) isScript(path []byte) bool {
	script, _ := cgi.SplitScript(path, fc.Ext)
	return bytes.HasSuffix(script, []byte(fc.Ext))
}

// internalRedirects serves an application's internal redirects
// (X-Accel-Redirect, a local Location) with the front controller's
// ServeInternal.
type internalRedirects struct{ fc *FrontController }

// Serve implements Handler.
func (h internalRedirects) Serve(ctx *Ctx, req *httpcodec.Request, resp *Response) {
	h.fc.ServeInternal(ctx, req, resp)
}

// ServeInternal implements InternalHandler: an internal redirect to a
// path below the front controller is served by the static handler; a
// script, or a path Refuse matches, is 404. Served as a file, a script is
// its source: an application that builds the target from user input
// ("/files/" . $_GET["f"]) would hand out config.php and its database
// password.
// nginx routes such a redirect again, to PHP; the reactor serves internal
// redirects synchronously, without a second trip to the application, so
// a script target is refused instead.
func (fc *FrontController) ServeInternal(ctx *Ctx, req *httpcodec.Request, resp *Response) {
	if fc.isScript(req.Path) || fc.Refuse.Match(req.Path) {
		errorFor(ctx, req, resp, 404)
		return
	}
	fc.Static.Serve(ctx, req, resp)
}
