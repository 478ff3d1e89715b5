package main

import (
	"context"
	"fmt"
	"io"
	"time"
)

// run runs every part and returns the report; a failed scenario is recorded
// in it, never returned.
func run(ctx context.Context, cfg config, progress io.Writer) *report {
	rep := &report{cfg: cfg, started: time.Now(), load: loadAverage()}
	defer func() { rep.took = time.Since(rep.started) }()
	e, err := newEnv(ctx, cfg)
	if err != nil {
		rep.fail("setup: %v", err)
		return rep
	}
	defer e.close()
	for _, part := range []struct {
		name string
		run  func(context.Context, *env, *report, io.Writer)
	}{
		{"requests and latency", traffic},
		{"our cost", cost},
		{"memory", memory},
		{"sales floor", floor},
	} {
		if ctx.Err() != nil {
			rep.fail("%s: not run: %v", part.name, context.Cause(ctx))
			continue
		}
		start := time.Now()
		part.run(ctx, e, rep, progress)
		fmt.Fprintf(progress, "loadtest: %s took %s\n", part.name, time.Since(start).Round(time.Millisecond))
	}
	return rep
}
