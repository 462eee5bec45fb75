package patient

import (
	"slices"
	"time"
)

// Status is a patient's place in the workflow (see workflow.go).
type Status string

// The statuses of design.md, in workflow order.
const (
	StatusOnboarding Status = "onboarding"
	StatusActive     Status = "active"
	StatusInactive   Status = "inactive"
	StatusChurned    Status = "churned"
)

// Statuses lists every status in workflow order.
func Statuses() []Status {
	return []Status{StatusOnboarding, StatusActive, StatusInactive, StatusChurned}
}

// Valid reports whether s is a known status.
func (s Status) Valid() bool { return slices.Contains(Statuses(), s) }

// rank orders statuses in workflow order (for sort=status).
func (s Status) rank() int64 {
	if i := slices.Index(Statuses(), s); i >= 0 {
		return int64(i)
	}
	return 99
}

// Sexes are the accepted values of Patient.Sex.
var sexes = []string{"female", "male", "other", "unknown"}

// Address is a postal address.
type Address struct {
	Line1      string `json:"line1"`
	Line2      string `json:"line2"`
	City       string `json:"city"`
	State      string `json:"state"`
	PostalCode string `json:"postal_code"`
	Country    string `json:"country"`
}

// empty reports whether no part of the address that locates it is set.
func (a Address) empty() bool { return a.Line1 == "" && a.City == "" && a.PostalCode == "" }

// Insurance is the patient's coverage.
type Insurance struct {
	Payer    string `json:"payer"`
	MemberID string `json:"member_id"`
	Group    string `json:"group"`
}

func (i Insurance) empty() bool { return i.Payer == "" && i.MemberID == "" }

// Identifier is another system's id for the patient (e.g. from an import).
type Identifier struct {
	System string `json:"system"`
	Value  string `json:"value"`
	Type   string `json:"type"`
}

// Patient is a patient record as the API, the chat and plugins see it.
// The JSON names are a contract outside tools rely on. A *Patient
// returned by the Service is the caller's own copy.
type Patient struct {
	ID              string       `json:"id"`
	MRN             string       `json:"mrn"`
	FirstName       string       `json:"first_name"`
	MiddleNames     []string     `json:"middle_names"`
	LastName        string       `json:"last_name"`
	PreferredName   string       `json:"preferred_name"`
	DateOfBirth     string       `json:"date_of_birth"` // YYYY-MM-DD
	Sex             string       `json:"sex"`
	Phone           string       `json:"phone"`
	Email           string       `json:"email"`
	Address         Address      `json:"address"`
	Language        string       `json:"language"`
	MaritalStatus   string       `json:"marital_status"`
	Race            []string     `json:"race"`
	Ethnicity       []string     `json:"ethnicity"`
	ProviderID      string       `json:"provider_id"`
	Insurance       Insurance    `json:"insurance"`
	Identifiers     []Identifier `json:"identifiers"`
	Status          Status       `json:"status"`
	StatusChangedAt time.Time    `json:"status_changed_at"`
	Tags            []string     `json:"tags"`
	Source          string       `json:"source"`
	// MergedInto is set on a tombstone: the id of the patient this record
	// was merged into (see merge.go). The directory never lists a tombstone.
	MergedInto string    `json:"merged_into,omitempty"`
	Version    int       `json:"version"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// clone returns a deep copy of p.
func (p *Patient) clone() *Patient {
	c := *p
	c.MiddleNames = slices.Clone(p.MiddleNames)
	c.Race = slices.Clone(p.Race)
	c.Ethnicity = slices.Clone(p.Ethnicity)
	c.Identifiers = slices.Clone(p.Identifiers)
	c.Tags = slices.Clone(p.Tags)
	return &c
}

// normalize makes nil slices empty (the schema stores [] and the API
// always shows a list) and times UTC.
func (p *Patient) normalize() {
	if p.MiddleNames == nil {
		p.MiddleNames = []string{}
	}
	if p.Race == nil {
		p.Race = []string{}
	}
	if p.Ethnicity == nil {
		p.Ethnicity = []string{}
	}
	if p.Identifiers == nil {
		p.Identifiers = []Identifier{}
	}
	if p.Tags == nil {
		p.Tags = []string{}
	}
	p.CreatedAt = p.CreatedAt.UTC()
	p.UpdatedAt = p.UpdatedAt.UTC()
	p.StatusChangedAt = p.StatusChangedAt.UTC()
}

// Input is what a caller may set when creating a patient: everything but
// the id, version and timestamps, which the Service assigns. Status
// defaults to onboarding, Sex to unknown, Source to manual.
type Input struct {
	MRN           string       `json:"mrn"`
	FirstName     string       `json:"first_name"`
	MiddleNames   []string     `json:"middle_names"`
	LastName      string       `json:"last_name"`
	PreferredName string       `json:"preferred_name"`
	DateOfBirth   string       `json:"date_of_birth"`
	Sex           string       `json:"sex"`
	Phone         string       `json:"phone"`
	Email         string       `json:"email"`
	Address       Address      `json:"address"`
	Language      string       `json:"language"`
	MaritalStatus string       `json:"marital_status"`
	Race          []string     `json:"race"`
	Ethnicity     []string     `json:"ethnicity"`
	ProviderID    string       `json:"provider_id"`
	Insurance     Insurance    `json:"insurance"`
	Identifiers   []Identifier `json:"identifiers"`
	Status        Status       `json:"status"`
	Tags          []string     `json:"tags"`
	Source        string       `json:"source"`
}

// patient builds the record in (without id, version or times).
func (in Input) patient() *Patient {
	return &Patient{
		MRN: in.MRN, FirstName: in.FirstName, MiddleNames: slices.Clone(in.MiddleNames), LastName: in.LastName,
		PreferredName: in.PreferredName, DateOfBirth: in.DateOfBirth, Sex: in.Sex, Phone: in.Phone, Email: in.Email,
		Address: in.Address, Language: in.Language, MaritalStatus: in.MaritalStatus, Race: slices.Clone(in.Race),
		Ethnicity: slices.Clone(in.Ethnicity), ProviderID: in.ProviderID, Insurance: in.Insurance,
		Identifiers: slices.Clone(in.Identifiers), Status: in.Status, Tags: slices.Clone(in.Tags), Source: in.Source,
	}
}

// AddressPatch changes parts of an address; nil leaves a part as it is.
type AddressPatch struct {
	Line1      *string `json:"line1"`
	Line2      *string `json:"line2"`
	City       *string `json:"city"`
	State      *string `json:"state"`
	PostalCode *string `json:"postal_code"`
	Country    *string `json:"country"`
}

// InsurancePatch changes parts of the insurance; nil leaves a part as it is.
type InsurancePatch struct {
	Payer    *string `json:"payer"`
	MemberID *string `json:"member_id"`
	Group    *string `json:"group"`
}

// Patch is a partial update with JSON merge semantics: a nil field is
// left as it is; address and insurance merge part by part; "" clears a
// text field. Status is refused here (status changes go through
// ChangeStatus, the workflow); Version, when set, is the version the
// caller read.
type Patch struct {
	MRN           *string         `json:"mrn"`
	FirstName     *string         `json:"first_name"`
	MiddleNames   *[]string       `json:"middle_names"`
	LastName      *string         `json:"last_name"`
	PreferredName *string         `json:"preferred_name"`
	DateOfBirth   *string         `json:"date_of_birth"`
	Sex           *string         `json:"sex"`
	Phone         *string         `json:"phone"`
	Email         *string         `json:"email"`
	Address       *AddressPatch   `json:"address"`
	Language      *string         `json:"language"`
	MaritalStatus *string         `json:"marital_status"`
	Race          *[]string       `json:"race"`
	Ethnicity     *[]string       `json:"ethnicity"`
	ProviderID    *string         `json:"provider_id"`
	Insurance     *InsurancePatch `json:"insurance"`
	Identifiers   *[]Identifier   `json:"identifiers"`
	Tags          *[]string       `json:"tags"`
	Source        *string         `json:"source"`
	Status        *string         `json:"status"`
	Version       *int            `json:"version"`
}

// apply merges the patch into a copy of p and returns it with the names
// of the fields whose value changed (dotted for address/insurance parts).
func (pt Patch) apply(p *Patient) (*Patient, []string) {
	n := p.clone()
	var changed []string
	str := func(name string, dst *string, src *string) {
		if src != nil && *dst != *src {
			*dst = *src
			changed = append(changed, name)
		}
	}
	list := func(name string, dst *[]string, src *[]string) {
		if src != nil && !slices.Equal(*dst, *src) {
			*dst = slices.Clone(*src)
			changed = append(changed, name)
		}
	}
	str("mrn", &n.MRN, pt.MRN)
	str("first_name", &n.FirstName, pt.FirstName)
	list("middle_names", &n.MiddleNames, pt.MiddleNames)
	str("last_name", &n.LastName, pt.LastName)
	str("preferred_name", &n.PreferredName, pt.PreferredName)
	str("date_of_birth", &n.DateOfBirth, pt.DateOfBirth)
	str("sex", &n.Sex, pt.Sex)
	str("phone", &n.Phone, pt.Phone)
	str("email", &n.Email, pt.Email)
	if a := pt.Address; a != nil {
		str("address.line1", &n.Address.Line1, a.Line1)
		str("address.line2", &n.Address.Line2, a.Line2)
		str("address.city", &n.Address.City, a.City)
		str("address.state", &n.Address.State, a.State)
		str("address.postal_code", &n.Address.PostalCode, a.PostalCode)
		str("address.country", &n.Address.Country, a.Country)
	}
	str("language", &n.Language, pt.Language)
	str("marital_status", &n.MaritalStatus, pt.MaritalStatus)
	list("race", &n.Race, pt.Race)
	list("ethnicity", &n.Ethnicity, pt.Ethnicity)
	str("provider_id", &n.ProviderID, pt.ProviderID)
	if i := pt.Insurance; i != nil {
		str("insurance.payer", &n.Insurance.Payer, i.Payer)
		str("insurance.member_id", &n.Insurance.MemberID, i.MemberID)
		str("insurance.group", &n.Insurance.Group, i.Group)
	}
	if pt.Identifiers != nil && !slices.Equal(n.Identifiers, *pt.Identifiers) {
		n.Identifiers = slices.Clone(*pt.Identifiers)
		changed = append(changed, "identifiers")
	}
	list("tags", &n.Tags, pt.Tags)
	str("source", &n.Source, pt.Source)
	return n, changed
}

// StatusChange is one status transition in a patient's history.
type StatusChange struct {
	PatientID string    `json:"patient_id"`
	From      Status    `json:"from"`
	To        Status    `json:"to"`
	Reason    string    `json:"reason"`
	Actor     string    `json:"actor"`
	At        time.Time `json:"at"`
}

// Change is one change of a patient record: which fields (names only).
type Change struct {
	PatientID string    `json:"patient_id"`
	Version   int       `json:"version"`
	Action    string    `json:"action"` // create | update | status | delete
	Fields    []string  `json:"fields"`
	Actor     string    `json:"actor"`
	Source    string    `json:"source"`
	At        time.Time `json:"at"`
}

// History is a patient's status transitions and record changes, newest first.
type History struct {
	StatusChanges []StatusChange `json:"status_changes"`
	Changes       []Change       `json:"changes"`
}
