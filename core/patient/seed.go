package patient

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/pfinni/pfinni/core/actor"
)

// seedBatch is the number of rows per INSERT statement.
const seedBatch = 500

// seedWorkers is the number of INSERTs in flight while seeding.
const seedWorkers = 3

// demoMRNPrefix marks demo patients.
const demoMRNPrefix = "DEMO-"

// Seed adds n deterministic demo patients (and, the first time, 20
// providers): the same seed gives the same people, statuses and history
// (times are relative to the service clock). Rows are inserted 500 per
// statement, then the directory is reloaded. Seeding twice is refused.
func Seed(ctx context.Context, svc *Service, n int, seed int64) error {
	const action = "patient.seed"
	if err := svc.authorize(ctx, action, "patient", "", true); err != nil {
		return err
	}
	err := seed_(ctx, svc, n, seed)
	return svc.finish(ctx, action, "patient", "", fmt.Sprintf("created=%d", n), err)
}

func seed_(ctx context.Context, svc *Service, n int, seed int64) error {
	if n < 0 || n > 1_000_000 {
		return fmt.Errorf("seed: patients must be from 0 to 1000000")
	}
	present := false
	svc.dir.read(func(st *state) {
		for mrn := range st.byMRN {
			if strings.HasPrefix(mrn, demoMRNPrefix) {
				present = true
				return
			}
		}
	})
	if present {
		return fmt.Errorf("seed: demo patients are already present")
	}
	g := newGen(seed)
	g.now, g.who = svc.opt.now().UTC(), actor.From(ctx).UserID
	provs := g.providers()
	haveProviders := false
	svc.dir.read(func(st *state) { _, haveProviders = st.providers[provs[0].ID] })
	var patients []*Patient
	var changes []StatusChange
	var history []Change
	for i := range n {
		p, sc := g.patient(i, provs)
		patients = append(patients, p)
		changes = append(changes, sc...)
		history = append(history, Change{PatientID: p.ID, Version: p.Version, Action: "create", Fields: setFields(p), Actor: g.who, Source: "demo", At: p.CreatedAt})
	}
	// Batches of 500 rows, written by a few workers in parallel (the
	// engine runs concurrent statements on both cores).
	type job struct {
		table string
		rows  any
	}
	var jobs []job
	add := func(table string, n int, slice func(lo, hi int) any) {
		for lo := 0; lo < n; lo += seedBatch {
			jobs = append(jobs, job{table, slice(lo, min(lo+seedBatch, n))})
		}
	}
	if !haveProviders {
		if err := svc.db.Exec(ctx, "INSERT INTO provider $rows RETURN NONE", map[string]any{"rows": docs(provs, Provider.doc)}); err != nil {
			return fmt.Errorf("seed providers: %w", err)
		}
	}
	add("patient", len(patients), func(lo, hi int) any { return docs(patients[lo:hi], (*Patient).doc) })
	add("status_change", len(changes), func(lo, hi int) any { return docs(changes[lo:hi], StatusChange.doc) })
	add("patient_history", len(history), func(lo, hi int) any { return docs(history[lo:hi], Change.doc) })
	work := make(chan job)
	errs := make(chan error, seedWorkers)
	var wg sync.WaitGroup
	for range seedWorkers {
		wg.Go(func() {
			for j := range work {
				if err := svc.db.Exec(ctx, "INSERT INTO "+j.table+" $rows RETURN NONE", map[string]any{"rows": j.rows}); err != nil {
					errs <- fmt.Errorf("seed %s: %w", j.table, svc.dbErr("insert", err))
					for range work {
					}
					return
				}
			}
		})
	}
	for _, j := range jobs {
		work <- j
	}
	close(work)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	return svc.Reload(ctx)
}

type generator struct {
	rng *rand.Rand
	now time.Time
	who string
}

func (g *generator) pick(list []string) string { return list[g.rng.IntN(len(list))] }

func (g *generator) chance(p float64) bool { return g.rng.Float64() < p }

func (g *generator) providers() []Provider {
	out := make([]Provider, 0, len(demoProviders))
	for i, name := range demoProviders {
		out = append(out, Provider{
			ID: fmt.Sprintf("pr_demo%02d", i+1), Name: name, NPI: fmt.Sprintf("19%08d", 10000+i*137),
			Specialty: demoSpecialties[i%len(demoSpecialties)], Phone: fmt.Sprintf("(555) 010-%04d", 2000+i),
			Email: fmt.Sprintf("provider%02d@example.org", i+1), Organization: "pfinni Demo Practice",
			CreatedAt: g.now.AddDate(-2, 0, -30), UpdatedAt: g.now.AddDate(-2, 0, -30),
		})
	}
	return out
}

// patient generates demo patient i and its status history.
func (g *generator) patient(i int, provs []Provider) (*Patient, []StatusChange) {
	r := g.rng
	sex := "female"
	first := g.pick(demoFemaleNames)
	switch x := r.IntN(100); {
	case x >= 49 && x < 97:
		sex, first = "male", g.pick(demoMaleNames)
	case x >= 97 && x < 99:
		sex = "other"
	case x >= 99:
		sex = "unknown"
	}
	last := g.pick(demoLastNames)
	age := r.IntN(90) + 1
	if r.IntN(10) == 0 {
		age = r.IntN(18) + 1
	}
	dob := time.Date(g.now.Year()-age, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, r.IntN(365))
	if dob.After(g.now) {
		dob = dob.AddDate(-1, 0, 0)
	}
	city := demoCities[r.IntN(len(demoCities))]
	p := &Patient{
		ID:          fmt.Sprintf("p_demo%06d", i+1),
		MRN:         fmt.Sprintf("%s%06d", demoMRNPrefix, i+1),
		FirstName:   first,
		LastName:    last,
		DateOfBirth: dob.Format(time.DateOnly),
		Sex:         sex,
		Language:    "en",
		Source:      "demo",
		Address: Address{
			Line1: fmt.Sprintf("%d %s", 100+r.IntN(9800), g.pick(demoStreets)), City: city.name, State: city.state,
			PostalCode: fmt.Sprintf("%s%02d", city.zip, r.IntN(100)), Country: "US",
		},
	}
	if g.chance(0.15) {
		p.Language = g.pick([]string{"es", "es", "es", "zh", "vi", "fr", "ar", "ko"})
	}
	if g.chance(0.3) {
		p.MiddleNames = []string{g.pick(append(demoFemaleNames[:10:10], demoMaleNames[:10]...))}
	}
	if !g.chance(0.08) {
		p.Phone = fmt.Sprintf("(%s) 555-01%02d", city.area, r.IntN(100))
	}
	if !g.chance(0.10) {
		p.Email = fmt.Sprintf("%s.%s%d@example.org", strings.ToLower(first), strings.ToLower(strings.ReplaceAll(last, "'", "")), i+1)
		p.Email = strings.ReplaceAll(p.Email, " ", "")
	}
	if g.chance(0.80) {
		p.Insurance = Insurance{Payer: g.pick(demoPayers), MemberID: fmt.Sprintf("M%09d", r.IntN(1_000_000_000)), Group: fmt.Sprintf("G%05d", r.IntN(100000))}
	}
	if !g.chance(0.05) {
		p.ProviderID = provs[r.IntN(len(provs))].ID
	}
	if g.chance(0.25) {
		p.Tags = []string{g.pick(demoTags)}
		if g.chance(0.3) {
			if t := g.pick(demoTags); t != p.Tags[0] {
				p.Tags = append(p.Tags, t)
			}
		}
	}
	// Status and a plausible path through the workflow to it.
	days := func(n int) time.Duration { return time.Duration(n) * 24 * time.Hour }
	var path []Status
	var reasons []string
	var created time.Time
	switch x := r.IntN(100); {
	case x < 15: // onboarding; a third stuck for more than 14 days
		created = g.now.Add(-days(r.IntN(14)) - time.Duration(r.IntN(86400))*time.Second)
		if r.IntN(3) == 0 {
			created = g.now.Add(-days(15 + r.IntN(45)))
		}
		path = []Status{StatusOnboarding}
	case x < 75:
		created = g.now.Add(-days(20 + r.IntN(700)))
		path = []Status{StatusOnboarding, StatusActive}
		if g.chance(0.1) {
			path = append(path, StatusInactive, StatusActive)
		}
	case x < 90:
		created = g.now.Add(-days(60 + r.IntN(660)))
		path = []Status{StatusOnboarding, StatusActive, StatusInactive}
	default:
		created = g.now.Add(-days(30 + r.IntN(690)))
		path = []Status{StatusOnboarding, StatusActive, StatusChurned}
		if g.chance(0.2) {
			path = []Status{StatusOnboarding, StatusChurned}
		}
	}
	for range path {
		reasons = append(reasons, "")
	}
	changes := []StatusChange{{PatientID: p.ID, From: "", To: StatusOnboarding, Reason: "created", Actor: g.who, At: created}}
	at := created
	span := g.now.Sub(created)
	for k := 1; k < len(path); k++ {
		step := span / time.Duration(len(path)) / 2
		at = at.Add(step + time.Duration(r.Int64N(int64(step)+1)))
		if at.After(g.now) {
			at = g.now
		}
		reason := reasons[k]
		if path[k] == StatusChurned {
			reason = g.pick(demoChurnReasons)
		}
		if path[k-1] == StatusInactive && path[k] == StatusActive {
			reason = "returned for care"
		}
		changes = append(changes, StatusChange{PatientID: p.ID, From: path[k-1], To: path[k], Reason: reason, Actor: g.who, At: at})
	}
	p.Status = path[len(path)-1]
	p.StatusChangedAt = at
	p.CreatedAt = created
	p.UpdatedAt = at
	p.Version = len(path)
	p.normalize()
	return p, changes
}

type demoCity struct{ name, state, zip, area string }

var (
	demoProviders = []string{
		"Dr. Amelia Hart", "Dr. Benjamin Okafor", "Dr. Chloe Nguyen", "Dr. Daniel Reyes", "Dr. Eleanor Fitzgerald",
		"Dr. Farid Haddad", "Dr. Grace Kim", "Dr. Henry Lindqvist", "Dr. Isabel Moreno", "Dr. Jamal Washington",
		"Dr. Katarina Novak", "Dr. Liam O'Connor", "Dr. Maya Patel", "Dr. Nathan Brooks", "Dr. Olivia Chen",
		"Dr. Pablo Alvarez", "Dr. Quinn Harper", "Dr. Rachel Goldberg", "Dr. Samuel Adeyemi", "Dr. Theresa Rossi",
	}
	demoSpecialties = []string{"Family Medicine", "Internal Medicine", "Pediatrics", "Geriatrics", "Cardiology", "Endocrinology", "Nurse Practitioner"}
	demoFemaleNames = []string{
		"Mary", "Patricia", "Jennifer", "Linda", "Elizabeth", "Barbara", "Susan", "Jessica", "Sarah", "Karen",
		"Lisa", "Nancy", "Betty", "Sandra", "Margaret", "Ashley", "Kimberly", "Emily", "Donna", "Michelle",
		"Carol", "Amanda", "Melissa", "Deborah", "Stephanie", "Dorothy", "Rebecca", "Sharon", "Laura", "Cynthia",
		"Amy", "Kathleen", "Angela", "Shirley", "Brenda", "Emma", "Anna", "Pamela", "Nicole", "Samantha",
		"Katherine", "Christine", "Helen", "Debra", "Rachel", "Carolyn", "Janet", "Maria", "Catherine", "Heather",
		"Diane", "Olivia", "Julie", "Joyce", "Victoria", "Ruth", "Virginia", "Lauren", "Kelly", "Christina",
		"Joan", "Evelyn", "Judith", "Andrea", "Hannah", "Megan", "Cheryl", "Jacqueline", "Martha", "Madison",
		"Teresa", "Gloria", "Sara", "Janice", "Ann", "Kathryn", "Abigail", "Sophia", "Frances", "Jean",
		"Alice", "Judy", "Isabella", "Julia", "Grace", "Amber", "Denise", "Danielle", "Marilyn", "Beverly",
		"Charlotte", "Natalie", "Theresa", "Diana", "Brittany", "Doris", "Kayla", "Alexis", "Lori", "Marie",
		"Sofía", "Zoë", "Chloé", "Mei", "Aaliyah", "Priya", "Fatima", "Yuki", "Ingrid", "Siobhan",
	}
	demoMaleNames = []string{
		"James", "Robert", "John", "Michael", "David", "William", "Richard", "Joseph", "Thomas", "Christopher",
		"Charles", "Daniel", "Matthew", "Anthony", "Mark", "Donald", "Steven", "Andrew", "Paul", "Joshua",
		"Kenneth", "Kevin", "Brian", "George", "Timothy", "Ronald", "Jason", "Edward", "Jeffrey", "Ryan",
		"Jacob", "Gary", "Nicholas", "Eric", "Jonathan", "Stephen", "Larry", "Justin", "Scott", "Brandon",
		"Benjamin", "Samuel", "Gregory", "Alexander", "Patrick", "Frank", "Raymond", "Jack", "Dennis", "Jerry",
		"Tyler", "Aaron", "Jose", "Adam", "Nathan", "Henry", "Zachary", "Douglas", "Peter", "Kyle",
		"Noah", "Ethan", "Jeremy", "Walter", "Christian", "Keith", "Roger", "Terry", "Austin", "Sean",
		"Gerald", "Carl", "Harold", "Dylan", "Arthur", "Lawrence", "Jordan", "Jesse", "Bryan", "Billy",
		"Bruce", "Gabriel", "Joe", "Logan", "Alan", "Juan", "Albert", "Willie", "Elijah", "Wayne",
		"Randy", "Vincent", "Mason", "Roy", "Ralph", "Bobby", "Russell", "Bradley", "Philip", "Eugene",
		"José", "Mohammed", "Wei", "Hiroshi", "Raj", "Olumide", "Sven", "Liam", "Mateo", "Dmitri",
	}
	demoLastNames = []string{
		"Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
		"Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
		"Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson",
		"Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores",
		"Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts",
		"Gomez", "Phillips", "Evans", "Turner", "Diaz", "Parker", "Cruz", "Edwards", "Collins", "Reyes",
		"Stewart", "Morris", "Morales", "Murphy", "Cook", "Rogers", "Gutierrez", "Ortiz", "Morgan", "Cooper",
		"Peterson", "Bailey", "Reed", "Kelly", "Howard", "Ramos", "Kim", "Cox", "Ward", "Richardson",
		"Watson", "Brooks", "Chavez", "Wood", "James", "Bennett", "Gray", "Mendoza", "Ruiz", "Hughes",
		"Price", "Alvarez", "Castillo", "Sanders", "Patel", "Myers", "Long", "Ross", "Foster", "Jimenez",
		"O'Brien", "McAllister", "Van der Berg", "Smith-Jones", "Schröder", "Nakamura", "Kowalski", "Okonkwo", "Haddad", "Lindqvist",
		"Smithson", "Johnston", "Thomson", "Stephens", "Fischer", "Meyer", "Chen", "Wang", "Singh", "Ivanova",
	}
	demoStreets = []string{"Main St", "Oak Ave", "Maple Dr", "Cedar Ln", "Pine St", "Elm St", "Washington Blvd", "Lake Rd", "Hill St", "Park Ave", "2nd St", "Sunset Blvd", "River Rd", "Church St", "Highland Ave"}
	demoCities  = []demoCity{
		{"New York", "NY", "100", "212"}, {"Los Angeles", "CA", "900", "213"}, {"Chicago", "IL", "606", "312"},
		{"Houston", "TX", "770", "713"}, {"Phoenix", "AZ", "850", "602"}, {"Philadelphia", "PA", "191", "215"},
		{"San Antonio", "TX", "782", "210"}, {"San Diego", "CA", "921", "619"}, {"Dallas", "TX", "752", "214"},
		{"Austin", "TX", "787", "512"}, {"Jacksonville", "FL", "322", "904"}, {"Columbus", "OH", "432", "614"},
		{"Charlotte", "NC", "282", "704"}, {"Indianapolis", "IN", "462", "317"}, {"Seattle", "WA", "981", "206"},
		{"Denver", "CO", "802", "303"}, {"Boston", "MA", "021", "617"}, {"Nashville", "TN", "372", "615"},
		{"Portland", "OR", "972", "503"}, {"Las Vegas", "NV", "891", "702"}, {"Detroit", "MI", "482", "313"},
		{"Memphis", "TN", "381", "901"}, {"Louisville", "KY", "402", "502"}, {"Baltimore", "MD", "212", "410"},
		{"Milwaukee", "WI", "532", "414"}, {"Albuquerque", "NM", "871", "505"}, {"Tucson", "AZ", "857", "520"},
		{"Sacramento", "CA", "958", "916"}, {"Atlanta", "GA", "303", "404"}, {"Miami", "FL", "331", "305"},
	}
	demoPayers       = []string{"Aetna", "Blue Cross Blue Shield", "Cigna", "UnitedHealthcare", "Humana", "Kaiser Permanente", "Medicare", "Medicaid", "Anthem", "Molina Healthcare"}
	demoTags         = []string{"vip", "diabetes", "hypertension", "follow-up", "telehealth", "interpreter", "fall-risk", "new-mover"}
	demoChurnReasons = []string{"moved out of area", "switched practice", "insurance no longer accepted", "no response to outreach", "deceased"}
)

func newGen(seed int64) *generator {
	return &generator{rng: rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15)), now: time.Now().UTC()}
}
