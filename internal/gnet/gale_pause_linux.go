// Copyright (c) 2026 The gale Authors. Licensed under the Apache License,
// Version 2.0, as the rest of this copy of gnet.
//
// This file is not part of gnet: gale added it (see GALE.md). It lets the
// application stop reading a connection for a while (backpressure).

//go:build linux

package gnet

// PauseRead stops polling the connection for readability until
// ResumeRead: what the peer sends waits in the kernel, whose receive
// window then closes, so a sender faster than its consumer is held back
// instead of filling memory. Writes go on. It must run on the
// connection's event loop; an error means the poller refused (the
// connection is broken).
func (c *conn) PauseRead() error {
	if c.readPaused || !c.opened {
		return nil
	}
	c.readPaused = true
	if !c.outboundBuffer.IsEmpty() {
		return c.loop.poller.ModWrite(&c.pollAttachment)
	}
	return c.loop.poller.ModNone(&c.pollAttachment)
}

// ResumeRead undoes PauseRead. Bytes the application left in the inbound
// buffer are not replayed: call it with that buffer consumed.
func (c *conn) ResumeRead() error {
	if !c.readPaused || !c.opened {
		return nil
	}
	c.readPaused = false
	if !c.outboundBuffer.IsEmpty() {
		return c.loop.poller.ModReadWrite(&c.pollAttachment, false)
	}
	return c.loop.poller.ModRead(&c.pollAttachment, false)
}

// pollWrite adds writability to what the connection is polled for, once
// bytes wait in its outbound buffer.
func (c *conn) pollWrite(isET bool) error {
	if c.readPaused {
		return c.loop.poller.ModWrite(&c.pollAttachment)
	}
	return c.loop.poller.ModReadWrite(&c.pollAttachment, isET)
}

// pollFlushed drops writability once the outbound buffer is empty
// (level-triggered mode).
func (c *conn) pollFlushed() error {
	if c.readPaused {
		return c.loop.poller.ModNone(&c.pollAttachment)
	}
	return c.loop.poller.ModRead(&c.pollAttachment, false)
}
