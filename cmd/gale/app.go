package main

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/gale-http/gale/handlers"
	"github.com/gale-http/gale/httpcodec"
	"github.com/gale-http/gale/upstream"
)

// appHandler hands every request to one FastCGI application that routes by
// path itself (a Go, Python or Node app, as opposed to a directory of PHP
// scripts): SCRIPT_NAME is the request path, there is no PATH_INFO.
type appHandler struct {
	u    *upstream.Upstream
	root string
}

// Serve implements handlers.Handler.
func (h *appHandler) Serve(_ *handlers.Ctx, req *httpcodec.Request, resp *handlers.Response) {
	resp.RouteFastCGI(h.u, h.root, req.Path, nil)
}

// demoApp is the built-in demo's dynamic part: `gale fcgi-demo` run as a
// supervised child process on a unix socket in a private directory.
type demoApp struct {
	dir   string
	child *child
	// Upstream is the demo application as a FastCGI upstream.
	Upstream *upstream.Upstream
}

// startDemoApp spawns this binary as the demo FastCGI application and
// waits briefly for it to listen, so the first request finds it up.
func startDemoApp(log *slog.Logger, loops int) (*demoApp, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("demo app: %w", err)
	}
	dir, err := os.MkdirTemp("", "gale-app-") // 0700: only we reach the socket
	if err != nil {
		return nil, fmt.Errorf("demo app: %w", err)
	}
	sock := filepath.Join(dir, "demo.sock")
	backends, err := upstream.ParseAddrs("unix:" + sock)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	u := &upstream.Upstream{Name: "demo", Backends: backends}
	u.Init(loops)
	d := &demoApp{dir: dir, Upstream: u}
	d.child = superviseChild(log, self, "fcgi-demo", "-listen", "unix:"+sock)
	if err := waitUnixSocket(sock, 5*time.Second); err != nil {
		log.Warn("demo app is not up yet; /app/ answers 502 until it is", "socket", sock, "err", err)
	}
	return d, nil
}

// Stop ends the child and removes its directory.
func (d *demoApp) Stop() {
	d.child.Stop()
	os.RemoveAll(d.dir)
}
