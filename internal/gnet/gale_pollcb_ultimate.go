// Copyright (c) 2026 The gale Authors. Licensed under the Apache License,
// Version 2.0, as the rest of this copy of gnet.
//
// This file is not part of gnet: gale added it (see GALE.md).

//go:build (darwin || dragonfly || freebsd || linux || netbsd || openbsd) && poll_opt

package gnet

// setPollCallback points the attachment at c: the poll_opt poller calls
// it with the event, without a lookup by fd.
func (c *conn) setPollCallback() { c.pollAttachment.Callback = c.processIO }
