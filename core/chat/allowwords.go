package chat

import "strings"

// allowWords are the words a stored user message may keep: everyday
// function words and the words of pfinni's own domain (statuses, dates,
// filters, pages, HIPAA). Every other word is replaced by PHWord before a
// message is stored, so a relative's name, a nickname, a misspelt name or
// clinical free text ("pregnant", a drug) never reaches the history —
// without having to recognise it. An allowed word that is a patient's
// name word in the directory is still removed (PHName): "will", "may",
// "rose", "young". The list holds no given names and no places.
func allowWords() map[string]bool {
	m := make(map[string]bool, 800)
	for _, w := range strings.Fields(allowList) {
		m[w] = true
	}
	return m
}

const allowList = `
a an the and or nor but of to in on at for with by from into onto out off up down over under above below
about after before since until till between during through across against among per via than then
is are was were be been being am do does did done doing have has had having get gets got getting
i me my mine myself we us our ours you your yours he him his she her hers it its they them their theirs
this that these those there here what when where which who whom whose why how whats whos wheres hows
all any some each every both either neither none no not nobody noone nothing everyone everybody anyone
anybody someone somebody everything anything something else other others another same such only just
also too very so if as can cant cannot could couldnt would wouldnt should shouldnt will wont shall may
might must need needs needed want wants wanted like likes let lets please thanks thank ok okay yes yeah
sure right wrong good great fine hello hi hey bye welcome sorry again now still even ever never always
already yet soon later today yesterday tomorrow tonight morning afternoon evening night
im ive id ill youre theyre dont doesnt didnt isnt arent wasnt werent havent hasnt s t
show shows showing list lists listing find finds finding display search searching look looking lookup
open opens view views give gives pull fetch bring see tell let help know explain describe mean means
meaning meant say said says ask asked answer filter filtered filters sort sorted order ordered group
grouped count counts counted number numbers total totals how many much more most less least fewer few
top bottom first last next previous past recent recently latest newest oldest youngest earliest new old
older younger aged age ages over under above below between exactly around about approximately
patient patients pts pt people person persons folks client clients record records chart charts file
files entry entries profile profiles everyone member members
alert alerts notification notifications unread bell
status statuses active inactive onboarding churned churn churning current currently enrolled dormant
paused hold pending intake left lost former dropped discharged gone quit leaving departed inactivated
activate activated reactivate reactivated deactivate deactivated except excluding exclude without but
besides minus other than apart
birthday birthdays bday bdays born birth upcoming coming soon
day days week weeks weekly month months monthly quarter quarters quarterly year years yearly annual
weekend weekends daily hour hours minute minutes
january february march april june july august september october november december
jan feb mar apr jun jul aug sep sept oct nov dec
monday tuesday wednesday thursday friday saturday sunday
created added registered joined signed enrolled updated modified changed edited moved became become
phone email emails insurance insured uninsured address addresses provider providers doctor doctors
physician physicians clinician dr assigned unassigned missing lacking incomplete empty blank
seniors senior adults adult kids kid children child minors minor teens teenagers elderly
sort alphabetical alphabetically ascending descending
summary summarize summarise overview trend trends trending growth insights insight statistics stats
breakdown dashboard report reports backlog stuck waiting churn rate rates figures numbers
tour guide guided welcome page pages settings setting import imports importing upload uploads
uploaded audit audits auditing auditor logs log logout login sign signin form forms field fields
error errors problem problems issue issues went happened happen fix fixed failed failing fails
save saving saved submit submitted refused rejected invalid valid required optional conflict
forbidden denied allowed permission permissions role roles admin admins staff user users plugin
plugins enable enabled disable disabled format formats xml ccda fhir zip csv export exported
change changes set move mark update activate make put turn switch them these those selected ones
reason because due confirm confirmed cancel cancelled undo
hipaa phi privacy private breach breaches security secure access minimum necessary policy policies
rule rules compliance encryption encrypted password passwords share sharing disclose disclosure
consent retention retain keep kept delete deleted deleting remove removed trail controls control
name names named called date dates data time times info information detail details
one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen
seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred dozen
half once twice
first second third fourth fifth
can what could would does do work works working use using used start started starting begin resume
restart skip stop end finish done
it is are was how many which
mrn id ids identifier
who whom
everyone
`
