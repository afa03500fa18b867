// Copyright (c) 2026 The gale Authors. Licensed under the Apache License,
// Version 2.0, as the rest of this copy of gnet.
//
// This file is not part of gnet: gale added it (see GALE.md). It lets the
// application add a socket it connected itself to an event loop, on that
// loop, without Enroll's goroutine, dial, dup and task.

//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package gnet

import "net"

// unnamedUnix is the local address of every attached socket (unbound):
// one shared value rather than one per connection, which for a backend
// that takes one request per connection is one per request.
var unnamedUnix = &net.UnixAddr{Net: "unix"}

// AttachUnix adds fd, a non-blocking unix stream socket already connected
// to path, to the event loop as a connection whose context is ctx; OnOpen
// runs before it returns. It must run on the event loop's goroutine (in
// one of its callbacks or tasks). On error fd is closed.
func (el *eventloop) AttachUnix(fd int, path string, ctx any) error {
	remote := &net.UnixAddr{Name: path, Net: "unix"}
	c := newStreamConn("unix", fd, el, nil, unnamedUnix, remote)
	c.ctx = ctx
	return el.register0(c)
}
