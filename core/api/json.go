package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/pfinni/pfinni/core/fault"
)

// errNotJSON answers a body sent with a content type other than JSON.
var errNotJSON = fiber.NewError(fiber.StatusUnsupportedMediaType, "the request body must be JSON: send Content-Type: application/json")

// decodeJSON strictly decodes the request body into v: malformed JSON,
// unknown fields and wrong types are refused with the field named. The
// body is read raw (limitBody has bounded it; never c.Body(), which
// inflates compressed bodies), and the media type must be exactly
// application/json (or a +json type such as application/merge-patch+json);
// a missing Content-Type is taken as JSON.
func decodeJSON(c *fiber.Ctx, v any) error {
	if ct := c.Get(fiber.HeaderContentType); ct != "" && !isJSONType(ct) {
		return errNotJSON
	}
	body := rawBody(c)
	if len(bytes.TrimSpace(body)) == 0 {
		return fault.New(fault.ErrInvalid, "request body is empty; send a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return explainJSON(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fault.New(fault.ErrInvalid, "request body has data after the JSON object")
	}
	return nil
}

// isJSONType reports whether the Content-Type ct names JSON.
func isJSONType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	return mt == "application/json" || (strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))
}

func explainJSON(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fault.Newf(fault.ErrInvalid, "malformed JSON at byte %d", syn.Offset)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return fault.Newf(fault.ErrInvalid, "request body must be a JSON %s", "object")
		}
		return fault.Field(field, fmt.Sprintf("must be a %s", jsonKind(typ.Type.Kind().String())))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return fault.Field(name, "unknown field")
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return fault.New(fault.ErrInvalid, "malformed JSON: the body ends too early")
	default:
		return fault.New(fault.ErrInvalid, "malformed JSON")
	}
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "string"
	case "int", "int64", "int32", "float64", "uint":
		return "number"
	case "bool":
		return "boolean"
	case "slice":
		return "list"
	case "struct", "map":
		return "object"
	}
	return k
}

// created answers 201 with v.
func created(c *fiber.Ctx, v any) error {
	return c.Status(fiber.StatusCreated).JSON(v)
}
