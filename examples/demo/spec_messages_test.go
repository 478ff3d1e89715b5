package main

import "github.com/leadcalls/leadcalls/callhistory"

// The user's messages, in Polish, as callhistory says them (callhistory's
// own tests pin the spec's texts).
var (
	msgUpdated      = callhistory.Message(nil, "pl")
	msgForbidden    = callhistory.Message(callhistory.ErrForbidden, "pl")
	msgCallyzerAuth = callhistory.Message(callhistory.ErrCallyzerAuth, "pl")
	msgTimeout      = callhistory.Message(callhistory.ErrTimeout, "pl")
	msgFailed       = callhistory.Message(callhistory.ErrUpstream, "pl")
	msgLeadNotFound = callhistory.Message(callhistory.ErrLeadNotFound, "pl")
	msgInvalidPhone = callhistory.Message(callhistory.ErrInvalidPhone, "pl")
	msgRateLimited  = callhistory.Message(callhistory.ErrRateLimited, "pl")
)
