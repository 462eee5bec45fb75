package api

import (
	"encoding/json"
	"flag"
	"net/http/httptest"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
)

// -update-openapi rewrites openapi.json's operations from the route x
// role table (roles_test.go) and openapiSummaries below, keeping nothing
// by hand but what those say. Run it after adding a route:
//
//	go test ./core/api -run TestOpenAPIDocumentMatchesRoutes -update-openapi
var updateOpenAPI = flag.Bool("update-openapi", false, "rewrite core/api/openapi.json from the route table")

// openapiPath turns a Fiber path (/patients/:id) into an OpenAPI one
// (/patients/{id}).
// An escaped colon (/patients\:batch) is a literal one.
var fiberParam = regexp.MustCompile(`(^|[^\\]):([A-Za-z_]+)`)

func openapiPath(p string) string {
	return strings.ReplaceAll(fiberParam.ReplaceAllString(p, "${1}{$2}"), `\:`, ":")
}

type openapiDoc struct {
	OpenAPI string                                `json:"openapi"`
	Paths   map[string]map[string]json.RawMessage `json:"paths"`
}

type openapiOp struct {
	Summary  string   `json:"summary"`
	Roles    []string `json:"x-roles"`
	Security []any    `json:"security"`
}

// The document names exactly the routes the server binds (API, chat
// socket, health probes), with the roles of the route x role table.
func TestOpenAPIDocumentMatchesRoutes(t *testing.T) {
	if *updateOpenAPI {
		writeOpenAPI(t)
	}
	var doc openapiDoc
	require.NoError(t, json.Unmarshal(openapiDocument, &doc), "openapi.json is not JSON")
	assert.Equal(t, "3.1.0", doc.OpenAPI)

	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			if method == "parameters" {
				continue
			}
			documented[strings.ToUpper(method)+" "+path] = true
		}
	}
	srv, _ := newFullServer(t)
	bound := map[string]bool{}
	for _, r := range srv.App().GetRoutes(true) {
		if r.Method == "HEAD" {
			continue
		}
		if strings.HasPrefix(r.Path, "/api/v1/") || strings.HasPrefix(r.Path, "/ws/") || r.Path == "/healthz" || r.Path == "/readyz" {
			bound[r.Method+" "+openapiPath(r.Path)] = true
		}
	}
	hint := " (add it to routeTable, then: go test ./core/api -run TestOpenAPIDocumentMatchesRoutes -update-openapi)"
	for k := range bound {
		assert.True(t, documented[k], "route %s is bound but not in openapi.json%s", k, hint)
	}
	for k := range documented {
		assert.True(t, bound[k], "openapi.json documents %s, which the server does not bind%s", k, hint)
	}

	// Who may call each operation is the route table's answer.
	for _, r := range routeTable {
		raw, ok := doc.Paths[openapiPath(r.path)][strings.ToLower(r.method)]
		if !ok {
			continue // reported above
		}
		var op openapiOp
		require.NoError(t, json.Unmarshal(raw, &op))
		assert.Equal(t, rolesOf(r.roles), op.Roles, "%s %s: x-roles", r.method, r.path)
		assert.NotEmpty(t, op.Summary, "%s %s has no summary", r.method, r.path)
		if r.roles == nil {
			assert.Equal(t, []any{}, op.Security, "%s %s is public: security must be []", r.method, r.path)
		}
	}
}

// Served to signed-in users only, as the embedded document.
func TestOpenAPIServed(t *testing.T) {
	srv, _ := newFullServer(t)
	res, err := srv.App().Test(httptest.NewRequest("GET", "/api/v1/openapi.json", nil), -1)
	require.NoError(t, err)
	assert.Equal(t, 401, res.StatusCode, "anonymous")

	e := newPatientEnv(t, nil)
	var got map[string]any
	require.Equal(t, 200, e.call(t, actor.RoleAuditor, "GET", "/api/v1/openapi.json", "", &got))
	assert.Equal(t, "3.1.0", got["openapi"])
	assert.Contains(t, got["paths"], "/api/v1/patients/{id}")
}

func rolesOf(rs []actor.Role) []string {
	out := []string{}
	for _, r := range rs {
		out = append(out, string(r))
	}
	sort.Strings(out)
	return out
}

// openapiSummaries describes each operation in a line (the README's API
// table says more).
var openapiSummaries = map[string]string{
	"POST /api/v1/auth/login":                                    "Sign in: session cookie and {token, user, csrf_token}",
	"POST /api/v1/auth/logout":                                   "End the session",
	"GET /api/v1/auth/me":                                        "Who am I",
	"POST /api/v1/auth/password/forgot":                          "Ask for a password reset link by e-mail",
	"POST /api/v1/auth/password/set":                             "Set a password with a reset or invitation token",
	"GET /api/v1/openapi.json":                                   "This OpenAPI document",
	"GET /api/v1/users":                                          "List users",
	"POST /api/v1/users":                                         "Create a user",
	"GET /api/v1/users/{id}":                                     "One user",
	"PATCH /api/v1/users/{id}":                                   "Change a user's name, role or disabled flag",
	"POST /api/v1/users/{id}/invite":                             "E-mail a user an invitation to set their password",
	"GET /api/v1/audit":                                          "The audit trail (actor, action, record, from, to, cursor)",
	"GET /api/v1/audit/verify":                                   "Check the keyed audit chain",
	"GET /api/v1/audit/head":                                     "The audit chain's head, to anchor elsewhere",
	"GET /api/v1/audit/export.csv":                               "Export the audit trail as CSV",
	"GET /api/v1/plugins":                                        "List plugins and their state",
	"POST /api/v1/plugins/{name}/enable":                         "Enable a plugin",
	"POST /api/v1/plugins/{name}/disable":                        "Disable a plugin",
	"GET /api/v1/patients":                                       "Search and list patients",
	"POST /api/v1/patients":                                      "Create a patient (409 with duplicates unless confirm_duplicate)",
	"POST /api/v1/patients:batch":                                "Create up to 500 patients; per-item results {index, status, id, error}",
	"GET /api/v1/patients/stats":                                 "Dashboard figures",
	"GET /api/v1/patients/export.csv":                            "Every patient the list's filters match, as CSV (a provider: their panel)",
	"GET /api/v1/patients/workflow":                              "Allowed status transitions",
	"GET /api/v1/patients/{id}":                                  "One patient",
	"PATCH /api/v1/patients/{id}":                                "Partial update naming the version read (stale: 409)",
	"DELETE /api/v1/patients/{id}":                               "Delete a patient (audited)",
	"POST /api/v1/patients/{id}/status":                          "Move a patient through the status workflow",
	"GET /api/v1/patients/{id}/history":                          "Status changes and edits",
	"POST /api/v1/patients/{id}/merge":                           "Merge from_id into this patient (the other id then answers 410 with merged_into)",
	"GET /api/v1/patients/{id}/merges":                           "Merges into or out of this patient, with whether each can still be undone",
	"POST /api/v1/patients/{id}/merge/undo":                      "Undo a merge into this patient within 24 hours (later: 409)",
	"GET /api/v1/views":                                          "Your saved views of the patient list and the shared ones",
	"POST /api/v1/views":                                         "Save a view {name, query, shared, pinned}",
	"GET /api/v1/views/{id}":                                     "One saved view",
	"PATCH /api/v1/views/{id}":                                   "Change a view (owner, or an admin for a shared one); pinned is your own pin",
	"DELETE /api/v1/views/{id}":                                  "Delete a view (owner, or an admin for a shared one)",
	"GET /api/v1/patients/{id}/documents":                        "Original imported documents of a patient",
	"GET /api/v1/review":                                         "Imported records waiting for an identity decision, with candidates",
	"POST /api/v1/review/{id}/resolve":                           "Decide a review item: same (patient_id), new or reject",
	"POST /api/v1/patients/{id}/eligibility":                     "Check insurance eligibility (X12 270/271)",
	"GET /api/v1/patients/{id}/eligibility":                      "Earlier eligibility checks, newest first",
	"GET /api/v1/eligibility/{check_id}/x12":                     "A check's raw 270 and 271 (reads audited)",
	"GET /api/v1/providers":                                      "List providers",
	"POST /api/v1/providers":                                     "Create a provider",
	"GET /api/v1/providers/{id}":                                 "One provider",
	"PATCH /api/v1/providers/{id}":                               "Update a provider",
	"POST /api/v1/imports":                                       "Import C-CDA / FHIR XML / CSV files (multipart parts named files; dry_run=true reports and writes nothing)",
	"POST /api/v1/imports/{id}/commit":                           "Import the file of a dry run (its id) with the same mapping, without uploading it again",
	"GET /api/v1/imports":                                        "List imports",
	"GET /api/v1/imports/quarantine":                             "Files held in quarantine",
	"GET /api/v1/imports/{id}":                                   "One import and its files",
	"POST /api/v1/imports/files/{id}/retry":                      "Retry a quarantined file",
	"GET /api/v1/documents/{id}":                                 "One original document (read audited)",
	"POST /api/v1/chat":                                          "Ask the assistant",
	"GET /api/v1/chat/contract":                                  "What the assistant can do for this user",
	"GET /api/v1/chat/history":                                   "The user's chat history (PHI-free)",
	"POST /api/v1/chat/actions/{id}/confirm":                     "Confirm a proposed change (runs as the user)",
	"POST /api/v1/chat/actions/{id}/cancel":                      "Cancel a proposed change",
	"GET /api/v1/chat/tour":                                      "The guided tour's state",
	"PUT /api/v1/chat/tour":                                      "Save the guided tour's state",
	"GET /ws/chat":                                               "The assistant over WebSocket (pfinni's own Origin only)",
	"GET /api/v1/jobs":                                           "Background jobs (state, kind)",
	"GET /api/v1/backups":                                        "Backups in backup_dir (manifests, newest first)",
	"POST /api/v1/backups":                                       "Write a backup now",
	"POST /api/v1/jobs/{id}/retry":                               "Queue a dead job again",
	"GET /api/v1/email/suppressions":                             "Addresses e-mail is not sent to",
	"POST /api/v1/email/suppressions":                            "Suppress an address",
	"POST /api/v1/email/events":                                  "Receive a signed Resend bounce or complaint event",
	"DELETE /api/v1/email/suppressions/{address}":                "Lift a suppression",
	"GET /api/v1/email/preferences":                              "The user's e-mail preferences",
	"PUT /api/v1/email/preferences":                              "Save the user's e-mail preferences",
	"POST /api/v1/webhooks":                                      "Create a webhook endpoint",
	"GET /api/v1/webhooks":                                       "List webhook endpoints",
	"GET /api/v1/webhooks/{id}":                                  "One webhook endpoint",
	"PATCH /api/v1/webhooks/{id}":                                "Update a webhook endpoint",
	"DELETE /api/v1/webhooks/{id}":                               "Delete a webhook endpoint",
	"GET /api/v1/webhooks/{id}/deliveries":                       "Deliveries to an endpoint",
	"POST /api/v1/webhooks/{id}/deliveries/{delivery_id}/replay": "Send a delivery again",
	"GET /api/v1/alerts":                                         "The user's alerts, composed for them (unread, limit)",
	"POST /api/v1/alerts/read-all":                               "Mark all the user's alerts read",
	"POST /api/v1/alerts/{id}/read":                              "Mark one alert read",
	"GET /healthz":                                               "Liveness: the process answers",
	"GET /readyz":                                                "Readiness: database and enabled plugins loaded (503 until then)",
}

// writeOpenAPI regenerates openapi.json from routeTable, the health
// probes and openapiSummaries.
func writeOpenAPI(t *testing.T) {
	t.Helper()
	type row struct {
		method, path string
		roles        []actor.Role
		public       bool
	}
	rows := []row{{"GET", "/healthz", nil, true}, {"GET", "/readyz", nil, true}}
	for _, r := range routeTable {
		rows = append(rows, row{r.method, r.path, r.roles, r.roles == nil})
	}
	problem := map[string]any{"$ref": "#/components/responses/Problem"}
	paths := map[string]map[string]any{}
	for _, r := range rows {
		p := openapiPath(r.path)
		key := r.method + " " + p
		summary := openapiSummaries[key]
		if summary == "" {
			t.Errorf("no summary for %s in openapiSummaries", key)
		}
		tag := strings.Split(strings.TrimPrefix(strings.TrimPrefix(p, "/api/v1"), "/"), "/")[0]
		if tag == "healthz" || tag == "readyz" {
			tag = "health"
		}
		op := map[string]any{
			"operationId": strings.ToLower(r.method) + strings.NewReplacer("/", "_", "{", "", "}", "", ".", "_", "-", "_").Replace(p),
			"summary":     summary,
			"tags":        []string{tag},
			"x-roles":     rolesOf(r.roles),
		}
		var params []any
		for _, m := range fiberParam.FindAllStringSubmatch(r.path, -1) {
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
		}
		if params != nil {
			op["parameters"] = params
		}
		responses := map[string]any{"default": problem}
		switch {
		case p == "/ws/chat":
			responses["101"] = map[string]any{"description": "Switching Protocols: JSON frames {type, reply, message, error, status}"}
		case strings.HasSuffix(p, ".csv"):
			responses["200"] = map[string]any{"description": "OK", "content": map[string]any{"text/csv": map[string]any{"schema": map[string]any{"type": "string"}}}}
		case r.method == "DELETE" || p == "/api/v1/auth/logout":
			responses["204"] = map[string]any{"description": "Done"}
		case r.method == "POST" && !strings.Contains(p, "/actions/") && !strings.HasSuffix(p, "/retry") && !strings.HasSuffix(p, "/enable") && !strings.HasSuffix(p, "/disable") && !strings.HasSuffix(p, "/replay") && !strings.HasPrefix(p, "/api/v1/auth/"):
			responses["201"] = map[string]any{"$ref": "#/components/responses/JSON"}
			responses["200"] = map[string]any{"$ref": "#/components/responses/JSON"}
		default:
			responses["200"] = map[string]any{"$ref": "#/components/responses/JSON"}
		}
		op["responses"] = responses
		if r.method == "POST" || r.method == "PATCH" || r.method == "PUT" {
			if p == "/api/v1/imports" {
				op["requestBody"] = map[string]any{"required": true, "content": map[string]any{"multipart/form-data": map[string]any{
					"schema": map[string]any{"type": "object", "properties": map[string]any{
						"dry_run": map[string]any{"type": "boolean", "description": "true: report per row what importing the one file would do (create, update, unchanged, duplicate, review, rejected) and write nothing; commit it with POST /api/v1/imports/{id}/commit. Sent before the files."},
						"mapping": map[string]any{"type": "string", "description": "JSON object: CSV column header -> patient field (or \"\" to ignore the column), overriding the detected mapping. Sent before the files."},
						"files":   map[string]any{"type": "array", "items": map[string]any{"type": "string", "contentEncoding": "binary"}}}}}}}
			} else {
				op["requestBody"] = map[string]any{"required": false, "content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"type": "object"}}}}
			}
		}
		if r.public {
			op["security"] = []any{}
		}
		if paths[p] == nil {
			paths[p] = map[string]any{}
		}
		paths[p][strings.ToLower(r.method)] = op
	}
	doc := map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{
			"title":       "pfinni API",
			"version":     "1",
			"description": "JSON under /api/v1 (behind PFINNI_BASE_PATH when set). Errors are RFC 9457 problem details. Browsers use the session cookie (writes need X-CSRF-Token); scripts send Authorization: Bearer <token>. x-roles lists the roles that may call an operation (empty: anyone). Generated from the route x role table: go test ./core/api -run TestOpenAPIDocumentMatchesRoutes -update-openapi.",
		},
		"servers":  []any{map[string]any{"url": "/", "description": "pfinni itself; prefix PFINNI_BASE_PATH (e.g. /pfinni)"}},
		"security": []any{map[string]any{"bearer": []any{}}, map[string]any{"session": []any{}}},
		"paths":    paths,
		"components": map[string]any{
			"securitySchemes": map[string]any{
				"bearer":  map[string]any{"type": "http", "scheme": "bearer", "description": "token from POST /api/v1/auth/login"},
				"session": map[string]any{"type": "apiKey", "in": "cookie", "name": "pfinni_session", "description": "browser session; writes also need X-CSRF-Token"},
			},
			"schemas": map[string]any{
				"Problem": map[string]any{"type": "object", "description": "RFC 9457 problem details", "properties": map[string]any{
					"type": map[string]any{"type": "string"}, "title": map[string]any{"type": "string"}, "status": map[string]any{"type": "integer"},
					"detail": map[string]any{"type": "string"}, "instance": map[string]any{"type": "string"},
					"errors": map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "string"}, "description": "per-field messages"},
				}},
			},
			"responses": map[string]any{
				"JSON":    map[string]any{"description": "OK", "content": map[string]any{"application/json": map[string]any{"schema": map[string]any{}}}},
				"Problem": map[string]any{"description": "An error", "content": map[string]any{"application/problem+json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Problem"}}}},
			},
		},
	}
	out, err := json.MarshalIndent(doc, "", "  ")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile("openapi.json", append(out, '\n'), 0o644))
	openapiDocument = append(out, '\n')
}
