package patients

import (
	"net/url"
	"strings"
	"time"

	"github.com/pfinni/pfinni/plugins/internal/nlu"
	"github.com/pfinni/pfinni/sdk"
)

// answerFollowUp answers a follow-up ("only the active ones", "how many
// of them are over 65", "show them") by narrowing the previous answer's
// filter, which the host passes (sdk.HostContext.Previous): what the
// message names replaces the same filter of the previous answer, missing
// data adds up. Without a previous answer the message is taken on its
// own, or the user is asked which patients they mean.
func answerFollowUp(intent string, q nlu.Query, previous string, today time.Time) sdk.IntentReply {
	prev, err := url.ParseQuery(previous)
	if previous == "" || err != nil {
		if q.Filters() > 0 {
			return answerQuery(intent, q, today)
		}
		return sdk.IntentReply{Intent: intent,
			Reply:       "Which patients do you mean? Ask me about some first, for example \"show me all active patients\", then narrow it down.",
			Suggestions: []string{"show me all active patients", "upcoming birthdays", "patients without insurance"}}
	}
	v := prev
	for k, vals := range Values(q) {
		if k == sdk.FilterMissing {
			v.Set(k, strings.Join(union(strings.Split(prev.Get(k), ","), strings.Split(vals[0], ",")), ","))
			continue
		}
		v[k] = vals
	}
	out := answerValues(intent, v, q.Limit)
	what := strings.TrimSpace(strings.ReplaceAll(Describe(q), "{patients}", ""))
	switch {
	case intent == IntentCount && what == "":
		out.Reply = "Of those, there are {total} {patients}."
	case intent == IntentCount:
		out.Reply = "Of those, {total} {patients} " + strings.TrimPrefix(what, " ") + "."
	case what == "":
		out.Reply = "Here they are again: {total} {patients}."
	default:
		out.Reply = "Of those, I found {total} {patients} " + what + "."
	}
	out.Suggestions = []string{"show them", "only the active ones", "how many of them are over 65"}
	return out
}

// answerValues is the reply skeleton of a list or count answer for the
// patient-list query v: the query, the view and "Open in patient list".
func answerValues(intent string, v url.Values, top int) sdk.IntentReply {
	out := sdk.IntentReply{Intent: intent, Data: map[string]any{sdk.DataQuery: v.Encode()}}
	target := ListPath
	if len(v) > 0 {
		target += "?" + v.Encode()
	}
	out.Actions = []sdk.Action{{Type: "navigate", Label: "Open in patient list", Target: target}}
	out.Data["view"] = "list"
	if intent == IntentCount {
		out.Data["view"] = "count"
	}
	if top > 0 {
		out.Data["top"] = top
	}
	return out
}

func union(a, b []string) []string {
	var out []string
	for _, s := range append(a, b...) {
		if s != "" && !contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
