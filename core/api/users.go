package api

import (
	"github.com/gofiber/fiber/v2"

	"github.com/pfinni/pfinni/core/auth"
)

// bindUsersAPI binds user administration: admins only.
func (s *Server) bindUsersAPI(r fiber.Router) {
	if s.deps.Auth == nil {
		return
	}
	r.Get("/users", allow(adminOnly), s.listUsers)
	r.Post("/users", allow(adminOnly), s.createUser)
	r.Get("/users/:id", allow(adminOnly), s.getUser)
	r.Patch("/users/:id", allow(adminOnly), s.updateUser)
}

type userList struct {
	Items []auth.User `json:"items"`
	Total int         `json:"total"`
}

func (s *Server) listUsers(c *fiber.Ctx) error {
	users, err := s.deps.Auth.ListUsers(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(userList{Items: users, Total: len(users)})
}

// newUserRequest is auth.NewUser with invite: the user sets their own
// password through a one-time link (email.go); password is then optional.
type newUserRequest struct {
	auth.NewUser
	Invite bool `json:"invite"`
}

func (s *Server) createUser(c *fiber.Ctx) error {
	var in newUserRequest
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	if in.Invite && in.Password == "" {
		// Nobody knows this password; the invitation link replaces it.
		p, err := auth.GeneratePassword()
		if err != nil {
			return err
		}
		in.Password = p
	}
	u, err := s.deps.Auth.CreateUser(c.UserContext(), in.NewUser)
	if err != nil || !in.Invite {
		if err != nil {
			return err
		}
		return created(c, u)
	}
	info, err := s.invite(c, u.ID)
	if err != nil {
		return err
	}
	return created(c, struct {
		auth.User
		Invite InviteInfo `json:"invite"`
	}{u, info})
}

func (s *Server) getUser(c *fiber.Ctx) error {
	u, err := s.deps.Auth.GetUser(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(u)
}

func (s *Server) updateUser(c *fiber.Ctx) error {
	var in auth.UserPatch
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	u, err := s.deps.Auth.UpdateUser(c.UserContext(), c.Params("id"), in)
	if err != nil {
		return err
	}
	return c.JSON(u)
}
