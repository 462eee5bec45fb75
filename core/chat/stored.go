package chat

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/pfinni/pfinni/sdk"
)

// storedData reduces a reply's data to what the history keeps: an
// allow-list of keys holding typed values (counts, flags, the filter
// without its search text, chart figures) and patients as record
// references. Text inside (chart titles and labels, article titles) goes
// through the redactor; without one it is dropped.
func storedData(d map[string]any, red *redactor) map[string]any {
	if len(d) == 0 {
		return nil
	}
	plain, _ := jsonValue(d).(map[string]any)
	out := map[string]any{}
	for k, v := range plain {
		switch k {
		case "patients":
			out[k] = refsOf(v)
		case "total", "matches", "top":
			if n, ok := v.(float64); ok {
				out[k] = n
			}
		case "has_more":
			if b, ok := v.(bool); ok {
				out[k] = b
			}
		case "view":
			if v == "list" || v == "count" {
				out[k] = v
			}
		case "query":
			if q, ok := v.(string); ok {
				out[k] = storedQuery(q)
			}
		case "chart":
			if c, ok := v.(map[string]any); ok && red != nil {
				out[k] = storedChart(c, red)
			}
		case "articles", "citations":
			if list, ok := v.([]any); ok && red != nil {
				out[k] = storedArticles(list, red)
			}
		case "tour":
			if t, ok := v.(map[string]any); ok && red != nil {
				out[k] = storedTour(t, red)
			}
		case "eligibility":
			if e := storedEligibility(v); e != nil {
				out[k] = e
			}
		}
	}
	return out
}

func storedChart(c map[string]any, red *redactor) map[string]any {
	out := map[string]any{}
	if t, _ := c["type"].(string); t == "bar" || t == "line" {
		out["type"] = t
	}
	if t, ok := c["title"].(string); ok {
		out["title"] = red.Text(t)
	}
	if labels, ok := c["labels"].([]any); ok {
		ls := make([]string, 0, len(labels))
		for _, l := range labels {
			s, _ := l.(string)
			ls = append(ls, red.Text(s))
		}
		out["labels"] = ls
	}
	if values, ok := c["values"].([]any); ok {
		vs := make([]float64, 0, len(values))
		for _, v := range values {
			n, _ := v.(float64)
			vs = append(vs, n)
		}
		out["values"] = vs
	}
	return out
}

// storedArticles keeps the id, title and citations of knowledge articles.
func storedArticles(list []any, red *redactor) []map[string]any {
	out := make([]map[string]any, 0, len(list))
	for _, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			continue
		}
		a := map[string]any{}
		for _, k := range []string{"id", "title", "source", "url"} {
			if s, ok := m[k].(string); ok {
				a[k] = red.Text(s)
			}
		}
		if cs, ok := m["citations"].([]any); ok {
			a["citations"] = storedArticles(cs, red)
		}
		out = append(out, a)
	}
	return out
}

func storedTour(t map[string]any, red *redactor) map[string]any {
	out := map[string]any{}
	if n, ok := t["step"].(float64); ok {
		out["step"] = n
	}
	if steps, ok := t["steps"].([]any); ok {
		ss := make([]map[string]string, 0, len(steps))
		for _, e := range steps {
			m, _ := e.(map[string]any)
			st := map[string]string{}
			for _, k := range []string{"title", "text"} {
				if s, ok := m[k].(string); ok {
					st[k] = red.Text(s)
				}
			}
			if s, ok := m["target"].(string); ok {
				st["target"] = safeTarget(s)
			}
			ss = append(ss, st)
		}
		out["steps"] = ss
	}
	return out
}

// storedActions keeps the actions of a reply as the history shows them:
// known types only, checked labels, safe targets, typed parameters, no
// id (a stored action cannot be confirmed) and never a reason.
func storedActions(acts []Action, red *redactor) []Action {
	var out []Action
	for _, a := range acts {
		if !slices.Contains(sdk.ChatActionTypes(), a.Type) {
			continue
		}
		s := Action{Type: a.Type, Label: red.Text(a.Label)}
		switch a.Type {
		case sdk.ActionNavigate, sdk.ActionStartImport:
			s.Target = safeTarget(a.Target)
		case sdk.ActionStartTour:
			if n, ok := jsonValue(a.Params["step"]).(float64); ok {
				s.Params = map[string]any{"step": n}
			}
		case sdk.ActionCheckEligibility:
			if recordKey(a.Target) {
				s.Target = a.Target // a record id
			}
		case sdk.ActionSetStatus:
			s.Target = a.Target // a record id
			s.Params = map[string]any{"to": a.Params["to"], "patients": statusRefs(a.Params["patients"])}
		}
		out = append(out, s)
	}
	return out
}

// statusRefs keeps each patient of a set_status offer as a reference and
// the status it moved from.
func statusRefs(v any) []map[string]string {
	list, _ := jsonValue(v).([]any)
	out := make([]map[string]string, 0, len(list))
	for _, e := range list {
		m, _ := e.(map[string]any)
		ref, _ := m["ref"].(string)
		from, _ := m["from"].(string)
		if strings.HasPrefix(ref, "patient:") {
			out = append(out, map[string]string{"ref": ref, "from": from})
		}
	}
	return out
}

// safeTarget returns an app path as stored and offered: a path starting
// with one slash (no scheme, host or protocol-relative "//"), its query
// reduced like a stored query; "" for anything else.
func safeTarget(t string) string {
	if !strings.HasPrefix(t, "/") || strings.HasPrefix(t, "//") || strings.ContainsAny(t, "\\\r\n\t") {
		return ""
	}
	path, q, ok := strings.Cut(t, "?")
	if !ok {
		return path
	}
	if sq := storedQuery(q); sq != "" {
		return path + "?" + sq
	}
	return path
}

// refsOf reduces a patient list to record references.
func refsOf(v any) []map[string]string {
	out := []map[string]string{}
	list, _ := jsonValue(v).([]any)
	for _, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			continue
		}
		id, _ := m["id"].(string)
		if ref, _ := m["ref"].(string); id == "" && strings.HasPrefix(ref, "patient:") {
			id = strings.TrimPrefix(ref, "patient:")
		}
		if id != "" {
			out = append(out, map[string]string{"ref": "patient:" + id})
		}
	}
	return out
}

// jsonValue round-trips v through JSON so typed values become plain maps,
// slices, strings, float64s and bools.
func jsonValue(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}
