package callhistoryhttp_test

import "github.com/leadcalls/leadcalls/callhistory"

// The user's messages, in Polish, as callhistory says them (callhistory's
// own tests pin the spec's texts).
var (
	msgUpdated      = callhistory.Message(nil, callhistory.Polish)
	msgForbidden    = callhistory.Message(callhistory.ErrForbidden, callhistory.Polish)
	msgCallyzerAuth = callhistory.Message(callhistory.ErrCallyzerAuth, callhistory.Polish)
	msgTimeout      = callhistory.Message(callhistory.ErrTimeout, callhistory.Polish)
	msgFailed       = callhistory.Message(callhistory.ErrUpstream, callhistory.Polish)
	msgLeadNotFound = callhistory.Message(callhistory.ErrLeadNotFound, callhistory.Polish)
	msgInvalidPhone = callhistory.Message(callhistory.ErrInvalidPhone, callhistory.Polish)
	msgRateLimited  = callhistory.Message(callhistory.ErrRateLimited, callhistory.Polish)
)
