// Package pacing hands out the request slot of a shared budget, such as
// one Callyzer API key (one request at a time, 2s apart, for a whole
// company). A caller opens a Sequence with Pacer.Begin, acquires the slot
// for each of its requests, releases it once the response is read, and
// Ends the sequence; a single request is a sequence of one.
//
// # Rules
//
// These hold for every Pacer here: New's within a process, and
// pgpacing.New's across the processes sharing a PostgreSQL database (both
// take every decision with the same function).
//
//   - At most one request holds the slot. Starts are at least the interval
//     apart, counted from the later of the grant and the moment the
//     request was written (the time passed to release).
//   - At every free slot, waiting Interactive requests go before
//     Background ones, and among themselves in the order their sequences
//     began.
//   - A Background request that has let 4 starts go to others while it
//     waited is served from then on as an Interactive request asking at
//     that moment: the sequences already open finish first, and it goes
//     before every later one. A steady stream of refreshes cannot starve
//     the periodic sync; a request held long by a slow answer ages no one.
//   - After each release, an open Interactive sequence keeps the slot for
//     its next request for a grace of min(interval, 1s): no Background
//     request and no later sequence gets it meanwhile.
//   - Hold keeps every request back until the given time; an Acquire whose
//     deadline comes first fails at once (see Errors).
//
// # Usage
//
//	p := pacing.New(2 * time.Second)
//	seq := p.Begin(pacing.Interactive)
//	defer seq.End()
//	release, err := seq.Acquire(ctx)
//	if err != nil { return err }
//	sent := send() // the time the request was written
//	release(sent)
//
// callyzer.Client does all of this itself; hosts pick a Pacer with
// callyzer.WithPacer.
//
// # Errors
//
// Acquire returns ctx.Err() when its context ends first. When a Hold
// outlasts its deadline, it fails at once with an error whose method
// HeldUntil() time.Time says until when; callyzer.Client reports it as
// callyzer.ErrRateLimited, with the rest of the hold as RetryAfter.
package pacing
