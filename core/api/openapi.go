package api

import (
	_ "embed"

	"github.com/gofiber/fiber/v2"
)

// openapiDocument is the OpenAPI 3.1 description of every route the API
// binds (openapi.json beside this file). TestOpenAPIDocumentMatchesRoutes
// fails when a route is bound that the document lacks, or the other way
// round; deploy/check validates it against the OpenAPI 3.1 schema.
//
//go:embed openapi.json
var openapiDocument []byte

// OpenAPIDocument returns the OpenAPI document (the dashboard's API
// reference page renders it).
func OpenAPIDocument() []byte { return openapiDocument }

// bindOpenAPI serves the document at GET /api/v1/openapi.json to any
// signed-in user (the dashboard's help links it). It is not public: no
// anonymous caller needs the map of every route, and the API is for
// pfinni's own users and their scripts.
func (s *Server) bindOpenAPI(r fiber.Router) {
	r.Get("/openapi.json", allow(anyUser), func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, "application/json")
		return c.Send(openapiDocument)
	})
}
