package nlu

import (
	"strings"

	"github.com/pfinni/pfinni/internal/textmatch"
)

// keywords are the words the intent plugins understand; a typed word
// within typo distance of exactly one of them is read as that keyword.
var keywords = words(`
patient patients people clients client persons records record everyone anyone
active inactive onboarding churned churn current currently left lost pending dormant former departed
dropped cancelled canceled paused lapsed intake enrolled new status statuses idle engaged gone quit sept
show list find display search lookup open view give pull fetch get which who whose
many count number total how much amount
birthday birthdays bday bdays born upcoming soon
today yesterday tomorrow week weeks month months year years quarter quarters day days
weekend fortnight decade
this last past previous next coming since before after between during within ago until
created added registered joined signed updated modified changed edited
phone email insurance insured uninsured address provider providers doctor physician clinician assigned unassigned
missing without lacking incomplete empty
older younger under over above below aged age ages old seniors senior elderly minors minor children kids
pediatric adults adult teens teenagers
sort sorted order ordered alphabetical alphabetically recent recently newest latest oldest youngest earliest
first top most least
january february march april june july august september october november december
monday tuesday wednesday thursday friday saturday sunday
one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen
seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred dozen couple
summary overview trend trends growth insights insight statistics stats breakdown dashboard report
backlog stuck waiting churning retention rate
help tour guide welcome navigate where page settings import importing upload audit logout
change changing set move mark update activate deactivate reactivate
field fields form error errors invalid valid refused rejected mean means meaning
hipaa phi privacy breach security access minimum necessary
`)

// common are frequent words that are never "corrected" into a keyword.
var common = words(`
the a an and or of to in on at for with by from is are was were be been being do does did
have has had me my our your their them they we i you it its that these those what when
all any some each every not no yes please can could would should will shall may might
there here then than also just only very too so if but as into out up down about
data date dates name names named called city live lives living located based near
care seen seeing visit visits whom want need like know tell let lets see
more less much few lot lots via per within onto
longer became become becomes went turned moved ones because reason due away
twenties thirties forties fifties sixties seventies eighties nineties
hello hi hey hiya thanks thank cheers ok okay bye goodbye yes yeah nope sure cool great fine good
weather joke poem story song game capital restaurant
file files chart charts profile profiles details detail info information
`)

func words(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

// Lexicon reports whether w is a keyword the plugins understand.
func Lexicon(w string) bool { return keywords[w] }

// Known reports whether w is a keyword or a common English word.
func Known(w string) bool { return keywords[w] || common[w] }

// correct returns the keyword closest to w within typo tolerance, or w
// itself when it is known already, too short, or equally close to
// several keywords (or to none).
func correct(w string) string {
	if Known(w) || len(w) < 4 || isNumber(w) {
		return w
	}
	n := len([]rune(w))
	tol := textmatch.Tolerance(n)
	found, best, ties := w, tol+1, 0
	for l := n - tol; l <= n+tol; l++ {
		for _, k := range byLength[l] {
			d := textmatch.Distance(w, k, tol)
			switch {
			case d < best:
				found, best, ties = k, d, 1
			case d == best && d <= tol:
				// Two statuses' synonyms ("churnd": churn, churned)
				// are one reading, not a tie.
				if st := statusOf(k); st == "" || st != statusOf(found) {
					ties++
				} else if strings.HasSuffix(k, "ed") {
					found = k // the adjective: "churnd" patients are churned
				}
			}
		}
	}
	if best <= tol && ties == 1 {
		return found
	}
	return w
}

// byLength buckets the keywords of four letters or more by length, so a
// typo is compared only with keywords it could be.
var byLength = func() map[int][]string {
	m := map[int][]string{}
	for k := range keywords {
		// Number words are not typo targets: a name such as "Steven" is
		// more likely than a misspelt "seven".
		_, unit := units[k]
		_, ten := tens[k]
		if unit || ten {
			continue
		}
		if n := len([]rune(k)); n >= 4 {
			m[n] = append(m[n], k)
		}
	}
	return m
}()

func isNumber(w string) bool {
	for _, r := range w {
		if (r < '0' || r > '9') && r != '-' && r != '/' && r != '.' {
			return false
		}
	}
	return true
}
