package check

import (
	"strings"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
)

// validateOpenAPI checks a document against the OpenAPI 3.1 schema and
// builds its model (references resolve, operation ids are unique).
func validateOpenAPI(src []byte) []string {
	doc, err := libopenapi.NewDocument(src)
	if err != nil {
		return []string{err.Error()}
	}
	var problems []string
	v, errs := validator.NewValidator(doc)
	for _, e := range errs {
		problems = append(problems, e.Error())
	}
	if v != nil {
		if ok, verrs := v.ValidateDocument(); !ok {
			for _, e := range verrs {
				problems = append(problems, e.Error())
				for _, se := range e.SchemaValidationErrors {
					problems = append(problems, "  "+se.FieldPath+": "+se.Reason)
				}
			}
		}
	}
	model, err := doc.BuildV3Model()
	if err != nil {
		problems = append(problems, err.Error())
		return problems
	}
	ids := map[string]string{}
	for path, item := range model.Model.Paths.PathItems.FromOldest() {
		for method, op := range item.GetOperations().FromOldest() {
			where := strings.ToUpper(method) + " " + path
			if op.OperationId == "" {
				problems = append(problems, where+": no operationId")
			} else if prev, dup := ids[op.OperationId]; dup {
				problems = append(problems, where+": operationId "+op.OperationId+" also on "+prev)
			}
			ids[op.OperationId] = where
		}
	}
	return problems
}

// core/api/openapi.json (served at /api/v1/openapi.json; its routes are
// checked against the server in core/api) is a valid OpenAPI 3.1 document.
func TestOpenAPIDocumentIsValid(t *testing.T) {
	src, err := readRepoFile("core/api/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(src), `"openapi": "3.1.0"`) {
		t.Error("not an OpenAPI 3.1 document")
	}
	for _, p := range validateOpenAPI(src) {
		t.Error(p)
	}
}

// The validation can fail: a dangling reference, a duplicate operation
// id, and a document the OpenAPI 3.1 schema refuses.
func TestOpenAPIValidationFindsBreaches(t *testing.T) {
	for _, tc := range []struct{ doc, want string }{
		{`{"openapi": "3.1.0", "info": {"title": "x", "version": "1"}, "paths": {"/a": {"get": {"operationId": "a", "responses": {"200": {"$ref": "#/components/responses/Missing"}}}}}}`, "does not exist"},
		{`{"openapi": "3.1.0", "info": {"title": "x", "version": "1"}, "paths": {"/a": {"get": {"operationId": "a", "responses": {"200": {"description": "ok"}}}},
		  "/b": {"get": {"operationId": "a", "responses": {"200": {"description": "ok"}}}}}}`, "operationId a also on"},
		{`{"openapi": "3.1.0", "info": {"title": "x"}, "paths": {"/a": {"get": {"operationId": "a", "responses": {"200": {"descriptio": "ok"}}}}}}`, "version"},
	} {
		got := strings.Join(validateOpenAPI([]byte(tc.doc)), "\n")
		if !strings.Contains(got, tc.want) {
			t.Errorf("validation missed %q in:\n%s", tc.want, got)
		}
	}
}
