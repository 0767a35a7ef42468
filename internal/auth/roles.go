package auth

import (
	"fmt"
	"slices"
)

// Role is what a user or an API token may do.
type Role string

// The roles, from most to least powerful.
const (
	RoleAdmin    Role = "admin"
	RoleSysadmin Role = "sysadmin"
	RoleDevops   Role = "devops"
	RoleSupport  Role = "support"
)

// Roles lists every role, most powerful first.
var roles = []Role{RoleAdmin, RoleSysadmin, RoleDevops, RoleSupport}

// Roles returns every role, most powerful first.
func Roles() []Role { return slices.Clone(roles) }

// ParseRole checks that s names a role.
func ParseRole(s string) (Role, error) {
	r := Role(s)
	if slices.Contains(roles, r) {
		return r, nil
	}
	return "", fmt.Errorf("unknown role %q: use admin, sysadmin, devops or support", s)
}

// Permission is what a route needs.
type Permission string

// Permissions a role grants. Every role can view; support can also
// respond to incidents (acknowledge, comment); sysadmin and devops operate
// (silences, incident changes, reloads); admin also manages users, every
// token and reads the audit log.
const (
	PermView    Permission = "view"
	PermRespond Permission = "respond"
	PermOperate Permission = "operate"
	PermAdmin   Permission = "admin"
)

// Permissions returns what role may do, weakest first.
func (r Role) Permissions() []Permission {
	switch r {
	case RoleAdmin:
		return []Permission{PermView, PermRespond, PermOperate, PermAdmin}
	case RoleSysadmin, RoleDevops:
		return []Permission{PermView, PermRespond, PermOperate}
	case RoleSupport:
		return []Permission{PermView, PermRespond}
	}
	return nil
}

// Allows reports whether r grants p.
func (r Role) Allows(p Permission) bool { return slices.Contains(r.Permissions(), p) }

// rank orders roles for "no higher than": admin 3, sysadmin and devops 2
// (neither is above the other), support 1.
func (r Role) rank() int { return len(r.Permissions()) }

// Covers reports whether r grants everything other grants, so that a user
// of role r may hand out a token of role other.
func (r Role) Covers(other Role) bool {
	if r == other || r == RoleAdmin {
		return true
	}
	return r.rank() > other.rank()
}

// lower returns the less powerful of a and b (a when they are equal in
// rank): a token keeps at most the role its user has now.
func lower(a, b Role) Role {
	if b.Covers(a) {
		return a
	}
	return b
}
