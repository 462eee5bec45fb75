package nlu

// The patient statuses of the workflow.
const (
	Onboarding = "onboarding"
	Active     = "active"
	Inactive   = "inactive"
	Churned    = "churned"
)

// Statuses lists the statuses in workflow order.
func Statuses() []string { return []string{Onboarding, Active, Inactive, Churned} }

// statusPhrases maps phrases (corrected words) to statuses. Longer
// phrases are tried first, so "not active" wins over "active".
var statusPhrases = []struct {
	phrase string
	status string
}{
	{"not yet active", Onboarding},
	{"no longer active", Churned},
	{"being onboarded", Onboarding},
	{"in onboarding", Onboarding},
	{"on hold", Inactive},
	{"dropped out", Churned},
	{"in care", Active},
	{"onboarding", Onboarding},
	{"pending", Onboarding},
	{"intake", Onboarding},
	{"inactive", Inactive},
	{"dormant", Inactive},
	{"paused", Inactive},
	{"lapsed", Inactive},
	{"idle", Inactive},
	{"active", Active},
	{"current", Active},
	{"currently", Active},
	{"enrolled", Active},
	{"engaged", Active},
	{"churned", Churned},
	{"churn", Churned},
	{"churning", Churned},
	{"left", Churned},
	{"lost", Churned},
	{"former", Churned},
	{"departed", Churned},
	{"dropped", Churned},
	{"cancelled", Churned},
	{"canceled", Churned},
	{"gone", Churned},
	{"quit", Churned},
}

// FindStatuses returns the statuses m names, in the order they first
// appear, without duplicates, and marks the words used in used (which
// may be nil). "new" is not a status here; callers decide whether it
// means onboarding or recently created (see Extract).
func FindStatuses(m Message, used []bool) []string {
	var out []string
	for _, h := range findStatusHits(m, used) {
		if !containsStr(out, h.status) {
			out = append(out, h.status)
		}
	}
	return out
}

// statusHit is a status named at word pos, spanning n words.
type statusHit struct {
	pos, n int
	status string
}

// negationCues are the words that exclude the status after them: "not
// active", "non-active", "everyone except churned", "excluding inactive",
// "other than onboarding", "aren't churned", "neither active nor
// churned", "all but the inactive ones".
var negationCues = words(`not non except excluding exclude excluded but arent isnt neither nor besides minus than apart`)

// negationSkip are the words that may stand between a cue and the status.
var negationSkip = words(`the a an those ones status in of be being are is currently who patients people from`)

// StatusesWithNegation returns the statuses m asks for, reading
// exclusions: named statuses minus excluded ones, or — when only
// exclusions are named — every other status ("everyone except churned"
// is onboarding, active and inactive). It marks the words used.
func StatusesWithNegation(m Message, used []bool) []string {
	hits := findStatusHits(m, used)
	var pos, neg []string
	prevNeg := false
	for k, h := range hits {
		negated := false
		j := h.pos - 1
		for j >= 0 && negationSkip[m.Norm[j]] {
			j--
		}
		if j >= 0 {
			w := m.Norm[j]
			switch {
			case w == "than" && j > 0 && m.Norm[j-1] != "other" && m.Norm[j-1] != "rather":
				// "older than": not an exclusion
			case negationCues[w]:
				negated = true
				if used != nil {
					used[j] = true
				}
			case (w == "and" || w == "or") && k > 0 && prevNeg:
				negated = true // "excluding churned and inactive"
			}
		}
		prevNeg = negated
		if negated {
			neg = appendUnique(neg, h.status)
		} else {
			pos = appendUnique(pos, h.status)
		}
	}
	if len(neg) == 0 {
		return pos
	}
	if len(pos) == 0 {
		pos = Statuses()
	}
	var out []string
	for _, st := range Statuses() {
		if containsStr(pos, st) && !containsStr(neg, st) {
			out = append(out, st)
		}
	}
	return out
}

func findStatusHits(m Message, used []bool) []statusHit {
	type hit = statusHit
	var hits []hit
	taken := make([]bool, m.Len())
	for _, sp := range statusPhrases {
		p := splitPhrase(sp.phrase)
		for i := 0; i+len(p) <= m.Len(); i++ {
			if !matchAt(m.Norm, i, p) || anyTaken(taken, i, len(p)) {
				continue
			}
			for j := range p {
				taken[i+j] = true
				if used != nil {
					used[i+j] = true
				}
			}
			hits = append(hits, hit{i, len(p), sp.status})
		}
	}
	// order by position
	for i := 1; i < len(hits); i++ {
		for j := i; j > 0 && hits[j].pos < hits[j-1].pos; j-- {
			hits[j], hits[j-1] = hits[j-1], hits[j]
		}
	}
	return hits
}

func matchAt(ws []string, i int, p []string) bool {
	if i+len(p) > len(ws) {
		return false
	}
	for j, w := range p {
		if ws[i+j] != w {
			return false
		}
	}
	return true
}

func anyTaken(taken []bool, i, n int) bool {
	for j := i; j < i+n; j++ {
		if taken[j] {
			return true
		}
	}
	return false
}

func containsStr(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
