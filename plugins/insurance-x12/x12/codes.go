package x12

// Plain-word names of the codes pfinni shows. Codes not listed are
// passed through as they came (payers send codes a guide does not list).

// BenefitCodes names EB01 (eligibility or benefit information).
var benefitCodes = map[string]string{
	"1": "Active coverage", "2": "Active coverage (full risk capitation)", "3": "Active coverage (services capitated)",
	"4": "Active coverage (services capitated to primary care physician)", "5": "Active coverage, pending investigation",
	"6": "Inactive", "7": "Inactive, pending eligibility update", "8": "Inactive, pending investigation",
	"A": "Co-insurance", "B": "Co-payment", "C": "Deductible", "D": "Benefit description", "F": "Limitations",
	"G": "Out-of-pocket limit", "I": "Non-covered", "J": "Cost containment", "L": "Primary care provider",
	"N": "Services restricted to the following provider", "R": "Other or additional payer", "U": "Contact the following entity for eligibility or benefit information",
	"V": "Cannot process", "X": "Health care facility", "Y": "Spend down",
}

// serviceTypes names the common EB03/EQ01 service type codes.
var serviceTypes = map[string]string{
	"1": "Medical care", "2": "Surgical", "4": "Diagnostic X-ray", "5": "Diagnostic lab", "6": "Radiation therapy",
	"7": "Anesthesia", "8": "Surgical assistance", "12": "Durable medical equipment purchase", "18": "Durable medical equipment rental",
	"30": "Health benefit plan coverage", "33": "Chiropractic", "35": "Dental care", "42": "Home health care",
	"45": "Hospice", "47": "Hospital", "48": "Hospital - inpatient", "50": "Hospital - outpatient", "51": "Hospital - emergency accident",
	"52": "Hospital - emergency medical", "53": "Hospital - ambulatory surgical", "60": "General benefits",
	"86": "Emergency services", "88": "Pharmacy", "98": "Professional (physician) visit - office",
	"A4": "Psychiatric", "A6": "Psychotherapy", "A7": "Psychiatric - inpatient", "A8": "Psychiatric - outpatient",
	"AD": "Occupational therapy", "AE": "Physical medicine", "AF": "Speech therapy", "AG": "Skilled nursing care",
	"AL": "Vision (optometry)", "BZ": "Physician visit - office: well", "MH": "Mental health", "UC": "Urgent care",
}

// rejectionReasons names AAA03 (reject reason codes of 005010X279A1).
var rejectionReasons = map[string]string{
	"04": "The provider is not authorized to ask this payer",
	"15": "Required information is missing from the request",
	"41": "The payer restricts access to this information",
	"42": "The payer cannot answer right now; pfinni will try again",
	"43": "The provider's identifier is not valid",
	"45": "The provider's specialty is not valid",
	"47": "The provider's state is not valid",
	"48": "The referring provider's identifier is not valid",
	"49": "The provider is not the primary care physician",
	"51": "The provider is not on the payer's file",
	"52": "The service dates are not within the provider's plan enrollment",
	"56": "The date of service is not valid",
	"57": "The date of service is in the future",
	"58": "The date of birth does not match the payer's record",
	"60": "The date of birth follows the date of service",
	"61": "The date of death precedes the date of service",
	"62": "The date of service is not within the allowable inquiry period",
	"63": "The date of service is in the future",
	"64": "The patient's member id is not valid",
	"65": "The patient's name is not valid",
	"66": "The patient's gender does not match",
	"67": "The patient is not found",
	"68": "The patient's member id is a duplicate",
	"71": "The patient's date of birth does not match the payer's record",
	"72": "The member id does not match the payer's record",
	"73": "The name does not match the payer's record",
	"75": "The payer has no subscriber with this member id",
	"76": "The payer has duplicate subscribers with this member id",
	"78": "The subscriber or insured is not in a group or plan identified",
	"79": "The payer's system cannot process this type of request",
	"80": "No response was received from the payer",
	"97": "The payer's identifier is not valid",
	"T4": "The payer name or identifier is missing",
}

// followUps names AAA04.
var followUps = map[string]string{
	"C": "correct and resubmit", "N": "do not resubmit", "P": "please resubmit original transaction",
	"R": "resubmit", "S": "do not resubmit; we will hold your request and respond again shortly",
	"W": "please wait 30 days and resubmit", "X": "please wait 10 days and resubmit", "Y": "do not resubmit; we will respond with an unsolicited response",
}

// BenefitName names an EB01 code ("" for an unknown code).
func BenefitName(code string) string { return benefitCodes[code] }

// ServiceTypeName names a service type code ("" for an unknown code).
func ServiceTypeName(code string) string { return serviceTypes[code] }

// RejectionReason explains an AAA03 reason code in plain words.
func RejectionReason(code string) string {
	if r, ok := rejectionReasons[code]; ok {
		return r
	}
	return "The payer rejected the request (reason code " + code + ")"
}

// FollowUpName names an AAA04 follow-up action ("" for an unknown code).
func FollowUpName(code string) string { return followUps[code] }
