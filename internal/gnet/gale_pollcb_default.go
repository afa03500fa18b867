// Copyright (c) 2026 The gale Authors. Licensed under the Apache License,
// Version 2.0, as the rest of this copy of gnet.
//
// This file is not part of gnet: gale added it (see GALE.md).

//go:build (darwin || dragonfly || freebsd || linux || netbsd || openbsd) && !poll_opt

package gnet

// setPollCallback is a no-op in the default build: its poller finds a
// connection by its fd (reactor_default.go) and never calls the
// attachment's Callback, so storing the method value c.processIO there
// only cost every connection a 16-byte closure on the heap (3 % of an
// idle keep-alive connection's memory in gale).
func (c *conn) setPollCallback() {}
