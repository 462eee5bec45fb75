package sdk

import "context"

// Importer turns one document (C-CDA, FHIR XML, ...) into patient records.
// A document that cannot be read at all returns an error; a readable
// document with faults returns records plus Problems that say, in plain
// words, which element was wrong and why.
type Importer interface {
	Import(ctx context.Context, req ImportRequest) (ImportResult, error)
}

// ImportRequest is one document handed to an importer.
type ImportRequest struct {
	// Format is the format the host detected or the user chose
	// (for example "ccda" or "fhir-xml"); importers may refuse others.
	Format string `json:"format"`
	// Name is the file name, for messages only.
	Name string `json:"name"`
	// Document is the raw bytes as uploaded (any declared encoding).
	Document []byte `json:"document"`
	// MaxBytes, MaxDepth and MaxElements bound the parser; zero means the
	// importer's own defaults.
	MaxBytes    int `json:"max_bytes,omitempty"`
	MaxDepth    int `json:"max_depth,omitempty"`
	MaxElements int `json:"max_elements,omitempty"`
	// Mapping, for tabular formats (csv), names the patient field of a
	// column by its header text, overriding the importer's own
	// detection; "" ignores the column. Field names are TabularFields.
	Mapping map[string]string `json:"mapping,omitempty"`
}

// TabularFields are the patient fields a column of a tabular document
// (CSV) may be mapped to: the contract between the host (the imports
// page's mapping selects) and tabular importers.
var TabularFields = []string{
	"mrn", "first_name", "middle_name", "last_name", "preferred_name", "date_of_birth", "sex",
	"phone", "email", "address.line1", "address.line2", "address.city", "address.state",
	"address.postal_code", "address.country", "language", "status", "provider",
	"insurance.payer", "insurance.member_id", "insurance.group",
}

// Column is one column of a tabular document and the field it was
// mapped to ("" when ignored).
type Column struct {
	Index  int    `json:"index"`
	Header string `json:"header"`
	Field  string `json:"field"`
}

// ImportResult is what an importer found in one document.
type ImportResult struct {
	Records  []PatientRecord `json:"records"`
	Problems []Problem       `json:"problems,omitempty"` // document-level problems
	// Columns, for tabular formats, says how each column was mapped.
	Columns []Column `json:"columns,omitempty"`
}

// Problem is one fault found in a document, in plain words.
type Problem struct {
	Element  string `json:"element"`            // e.g. "recordTarget/patientRole/patient/birthTime"
	Message  string `json:"message"`            // what was wrong, without PHI values
	Severity string `json:"severity,omitempty"` // "error" rejects the record; "warning" keeps it
}

// Problem severities.
const (
	SeverityError   = "error"
	SeverityWarning = "warning"
)

// PatientRecord is one patient as read from a document, before pfinni
// matches it to an existing patient by MRN.
type PatientRecord struct {
	MRN           string       `json:"mrn"`
	Identifiers   []Identifier `json:"identifiers,omitempty"` // every id found, MRN included
	FirstName     string       `json:"first_name"`
	MiddleNames   []string     `json:"middle_names,omitempty"`
	LastName      string       `json:"last_name"`
	Prefix        string       `json:"prefix,omitempty"`
	Suffix        string       `json:"suffix,omitempty"`
	PreferredName string       `json:"preferred_name,omitempty"`
	OtherNames    []Name       `json:"other_names,omitempty"`
	// DateOfBirth is YYYY-MM-DD, or YYYY-MM / YYYY when the document
	// gives a partial date; empty when absent or nullFlavored.
	DateOfBirth string `json:"date_of_birth,omitempty"`
	Sex         string `json:"sex"` // female | male | other | unknown
	// Status is the workflow status a new patient starts in, when the
	// document says (onboarding | active | inactive | churned); empty
	// means onboarding. It never changes an existing patient.
	Status        string      `json:"status,omitempty"`
	Phone         string      `json:"phone,omitempty"`
	Email         string      `json:"email,omitempty"`
	Telecoms      []Telecom   `json:"telecoms,omitempty"`
	Address       *Address    `json:"address,omitempty"`
	Language      string      `json:"language,omitempty"` // BCP 47 tag, normalised (eng and ENG become en); as given if unrecognised
	MaritalStatus string      `json:"marital_status,omitempty"`
	Race          []string    `json:"race,omitempty"`
	Ethnicity     []string    `json:"ethnicity,omitempty"`
	Insurance     []Insurance `json:"insurance,omitempty"`
	Provider      *Provider   `json:"provider,omitempty"`
	// Deceased is true when the document says the patient has died;
	// DeceasedDate is then the date (YYYY-MM-DD or partial) when given.
	Deceased     bool   `json:"deceased,omitempty"`
	DeceasedDate string `json:"deceased_date,omitempty"`
	// SourceRef locates the record inside its document, without PHI: the
	// FHIR Bundle entry fullUrl or resource id, or the CDA document id.
	SourceRef string    `json:"source_ref,omitempty"`
	Problems  []Problem `json:"problems,omitempty"`
}

// Identifier is one patient identifier with the system that issued it.
type Identifier struct {
	System string `json:"system,omitempty"` // OID or URI
	Value  string `json:"value"`
	Type   string `json:"type,omitempty"` // e.g. "MR", "SS", as given
	// Assigner names the issuing organisation when the document does
	// (CDA assigningAuthorityName, FHIR identifier.assigner.display).
	Assigner string `json:"assigner,omitempty"`
}

// Name is a patient name other than the primary one.
type Name struct {
	Use    string   `json:"use,omitempty"`
	Given  []string `json:"given,omitempty"`
	Family string   `json:"family,omitempty"`
	Prefix string   `json:"prefix,omitempty"`
	Suffix string   `json:"suffix,omitempty"`
}

// Telecom is a phone number, e-mail address or other contact point.
type Telecom struct {
	System string `json:"system"` // phone | email | fax | url | other
	Value  string `json:"value"`
	Use    string `json:"use,omitempty"` // home | work | mobile | ...
}

// Address is a postal address.
type Address struct {
	Use        string `json:"use,omitempty"` // home | work | temp | old | billing, when given
	Line1      string `json:"line1,omitempty"`
	Line2      string `json:"line2,omitempty"`
	City       string `json:"city,omitempty"`
	State      string `json:"state,omitempty"`
	PostalCode string `json:"postal_code,omitempty"`
	Country    string `json:"country,omitempty"`
}

// Insurance is one payer or coverage entry.
type Insurance struct {
	Payer    string `json:"payer"`
	MemberID string `json:"member_id,omitempty"`
	Group    string `json:"group,omitempty"`
}

// Provider is the responsible clinician as named in the document.
type Provider struct {
	Name         string `json:"name"`
	NPI          string `json:"npi,omitempty"`
	Organization string `json:"organization,omitempty"`
	Phone        string `json:"phone,omitempty"`
	// Role says where the provider was found, e.g. "primary care
	// physician", "performer", "author", "general practitioner".
	Role string `json:"role,omitempty"`
}
