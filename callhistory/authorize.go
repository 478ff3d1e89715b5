package callhistory

import (
	"context"
	"fmt"
)

// RoleAuthorizer is the default Authorizer, following the spec's roles:
// administrators, heads of department and team leaders may view any lead; a
// BIK advisor only the leads assigned to them (Lead.AdvisorID == Actor.ID).
// Everything else is denied: no actor, an actor without an ID, an unknown
// role.
//
// A missing lead (nil) is allowed for the three managing roles, so that the
// caller can answer "lead not found", and denied for an advisor, who thus
// cannot learn whether a lead they are not assigned to exists.
//
// The zero value is ready to use.
type RoleAuthorizer struct {
	// Scope, when set, narrows heads of department and team leaders, for
	// example to leads of their own department or team: it is called for
	// them with an existing lead, and false denies. Administrators and
	// advisors are not passed to Scope.
	Scope func(ctx context.Context, actor Actor, lead Lead) bool
}

var _ Authorizer = RoleAuthorizer{}

// Authorize implements Authorizer.
func (a RoleAuthorizer) Authorize(ctx context.Context, actor *Actor, lead *Lead) error {
	if actor == nil {
		return fmt.Errorf("%w: no actor", ErrForbidden)
	}
	if actor.ID == "" {
		return fmt.Errorf("%w: actor without an id", ErrForbidden)
	}
	switch actor.Role {
	case RoleAdministrator:
		return nil
	case RoleHeadOfDepartment, RoleTeamLeader:
		if lead == nil || a.Scope == nil || a.Scope(ctx, *actor, *lead) {
			return nil
		}
		return fmt.Errorf("%w: lead outside the actor's scope", ErrForbidden)
	case RoleAdvisor:
		if lead != nil && lead.AdvisorID != "" && lead.AdvisorID == actor.ID {
			return nil
		}
		return fmt.Errorf("%w: lead not assigned to the advisor", ErrForbidden)
	default:
		return fmt.Errorf("%w: role %q may not view call histories", ErrForbidden, actor.Role)
	}
}
