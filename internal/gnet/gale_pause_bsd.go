// Copyright (c) 2026 The gale Authors. Licensed under the Apache License,
// Version 2.0, as the rest of this copy of gnet.
//
// This file is not part of gnet: gale added it (see GALE.md). gale pauses
// reads on Linux only; elsewhere the poller is used as gnet does.

//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package gnet

func (c *conn) pollWrite(isET bool) error {
	return c.loop.poller.ModReadWrite(&c.pollAttachment, isET)
}

func (c *conn) pollFlushed() error {
	return c.loop.poller.ModRead(&c.pollAttachment, false)
}
