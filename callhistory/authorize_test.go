package callhistory_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/leadcalls/leadcalls/callhistory"
)

func TestRoleAuthorizer(t *testing.T) {
	t.Parallel()
	lead := &callhistory.Lead{ID: "L-1", AdvisorID: "u-adv", Department: "sales", Team: "t1"}
	unassigned := &callhistory.Lead{ID: "L-2"}
	actor := func(id string, role callhistory.Role) *callhistory.Actor {
		return &callhistory.Actor{ID: id, Role: role, Department: "sales", Team: "t2"}
	}
	sameTeam := func(_ context.Context, a callhistory.Actor, l callhistory.Lead) bool { return a.Team == l.Team }

	tests := []struct {
		name    string
		scope   func(context.Context, callhistory.Actor, callhistory.Lead) bool
		actor   *callhistory.Actor
		lead    *callhistory.Lead
		allowed bool
	}{
		{"administrator", nil, actor("a", callhistory.RoleAdministrator), lead, true},
		{"head of department", nil, actor("h", callhistory.RoleHeadOfDepartment), lead, true},
		{"team leader", nil, actor("t", callhistory.RoleTeamLeader), lead, true},
		{"assigned advisor", nil, actor("u-adv", callhistory.RoleAdvisor), lead, true},
		{"another advisor", nil, actor("u-other", callhistory.RoleAdvisor), lead, false},
		{"advisor, unassigned lead", nil, actor("", callhistory.RoleAdvisor), unassigned, false},
		{"advisor with an id, unassigned lead", nil, actor("u-adv", callhistory.RoleAdvisor), unassigned, false},
		{"unknown role", nil, actor("x", "intern"), lead, false},
		{"empty role", nil, actor("x", ""), lead, false},
		{"no actor", nil, nil, lead, false},
		{"actor without id", nil, actor("", callhistory.RoleAdministrator), lead, false},
		{"administrator, missing lead", nil, actor("a", callhistory.RoleAdministrator), nil, true},
		{"team leader, missing lead", nil, actor("t", callhistory.RoleTeamLeader), nil, true},
		{"advisor, missing lead", nil, actor("u-adv", callhistory.RoleAdvisor), nil, false},
		{"no actor, missing lead", nil, nil, nil, false},
		{"scope narrows a team leader", sameTeam, actor("t", callhistory.RoleTeamLeader), lead, false},
		{"scope narrows a head", sameTeam, actor("h", callhistory.RoleHeadOfDepartment), lead, false},
		{"scope allows its own team", sameTeam, &callhistory.Actor{ID: "t", Role: callhistory.RoleTeamLeader, Team: "t1"}, lead, true},
		{"scope does not narrow an administrator", sameTeam, actor("a", callhistory.RoleAdministrator), lead, true},
		{"scope does not widen an advisor", sameTeam, &callhistory.Actor{ID: "u-other", Role: callhistory.RoleAdvisor, Team: "t1"}, lead, false},
		{"scope, missing lead", sameTeam, actor("t", callhistory.RoleTeamLeader), nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := callhistory.RoleAuthorizer{Scope: tt.scope}.Authorize(t.Context(), tt.actor, tt.lead)
			if tt.allowed {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, callhistory.ErrForbidden)
			require.Equal(t, msgForbidden, callhistory.Message(err, "pl"))
		})
	}
}
