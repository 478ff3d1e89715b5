// Package pacinghook lets package callyzer reach what package pacing does
// not export: callyzer shares one pacing.New pacer between the Clients of
// an API key and host, and raises its interval when a Client asks for more.
package pacinghook

import "time"

// RaiseInterval, set by package pacing, makes the interval of local (a
// pacer that pacing.New returned) d when d is larger.
var RaiseInterval func(local any, d time.Duration)
