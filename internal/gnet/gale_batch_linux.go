// Copyright (c) 2026 The gale Authors. Licensed under the Apache License,
// Version 2.0, as the rest of this copy of gnet.
//
// This file is not part of gnet: gale added it (see GALE.md).

//go:build linux && !poll_opt

package gnet

// OnBatchEnd has fn run on the event loop after each round of events (and
// the tasks queued meanwhile) the poller hands the loop, before it polls
// again: an application may hold writes back during a round and send them
// all at its end. It must be called on the loop. Only the default epoll
// poller has it: elsewhere the type assertion for it fails.
func (el *eventloop) OnBatchEnd(fn func()) {
	el.poller.BatchEnd = fn
}
