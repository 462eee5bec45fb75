package dashboard

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// The API reference page (/help/api) renders the embedded OpenAPI
// document (GET /api/v1/openapi.json) as a readable list on the server:
// operations grouped by tag, each with its method, path, summary, the
// roles that may call it, its parameters, request body and responses.

// apiRefView is the API reference page.
type apiRefView struct {
	Title, Version string
	Groups         []apiGroup
	Count          int
}

type apiGroup struct {
	Tag string
	Ops []apiOp
}

type apiOp struct {
	ID, Method, Path, Summary string
	Roles                     []string
	Public                    bool
	Params                    []apiParam
	Body                      string // "application/json (object), optional"
	Responses                 []string
}

type apiParam struct {
	Name, In, Type string
	Required       bool
}

// openapiDoc is the part of an OpenAPI 3.1 document the page shows.
type openapiDoc struct {
	Info struct {
		Title   string `json:"title"`
		Version string `json:"version"`
	} `json:"info"`
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Responses map[string]struct {
			Description string `json:"description"`
		} `json:"responses"`
	} `json:"components"`
}

type openapiOp struct {
	OperationID string   `json:"operationId"`
	Summary     string   `json:"summary"`
	Tags        []string `json:"tags"`
	Roles       []string `json:"x-roles"`
	Security    *[]any   `json:"security"`
	Parameters  []struct {
		Name     string `json:"name"`
		In       string `json:"in"`
		Required bool   `json:"required"`
		Schema   struct {
			Type any `json:"type"`
		} `json:"schema"`
	} `json:"parameters"`
	RequestBody *struct {
		Required bool `json:"required"`
		Content  map[string]struct {
			Schema struct {
				Type any `json:"type"`
			} `json:"schema"`
		} `json:"content"`
	} `json:"requestBody"`
	Responses map[string]struct {
		Ref         string `json:"$ref"`
		Description string `json:"description"`
	} `json:"responses"`
}

var methodOrder = map[string]int{"get": 0, "post": 1, "put": 2, "patch": 3, "delete": 4}

// apiReference reads the OpenAPI document into the page's groups.
func apiReference(doc []byte) (apiRefView, error) {
	var d openapiDoc
	if err := json.Unmarshal(doc, &d); err != nil {
		return apiRefView{}, fmt.Errorf("read the OpenAPI document: %w", err)
	}
	v := apiRefView{Title: d.Info.Title, Version: d.Info.Version}
	groups := map[string][]apiOp{}
	for path, ops := range d.Paths {
		for method, raw := range ops {
			if _, ok := methodOrder[method]; !ok {
				continue // "parameters" and other path-level keys
			}
			var o openapiOp
			if err := json.Unmarshal(raw, &o); err != nil {
				return apiRefView{}, fmt.Errorf("read the OpenAPI document: %s %s: %w", method, path, err)
			}
			op := apiOp{ID: o.OperationID, Method: strings.ToUpper(method), Path: path, Summary: o.Summary, Roles: o.Roles,
				Public: o.Security != nil && len(*o.Security) == 0}
			for _, p := range o.Parameters {
				op.Params = append(op.Params, apiParam{Name: p.Name, In: p.In, Type: fmt.Sprint(p.Schema.Type), Required: p.Required})
			}
			if rb := o.RequestBody; rb != nil {
				var parts []string
				for ct, c := range rb.Content {
					parts = append(parts, fmt.Sprintf("%s (%v)", ct, c.Schema.Type))
				}
				sort.Strings(parts)
				op.Body = strings.Join(parts, ", ")
				if !rb.Required {
					op.Body += ", optional"
				}
			}
			codes := make([]string, 0, len(o.Responses))
			for code := range o.Responses {
				codes = append(codes, code)
			}
			sort.Strings(codes)
			for _, code := range codes {
				r := o.Responses[code]
				desc := r.Description
				if name, ok := strings.CutPrefix(r.Ref, "#/components/responses/"); ok {
					desc = d.Components.Responses[name].Description
				}
				op.Responses = append(op.Responses, strings.TrimSpace(code+" "+desc))
			}
			tag := "other"
			if len(o.Tags) > 0 {
				tag = o.Tags[0]
			}
			groups[tag] = append(groups[tag], op)
			v.Count++
		}
	}
	for tag, ops := range groups {
		sort.Slice(ops, func(i, j int) bool {
			if ops[i].Path != ops[j].Path {
				return ops[i].Path < ops[j].Path
			}
			return methodOrder[strings.ToLower(ops[i].Method)] < methodOrder[strings.ToLower(ops[j].Method)]
		})
		v.Groups = append(v.Groups, apiGroup{Tag: tag, Ops: ops})
	}
	sort.Slice(v.Groups, func(i, j int) bool { return v.Groups[i].Tag < v.Groups[j].Tag })
	return v, nil
}

// apiReferencePage renders /help/api for any signed-in user (the same
// audience as the document itself).
func (db *Dashboard) apiReferencePage(c *fiber.Ctx) error {
	if len(db.d.OpenAPI) == 0 {
		return unavailable("the API reference")
	}
	v, err := apiReference(db.d.OpenAPI)
	if err != nil {
		return err
	}
	return db.render(c, fiber.StatusOK, "api_reference", db.view(c, "API reference", "help", v))
}
