package main

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/pfinni/pfinni/plugins/insurance-x12/x12"
	"github.com/pfinni/pfinni/sdk"
)

// Config is the manifest entry's config, merged with the operator's
// settings (PFINNI_INSURANCE_URL, _USER, _PASSWORD).
type Config struct {
	URL          string `json:"url"`      // where 270s are POSTed; the 271 is the answer's body
	Username     string `json:"username"` // HTTP basic credentials, when the endpoint wants them
	Password     string `json:"password"`
	Timeout      string `json:"timeout"`     // per check (Go duration), default 20s (CAQH CORE 156)
	SenderID     string `json:"sender_id"`   // ISA06/GS02
	ReceiverID   string `json:"receiver_id"` // ISA08/GS03
	ProviderName string `json:"provider_name"`
	ProviderNPI  string `json:"provider_npi"`
	Production   bool   `json:"production"` // ISA15 P instead of T
}

// DefaultTimeout is how long a check waits for the insurer.
const DefaultTimeout = 20 * time.Second

// maxAnswer bounds the 271 read from the insurer.
const maxAnswer = 4 << 20

// Rejection codes the adapter itself gives when no usable 271 came back.
const (
	CodeTimeout         = "timeout"
	CodeUnreachable     = "unreachable"
	CodeInvalidResponse = "invalid_response"
)

// adapter is the X12 270/271 insurance adapter. init sets it up once,
// before any call; afterwards it is read-only and safe for concurrent
// checks.
type adapter struct {
	cfg     Config
	url     *url.URL
	timeout time.Duration
	client  func(timeout time.Duration) *http.Client
	now     func() time.Time
}

var _ sdk.InsuranceAdapter = (*adapter)(nil)

// init reads the config.
func (a *adapter) init(_ context.Context, raw json.RawMessage) error {
	var c Config
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &c); err != nil {
			return fmt.Errorf("insurance-x12 config: %w", err)
		}
	}
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("insurance-x12 config: url must be an http(s) URL")
	}
	a.timeout = DefaultTimeout
	if c.Timeout != "" {
		d, err := time.ParseDuration(c.Timeout)
		if err != nil || d <= 0 {
			return errors.New("insurance-x12 config: timeout must be a positive duration such as 20s")
		}
		a.timeout = d
	}
	if c.SenderID == "" {
		c.SenderID = "PFINNI"
	}
	if c.ReceiverID == "" {
		c.ReceiverID = "CLEARINGHOUSE"
	}
	if c.ProviderName == "" {
		c.ProviderName = "PFINNI PRACTICE"
	}
	a.cfg, a.url = c, u
	return nil
}

// CheckEligibility builds the 270, sends it and reads the 271. An answer
// the adapter cannot use (a timeout, an unreachable insurer, a malformed
// 271) is a response with status "error" and a Rejection saying why, so
// that the host can store and show it; only a request the adapter cannot
// even build is an error.
func (a *adapter) CheckEligibility(ctx context.Context, req sdk.EligibilityRequest) (sdk.EligibilityResponse, error) {
	if strings.TrimSpace(req.Payer) == "" || strings.TrimSpace(req.MemberID) == "" {
		return sdk.EligibilityResponse{}, sdk.Errorf(sdk.CodeInvalidInput, "payer and member_id are required")
	}
	now := a.now().UTC()
	ctl, err := controlNumber(req.ControlNumber)
	if err != nil {
		return sdk.EligibilityResponse{}, err
	}
	q := x12.Inquiry{
		SenderID: a.cfg.SenderID, ReceiverID: a.cfg.ReceiverID, ControlNumber: ctl, Production: a.cfg.Production, At: now,
		PayerName: req.Payer, PayerID: payerID(req.Payer),
		ProviderName: cmp.Or(req.ProviderName, a.cfg.ProviderName), ProviderNPI: cmp.Or(req.ProviderNPI, a.cfg.ProviderNPI),
		Trace: strconv.Itoa(ctl), LastName: req.LastName, FirstName: req.FirstName, MemberID: req.MemberID,
		ServiceType: req.ServiceType,
	}
	if q.DateOfBirth, err = optDate(req.DateOfBirth); err != nil {
		return sdk.EligibilityResponse{}, sdk.Errorf(sdk.CodeInvalidInput, "date_of_birth must be YYYY-MM-DD")
	}
	if q.ServiceDate, err = optDate(req.ServiceDate); err != nil {
		return sdk.EligibilityResponse{}, sdk.Errorf(sdk.CodeInvalidInput, "service_date must be YYYY-MM-DD")
	}
	x270, err := x12.Build270(q)
	if err != nil {
		return sdk.EligibilityResponse{}, sdk.Errorf(sdk.CodeInvalidInput, "%s", err.Error())
	}
	res := sdk.EligibilityResponse{Status: "error", CheckedAt: now.Format(time.RFC3339),
		ControlNumber: fmt.Sprintf("%09d", ctl), Request: x270}
	answer, rej := a.send(ctx, x270)
	if rej != nil {
		if ctx.Err() != nil { // the host gave up first: its own limit
			return sdk.EligibilityResponse{}, ctx.Err()
		}
		res.Rejection = rej
		res.Raw = answer
		return res, nil
	}
	res.Raw = answer
	return read271(res, answer, q.Trace, req.ServiceType), nil
}

// send posts the 270 and returns the 271, or why there is none.
func (a *adapter) send(ctx context.Context, x270 string) (string, *sdk.Rejection) {
	ctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, a.url.String(), strings.NewReader(x270))
	if err != nil {
		return "", &sdk.Rejection{Code: CodeUnreachable, Reason: "The insurer's address is not usable."}
	}
	hr.Header.Set("Content-Type", "application/edi-x12")
	if a.cfg.Username != "" {
		hr.SetBasicAuth(a.cfg.Username, a.cfg.Password)
	}
	resp, err := a.client(a.timeout).Do(hr)
	if err != nil {
		if isTimeout(ctx, err) {
			return "", &sdk.Rejection{Code: CodeTimeout, Reason: fmt.Sprintf("The insurer did not answer within %s. Nothing was changed; try again later.", a.timeout)}
		}
		return "", &sdk.Rejection{Code: CodeUnreachable, Reason: "The insurer could not be reached. Nothing was changed; try again later."}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		if isTimeout(ctx, err) {
			return "", &sdk.Rejection{Code: CodeTimeout, Reason: fmt.Sprintf("The insurer did not answer within %s. Nothing was changed; try again later.", a.timeout)}
		}
		return "", &sdk.Rejection{Code: CodeUnreachable, Reason: "The insurer's answer was cut off. Try again later."}
	}
	if resp.StatusCode != http.StatusOK {
		return "", &sdk.Rejection{Code: CodeUnreachable, Reason: fmt.Sprintf("The insurer answered HTTP %d instead of a 271. Try again later.", resp.StatusCode)}
	}
	if len(body) > maxAnswer {
		return "", &sdk.Rejection{Code: CodeInvalidResponse, Reason: "The insurer's answer is larger than 4 MiB and was refused."}
	}
	return string(body), nil
}

func isTimeout(ctx context.Context, err error) bool {
	var ne net.Error
	return errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}

// read271 judges the insurer's 271 into res. A 271 that does not parse,
// or answers another request, is refused: status "error", never a
// fabricated coverage.
func read271(res sdk.EligibilityResponse, answer, trace, stc string) sdk.EligibilityResponse {
	r, err := x12.Parse271([]byte(answer))
	if err != nil {
		res.Rejection = &sdk.Rejection{Code: CodeInvalidResponse, Reason: "The insurer's answer was refused: " + err.Error()}
		return res
	}
	if r.Trace != "" && r.Trace != trace {
		res.Rejection = &sdk.Rejection{Code: CodeInvalidResponse, Reason: "The insurer's answer was refused: its trace number is not the request's."}
		return res
	}
	res.Reference = r.ControlNumber
	res.Payer, res.MemberID = r.PayerName, r.MemberID
	res.CoverageStart, res.CoverageEnd = r.PlanBegin, r.PlanEnd
	res.Status = r.Status(stc)
	if res.Status == "unknown" {
		res.Status = "error"
		res.Rejection = &sdk.Rejection{Code: CodeInvalidResponse, Reason: "The insurer's answer states neither active nor inactive coverage."}
	}
	if a, ok := r.FirstRejection(); ok {
		res.Rejection = &sdk.Rejection{Code: a.Reason, Reason: x12.RejectionReason(a.Reason), FollowUp: a.FollowUp}
		if f := x12.FollowUpName(a.FollowUp); f != "" {
			res.Rejection.Reason += " (" + f + ")"
		}
	}
	for _, b := range r.Benefits {
		if b.Plan != "" && res.PlanName == "" && (b.Code == "1" || b.Code == "6") {
			res.PlanName = b.Plan
		}
		res.Coverage = append(res.Coverage, benefit(b))
		res.Messages = append(res.Messages, b.Messages...)
	}
	return res
}

// benefit turns one EB line into the SDK's shape.
func benefit(b x12.Benefit) sdk.Benefit {
	out := sdk.Benefit{Code: b.Code, CoverageLevel: b.CoverageLevel, InsuranceType: b.InsuranceType, Plan: b.Plan,
		TimePeriod: b.TimePeriod, InNetwork: b.InNetwork == "Y", NetworkKnown: b.InNetwork == "Y" || b.InNetwork == "N"}
	out.ServiceType = strings.Join(b.ServiceTypes, ",")
	names := []string{}
	for _, st := range b.ServiceTypes {
		if n := x12.ServiceTypeName(st); n != "" {
			names = append(names, n)
		}
	}
	out.Description = cmp.Or(x12.BenefitName(b.Code), "Benefit "+b.Code)
	if len(names) > 0 {
		out.Description += ": " + strings.Join(names, ", ")
	}
	if b.Amount != nil {
		out.Amount = *b.Amount
		switch b.Code {
		case "B":
			out.Copay = *b.Amount
		case "C":
			out.Deductible = *b.Amount
		}
		if b.TimePeriod == "29" { // remaining
			out.Remaining = *b.Amount
		}
	}
	if b.Percent != nil && b.Code == "A" {
		out.Coinsurance = *b.Percent
	}
	return out
}

// payerID is the payer's id for NM109 of 2100A. pfinni keeps only the
// payer's name on a patient; clearinghouses that need their own payer
// ids map names to ids (docs/insurance.md).
func payerID(payer string) string {
	return x12.Clean(x12.DefaultDelimiters, strings.ReplaceAll(payer, " ", ""), 80)
}

// controlNumber is the host's number when it gave one, else a random one.
func controlNumber(s string) (int, error) {
	if s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 || n > 999_999_999 {
			return 0, sdk.Errorf(sdk.CodeInvalidInput, "control_number must be 1..999999999")
		}
		return n, nil
	}
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return 0, fmt.Errorf("control number: %w", err)
	}
	return int(binary.BigEndian.Uint32(b[:])%999_999_999) + 1, nil
}

func optDate(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return time.Parse(time.DateOnly, s)
}
